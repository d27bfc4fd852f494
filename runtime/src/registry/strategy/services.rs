//! Services: DNS label names, `clusterIP` and `clusterIPs` kept in step,
//! allocated values carried over when an update leaves them out, fields
//! a type change makes meaningless wiped, and cluster IPs fixed once set.
//! Allocation itself is `registry::service_alloc`.

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::{Value, json};

use super::Strategy;
use crate::registry::service_fields::{
    cluster_ip, cluster_ips, health_check_port, needs_cluster_ip, needs_health_check_port,
    needs_node_ports, node_ports, service_type,
};

/// The Service strategy.
pub struct Services;

impl Strategy for Services {
    fn dns_label_names(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, service: &mut Value) {
        // A new service has no load balancer yet, which upstream shows.
        service["status"] = json!({"loadBalancer": {}});
        drop_zero_ports(service);
        // Clients that only know `clusterIP` get `clusterIPs` from it.
        let ip = cluster_ip(service).to_owned();
        if !ip.is_empty() && cluster_ips(service).is_empty() {
            service["spec"]["clusterIPs"] = json!([ip]);
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        drop_zero_ports(new);
        keep_allocated_values(new, old);
        normalize_cluster_ips(new, old);
        drop_type_dependent_fields(new, old);
    }

    fn validate(&self, service: &Value) -> Vec<FieldError> {
        let spec = FieldPath::new("spec");
        let mut errors = Vec::new();
        let ips = cluster_ips(service);
        for (i, ip) in ips.iter().enumerate() {
            let headless = ip == "None" && i == 0 && ips.len() == 1;
            if !headless && !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
                errors.push(FieldError::invalid(
                    &spec.child("clusterIPs").index(i),
                    ip.as_str(),
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                ));
            }
        }
        if service_type(service) == "ClusterIP" {
            for (i, port) in node_ports(service).into_iter().enumerate() {
                if port != 0 {
                    errors.push(FieldError::forbidden(
                        &spec.child("ports").index(i).child("nodePort"),
                        "may not be used when `type` is 'ClusterIP'",
                    ));
                }
            }
        }
        errors
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        if !needs_cluster_ip(new) || !needs_cluster_ip(old) {
            return Vec::new();
        }
        let (before, after) = (cluster_ips(old), cluster_ips(new));
        let path = FieldPath::new("spec").child("clusterIPs");
        let changed =
            |i: usize| FieldError::invalid(&path.index(i), json!(after), "may not change once set");
        if before.len() == after.len() {
            return (0..before.len())
                .filter(|i| before[*i] != after[*i])
                .map(changed)
                .collect();
        }
        if after.is_empty() {
            return vec![FieldError::invalid(
                &path.index(0),
                json!(after),
                "primary clusterIP can not be unset",
            )];
        }
        match before.first() {
            Some(first) if *first != after[0] => vec![changed(0)],
            _ => Vec::new(),
        }
    }
}

/// A node port of 0 means "none" (Go clients write it into protobuf
/// bodies); it is dropped, as upstream's JSON leaves it out.
fn drop_zero_ports(service: &mut Value) {
    let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("healthCheckNodePort").is_some_and(|p| p == 0) {
        spec.remove("healthCheckNodePort");
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            if port.get("nodePort").is_some_and(|p| p == 0) {
                port.remove("nodePort");
            }
        }
    }
}

