//! Realistic objects of many kinds survive JSON -> protobuf -> JSON
//! unchanged: every property lands in a field and comes back under its name.
//! (Empty lists and maps, `null`s and list items' `apiVersion`/`kind` are
//! what protobuf cannot carry, so the objects here have none.)

use serde_json::{Value, json};

use super::*;

#[track_caller]
fn round_trip(object: Value) {
    let bytes = encode(&object).unwrap_or_else(|e| panic!("{}: {e}", object["kind"]));
    let decoded = decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", object["kind"]));
    assert_eq!(decoded.object, object);
    // Encoding is deterministic: the decoded object gives the same bytes.
    assert_eq!(encode(&decoded.object).ok(), Some(bytes));
}

#[test]
fn pod() {
    let t = "2024-01-02T03:04:05Z";
    let volumes = json!([
        {"name": "v1", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
        {"name": "v2", "secret": {"secretName": "s", "optional": true,
            "items": [{"key": "k", "path": "p", "mode": 256}]}},
        {"name": "v3", "projected": {"sources": [
            {"serviceAccountToken": {"audience": "api", "expirationSeconds": 3600, "path": "token"}},
            {"downwardAPI": {"items": [{"path": "labels",
                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}}]}},
        ]}},
        {"name": "v4", "persistentVolumeClaim": {"claimName": "c", "readOnly": false}},
        {"name": "v5", "hostPath": {"path": "/var", "type": "Directory"}},
    ]);
    let env = json!([
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "CPU", "valueFrom": {"resourceFieldRef":
            {"containerName": "c", "resource": "limits.cpu", "divisor": "1m"}}},
        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": false}}},
    ]);
    let probes = json!({
        "readinessProbe": {"exec": {"command": ["cat", "/ready"]},
            "failureThreshold": 3, "successThreshold": 1, "timeoutSeconds": 1},
        "livenessProbe": {"tcpSocket": {"port": "http"}},
        "startupProbe": {"grpc": {"port": 9000, "service": "health"}},
        "lifecycle": {
            "preStop": {"exec": {"command": ["sleep", "5"]}},
            "postStart": {"httpGet": {"port": 80, "scheme": "HTTP",
                "httpHeaders": [{"name": "X", "value": "y"}]}},
        },
    });
    let mut container = json!({
        "name": "c", "image": "nginx",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": env,
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}],
        "resources": {
            "limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
            "requests": {"cpu": "100m"},
            "claims": [{"name": "gpu"}],
        },
        "securityContext": {
            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            "privileged": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
            "allowPrivilegeEscalation": false, "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File", "stdin": false, "tty": false,
    });
    if let (Some(c), Some(p)) = (container.as_object_mut(), probes.as_object()) {
        c.extend(p.clone());
    }
    let scheduling = json!({
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
                "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "x"}},
                    "topologyKey": "kubernetes.io/hostname"}}]},
        },
        "schedulerName": "default-scheduler",
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 60}],
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}}],
        "priorityClassName": "high", "priority": 1000, "preemptionPolicy": "Never",
    });
    let mut spec = json!({
        "volumes": volumes,
        "initContainers": [{"name": "init", "image": "busybox",
            "command": ["sh", "-c", "true"], "restartPolicy": "Always"}],
        "containers": [container],
        "ephemeralContainers": [{"name": "debug", "image": "busybox",
            "targetContainerName": "c", "stdin": true}],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
        "activeDeadlineSeconds": 600, "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"disk": "ssd"}, "serviceAccountName": "default",
        "automountServiceAccountToken": false, "nodeName": "n1", "hostNetwork": false,
        "securityContext": {"runAsUser": 0,
            "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
        "imagePullSecrets": [{"name": "reg"}], "hostname": "h", "subdomain": "s",
        "hostAliases": [{"ip": "1.2.3.4", "hostnames": ["a.example"]}],
        "dnsConfig": {"nameservers": ["8.8.8.8"], "options": [{"name": "ndots", "value": "2"}]},
        "readinessGates": [{"conditionType": "example.com/ready"}],
        "enableServiceLinks": true, "overhead": {"cpu": "10m"},
        "os": {"name": "linux"},
    });
    if let (Some(s), Some(more)) = (spec.as_object_mut(), scheduling.as_object()) {
        s.extend(more.clone());
    }
    let container_status = json!({
        "name": "c", "ready": true, "restartCount": 1, "image": "nginx",
        "imageID": "sha256:abc", "containerID": "containerd://def", "started": true,
        "state": {"running": {"startedAt": t}},
        "lastState": {"terminated": {"exitCode": 137, "signal": 9, "reason": "OOMKilled",
            "startedAt": t, "finishedAt": t, "containerID": "containerd://abc"}},
        "allocatedResources": {"cpu": "1"},
    });
    round_trip(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "p", "namespace": "ns", "labels": {"a": "b"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                "uid": "u1", "controller": true, "blockOwnerDeletion": true}],
            "finalizers": ["example.com/f"],
            "deletionTimestamp": t, "deletionGracePeriodSeconds": 30,
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
                "time": t, "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:a": {}}}}}],
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": t}],
            "hostIP": "10.0.0.1", "hostIPs": [{"ip": "10.0.0.1"}],
            "podIP": "10.1.0.5", "podIPs": [{"ip": "10.1.0.5"}, {"ip": "fd00::5"}],
            "startTime": t,
            "containerStatuses": [container_status],
            "qosClass": "Burstable",
        },
    }));
}

