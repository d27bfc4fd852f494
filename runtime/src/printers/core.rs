//! Printers of the core group's resources, pods and events aside (they
//! have their own modules).

use std::collections::BTreeSet;

use serde_json::Value;

use super::format::{
    access_modes, container_cells, format_labels, join_host_port, load_balancer_ingress, quantity,
};
use super::value::{annotation, array_at, get_path, int_at, len_at, object_at, opt_str, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "",
        plural: "podtemplates",
        print: pod_template,
    },
    Printer {
        group: "",
        plural: "replicationcontrollers",
        print: replication_controller,
    },
    Printer {
        group: "",
        plural: "services",
        print: service,
    },
    Printer {
        group: "",
        plural: "endpoints",
        print: endpoints,
    },
    Printer {
        group: "",
        plural: "nodes",
        print: node,
    },
    Printer {
        group: "",
        plural: "secrets",
        print: secret,
    },
    Printer {
        group: "",
        plural: "configmaps",
        print: config_map,
    },
    Printer {
        group: "",
        plural: "persistentvolumes",
        print: persistent_volume,
    },
    Printer {
        group: "",
        plural: "persistentvolumeclaims",
        print: persistent_volume_claim,
    },
    Printer {
        group: "",
        plural: "componentstatuses",
        print: component_status,
    },
    Printer {
        group: "",
        plural: "resourcequotas",
        print: resource_quota,
    },
];

/// The annotation that named a volume's class before `storageClassName`;
/// upstream still prefers it when present, even empty.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

fn pod_template(object: &Value, _: &Context) -> Cells {
    let (names, images) = container_cells(array_at(object, &["template", "spec", "containers"]));
    Cells::new()
        .cell("Containers", names)
        .cell("Images", images)
        .cell(
            "Pod Labels",
            format_labels(get_path(object, &["template", "metadata", "labels"])),
        )
}

fn replication_controller(object: &Value, _: &Context) -> Cells {
    let (names, images) = container_cells(array_at(
        object,
        &["spec", "template", "spec", "containers"],
    ));
    Cells::new()
        .cell("Containers", names)
        .cell("Images", images)
        .cell(
            "Selector",
            format_labels(get_path(object, &["spec", "selector"])),
        )
}

