//! PodDisruptionBudgets (`policy`).

use serde_json::Value;

use super::format::int_or_string;
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[Printer {
    group: "policy",
    plural: "poddisruptionbudgets",
    print: pod_disruption_budget,
}];

fn pod_disruption_budget(object: &Value, _: &Context) -> Cells {
    Cells::new()
        .cell(
            "Min Available",
            int_or_string(object, &["spec", "minAvailable"], "N/A"),
        )
        .cell(
            "Max Unavailable",
            int_or_string(object, &["spec", "maxUnavailable"], "N/A"),
        )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn budgets_print_numbers_or_percentages() {
        let budget = json!({"metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 1}});
        assert_eq!(
            cells_of("policy", "poddisruptionbudgets", budget),
            vec![
                json!("web"),
                json!("2"),
                json!("N/A"),
                json!(1),
                json!("60m")
            ]
        );
        let percent = json!({"metadata": {"name": "p"}, "spec": {"maxUnavailable": "25%"}});
        assert_eq!(
            cells_of("policy", "poddisruptionbudgets", percent)[1..4],
            [json!("N/A"), json!("25%"), json!(0)]
        );
    }
}
