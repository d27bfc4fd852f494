//! Printers of the `storage.k8s.io` group.

use serde_json::Value;

use super::format::quantity;
use super::value::{annotation, array_at, get_path, len_at, opt_bool, opt_str, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "storage.k8s.io",
        plural: "storageclasses",
        print: storage_class,
    },
    Printer {
        group: "storage.k8s.io",
        plural: "csinodes",
        print: csi_node,
    },
    Printer {
        group: "storage.k8s.io",
        plural: "csidrivers",
        print: csi_driver,
    },
    Printer {
        group: "storage.k8s.io",
        plural: "csistoragecapacities",
        print: csi_storage_capacity,
    },
];

/// The name, marked " (default)" for the default class (either annotation,
/// current or beta, set to "true"), and the defaults of unset fields.
fn storage_class(object: &Value, _: &Context) -> Cells {
    let mut name = str_at(object, &["metadata", "name"]).to_owned();
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .into_iter()
    .any(|key| annotation(object, key) == Some("true"));
    if is_default {
        name.push_str(" (default)");
    }
    Cells::new()
        .cell("Name", name)
        .cell(
            "ReclaimPolicy",
            opt_str(object, &["reclaimPolicy"]).unwrap_or("Delete"),
        )
        .cell(
            "VolumeBindingMode",
            opt_str(object, &["volumeBindingMode"]).unwrap_or("Immediate"),
        )
        .cell(
            "AllowVolumeExpansion",
            opt_bool(object, &["allowVolumeExpansion"]).unwrap_or(false),
        )
}

fn csi_node(object: &Value, _: &Context) -> Cells {
    Cells::new().cell("Drivers", len_at(object, &["spec", "drivers"]))
}

fn csi_driver(object: &Value, _: &Context) -> Cells {
    let modes: Vec<&str> = array_at(object, &["spec", "volumeLifecycleModes"])
        .iter()
        .map(|m| m.as_str().unwrap_or_default())
        .collect();
    let modes = if modes.is_empty() {
        "<none>".to_owned()
    } else {
        modes.join(",")
    };
    // A nil list is "<unset>"; an empty one lists no audiences.
    let token_requests = match get_path(object, &["spec", "tokenRequests"]) {
        None => "<unset>".to_owned(),
        Some(requests) => requests
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|t| str_at(t, &["audience"]))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
    };
    let flag = |field: &str, default: bool| opt_bool(object, &["spec", field]).unwrap_or(default);
    Cells::new()
        .cell("AttachRequired", flag("attachRequired", true))
        .cell("PodInfoOnMount", flag("podInfoOnMount", false))
        .cell("StorageCapacity", flag("storageCapacity", false))
        .cell("TokenRequests", token_requests)
        .cell("RequiresRepublish", flag("requiresRepublish", false))
        .cell("Modes", modes)
}

fn csi_storage_capacity(object: &Value, _: &Context) -> Cells {
    Cells::new().cell("Capacity", quantity(object, &["capacity"], "<unset>"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn storage_classes() {
        let class = json!({"metadata": {"name": "standard", "creationTimestamp": "2024-05-01T10:00:00Z",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
        assert_eq!(
            cells_of("storage.k8s.io", "storageclasses", class),
            vec![
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false),
                json!("120m"),
            ]
        );
    }

    #[test]
    fn csi_objects() {
        let driver = json!({"metadata": {"name": "ebs.csi.aws.com"},
            "spec": {"tokenRequests": [{"audience": "sts"}, {"audience": "vault"}], "volumeLifecycleModes": ["Persistent", "Ephemeral"]}});
        assert_eq!(
            cells_of("storage.k8s.io", "csidrivers", driver),
            vec![
                json!("ebs.csi.aws.com"),
                json!(true),
                json!(false),
                json!(false),
                json!("sts,vault"),
                json!(false),
                json!("Persistent,Ephemeral"),
                json!("<unknown>"),
            ]
        );
        let bare = json!({"metadata": {"name": "d"}, "spec": {}});
        let row = cells_of("storage.k8s.io", "csidrivers", bare);
        assert_eq!(row[4..7], [json!("<unset>"), json!(false), json!("<none>")]);
        let node = json!({"metadata": {"name": "n1"}, "spec": {"drivers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(
            cells_of("storage.k8s.io", "csinodes", node),
            vec![json!("n1"), json!(2), json!("<unknown>")]
        );
        let capacity =
            json!({"metadata": {"name": "c"}, "storageClassName": "fast", "capacity": "100Gi"});
        assert_eq!(
            cells_of("storage.k8s.io", "csistoragecapacities", capacity),
            vec![json!("c"), json!("fast"), json!("100Gi")]
        );
    }
}