/// Upstream's `patchAllocatedValues`: an update that leaves out the
/// cluster IP or node ports the server chose keeps them.
fn keep_allocated_values(new: &mut Value, old: &Value) {
    if needs_cluster_ip(old) && needs_cluster_ip(new) {
        if cluster_ip(new).is_empty() && !cluster_ip(old).is_empty() {
            new["spec"]["clusterIP"] = json!(cluster_ip(old));
        }
        if cluster_ips(new).is_empty() && !cluster_ips(old).is_empty() {
            new["spec"]["clusterIPs"] = json!(cluster_ips(old));
        }
    }
    if needs_node_ports(old) && needs_node_ports(new) {
        let old_ports = node_ports(old);
        let in_use: Vec<u16> = node_ports(new)
            .into_iter()
            .filter(|p| *p != 0 && old_ports.contains(p))
            .collect();
        let by_name: Vec<(Value, u16)> = old["spec"]["ports"]
            .as_array()
            .map(|ports| {
                ports
                    .iter()
                    .zip(&old_ports)
                    .map(|(p, n)| (p.get("name").cloned().unwrap_or(json!("")), *n))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(ports) = new["spec"]["ports"].as_array_mut() {
            for port in ports
                .iter_mut()
                .filter(|p| p.get("nodePort").is_none_or(|n| n == 0))
            {
                let name = port.get("name").cloned().unwrap_or(json!(""));
                if let Some((_, number)) = by_name.iter().find(|(n, _)| *n == name)
                    && *number != 0
                    && !in_use.contains(number)
                {
                    port["nodePort"] = json!(number);
                }
            }
        }
    }
    if needs_health_check_port(old)
        && needs_health_check_port(new)
        && health_check_port(new) == 0
        && health_check_port(old) != 0
    {
        new["spec"]["healthCheckNodePort"] = json!(health_check_port(old));
    }
}

/// Upstream's `normalizeClusterIPs` on update: a client that changed only
/// `clusterIP` meant to change `clusterIPs[0]` too.
fn normalize_cluster_ips(new: &mut Value, old: &Value) {
    let ip = cluster_ip(new).to_owned();
    if ip == cluster_ip(old) || cluster_ips(new) != cluster_ips(old) {
        return;
    }
    if ip.is_empty() {
        if let Some(spec) = new["spec"].as_object_mut() {
            spec.remove("clusterIPs");
        }
    } else {
        let mut ips = cluster_ips(new);
        match ips.first_mut() {
            Some(first) => *first = ip,
            None => ips.push(ip),
        }
        new["spec"]["clusterIPs"] = json!(ips);
    }
}

/// Upstream's `dropTypeDependentFields`: after a type change, values the
/// old type needed and the client did not touch are wiped.
fn drop_type_dependent_fields(new: &mut Value, old: &Value) {
    let same = |new: &Value, field: &str| new.pointer(field) == old.pointer(field);
    let mut wipe = Vec::new();
    if needs_cluster_ip(old) && !needs_cluster_ip(new) {
        for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            if same(new, &format!("/spec/{field}")) {
                wipe.push(field);
            }
        }
    }
    if needs_health_check_port(old)
        && !needs_health_check_port(new)
        && same(new, "/spec/healthCheckNodePort")
    {
        wipe.push("healthCheckNodePort");
    }
    let load_balancer = |s: &Value| service_type(s) == "LoadBalancer";
    if load_balancer(old) && !load_balancer(new) {
        for field in ["allocateLoadBalancerNodePorts", "loadBalancerClass"] {
            if same(new, &format!("/spec/{field}")) {
                wipe.push(field);
            }
        }
    }
    if needs_node_ports(old) && !needs_node_ports(new) && same(new, "/spec/externalTrafficPolicy") {
        let external_ips = new
            .pointer("/spec/externalIPs")
            .and_then(Value::as_array)
            .is_some_and(|ips| !ips.is_empty());
        if !external_ips {
            wipe.push("externalTrafficPolicy");
        }
    }
    let wipe_node_ports =
        needs_node_ports(old) && !needs_node_ports(new) && node_ports(new) == node_ports(old);
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for field in wipe {
        spec.remove(field);
    }
    if wipe_node_ports && let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            port.remove("nodePort");
        }
    }
    if !load_balancer(new)
        && let Some(status) = new.get_mut("status").and_then(Value::as_object_mut)
        && status
            .get("loadBalancer")
            .is_some_and(|lb| lb != &json!({}))
    {
        status.insert("loadBalancer".to_owned(), json!({}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(spec: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": spec})
    }

    #[test]
    fn new_services_follow_clusterip_and_show_no_load_balancer() {
        let mut new =
            service(json!({"clusterIP": "10.0.0.9", "ports": [{"port": 80, "nodePort": 0}]}));
        Services.prepare_for_create(&mut new);
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.0.0.9"]));
        assert!(new["spec"]["ports"][0].get("nodePort").is_none());
        assert_eq!(new["status"], json!({"loadBalancer": {}}));
    }

    #[test]
    fn cluster_ips_may_not_change_once_set() {
        let old = service(json!({"clusterIP": "10.0.0.20", "clusterIPs": ["10.0.0.20"]}));
        let moved = service(json!({"clusterIP": "10.0.0.21", "clusterIPs": ["10.0.0.21"]}));
        let errors = Services.validate_update(&moved, &old);
        assert_eq!(
            errors[0].to_string(),
            r#"spec.clusterIPs[0]: Invalid value: ["10.0.0.21"]: may not change once set"#
        );
        let external = service(json!({"type": "ExternalName", "externalName": "x.example"}));
        assert!(Services.validate_update(&external, &old).is_empty());
    }

    #[test]
    fn updates_keep_allocated_values_and_follow_clusterip() {
        let old = service(json!({
            "type": "NodePort",
            "clusterIP": "10.0.0.20",
            "clusterIPs": ["10.0.0.20"],
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
        }));
        let mut new = service(json!({"type": "NodePort", "ports": [{"name": "http", "port": 80}]}));
        Services.prepare_for_update(&mut new, &old);
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.0.0.20"]));
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30080);

        let mut edited = old.clone();
        edited["spec"]["clusterIP"] = json!("10.0.0.30");
        Services.prepare_for_update(&mut edited, &old);
        assert_eq!(edited["spec"]["clusterIPs"], json!(["10.0.0.30"]));
        assert!(!Services.validate_update(&edited, &old).is_empty());
    }

    #[test]
    fn type_changes_wipe_what_the_old_type_needed() {
        let old = service(json!({
            "type": "NodePort",
            "clusterIP": "10.0.0.20",
            "clusterIPs": ["10.0.0.20"],
            "externalTrafficPolicy": "Cluster",
            "ports": [{"port": 80, "nodePort": 30080}],
        }));
        let mut cluster_ip_only = old.clone();
        cluster_ip_only["spec"]["type"] = json!("ClusterIP");
        Services.prepare_for_update(&mut cluster_ip_only, &old);
        assert!(
            cluster_ip_only["spec"]["ports"][0]
                .get("nodePort")
                .is_none()
        );
        assert!(
            cluster_ip_only["spec"]
                .get("externalTrafficPolicy")
                .is_none()
        );
        assert_eq!(cluster_ip_only["spec"]["clusterIP"], "10.0.0.20");

        let mut external = old.clone();
        external["spec"]["type"] = json!("ExternalName");
        Services.prepare_for_update(&mut external, &old);
        assert!(external["spec"].get("clusterIP").is_none());
        assert!(external["spec"].get("clusterIPs").is_none());
    }

    #[test]
    fn node_ports_are_forbidden_on_cluster_ip_services() {
        let bad =
            service(json!({"ports": [{"port": 80, "nodePort": 30080}], "clusterIPs": ["nope"]}));
        let messages: Vec<String> = Services
            .validate(&bad)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages,
            [
                r#"spec.clusterIPs[0]: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#,
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
            ]
        );
    }
}
