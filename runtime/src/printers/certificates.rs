//! Printers of the `certificates.k8s.io` group.

use chrono::TimeDelta;
use serde_json::Value;

use super::age::human_duration;
use super::value::{array_at, opt_int, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "certificates.k8s.io",
        plural: "certificatesigningrequests",
        print: certificate_signing_request,
    },
    Printer {
        group: "certificates.k8s.io",
        plural: "clustertrustbundles",
        print: cluster_trust_bundle,
    },
];

fn signer_name(object: &Value) -> &str {
    match str_at(object, &["spec", "signerName"]) {
        "" => "<none>",
        name => name,
    }
}

fn certificate_signing_request(object: &Value, _: &Context) -> Cells {
    let duration = opt_int(object, &["spec", "expirationSeconds"]).map_or_else(
        || "<none>".to_owned(),
        |seconds| human_duration(TimeDelta::seconds(seconds)),
    );
    Cells::new()
        .cell("SignerName", signer_name(object))
        .cell("RequestedDuration", duration)
        .cell("Condition", condition(object))
}

/// `extractCSRStatus`: Denied over Approved over Pending, then ",Failed"
/// and ",Issued" when they apply.
fn condition(object: &Value) -> String {
    let has = |ty: &str| {
        array_at(object, &["status", "conditions"])
            .iter()
            .any(|c| str_at(c, &["type"]) == ty)
    };
    let mut status = if has("Denied") {
        "Denied"
    } else if has("Approved") {
        "Approved"
    } else {
        "Pending"
    }
    .to_owned();
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !str_at(object, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    status
}

fn cluster_trust_bundle(object: &Value, _: &Context) -> Cells {
    Cells::new().cell("SignerName", signer_name(object))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn signing_requests() {
        let request = json!({"metadata": {"name": "csr-1", "creationTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {"signerName": "kubernetes.io/kube-apiserver-client", "username": "alice", "expirationSeconds": 86400},
            "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0tLS1CRUdJTg=="}});
        assert_eq!(
            cells_of("certificates.k8s.io", "certificatesigningrequests", request),
            vec![
                json!("csr-1"),
                json!("60s"),
                json!("kubernetes.io/kube-apiserver-client"),
                json!("alice"),
                json!("24h"),
                json!("Approved,Issued"),
            ]
        );
        let denied = json!({"metadata": {"name": "csr-2"}, "spec": {},
            "status": {"conditions": [{"type": "Approved"}, {"type": "Denied"}, {"type": "Failed"}]}});
        let row = cells_of("certificates.k8s.io", "certificatesigningrequests", denied);
        assert_eq!(
            row[2..],
            [
                json!("<none>"),
                json!(""),
                json!("<none>"),
                json!("Denied,Failed")
            ]
        );
    }

    #[test]
    fn trust_bundles() {
        let bundle = json!({"metadata": {"name": "b"}, "spec": {"trustBundle": ""}});
        assert_eq!(
            cells_of("certificates.k8s.io", "clustertrustbundles", bundle),
            vec![json!("b"), json!("<none>")]
        );
    }
}