#[test]
fn service_namespace_secret_and_lists() {
    round_trip(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http", "nodePort": 30080},
                {"name": "https", "protocol": "TCP", "port": 443, "targetPort": 8443, "appProtocol": "https"},
            ],
            "selector": {"app": "web"}, "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
            "type": "NodePort", "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1",
            "ports": [{"port": 80, "protocol": "TCP", "error": "none"}]}]}},
    }));
    round_trip(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating", "conditions": [{"type": "NamespaceDeletionContentFailure",
            "status": "False", "lastTransitionTime": "2024-05-06T07:08:09Z", "reason": "ContentDeleted",
            "message": "All content successfully deleted"}]},
    }));
    round_trip(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "LS0tLS1CRUdJTg==", "tls.key": ""},
        "stringData": {"plain": "text"},
        "immutable": true,
    }));
    round_trip(json!({
        "apiVersion": "v1", "kind": "ConfigMapList",
        "metadata": {"resourceVersion": "99", "continue": "token", "remainingItemCount": 5},
        "items": [{"metadata": {"name": "a"}, "data": {"k": "v"}}, {"metadata": {"name": "b"}}],
    }));
    round_trip(json!({
        "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
        "metadata": {"resourceVersion": "7"},
        "items": [{"metadata": {"name": "a", "namespace": "n", "uid": "u"}}],
    }));
    // List items carry their own type in JSON; protobuf leaves it to the list.
    let list = json!({
        "apiVersion": "v1", "kind": "NamespaceList", "metadata": {},
        "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}],
    });
    let decoded = decode(&encode(&list).expect("encodes")).expect("decodes");
    assert_eq!(
        decoded.object["items"],
        json!([{"metadata": {"name": "a"}}])
    );
}

#[test]
fn custom_resource_definition_schema_unions() {
    let t = "2024-01-02T03:04:05Z";
    round_trip(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                "listKind": "WidgetList", "shortNames": ["wd"], "categories": ["all"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object", "description": "A widget", "required": ["spec"],
                    "properties": {
                        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                            "properties": {
                                "size": {"type": "integer", "format": "int32", "minimum": 1,
                                    "maximum": 100.5, "default": 3, "enum": [1, 2, 3]},
                                "tags": {"type": "array", "items": {"type": "string"},
                                    "x-kubernetes-list-type": "set", "maxItems": 10},
                                "tuple": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "open": {"type": "object", "additionalProperties": true},
                                "closed": {"type": "object", "additionalProperties": false},
                                "port": {"x-kubernetes-int-or-string": true,
                                    "anyOf": [{"type": "integer"}, {"type": "string"}]},
                                "config": {"type": "object", "default": {"a": [1, "x", null]},
                                    "example": {"b": true}, "nullable": true},
                                "$ref": {"$ref": "#/definitions/x", "$schema": "http://json-schema.org/schema#"},
                            }},
                        "status": {"type": "object",
                            "dependencies": {"a": ["b", "c"], "d": {"required": ["e"]}},
                            "x-kubernetes-validations": [{"rule": "self.a > 0", "message": "positive",
                                "reason": "FieldValueInvalid", "fieldPath": ".a"}]},
                    },
                }},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer",
                    "jsonPath": ".spec.size", "priority": 0}],
                "selectableFields": [{"jsonPath": ".spec.size"}],
            }],
            "conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
                "clientConfig": {"caBundle": "Y2E=", "service": {"namespace": "n", "name": "s", "port": 443}}}},
        },
        "status": {
            "acceptedNames": {"plural": "widgets", "kind": "Widget"}, "storedVersions": ["v1"],
            "conditions": [{"type": "Established", "status": "True", "lastTransitionTime": t}],
        },
    }));
}

