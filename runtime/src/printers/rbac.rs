//! Role bindings of `rbac.authorization.k8s.io`; roles themselves get the
//! default table, as upstream.

use serde_json::Value;

use super::value::{array_at, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "rbac.authorization.k8s.io",
        plural: "rolebindings",
        print: binding,
    },
    Printer {
        group: "rbac.authorization.k8s.io",
        plural: "clusterrolebindings",
        print: binding,
    },
];

/// The role as `Kind/name` and the subjects by kind (`rbac.SubjectsStrings`):
/// users and groups by name, service accounts as `namespace/name`.
fn binding(object: &Value, _: &Context) -> Cells {
    let role = format!(
        "{}/{}",
        str_at(object, &["roleRef", "kind"]),
        str_at(object, &["roleRef", "name"])
    );
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for subject in array_at(object, &["subjects"]) {
        let name = str_at(subject, &["name"]);
        match str_at(subject, &["kind"]) {
            "User" => users.push(name.to_owned()),
            "Group" => groups.push(name.to_owned()),
            "ServiceAccount" => {
                service_accounts.push(format!("{}/{name}", str_at(subject, &["namespace"])))
            }
            _ => {}
        }
    }
    Cells::new()
        .cell("Role", role)
        .cell("Users", users.join(", "))
        .cell("Groups", groups.join(", "))
        .cell("ServiceAccounts", service_accounts.join(", "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn bindings_list_subjects_by_kind() {
        let binding = json!({"metadata": {"name": "admins"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "system:masters"},
                         {"kind": "User", "name": "bob"}, {"kind": "ServiceAccount", "namespace": "ci", "name": "deployer"}]});
        assert_eq!(
            cells_of(
                "rbac.authorization.k8s.io",
                "clusterrolebindings",
                binding.clone()
            ),
            vec![
                json!("admins"),
                json!("ClusterRole/cluster-admin"),
                json!("<unknown>"),
                json!("alice, bob"),
                json!("system:masters"),
                json!("ci/deployer"),
            ]
        );
        let empty = json!({"metadata": {"name": "e"}, "roleRef": {"kind": "Role", "name": "view"}});
        assert_eq!(
            cells_of("rbac.authorization.k8s.io", "rolebindings", empty),
            vec![
                json!("e"),
                json!("Role/view"),
                json!("<unknown>"),
                json!(""),
                json!(""),
                json!("")
            ]
        );
    }
}
