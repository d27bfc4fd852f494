//! Printers of the `admissionregistration.k8s.io` group: webhook
//! configurations, admission policies and their bindings.

use serde_json::Value;

use super::value::{array_at, get_path, len_at, object_at, str_at};
use super::{Cells, Context, Printer};

const GROUP: &str = "admissionregistration.k8s.io";

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: GROUP,
        plural: "mutatingwebhookconfigurations",
        print: webhook_configuration,
    },
    Printer {
        group: GROUP,
        plural: "validatingwebhookconfigurations",
        print: webhook_configuration,
    },
    Printer {
        group: GROUP,
        plural: "validatingadmissionpolicies",
        print: validating_policy,
    },
    Printer {
        group: GROUP,
        plural: "mutatingadmissionpolicies",
        print: mutating_policy,
    },
    Printer {
        group: GROUP,
        plural: "validatingadmissionpolicybindings",
        print: binding,
    },
    Printer {
        group: GROUP,
        plural: "mutatingadmissionpolicybindings",
        print: binding,
    },
];

fn webhook_configuration(object: &Value, _: &Context) -> Cells {
    Cells::new().cell("Webhooks", len_at(object, &["webhooks"]))
}

fn validating_policy(object: &Value, _: &Context) -> Cells {
    Cells::new()
        .cell("Validations", len_at(object, &["spec", "validations"]))
        .cell("ParamKind", param_kind(object))
}

fn mutating_policy(object: &Value, _: &Context) -> Cells {
    Cells::new()
        .cell("Mutations", len_at(object, &["spec", "mutations"]))
        .cell("ParamKind", param_kind(object))
}

/// `apiVersion/kind` of the policy's parameter kind, or "<unset>".
fn param_kind(object: &Value) -> String {
    match get_path(object, &["spec", "paramKind"]) {
        Some(kind) => format!(
            "{}/{}",
            str_at(kind, &["apiVersion"]),
            str_at(kind, &["kind"])
        ),
        None => "<unset>".to_owned(),
    }
}

/// The parameter a binding names: `namespace/name` (`*/name` when the
/// namespace is left to the request), or its selector.
fn binding(object: &Value, _: &Context) -> Cells {
    let param = match get_path(object, &["spec", "paramRef"]) {
        None => "<unset>".to_owned(),
        Some(reference) => match (
            str_at(reference, &["name"]),
            str_at(reference, &["namespace"]),
        ) {
            ("", _) => match get_path(reference, &["selector"]) {
                Some(selector) => go_label_selector(selector),
                None => "<unset>".to_owned(),
            },
            (name, "") => format!("*/{name}"),
            (name, namespace) => format!("{namespace}/{name}"),
        },
    };
    Cells::new().cell("ParamRef", param)
}

/// What upstream prints for a selector here: `LabelSelector.String()`, the
/// protobuf-generated Go struct dump rather than a selector expression.
fn go_label_selector(selector: &Value) -> String {
    let labels: String = object_at(selector, &["matchLabels"])
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}: {},", value.as_str().unwrap_or_default()))
        .collect();
    let expressions: String = array_at(selector, &["matchExpressions"])
        .iter()
        .map(|e| {
            let values: Vec<&str> = array_at(e, &["values"])
                .iter()
                .map(|v| v.as_str().unwrap_or_default())
                .collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                str_at(e, &["key"]),
                str_at(e, &["operator"]),
                values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::{cell, cells_of};

    #[test]
    fn webhooks_and_policies() {
        let webhooks = json!({"metadata": {"name": "w"}, "webhooks": [{"name": "a.example.com"}, {"name": "b.example.com"}]});
        assert_eq!(
            cells_of(
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
                webhooks
            ),
            vec![json!("w"), json!(2), json!("<unknown>")]
        );
        let policy = json!({"metadata": {"name": "p"}, "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "validations": [{"expression": "true"}]}});
        assert_eq!(
            cells_of(
                "admissionregistration.k8s.io",
                "validatingadmissionpolicies",
                policy
            ),
            vec![
                json!("p"),
                json!(1),
                json!("v1/ConfigMap"),
                json!("<unknown>")
            ]
        );
        let mutating = json!({"metadata": {"name": "m"}, "spec": {"mutations": []}});
        assert_eq!(
            cells_of(
                "admissionregistration.k8s.io",
                "mutatingadmissionpolicies",
                mutating
            ),
            vec![json!("m"), json!(0), json!("<unset>"), json!("<unknown>")]
        );
    }

    #[test]
    fn binding_parameters() {
        let plural = "validatingadmissionpolicybindings";
        let named = |reference| json!({"metadata": {"name": "b"}, "spec": {"policyName": "p", "paramRef": reference}});
        let param = |reference| {
            cell(
                "admissionregistration.k8s.io",
                plural,
                named(reference),
                "ParamRef",
            )
        };
        assert_eq!(
            param(json!({"name": "cfg", "namespace": "ns"})),
            json!("ns/cfg")
        );
        assert_eq!(param(json!({"name": "cfg"})), json!("*/cfg"));
        assert_eq!(
            param(json!({"selector": {"matchLabels": {"b": "2", "a": "1"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["x", "y"]}]}})),
            json!(
                "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:env,Operator:In,Values:[x y],},},}"
            )
        );
        assert_eq!(param(json!({})), json!("<unset>"));
        let unbound = json!({"metadata": {"name": "u"}, "spec": {"policyName": "p"}});
        assert_eq!(
            cells_of(
                "admissionregistration.k8s.io",
                "mutatingadmissionpolicybindings",
                unbound
            ),
            vec![json!("u"), json!("p"), json!("<unset>"), json!("<unknown>")]
        );
    }
}