#[test]
fn meta_kinds() {
    round_trip(json!({
        "apiVersion": "v1", "kind": "Status", "metadata": {},
        "status": "Failure", "message": "pods \"a\" not found", "reason": "NotFound", "code": 404,
        "details": {"name": "a", "kind": "pods", "retryAfterSeconds": 1,
            "causes": [{"reason": "FieldValueInvalid", "message": "m", "field": "spec"}]},
    }));
    for api_version in ["v1", "apps/v1", "meta.k8s.io/v1"] {
        round_trip(json!({
            "apiVersion": api_version, "kind": "DeleteOptions",
            "gracePeriodSeconds": 0, "preconditions": {"uid": "u", "resourceVersion": "1"},
            "propagationPolicy": "Foreground", "dryRun": ["All"], "orphanDependents": false,
        }));
    }
    round_trip(json!({
        "apiVersion": "v1", "kind": "APIResourceList", "groupVersion": "v1",
        "resources": [{"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
            "verbs": ["get", "list"], "shortNames": ["po"], "categories": ["all"],
            "storageVersionHash": "xPOwRZ+Yhw8="}],
    }));
}

#[test]
fn other_groups() {
    let t = "2024-01-02T03:04:05Z";
    round_trip(json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "e", "namespace": "default"},
        "eventTime": "2024-01-02T03:04:05.123456Z",
        "series": {"count": 2, "lastObservedTime": "2024-01-02T03:04:06.000001Z"},
        "reportingController": "kubelet", "reportingInstance": "n1", "action": "Pulling",
        "reason": "Pulling", "type": "Normal", "note": "Pulling image",
        "regarding": {"kind": "Pod", "namespace": "default", "name": "p", "uid": "u",
            "apiVersion": "v1", "resourceVersion": "1", "fieldPath": "spec.containers{c}"},
        "deprecatedFirstTimestamp": t, "deprecatedCount": 2,
    }));
    round_trip(json!({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "csr"},
        "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
            "signerName": "kubernetes.io/kube-apiserver-client", "expirationSeconds": 86400,
            "usages": ["client auth"], "username": "alice", "groups": ["system:authenticated"],
            "extra": {"scopes": ["a", "b"], "single": ["c"]}},
        "status": {"certificate": "Y2VydA==", "conditions": [{"type": "Approved", "status": "True",
            "reason": "AutoApproved", "lastUpdateTime": t, "lastTransitionTime": t}]},
    }));
    round_trip(json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": "web-1"}, "revision": 3,
        "data": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}},
    }));
    round_trip(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1, "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 60}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps", "selector": {"matchLabels": {"a": "b"}}},
                    "target": {"type": "AverageValue", "averageValue": "1k"}}},
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}},
        },
        "status": {"currentReplicas": 2, "desiredReplicas": 3, "lastScaleTime": t},
    }));
    round_trip(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "i"},
        "spec": {"ingressClassName": "nginx",
            "tls": [{"hosts": ["a.example"], "secretName": "tls"}],
            "rules": [{"host": "a.example", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
                {"path": "/api", "pathType": "Exact", "backend": {"service": {"name": "api", "port": {"name": "http"}}}},
            ]}}]},
    }));
    round_trip(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "w"},
        "webhooks": [{"name": "w.example.com", "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "clientConfig": {"caBundle": "Y2E=", "service": {"namespace": "n", "name": "s", "path": "/v", "port": 8443}},
            "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"],
                "resources": ["deployments"], "scope": "Namespaced"}],
            "failurePolicy": "Fail", "timeoutSeconds": 5,
            "matchConditions": [{"name": "m", "expression": "true"}]}],
    }));
    round_trip(json!({
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
        "metadata": {"name": "rc"},
        "spec": {"devices": {
            "requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com", "count": 2,
                "allocationMode": "ExactCount"}}],
            "config": [{"requests": ["gpu"], "opaque": {"driver": "gpu.example.com",
                "parameters": {"apiVersion": "gpu.example.com/v1", "kind": "Config", "sharing": true}}}],
        }},
    }));
    round_trip(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "n1"},
        "spec": {"podCIDR": "10.1.0.0/24", "podCIDRs": ["10.1.0.0/24"], "unschedulable": true,
            "taints": [{"key": "k", "value": "v", "effect": "NoExecute", "timeAdded": t}]},
        "status": {
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}, "allocatable": {"cpu": "3800m"},
            "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": [{"names": ["nginx:1.27"], "sizeBytes": 5_000_000_000i64}],
            "nodeInfo": {"machineID": "m", "systemUUID": "s", "bootID": "b", "kernelVersion": "6.1",
                "osImage": "Linux", "containerRuntimeVersion": "containerd://2.0", "kubeletVersion": "v1.36.0",
                "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
        },
    }));
}
