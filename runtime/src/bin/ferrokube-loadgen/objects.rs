//! The objects the workloads write: ConfigMaps with a payload of a chosen
//! size, and Pods shaped like a Deployment's pods in a real cluster
//! (about 4 KiB once their status is set), because list cost depends on
//! the shape of the objects and not only on their number.

use bytes::Bytes;
use serde_json::{Value, json};

/// A Namespace named `name`.
pub fn namespace(name: &str) -> Bytes {
    Bytes::from(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}).to_string(),
    )
}

/// A ConfigMap whose data holds `size` bytes of text.
pub fn config_map(namespace: &str, name: &str, size: usize) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "ferrokube-bench"},
        },
        "data": {"payload": payload(size)},
    })
}

/// `size` bytes of printable text that no JSON escaping grows.
pub fn payload(size: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..size)
        .map(|i| ALPHABET[i * 7 % ALPHABET.len()] as char)
        .collect()
}

/// The label every pod carries with a value from 0 to 99, so that a
/// selector for one value matches 1% of them.
pub const SHARD_LABEL: &str = "bench.ferrokube.dev/shard";

/// A Pod as a ReplicaSet creates it: two containers with probes,
/// resources, environment and mounts, tolerations, an owner.
pub fn pod(namespace: &str, name: &str, index: u64) -> Value {
    let shard = (index % 100).to_string();
    let container = |name: &str, image: &str, port: u16| {
        let mut container = json!({
            "name": name,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
            "env": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            ],
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi"},
            },
            "volumeMounts": [
                {"name": "config", "mountPath": "/etc/app", "readOnly": true},
                {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true},
            ],
            "livenessProbe": {
                "httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"},
                "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1,
                "successThreshold": 1, "failureThreshold": 3,
            },
            "readinessProbe": {
                "httpGet": {"path": "/ready", "port": port, "scheme": "HTTP"},
                "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3,
            },
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        });
        if name != "web" {
            // Sidecars seldom have probes or settings of their own.
            container["livenessProbe"].take();
            container["readinessProbe"].take();
            container["env"].take();
            if let Some(fields) = container.as_object_mut() {
                fields.retain(|_, value| !value.is_null());
            }
        }
        container
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "generateName": "web-7d9c6b5f4-",
            "labels": {
                "app": "web",
                "tier": "frontend",
                "pod-template-hash": "7d9c6b5f4",
                SHARD_LABEL: shard,
            },
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9090",
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-7d9c6b5f4",
                "uid": "3f2b8c1e-6a1d-4c5e-9f0a-1b2c3d4e5f60",
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {
            "containers": [
                container("web", "registry.example.com/web:1.27.3", 8080),
                container("metrics-sidecar", "registry.example.com/exporter:0.15.0", 9090),
            ],
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                ]}},
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "nodeName": format!("node-{:03}", index % 50),
            "schedulerName": "default-scheduler",
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            ],
        },
    })
}

/// The status a kubelet reports for [`pod`] once it runs; creation drops
/// any status a client sends, so it is written through `/status`.
pub fn pod_status(index: u64) -> Value {
    let time = "2026-01-01T00:00:00Z";
    let ip = format!("10.244.{}.{}", index / 250 % 250, index % 250 + 2);
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastProbeTime": null, "lastTransitionTime": time});
    let container = |name: &str, image: &str| {
        json!({
            "name": name,
            "image": image,
            "imageID": format!("{image}@sha256:4c1e2f3a5b6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b"),
            "containerID": format!("containerd://{:064x}", super::stats::mix(index)),
            "ready": true,
            "started": true,
            "restartCount": 0,
            "state": {"running": {"startedAt": time}},
        })
    };
    json!({
        "phase": "Running",
        "conditions": [
            condition("Initialized"),
            condition("Ready"),
            condition("ContainersReady"),
            condition("PodScheduled"),
        ],
        "hostIP": format!("192.168.1.{}", index % 50 + 10),
        "hostIPs": [{"ip": format!("192.168.1.{}", index % 50 + 10)}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": time,
        "qosClass": "Burstable",
        "containerStatuses": [
            container("web", "registry.example.com/web:1.27.3"),
            container("metrics-sidecar", "registry.example.com/exporter:0.15.0"),
        ],
    })
}

/// What the store keeps for a created object: the object as sent plus
/// the metadata the server fills in. Raw etcd baselines write values of
/// this size so that they move as many bytes as ferrokube does.
pub fn as_stored(mut object: Value, index: u64) -> Value {
    let metadata = &mut object["metadata"];
    metadata["uid"] = json!(format!(
        "{:08x}-0000-4000-8000-{:012x}",
        index,
        super::stats::mix(index) & 0xffff_ffff_ffff
    ));
    metadata["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    metadata["resourceVersion"] = json!("123456789");
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_with_status_is_about_4_kib() {
        let mut pod = pod("bench-list", "pod-12345", 12345);
        pod["status"] = pod_status(12345);
        let size = as_stored(pod, 12345).to_string().len();
        assert!((3800..4500).contains(&size), "{size} bytes");
    }

    #[test]
    fn payload_has_its_size() {
        assert_eq!(payload(1024).len(), 1024);
    }
}
