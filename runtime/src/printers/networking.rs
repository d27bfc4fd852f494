//! Printers of the `networking.k8s.io` group.

use serde_json::{Value, json};

use super::format::{format_label_selector, load_balancer_ingress};
use super::value::{annotation, array_at, get_path, opt_str, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "networking.k8s.io",
        plural: "ingresses",
        print: ingress,
    },
    Printer {
        group: "networking.k8s.io",
        plural: "ingressclasses",
        print: ingress_class,
    },
    Printer {
        group: "networking.k8s.io",
        plural: "networkpolicies",
        print: network_policy,
    },
    Printer {
        group: "networking.k8s.io",
        plural: "servicecidrs",
        print: service_cidr,
    },
    Printer {
        group: "networking.k8s.io",
        plural: "ipaddresses",
        print: ip_address,
    },
];

fn ingress(object: &Value, _: &Context) -> Cells {
    let ports = if array_at(object, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    Cells::new()
        .cell(
            "Class",
            opt_str(object, &["spec", "ingressClassName"]).unwrap_or("<none>"),
        )
        .cell("Hosts", hosts(array_at(object, &["spec", "rules"])))
        .cell(
            "Address",
            load_balancer_ingress(array_at(object, &["status", "loadBalancer", "ingress"])),
        )
        .cell("Ports", ports)
}

/// `formatHosts`: the first three non-empty rule hosts, "*" when there are
/// none. Upstream stops collecting once three hosts are listed and then
/// counts the rules beyond the third, whether they had a host or not.
fn hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, &["host"]);
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_owned();
    }
    let text = list.join(",");
    if more {
        format!("{text} + {} more...", rules.len().saturating_sub(MAX))
    } else {
        text
    }
}

fn ingress_class(object: &Value, _: &Context) -> Cells {
    let mut name = str_at(object, &["metadata", "name"]).to_owned();
    if annotation(object, "ingressclass.kubernetes.io/is-default-class") == Some("true") {
        name.push_str(" (default)");
    }
    let parameters = match get_path(object, &["spec", "parameters"]) {
        None => "<none>".to_owned(),
        Some(parameters) => {
            let kind = str_at(parameters, &["kind"]);
            let name = str_at(parameters, &["name"]);
            match opt_str(parameters, &["apiGroup"]) {
                Some(group) => format!("{kind}.{group}/{name}"),
                None => format!("{kind}/{name}"),
            }
        }
    };
    Cells::new()
        .cell("Name", name)
        .cell("Parameters", parameters)
}

fn network_policy(object: &Value, _: &Context) -> Cells {
    // `podSelector` is a struct upstream, never nil: absent selects all.
    let empty = json!({});
    let selector = get_path(object, &["spec", "podSelector"]).unwrap_or(&empty);
    Cells::new().cell("Pod-Selector", format_label_selector(Some(selector)))
}

fn service_cidr(object: &Value, _: &Context) -> Cells {
    let cidrs: Vec<&str> = array_at(object, &["spec", "cidrs"])
        .iter()
        .map(|c| c.as_str().unwrap_or_default())
        .collect();
    Cells::new().cell("CIDRs", cidrs.join(","))
}

/// The parent as `resource.group[/namespace]/name`. Upstream's row also
/// carries the age, which no column declares.
fn ip_address(object: &Value, context: &Context) -> Cells {
    let parent = match get_path(object, &["spec", "parentRef"]) {
        None => "<none>".to_owned(),
        Some(parent) => {
            let resource = str_at(parent, &["resource"]);
            let mut text = match str_at(parent, &["group"]) {
                "" => resource.to_lowercase(),
                group => format!("{resource}.{group}").to_lowercase(),
            };
            let namespace = str_at(parent, &["namespace"]);
            if !namespace.is_empty() {
                text = format!("{text}/{namespace}");
            }
            format!("{text}/{}", str_at(parent, &["name"]))
        }
    };
    let age = context.age(get_path(object, &["metadata", "creationTimestamp"]));
    Cells::new().cell("ParentRef", parent).extra_cell(age)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::{cell, cells_of};

    #[test]
    fn ingresses() {
        let ingress = json!({"metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.example"]}],
                     "rules": [{"host": "a.example"}, {}, {"host": "b.example"}, {"host": "c.example"}, {"host": "d.example"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}]}}});
        assert_eq!(
            cells_of("networking.k8s.io", "ingresses", ingress),
            vec![
                json!("web"),
                json!("nginx"),
                json!("a.example,b.example,c.example + 2 more..."),
                json!("203.0.113.5"),
                json!("80, 443"),
                json!("60m"),
            ]
        );
        let bare = json!({"metadata": {"name": "b"}, "spec": {"defaultBackend": {}}});
        let row = cells_of("networking.k8s.io", "ingresses", bare);
        assert_eq!(
            row[1..5],
            [json!("<none>"), json!("*"), json!(""), json!("80")]
        );
    }

    #[test]
    fn ingress_classes_policies_and_cidrs() {
        let class = json!({"metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
            "spec": {"controller": "k8s.io/ingress-nginx",
                     "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"}}});
        assert_eq!(
            cells_of("networking.k8s.io", "ingressclasses", class),
            vec![
                json!("nginx (default)"),
                json!("k8s.io/ingress-nginx"),
                json!("IngressParameters.k8s.example.com/p"),
                json!("<unknown>")
            ]
        );
        let policy = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
        assert_eq!(
            cell(
                "networking.k8s.io",
                "networkpolicies",
                policy,
                "Pod-Selector"
            ),
            json!("<none>")
        );
        let policy = json!({"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}});
        assert_eq!(
            cell(
                "networking.k8s.io",
                "networkpolicies",
                policy,
                "Pod-Selector"
            ),
            json!("app=web")
        );
        let cidr = json!({"metadata": {"name": "kubernetes"}, "spec": {"cidrs": ["10.96.0.0/28", "fd00:10:96::/112"]}});
        assert_eq!(
            cell("networking.k8s.io", "servicecidrs", cidr, "CIDRs"),
            json!("10.96.0.0/28,fd00:10:96::/112")
        );
    }

    #[test]
    fn ip_addresses_carry_an_undeclared_age() {
        let address = json!({"metadata": {"name": "10.96.0.1", "creationTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {"parentRef": {"group": "", "resource": "services", "namespace": "default", "name": "kubernetes"}}});
        assert_eq!(
            cells_of("networking.k8s.io", "ipaddresses", address),
            vec![
                json!("10.96.0.1"),
                json!("services/default/kubernetes"),
                json!("60s")
            ]
        );
        let orphan = json!({"metadata": {"name": "10.96.0.2"}});
        assert_eq!(
            cells_of("networking.k8s.io", "ipaddresses", orphan),
            vec![json!("10.96.0.2"), json!("<none>"), json!("<unknown>")]
        );
    }
}
