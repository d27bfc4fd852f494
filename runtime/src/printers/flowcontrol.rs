//! Printers of API Priority and Fairness (`flowcontrol.apiserver.k8s.io`).

use serde_json::{Value, json};

use super::value::{array_at, get_path, int_at, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "flowcontrol.apiserver.k8s.io",
        plural: "flowschemas",
        print: flow_schema,
    },
    Printer {
        group: "flowcontrol.apiserver.k8s.io",
        plural: "prioritylevelconfigurations",
        print: priority_level,
    },
];

/// The distinguisher, and whether the priority level it names is missing
/// (the `Dangling` condition's status, "?" before the server has set it).
fn flow_schema(object: &Value, _: &Context) -> Cells {
    let distinguisher = match get_path(object, &["spec", "distinguisherMethod"]) {
        Some(method) => str_at(method, &["type"]).to_owned(),
        None => "<none>".to_owned(),
    };
    let missing = array_at(object, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Dangling")
        .map_or("?", |c| str_at(c, &["status"]));
    Cells::new()
        .cell("DistinguisherMethod", distinguisher)
        .cell("MissingPL", missing)
}

/// Limited levels print their shares and queuing as integers; exempt
/// levels, and limited ones that reject instead of queuing, "<none>".
fn priority_level(object: &Value, _: &Context) -> Cells {
    let none = || json!("<none>");
    let limited = get_path(object, &["spec", "limited"]);
    let queuing = limited.and_then(|l| get_path(l, &["limitResponse", "queuing"]));
    let shares = limited.map_or_else(none, |l| json!(int_at(l, &["nominalConcurrencyShares"])));
    let queuing_field = |field: &str| queuing.map_or_else(none, |q| json!(int_at(q, &[field])));
    Cells::new()
        .cell("NominalConcurrencyShares", shares)
        .cell("Queues", queuing_field("queues"))
        .cell("HandSize", queuing_field("handSize"))
        .cell("QueueLengthLimit", queuing_field("queueLengthLimit"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn flow_schemas() {
        let schema = json!({"metadata": {"name": "workload-leader-election"},
            "spec": {"priorityLevelConfiguration": {"name": "leader-election"}, "matchingPrecedence": 200,
                     "distinguisherMethod": {"type": "ByUser"}},
            "status": {"conditions": [{"type": "Dangling", "status": "False"}]}});
        assert_eq!(
            cells_of("flowcontrol.apiserver.k8s.io", "flowschemas", schema),
            vec![
                json!("workload-leader-election"),
                json!("leader-election"),
                json!(200),
                json!("ByUser"),
                json!("<unknown>"),
                json!("False")
            ]
        );
        let fresh = json!({"metadata": {"name": "f"}, "spec": {"priorityLevelConfiguration": {"name": "x"}}});
        let row = cells_of("flowcontrol.apiserver.k8s.io", "flowschemas", fresh);
        assert_eq!(row[2..4], [json!(0), json!("<none>")]);
        assert_eq!(row[5], json!("?"));
    }

    #[test]
    fn priority_levels() {
        let limited = json!({"metadata": {"name": "workload-low"}, "spec": {"type": "Limited", "limited": {
            "nominalConcurrencyShares": 100,
            "limitResponse": {"type": "Queue", "queuing": {"queues": 128, "handSize": 6, "queueLengthLimit": 50}}}}});
        assert_eq!(
            cells_of(
                "flowcontrol.apiserver.k8s.io",
                "prioritylevelconfigurations",
                limited
            ),
            vec![
                json!("workload-low"),
                json!("Limited"),
                json!(100),
                json!(128),
                json!(6),
                json!(50),
                json!("<unknown>")
            ]
        );
        let exempt =
            json!({"metadata": {"name": "exempt"}, "spec": {"type": "Exempt", "exempt": {}}});
        assert_eq!(
            cells_of(
                "flowcontrol.apiserver.k8s.io",
                "prioritylevelconfigurations",
                exempt
            )[2..6],
            [
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }
}
