//! The generated API surface as the server will use it: realistic objects
//! survive decoding into the generated types and encoding back, and the
//! schema table validates them with upstream's field paths and reasons.

use generated::SCHEMAS;
use generated::support::meta::Kind;
use generated::support::validation::validate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn round_trip<T: DeserializeOwned + Serialize>(object: Value) {
    let typed: T = serde_json::from_value(object.clone()).expect("decodes");
    assert_eq!(serde_json::to_value(&typed).expect("encodes"), object);
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d4b9c-x2x8q",
            "generateName": "web-7d4b9c-",
            "namespace": "default",
            "uid": "0b6b8a9e-3f0e-4a51-9c39-6e0f1f2c3d4e",
            "resourceVersion": "12345",
            "creationTimestamp": "2026-11-26T07:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "7d4b9c"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-26T06:59:00Z"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c",
                "uid": "5a0c2d1e-0000-4000-8000-000000000001", "controller": true, "blockOwnerDeletion": true
            }],
            "managedFields": [{
                "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                "time": "2026-11-26T07:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
            }]
        },
        "spec": {
            "containers": [{
                "name": "web",
                "image": "nginx:1.27",
                "imagePullPolicy": "IfNotPresent",
                "args": ["-g", "daemon off;"],
                "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                "env": [
                    {"name": "MODE", "value": "prod"},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}
                ],
                "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "0.1", "memory": "64Mi"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "periodSeconds": 10},
                "livenessProbe": {"tcpSocket": {"port": 80}, "initialDelaySeconds": 5},
                "volumeMounts": [{"mountPath": "/etc/nginx/conf.d", "name": "conf", "readOnly": true}],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}
            }],
            "volumes": [
                {"name": "conf", "configMap": {"name": "web-conf", "defaultMode": 420}},
                {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "nodeName": "node-1",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100,
                "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
            }]}}
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T07:00:05Z"}],
            "hostIP": "10.0.0.5",
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}],
            "startTime": "2026-11-26T07:00:00Z",
            "containerStatuses": [{
                "name": "web", "ready": true, "restartCount": 0, "started": true,
                "image": "docker.io/library/nginx:1.27", "imageID": "docker.io/library/nginx@sha256:abc",
                "containerID": "containerd://0123",
                "state": {"running": {"startedAt": "2026-11-26T07:00:02Z"}},
                "lastState": {}
            }],
            "qosClass": "Burstable"
        }
    })
}

#[test]
fn realistic_objects_round_trip() {
    use generated::api;

    let mut pod = pod();
    // Go omits a null lastProbeTime; so does the generated type.
    pod["status"]["conditions"][0]
        .as_object_mut()
        .unwrap()
        .remove("lastProbeTime");
    round_trip::<api::core::v1::Pod>(pod);

    round_trip::<api::apps::v1::Deployment>(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "generation": 3, "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {"metadata": {"labels": {"app": "web", "tier": "front"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
        },
        "status": {"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 3,
                   "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                   "message": "ok", "lastUpdateTime": "2026-11-26T07:00:00Z", "lastTransitionTime": "2026-11-26T07:00:00Z"}]}
    }));

    round_trip::<api::core::v1::Service>(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "type": "NodePort", "selector": {"app": "web"},
            "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"],
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"},
                      {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP", "appProtocol": "http"}],
            "sessionAffinity": "None", "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"
        },
        "status": {"loadBalancer": {}}
    }));

    round_trip::<api::core::v1::Secret>(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"},
        "immutable": true
    }));

    round_trip::<
        generated::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    >(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com", "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                            "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                            "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
                                      "items": {"type": "object", "required": ["port"], "properties": {"port": {"type": "integer"}}}},
                            "anything": {"x-kubernetes-preserve-unknown-fields": true},
                            "intOrString": {"x-kubernetes-int-or-string": true},
                            "choice": {"type": "string", "enum": ["a", "b"]},
                            "items": {"type": "array", "items": {"type": "string"}}
                        }, "x-kubernetes-validations": [{"rule": "self.replicas <= 10", "message": "too many"}]}
                    }
                }},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [{"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}]
            }],
            "conversion": {"strategy": "None"}
        }
    }));

    round_trip::<api::rbac::v1::ClusterRole>(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "view-widgets", "labels": {"rbac.example.com/aggregate-to-view": "true"}},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
            {"nonResourceURLs": ["/healthz", "/version"], "verbs": ["get"]}
        ],
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-view": "true"}}]}
    }));

    round_trip::<api::rbac::v1::RoleBinding>(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "read-pods", "namespace": "default"},
        "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                     {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"}],
        "roleRef": {"kind": "ClusterRole", "name": "view", "apiGroup": "rbac.authorization.k8s.io"}
    }));

    round_trip::<api::coordination::v1::Lease>(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40,
                 "acquireTime": "2026-11-26T07:00:00.000000Z", "renewTime": "2026-11-26T07:00:10.123456Z"}
    }));
}

