//! Dynamic resource allocation (`resource.k8s.io`). Only ResourceClaims
//! compute a column; the columns upstream added for DeviceTaintRules and
//! ResourcePoolStatusRequests are not written yet (`tests::UNPRINTED`).

use serde_json::Value;

use super::value::{array_at, get_path};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[Printer {
    group: "resource.k8s.io",
    plural: "resourceclaims",
    print: resource_claim,
}];

/// `resourceClaimState`: deleted, then pending (unallocated) or allocated
/// and reserved, joined by ",".
fn resource_claim(object: &Value, _: &Context) -> Cells {
    let deleted = get_path(object, &["metadata", "deletionTimestamp"]).is_some();
    let mut states = Vec::new();
    if deleted {
        states.push("deleted");
    }
    if get_path(object, &["status", "allocation"]).is_none() {
        if !deleted {
            states.push("pending");
        }
    } else {
        states.push("allocated");
        if !array_at(object, &["status", "reservedFor"]).is_empty() {
            states.push("reserved");
        }
    }
    Cells::new().cell("State", states.join(","))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cell;

    #[test]
    fn claim_states() {
        let state = |claim| cell("resource.k8s.io", "resourceclaims", claim, "State");
        assert_eq!(
            state(json!({"metadata": {"name": "c"}, "spec": {}})),
            json!("pending")
        );
        assert_eq!(
            state(
                json!({"metadata": {"name": "c"}, "status": {"allocation": {}, "reservedFor": [{"name": "pod"}]}})
            ),
            json!("allocated,reserved")
        );
        assert_eq!(
            state(json!({"metadata": {"name": "c", "deletionTimestamp": "2024-05-01T11:00:00Z"}})),
            json!("deleted")
        );
        assert_eq!(
            state(
                json!({"metadata": {"name": "c", "deletionTimestamp": "2024-05-01T11:00:00Z"},
                         "status": {"allocation": {}}})
            ),
            json!("deleted,allocated")
        );
    }
}
