//! APIServices (`apiregistration.k8s.io`), after kube-aggregator's
//! `REST.ConvertToTable` rather than printers.go.

use serde_json::Value;

use super::value::{array_at, get_path, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[Printer {
    group: "apiregistration.k8s.io",
    plural: "apiservices",
    print: api_service,
}];

/// The backing service (`namespace/name`, or "Local" for APIs the server
/// serves itself) and the Available condition, with its reason when false.
fn api_service(object: &Value, _: &Context) -> Cells {
    let service = match get_path(object, &["spec", "service"]) {
        Some(service) => format!(
            "{}/{}",
            str_at(service, &["namespace"]),
            str_at(service, &["name"])
        ),
        None => "Local".to_owned(),
    };
    let available = array_at(object, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Available");
    let available = match available {
        None => "Unknown".to_owned(),
        Some(condition) => match (
            str_at(condition, &["status"]),
            str_at(condition, &["reason"]),
        ) {
            ("True", _) => "True".to_owned(),
            (status, "") => status.to_owned(),
            (status, reason) => format!("{status} ({reason})"),
        },
    };
    Cells::new()
        .cell("Service", service)
        .cell("Available", available)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn local_and_aggregated_services() {
        let local = json!({"metadata": {"name": "v1.apps"}, "spec": {"group": "apps", "version": "v1"},
            "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}});
        assert_eq!(
            cells_of("apiregistration.k8s.io", "apiservices", local),
            vec![
                json!("v1.apps"),
                json!("Local"),
                json!("True"),
                json!("<unknown>")
            ]
        );
        let remote = json!({"metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}});
        assert_eq!(
            cells_of("apiregistration.k8s.io", "apiservices", remote)[1..3],
            [
                json!("kube-system/metrics-server"),
                json!("False (MissingEndpoints)")
            ]
        );
        let fresh = json!({"metadata": {"name": "v1.x"}, "spec": {}});
        assert_eq!(
            cells_of("apiregistration.k8s.io", "apiservices", fresh)[2],
            json!("Unknown")
        );
    }
}
