//! Printers of the `apps` group: the workload controllers and their
//! revisions.

use serde_json::Value;

use super::format::{
    InvalidSelector, container_cells, format_label_selector, format_labels, selector_string,
};
use super::value::{array_at, get_path, int_at, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "apps",
        plural: "deployments",
        print: deployment,
    },
    Printer {
        group: "apps",
        plural: "replicasets",
        print: replica_set,
    },
    Printer {
        group: "apps",
        plural: "daemonsets",
        print: daemon_set,
    },
    Printer {
        group: "apps",
        plural: "statefulsets",
        print: stateful_set,
    },
    Printer {
        group: "apps",
        plural: "controllerrevisions",
        print: controller_revision,
    },
];

/// The Containers and Images cells of a pod template at `spec.template`.
fn template_containers(object: &Value, cells: Cells) -> Cells {
    let (names, images) = container_cells(array_at(
        object,
        &["spec", "template", "spec", "containers"],
    ));
    cells.cell("Containers", names).cell("Images", images)
}

/// "ready/desired".
fn ready_of_desired(object: &Value) -> String {
    format!(
        "{}/{}",
        int_at(object, &["status", "readyReplicas"]),
        int_at(object, &["spec", "replicas"])
    )
}

fn deployment(object: &Value, _: &Context) -> Cells {
    // Unlike the other controllers, upstream prints the raw selector
    // string here: "" rather than "<none>", "<invalid>" rather than "<error>".
    let selector = match selector_string(get_path(object, &["spec", "selector"])) {
        Ok(text) => text,
        Err(InvalidSelector) => "<invalid>".to_owned(),
    };
    let cells = Cells::new().cell("Ready", ready_of_desired(object));
    template_containers(object, cells).cell("Selector", selector)
}

fn replica_set(object: &Value, _: &Context) -> Cells {
    template_containers(object, Cells::new()).cell(
        "Selector",
        format_label_selector(get_path(object, &["spec", "selector"])),
    )
}

fn daemon_set(object: &Value, _: &Context) -> Cells {
    let node_selector = format_labels(get_path(
        object,
        &["spec", "template", "spec", "nodeSelector"],
    ));
    template_containers(object, Cells::new().cell("Node Selector", node_selector)).cell(
        "Selector",
        format_label_selector(get_path(object, &["spec", "selector"])),
    )
}

fn stateful_set(object: &Value, _: &Context) -> Cells {
    template_containers(object, Cells::new().cell("Ready", ready_of_desired(object)))
}

/// The controller owning the revision, as `kind.group/name`.
fn controller_revision(object: &Value, _: &Context) -> Cells {
    let controller = array_at(object, &["metadata", "ownerReferences"])
        .iter()
        .find(|r| get_path(r, &["controller"]).and_then(Value::as_bool) == Some(true));
    let name = match controller {
        None => "<none>".to_owned(),
        Some(reference) => {
            let api_version = str_at(reference, &["apiVersion"]);
            // schema.ParseGroupVersion: "group/version" or a bare version.
            let group = match api_version.split_once('/') {
                Some((group, _)) => group,
                None => "",
            };
            let kind = str_at(reference, &["kind"]);
            let name = str_at(reference, &["name"]);
            match (kind, group) {
                ("", "") => name.to_owned(),
                (kind, "") => format!("{}/{name}", kind.to_lowercase()),
                (kind, group) => format!("{}/{name}", format!("{kind}.{group}").to_lowercase()),
            }
        }
    };
    Cells::new().cell("Controller", name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::{cell, cells_of};

    fn template() -> serde_json::Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "log", "image": "fluent-bit"}]}})
    }

    #[test]
    fn deployment_row() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T11:50:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
        });
        assert_eq!(
            cells_of("apps", "deployments", deployment),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("10m"),
                json!("app,log"),
                json!("nginx:1.27,fluent-bit"),
                json!("app=web"),
            ]
        );
    }

    #[test]
    fn new_deployment_without_status() {
        let deployment =
            json!({"metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {}}});
        assert_eq!(
            cells_of("apps", "deployments", deployment),
            vec![
                json!("web"),
                json!("0/1"),
                json!(0),
                json!(0),
                json!("<unknown>"),
                json!(""),
                json!(""),
                json!("")
            ]
        );
    }

    #[test]
    fn replica_and_daemon_sets() {
        let replica_set = json!({"metadata": {"name": "web-5d"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d"}},
                     "template": template()},
            "status": {"replicas": 2, "readyReplicas": 1}});
        assert_eq!(
            cells_of("apps", "replicasets", replica_set),
            vec![
                json!("web-5d"),
                json!(2),
                json!(2),
                json!(1),
                json!("<unknown>"),
                json!("app,log"),
                json!("nginx:1.27,fluent-bit"),
                json!("app=web,pod-template-hash=5d"),
            ]
        );
        let daemon_set = json!({"metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template()},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                       "updatedNumberScheduled": 3, "numberAvailable": 2}});
        assert_eq!(
            cells_of("apps", "daemonsets", daemon_set),
            vec![
                json!("agent"),
                json!(3),
                json!(3),
                json!(2),
                json!(3),
                json!(2),
                json!("kubernetes.io/os=linux"),
                json!("<unknown>"),
                json!("app,log"),
                json!("nginx:1.27,fluent-bit"),
                json!("app=agent"),
            ]
        );
    }

    #[test]
    fn stateful_sets_and_revisions() {
        let stateful_set = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3, "template": template()},
            "status": {"readyReplicas": 3}});
        assert_eq!(
            cells_of("apps", "statefulsets", stateful_set),
            vec![
                json!("db"),
                json!("3/3"),
                json!("<unknown>"),
                json!("app,log"),
                json!("nginx:1.27,fluent-bit")
            ]
        );
        let revision = json!({"metadata": {"name": "db-7f", "ownerReferences": [
            {"apiVersion": "v1", "kind": "Pod", "name": "other"},
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": true}]},
            "revision": 2});
        assert_eq!(
            cells_of("apps", "controllerrevisions", revision),
            vec![
                json!("db-7f"),
                json!("statefulset.apps/db"),
                json!(2),
                json!("<unknown>")
            ]
        );
        let orphan = json!({"metadata": {"name": "x"}});
        assert_eq!(
            cell("apps", "controllerrevisions", orphan, "Controller"),
            json!("<none>")
        );
    }
}