#[test]
fn kinds_know_their_group_version() {
    use generated::api;
    assert_eq!(api::apps::v1::Deployment::API_VERSION, "apps/v1");
    assert_eq!(api::core::v1::Pod::API_VERSION, "v1");
    assert_eq!(
        generated::dev::ferrokube::example::v1::Widget::KIND,
        "Widget"
    );
}

fn errors(definition: &str, object: &Value) -> Vec<String> {
    let root = generated::definition(definition).expect("definition is in the table");
    validate(&SCHEMAS, root, object)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn own_group_schema_rules_are_enforced() {
    let widget = |spec: Value| json!({"apiVersion": "example.ferrokube.dev/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec});
    let name = "dev.ferrokube.example.v1.Widget";
    assert_eq!(
        errors(
            name,
            &widget(json!({"size": 5, "colour": "Red", "tags": ["a", "b"]}))
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(name, &widget(json!({}))),
        ["spec.size: Required value"]
    );
    assert_eq!(
        errors(name, &widget(json!({"size": 0}))),
        ["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]
    );
    assert_eq!(
        errors(name, &widget(json!({"size": "big"}))),
        [
            "spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""
        ]
    );
    assert_eq!(
        errors(name, &widget(json!({"size": 1, "colour": "Purple"}))),
        [
            "spec.colour: Unsupported value: \"Purple\": supported values: \"Red\", \"Green\", \"Blue\""
        ]
    );
    assert_eq!(
        errors(name, &widget(json!({"size": 1, "tags": ["a", "a"]}))),
        ["spec.tags[1]: Duplicate value: \"a\""]
    );
    let long = "x".repeat(64);
    assert_eq!(
        errors(name, &widget(json!({"size": 1, "tags": [long]}))),
        ["spec.tags[0]: Too long: may not be more than 63 bytes"]
    );
    let many: Vec<String> = (0..17).map(|i| format!("t{i}")).collect();
    assert_eq!(
        errors(name, &widget(json!({"size": 1, "tags": many}))),
        ["spec.tags: Too many: 17: must have at most 16 items"]
    );
}

#[test]
fn upstream_schema_rules_are_enforced() {
    assert_eq!(
        errors("io.k8s.api.core.v1.Pod", &pod()),
        Vec::<String>::new()
    );

    let mut pod = pod();
    pod["spec"]["containers"][0]["ports"] = json!([
        {"containerPort": 80, "protocol": "TCP"},
        {"containerPort": 80, "protocol": "TCP"},
        {"containerPort": 80, "protocol": "UDP"}
    ]);
    pod["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"image": "busybox"}));
    assert_eq!(
        errors("io.k8s.api.core.v1.Pod", &pod),
        // As upstream, list-type checks follow the schema checks.
        [
            "spec.containers[0].ports[1]: Duplicate value: {\"containerPort\":80,\"protocol\":\"TCP\"}",
            "spec.containers[1].name: Required value",
        ]
    );

    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                         "spec": {"ports": [{"port": 4294967296_i64, "protocol": "TCP"}]}});
    assert_eq!(
        errors("io.k8s.api.core.v1.Service", &service),
        [
            "spec.ports[0].port: Invalid value: 4294967296: spec.ports[0].port in body must be of type int32"
        ]
    );
}