fn service(object: &Value, _: &Context) -> Cells {
    // Upstream stores `clusterIPs` filled from `clusterIP`; an object
    // written without it still prints its address.
    let cluster_ip = array_at(object, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .or_else(|| opt_str(object, &["spec", "clusterIP"]).filter(|ip| !ip.is_empty()))
        .unwrap_or("<none>");
    let ports: Vec<String> = array_at(object, &["spec", "ports"])
        .iter()
        .map(|port| {
            let number = int_at(port, &["port"]);
            let protocol = str_at(port, &["protocol"]);
            match int_at(port, &["nodePort"]) {
                node_port if node_port > 0 => format!("{number}:{node_port}/{protocol}"),
                _ => format!("{number}/{protocol}"),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_owned()
    } else {
        ports.join(",")
    };
    Cells::new()
        .cell("Cluster-IP", cluster_ip)
        .cell("External-IP", service_external_ip(object))
        .cell("Port(s)", ports)
        .cell(
            "Selector",
            format_labels(get_path(object, &["spec", "selector"])),
        )
}

/// `getServiceExternalIP` (wide): external IPs, plus the load balancer's
/// ingress points for a LoadBalancer, which is "<pending>" until it has one.
fn service_external_ip(object: &Value) -> String {
    let external: Vec<&str> = array_at(object, &["spec", "externalIPs"])
        .iter()
        .map(|ip| ip.as_str().unwrap_or_default())
        .collect();
    match str_at(object, &["spec", "type"]) {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".to_owned(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let ingress =
                load_balancer_ingress(array_at(object, &["status", "loadBalancer", "ingress"]));
            match (ingress.is_empty(), external.is_empty()) {
                (true, true) => "<pending>".to_owned(),
                (false, true) => ingress,
                (true, false) => external.join(","),
                (false, false) => format!("{ingress},{}", external.join(",")),
            }
        }
        "ExternalName" => str_at(object, &["spec", "externalName"]).to_owned(),
        _ => "<unknown>".to_owned(),
    }
}

/// `formatEndpoints`: the first three `ip:port` pairs (or bare IPs of
/// subsets without ports), then how many more.
fn endpoints(object: &Value, _: &Context) -> Cells {
    const MAX: usize = 3;
    let subsets = array_at(object, &["subsets"]);
    if subsets.is_empty() {
        return Cells::new().cell("Endpoints", "<none>");
    }
    let mut list = Vec::new();
    let mut count = 0;
    for subset in subsets {
        let addresses = array_at(subset, &["addresses"]);
        let ports = array_at(subset, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            list.extend(addresses.iter().map(|a| str_at(a, &["ip"]).to_owned()));
            continue;
        }
        for port in ports {
            count += addresses.len();
            let number = int_at(port, &["port"]);
            list.extend(
                addresses
                    .iter()
                    .map(|a| join_host_port(str_at(a, &["ip"]), number)),
            );
        }
    }
    list.truncate(MAX);
    let mut text = list.join(",");
    if count > MAX {
        text = format!("{text} + {} more...", count - MAX);
    }
    Cells::new().cell("Endpoints", text)
}

fn node(object: &Value, _: &Context) -> Cells {
    // Upstream keys conditions by type, so the last Ready condition counts.
    let ready = array_at(object, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| str_at(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_at(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if get_path(object, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let info = |field: &str| match str_at(object, &["status", "nodeInfo", field]) {
        "" => "<unknown>".to_owned(),
        value => value.to_owned(),
    };
    // v1.36 appends the architecture to the kernel version (kubernetes#132402).
    let kernel = match str_at(object, &["status", "nodeInfo", "architecture"]) {
        "" => info("kernelVersion"),
        arch => format!("{} ({arch})", info("kernelVersion")),
    };
    Cells::new()
        .cell("Status", status.join(","))
        .cell("Roles", node_roles(object))
        .cell("Internal-IP", node_address(object, "InternalIP"))
        .cell("External-IP", node_address(object, "ExternalIP"))
        .cell("OS-Image", info("osImage"))
        .cell("Kernel-Version", kernel)
        .cell("Container-Runtime", info("containerRuntimeVersion"))
}

/// `findNodeRoles`: the `<role>` of every `node-role.kubernetes.io/<role>`
/// label and the value of a `kubernetes.io/role` label, sorted.
fn node_roles(object: &Value) -> String {
    let roles: BTreeSet<&str> = object_at(object, &["metadata", "labels"])
        .into_iter()
        .flatten()
        .filter_map(
            |(key, value)| match key.strip_prefix("node-role.kubernetes.io/") {
                Some(role) => Some(role),
                None if key == "kubernetes.io/role" => value.as_str(),
                None => None,
            },
        )
        .filter(|role| !role.is_empty())
        .collect();
    if roles.is_empty() {
        "<none>".to_owned()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

/// The node's first address of type `ty`, or "<none>".
fn node_address(object: &Value, ty: &str) -> String {
    array_at(object, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == ty)
        .map_or("<none>", |a| str_at(a, &["address"]))
        .to_owned()
}

fn secret(object: &Value, _: &Context) -> Cells {
    Cells::new().cell("Data", len_at(object, &["data"]))
}

fn config_map(object: &Value, _: &Context) -> Cells {
    Cells::new().cell(
        "Data",
        len_at(object, &["data"]) + len_at(object, &["binaryData"]),
    )
}

/// "Terminating" while the object is being deleted, else `status.phase`.
fn phase(object: &Value) -> &str {
    if get_path(object, &["metadata", "deletionTimestamp"]).is_some() {
        "Terminating"
    } else {
        str_at(object, &["status", "phase"])
    }
}

fn persistent_volume(object: &Value, _: &Context) -> Cells {
    let claim = get_path(object, &["spec", "claimRef"])
        .map(|c| format!("{}/{}", str_at(c, &["namespace"]), str_at(c, &["name"])))
        .unwrap_or_default();
    let class = annotation(object, BETA_STORAGE_CLASS)
        .unwrap_or(str_at(object, &["spec", "storageClassName"]));
    Cells::new()
        .cell(
            "Capacity",
            quantity(object, &["spec", "capacity", "storage"], "0"),
        )
        .cell(
            "Access Modes",
            access_modes(array_at(object, &["spec", "accessModes"])),
        )
        .cell("Status", phase(object))
        .cell("Claim", claim)
        .cell("StorageClass", class)
        .cell(
            "VolumeAttributesClass",
            unset_if_absent(object, &["spec", "volumeAttributesClassName"]),
        )
        .cell(
            "VolumeMode",
            unset_if_absent(object, &["spec", "volumeMode"]),
        )
}

fn persistent_volume_claim(object: &Value, _: &Context) -> Cells {
    // Capacity and modes are the bound volume's, shown once it is bound.
    let (capacity, modes) = if str_at(object, &["spec", "volumeName"]).is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(object, &["status", "capacity", "storage"], "0"),
            access_modes(array_at(object, &["status", "accessModes"])),
        )
    };
    let class = annotation(object, BETA_STORAGE_CLASS)
        .unwrap_or(str_at(object, &["spec", "storageClassName"]));
    Cells::new()
        .cell("Status", phase(object))
        .cell("Capacity", capacity)
        .cell("Access Modes", modes)
        .cell("StorageClass", class)
        .cell(
            "VolumeAttributesClass",
            unset_if_absent(object, &["spec", "volumeAttributesClassName"]),
        )
        .cell(
            "VolumeMode",
            unset_if_absent(object, &["spec", "volumeMode"]),
        )
}

/// A Go `*string` cell: its value, or "<unset>" when nil.
fn unset_if_absent(object: &Value, path: &[&str]) -> String {
    opt_str(object, path).unwrap_or("<unset>").to_owned()
}

fn component_status(object: &Value, _: &Context) -> Cells {
    let healthy = array_at(object, &["conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Healthy");
    let status = match healthy {
        Some(c) if str_at(c, &["status"]) == "True" => "Healthy",
        Some(_) => "Unhealthy",
        None => "Unknown",
    };
    let field = |name: &str| healthy.map_or("", |c| str_at(c, &[name]));
    Cells::new()
        .cell("Status", status)
        .cell("Message", field("message"))
        .cell("Error", field("error"))
}

/// `used/hard` of every resource in `status.hard`, sorted by name; limits
/// (`limits.*`) go to the Limit column, everything else to Request.
fn resource_quota(object: &Value, _: &Context) -> Cells {
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for name in object_at(object, &["status", "hard"])
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        let used = quantity(object, &["status", "used", name], "0");
        let hard = quantity(object, &["status", "hard", name], "0");
        let entry = format!("{name}: {used}/{hard}");
        let is_limit = name
            .split_once('.')
            .is_some_and(|(prefix, _)| prefix == "limits");
        if is_limit { &mut limits } else { &mut requests }.push(entry);
    }
    Cells::new()
        .cell("Request", requests.join(", "))
        .cell("Limit", limits.join(", "))
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
