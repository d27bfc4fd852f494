//! Reading a Service's type-dependent fields (its type, cluster IPs, node
//! ports) the way both the Service strategy and the allocator need them.

use serde_json::Value;

/// `spec.type`, `ClusterIP` when unset.
pub fn service_type(service: &Value) -> &str {
    service
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
}

/// Every type but ExternalName has cluster IPs (or is headless).
pub fn needs_cluster_ip(service: &Value) -> bool {
    service_type(service) != "ExternalName"
}

/// NodePort and LoadBalancer services expose node ports.
pub fn needs_node_ports(service: &Value) -> bool {
    matches!(service_type(service), "NodePort" | "LoadBalancer")
}

/// Whether node ports are chosen for ports that name none: always for
/// NodePort, for LoadBalancer unless `allocateLoadBalancerNodePorts` is false.
pub fn allocates_node_ports(service: &Value) -> bool {
    match service_type(service) {
        "NodePort" => true,
        "LoadBalancer" => {
            service.pointer("/spec/allocateLoadBalancerNodePorts") != Some(&Value::Bool(false))
        }
        _ => false,
    }
}

/// A LoadBalancer that keeps traffic on the node it arrives at needs a
/// health check node port.
pub fn needs_health_check_port(service: &Value) -> bool {
    service_type(service) == "LoadBalancer"
        && service
            .pointer("/spec/externalTrafficPolicy")
            .and_then(Value::as_str)
            == Some("Local")
}

/// `spec.clusterIP`, "" when unset.
pub fn cluster_ip(service: &Value) -> &str {
    service
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `spec.clusterIPs` as strings.
pub fn cluster_ips(service: &Value) -> Vec<String> {
    service
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .map(|ips| {
            ips.iter()
                .map(|ip| ip.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the service is headless (`clusterIP: None`).
pub fn is_headless(service: &Value) -> bool {
    cluster_ip(service) == "None"
        || cluster_ips(service).first().map(String::as_str) == Some("None")
}

/// The cluster IPs a stored service holds: none for ExternalName and
/// headless services.
pub fn held_ips(service: &Value) -> Vec<String> {
    if !needs_cluster_ip(service) || is_headless(service) {
        return Vec::new();
    }
    cluster_ips(service)
        .into_iter()
        .filter(|ip| !ip.is_empty())
        .collect()
}

/// `spec.ports[i].nodePort` of each port, 0 when unset.
pub fn node_ports(service: &Value) -> Vec<u16> {
    service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .map(|p| port_number(p.get("nodePort")))
                .collect()
        })
        .unwrap_or_default()
}

/// `spec.healthCheckNodePort`, 0 when unset.
pub fn health_check_port(service: &Value) -> u16 {
    port_number(service.pointer("/spec/healthCheckNodePort"))
}

/// The node ports a stored service holds (its ports' and its health check's).
pub fn held_ports(service: &Value) -> Vec<u16> {
    let mut ports = node_ports(service);
    ports.push(health_check_port(service));
    ports.retain(|p| *p != 0);
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn port_number(value: Option<&Value>) -> u16 {
    value
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(0)
}
