use serde_json::{Value, json};

use crate::printers::tests::{cell, cells_of};

fn meta(name: &str) -> Value {
    json!({"name": name, "namespace": "default", "creationTimestamp": "2024-04-30T12:00:00Z"})
}

fn service(spec: Value, status: Value) -> Vec<Value> {
    cells_of(
        "",
        "services",
        json!({"metadata": meta("svc"), "spec": spec, "status": status}),
    )
}

#[test]
fn cluster_ip_service() {
    let spec = json!({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        "selector": {"k8s-app": "kube-dns"}});
    assert_eq!(
        service(spec, json!({})),
        vec![
            json!("svc"),
            json!("ClusterIP"),
            json!("10.96.0.10"),
            json!("<none>"),
            json!("53/UDP,53/TCP"),
            json!("24h"),
            json!("k8s-app=kube-dns"),
        ]
    );
}

#[test]
fn headless_service_without_ports_or_selector() {
    let spec = json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"],
                      "externalIPs": ["192.0.2.1", "192.0.2.2"]});
    let row = service(spec, json!({}));
    assert_eq!(
        row[2..5],
        [json!("None"), json!("192.0.2.1,192.0.2.2"), json!("<none>")]
    );
    assert_eq!(row[6], json!("<none>"));
}

#[test]
fn node_port_service() {
    let spec = json!({"type": "NodePort", "clusterIPs": ["10.96.3.4"],
        "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                  {"port": 443, "nodePort": 30443, "protocol": "TCP"}]});
    let row = service(spec, json!({}));
    assert_eq!(
        row[1..5],
        [
            json!("NodePort"),
            json!("10.96.3.4"),
            json!("<none>"),
            json!("80:30080/TCP,443:30443/TCP")
        ]
    );
}

#[test]
fn load_balancer_service() {
    let spec = json!({"type": "LoadBalancer", "clusterIPs": ["10.96.5.6"],
        "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]});
    assert_eq!(service(spec.clone(), json!({}))[3], json!("<pending>"));
    let status = json!({"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}, {"ip": "203.0.113.9"}]}});
    assert_eq!(
        service(spec.clone(), status.clone())[3],
        json!("203.0.113.9,lb.example.com")
    );
    let mut with_external = spec;
    with_external["externalIPs"] = json!(["192.0.2.7"]);
    assert_eq!(
        service(with_external, status)[3],
        json!("203.0.113.9,lb.example.com,192.0.2.7")
    );
}

#[test]
fn external_name_service() {
    let spec = json!({"type": "ExternalName", "externalName": "db.example.com"});
    let row = service(spec, json!({}));
    assert_eq!(
        row[1..5],
        [
            json!("ExternalName"),
            json!("<none>"),
            json!("db.example.com"),
            json!("<none>")
        ]
    );
}

#[test]
fn ready_control_plane_node() {
    let node = json!({
        "metadata": {"name": "cp-1", "creationTimestamp": "2024-04-20T12:00:00Z",
            "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master",
                       "node-role.kubernetes.io/": "", "kubernetes.io/os": "linux"}},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "cp-1"}, {"type": "InternalIP", "address": "172.18.0.2"}],
            "nodeInfo": {"kubeletVersion": "v1.36.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "kernelVersion": "6.8.0-51-generic", "architecture": "arm64",
                         "containerRuntimeVersion": "containerd://2.0.0"}},
    });
    assert_eq!(
        cells_of("", "nodes", node),
        vec![
            json!("cp-1"),
            json!("Ready"),
            json!("control-plane,master"),
            json!("11d"),
            json!("v1.36.0"),
            json!("172.18.0.2"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.8.0-51-generic (arm64)"),
            json!("containerd://2.0.0"),
        ]
    );
}

#[test]
fn cordoned_and_unreported_nodes() {
    let cordoned = json!({"metadata": {"name": "w-1"}, "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
    let row = cells_of("", "nodes", cordoned);
    assert_eq!(
        row[1..5],
        [
            json!("NotReady,SchedulingDisabled"),
            json!("<none>"),
            json!("<unknown>"),
            json!("")
        ]
    );
    assert_eq!(
        row[7..],
        [json!("<unknown>"), json!("<unknown>"), json!("<unknown>")]
    );
    let fresh = json!({"metadata": {"name": "w-2"}});
    assert_eq!(cell("", "nodes", fresh, "Status"), json!("Unknown"));
}

#[test]
fn config_maps_and_secrets_count_their_keys() {
    let config =
        json!({"metadata": meta("c"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(
        cells_of("", "configmaps", config),
        vec![json!("c"), json!(3), json!("24h")]
    );
    let secret = json!({"metadata": meta("s"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        cells_of("", "secrets", secret),
        vec![
            json!("s"),
            json!("kubernetes.io/tls"),
            json!(2),
            json!("24h")
        ]
    );
    let empty = json!({"metadata": meta("e")});
    assert_eq!(
        cells_of("", "secrets", empty),
        vec![json!("e"), json!(""), json!(0), json!("24h")]
    );
}

#[test]
fn endpoints_list_three_then_count() {
    let object = json!({"metadata": meta("web"), "subsets": [
        {"addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::2"}], "ports": [{"port": 80}, {"port": 443}]},
        {"addresses": [{"ip": "10.0.0.3"}]}]});
    assert_eq!(
        cell("", "endpoints", object, "Endpoints"),
        json!("10.0.0.1:80,[fd00::2]:80,10.0.0.1:443 + 2 more...")
    );
    let empty = json!({"metadata": meta("none")});
    assert_eq!(cell("", "endpoints", empty, "Endpoints"), json!("<none>"));
}

#[test]
fn volumes_and_claims() {
    let volume = json!({"metadata": meta("pv-1"), "spec": {
        "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
        "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fast",
        "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
        "status": {"phase": "Bound"}});
    assert_eq!(
        cells_of("", "persistentvolumes", volume),
        vec![
            json!("pv-1"),
            json!("10Gi"),
            json!("RWO,ROX"),
            json!("Retain"),
            json!("Bound"),
            json!("default/data"),
            json!("fast"),
            json!("<unset>"),
            json!(""),
            json!("24h"),
            json!("Filesystem"),
        ]
    );
    let claim = json!({"metadata": meta("data"), "spec": {"volumeName": "pv-1", "storageClassName": "fast"},
        "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"]}});
    assert_eq!(
        cells_of("", "persistentvolumeclaims", claim),
        vec![
            json!("data"),
            json!("Bound"),
            json!("pv-1"),
            json!("10Gi"),
            json!("RWO"),
            json!("fast"),
            json!("<unset>"),
            json!("24h"),
            json!("<unset>"),
        ]
    );
    let mut pending = json!({"metadata": meta("new"), "spec": {"resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Pending"}});
    pending["metadata"]["annotations"] =
        json!({"volume.beta.kubernetes.io/storage-class": "legacy"});
    pending["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:00:00Z");
    let row = cells_of("", "persistentvolumeclaims", pending);
    assert_eq!(
        row[1..6],
        [
            json!("Terminating"),
            json!(""),
            json!(""),
            json!(""),
            json!("legacy")
        ]
    );
}

#[test]
fn resource_quotas_split_requests_and_limits() {
    let quota = json!({"metadata": meta("q"), "status": {
        "hard": {"requests.cpu": "2", "limits.memory": "4Gi", "pods": "10", "limits.cpu": "4"},
        "used": {"requests.cpu": "500m", "pods": "3", "limits.cpu": "1"}}});
    assert_eq!(
        cells_of("", "resourcequotas", quota),
        vec![
            json!("q"),
            json!("pods: 3/10, requests.cpu: 500m/2"),
            json!("limits.cpu: 1/4, limits.memory: 0/4Gi"),
            json!("24h"),
        ]
    );
}

#[test]
fn component_statuses_and_templates() {
    let healthy = json!({"metadata": {"name": "etcd-0"},
        "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]});
    assert_eq!(
        cells_of("", "componentstatuses", healthy),
        vec![json!("etcd-0"), json!("Healthy"), json!("ok"), json!("")]
    );
    let template = json!({"metadata": meta("t"), "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "envoy"}]}}});
    assert_eq!(
        cells_of("", "podtemplates", template),
        vec![
            json!("t"),
            json!("a,b"),
            json!("nginx,envoy"),
            json!("app=web")
        ]
    );
    let controller = json!({"metadata": meta("rc"), "spec": {"replicas": 2, "selector": {"app": "web"}},
        "status": {"replicas": 2}});
    assert_eq!(
        cells_of("", "replicationcontrollers", controller),
        vec![
            json!("rc"),
            json!(2),
            json!(2),
            json!(0),
            json!("24h"),
            json!(""),
            json!(""),
            json!("app=web")
        ]
    );
}
