//! Label and field selectors for list, watch and deletecollection, after
//! upstream `k8s.io/apimachinery/pkg/labels` and `pkg/fields`.
//!
//! Clients see these through error messages and through which objects a
//! list returns, so both follow upstream to the byte:
//!
//! - [`LabelSelector::parse`] reads `?labelSelector=` (`a=b,c in (d),!e`)
//!   and [`LabelSelector::from_api`] converts a `metav1.LabelSelector`
//!   (`matchLabels`/`matchExpressions`), as `metav1.LabelSelectorAsSelector`.
//! - [`FieldSelector::parse`] reads `?fieldSelector=`; [`FieldLabels`] then
//!   checks its fields against what the resource supports (upstream's
//!   per-kind `ConvertFieldLabel`) and extracts an object's selectable
//!   field values (upstream's per-kind `GetAttrs`).
//!
//! Every [`SelectorError`] becomes a `400 BadRequest` Status whose message
//! is [`SelectorError::message`] unchanged: upstream's list handler wraps
//! both parse and field-label errors with `errors.NewBadRequest(err.Error())`.

mod fields;
mod labels;

pub use fields::{FieldLabels, FieldOp, FieldSelector, FieldTerm, field_paths, field_values};
pub use labels::{LabelSelector, Operator, Requirement, validate_label_key, validate_label_value};

use std::fmt;

/// A selector that could not be parsed or is not supported by a resource.
///
/// The message is upstream's error text; a server answers it as a
/// `400 BadRequest` Status with this message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    message: String,
}

impl SelectorError {
    /// An error with upstream's text `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message for the BadRequest Status.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}

// The label selector tests and the field value extraction tests live here
// because labels.rs and fields.rs are at their size budget; the field
// selector grammar and field label tests are in fields.rs.
#[cfg(test)]
mod label_tests {
    use std::collections::BTreeMap;

    use generated::apimachinery::pkg::apis::meta::v1::{
        LabelSelector as ApiSelector, LabelSelectorRequirement,
    };
    use serde_json::json;

    use super::*;

    const KEY_RE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must \
        start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or \
        '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const VALUE_RE: &str = "a valid label must be an empty string or consist of alphanumeric \
        characters, '-', '_' or '.', and must start and end with an alphanumeric character \
        (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is \
        '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    const SUBDOMAIN_RE: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
        alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
        character (e.g. 'example.com', regex used for validation is \
        '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    #[test]
    fn parses_to_canonical_strings() {
        let cases = [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a==b"),
            ("a!=b", "a!=b"),
            (" a = b ,\tc\n", "a=b,c"),
            ("a=", "a="),
            ("a", "a"),
            ("!a", "!a"),
            ("! a", "!a"),
            ("x in (b,a,b)", "x in (a,b)"),
            ("x notin (a)", "x notin (a)"),
            ("x in ()", "x in ()"),
            ("x in (,a)", "x in (,a)"),
            ("x in (a,,b)", "x in (,a,b)"),
            ("x in (a,)", "x in (,a)"),
            ("x>5", "x>5"),
            ("x<5", "x<5"),
            ("z,a=1,m in (x)", "a=1,m in (x),z"),
            ("a!=c,a=b", "a!=c,a=b"),
            ("in in (in,notin)", "in in (in,notin)"),
            ("example.com/app=web", "example.com/app=web"),
            // Upstream's lexer reads a NUL as "end": of a token mid-input, of
            // the input where a token would start.
            ("a=b\0,c", "a=b,c"),
        ];
        for (input, want) in cases {
            let sel = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), want, "{input:?}");
            assert_eq!(sel.is_empty(), want.is_empty(), "{input:?}");
        }
    }

    #[test]
    fn parse_errors_match_upstream() {
        let long = "a".repeat(64);
        let cases: Vec<(String, String)> = vec![
            (",".into(), "found ',', expected: !, identifier, or 'end of string'".into()),
            ("a,".into(), "found '', expected: identifier after ','".into()),
            ("a=b, \0c".into(), "found '', expected: identifier after ','".into()),
            ("a=b c".into(), "found 'c', expected: ',' or 'end of string'".into()),
            ("!a=b".into(), "found '=', expected: ',' or 'end of string'".into()),
            ("a b".into(), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt".into()),
            ("x in".into(), "unable to parse requirement: found '' expected: '('".into()),
            ("x in =".into(), "unable to parse requirement: found '=' expected: '('".into()),
            ("x in ((".into(), "unable to parse requirement: found '(', expected: ',', ')' or identifier".into()),
            ("x in (a".into(), "unable to parse requirement: found '', expected: ',' or ')'".into()),
            ("x in (a,=)".into(), "unable to parse requirement: found '=', expected: ',', or identifier".into()),
            ("x=(a)".into(), "unable to parse requirement: found '(', expected: identifier".into()),
            ("!".into(), "unable to parse requirement: found '', expected: identifier".into()),
            ("x>abc".into(), "unable to parse requirement: values[0]: Invalid value: \"abc\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("x>".into(), "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("x>-1".into(), format!("unable to parse requirement: values[0][x]: Invalid value: \"-1\": {VALUE_RE}")),
            ("x=-bad".into(), format!("unable to parse requirement: values[0][x]: Invalid value: \"-bad\": {VALUE_RE}")),
            ("x in (b,-a)".into(), format!("unable to parse requirement: values[0][x]: Invalid value: \"-a\": {VALUE_RE}")),
            (format!("x={long}"), format!("unable to parse requirement: values[0][x]: Invalid value: \"{long}\": must be no more than 63 bytes")),
            (format!("{long}=x"), format!("unable to parse requirement: <nil>: Invalid value: \"{long}\": name part must be no more than 63 bytes")),
            ("app:web".into(), format!("unable to parse requirement: <nil>: Invalid value: \"app:web\": name part {KEY_RE}")),
            ("a/b/c".into(), format!("unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key {KEY_RE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")),
            ("/a".into(), "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty".into()),
            ("a/".into(), format!("unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; name part {KEY_RE}")),
            ("Example.com/a".into(), format!("unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part {SUBDOMAIN_RE}")),
        ];
        for (input, want) in cases {
            let got = LabelSelector::parse(&input).expect_err(&input);
            assert_eq!(got.message(), want, "{input:?}");
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn matching_follows_upstream() {
        let none = labels(&[]);
        let web = labels(&[("app", "web"), ("tier", "front"), ("n", "10")]);
        let cases = [
            ("app=web", true, false),
            ("app==web", true, false),
            ("app!=web", false, true),
            ("app!=db", true, true),
            ("app in (db,web)", true, false),
            ("app notin (web)", false, true),
            ("app notin (db)", true, true),
            ("app", true, false),
            ("!app", false, true),
            ("n>9", true, false),
            ("n<10", false, false),
            ("app>1", false, false),
            ("app=web,tier=back", false, false),
            ("", true, true),
        ];
        for (input, on_web, on_none) in cases {
            let sel = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(sel.matches_btree(&web), on_web, "{input} on web");
            assert_eq!(sel.matches_btree(&none), on_none, "{input} on no labels");
        }
        let sel = LabelSelector::parse("app=web,!gone").unwrap();
        let object = json!({"metadata": {"labels": {"app": "web"}}});
        assert!(sel.matches_object(&object));
        assert!(sel.matches(object["metadata"]["labels"].as_object().unwrap()));
        assert!(!sel.matches_object(&json!({"metadata": {}})));
        assert!(
            LabelSelector::parse("!app")
                .unwrap()
                .matches_object(&json!({}))
        );
        assert!(!LabelSelector::nothing().matches_btree(&web));
        assert!(!LabelSelector::nothing().is_empty());
        assert!(LabelSelector::everything().matches_btree(&none));
    }

    #[test]
    fn exact_match_is_the_first_requirement_on_the_key() {
        let sel = LabelSelector::parse("a=1,b in (2),c in (3,4),d!=5").unwrap();
        assert_eq!(sel.requires_exact_match("a"), Some("1"));
        assert_eq!(sel.requires_exact_match("b"), Some("2"));
        assert_eq!(sel.requires_exact_match("c"), None);
        assert_eq!(sel.requires_exact_match("d"), None);
        assert_eq!(sel.requires_exact_match("e"), None);
    }

    fn expr(key: &str, op: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.map(|v| v.iter().map(|s| (*s).to_string()).collect()),
        }
    }

    fn api(labels: &[(&str, &str)], exprs: Vec<LabelSelectorRequirement>) -> ApiSelector {
        ApiSelector {
            match_labels: (!labels.is_empty()).then(|| {
                labels
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect()
            }),
            match_expressions: (!exprs.is_empty()).then_some(exprs),
        }
    }

    #[test]
    fn converts_api_selectors() {
        let sel = api(
            &[("tier", "front"), ("app", "web")],
            vec![
                expr("zone", "NotIn", Some(&["b", "a"])),
                expr("env", "In", Some(&["prod"])),
                expr("canary", "DoesNotExist", None),
                expr("owner", "Exists", Some(&[])),
            ],
        );
        let got = LabelSelector::from_api(&sel).unwrap();
        assert_eq!(
            got.to_string(),
            "app=web,!canary,env in (prod),owner,tier=front,zone notin (a,b)"
        );
        // Values keep their order; only the printed form sorts them.
        assert_eq!(got.requirements()[5].values(), ["b", "a"]);
        assert!(got.matches_btree(&labels(&[
            ("app", "web"),
            ("tier", "front"),
            ("env", "prod"),
            ("owner", "x")
        ])));
        assert!(
            LabelSelector::from_api(&api(&[], vec![]))
                .unwrap()
                .is_empty()
        );
        assert!(
            !LabelSelector::from_api_opt(None)
                .unwrap()
                .matches_btree(&labels(&[]))
        );
    }

    #[test]
    fn api_selector_errors_match_upstream() {
        let cases = [
            (api(&[], vec![expr("a", "In", Some(&[]))]),
             "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".to_string()),
            (api(&[], vec![expr("a", "NotIn", None)]),
             "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".to_string()),
            (api(&[], vec![expr("a", "Exists", Some(&["x", "y"]))]),
             "values: Invalid value: []string{\"x\", \"y\"}: values set must be empty for exists and does not exist".to_string()),
            (api(&[], vec![expr("a", "Gt", Some(&["1"]))]),
             "\"Gt\" is not a valid pod selector operator".to_string()),
            (api(&[("a b", "x")], vec![]),
             format!("key: Invalid value: \"a b\": name part {KEY_RE}")),
            (api(&[("a", "x y")], vec![]),
             format!("values[0][a]: Invalid value: \"x y\": {VALUE_RE}")),
            (api(&[], vec![expr("-a", "In", None)]),
             format!("[key: Invalid value: \"-a\": name part {KEY_RE}, values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty]")),
        ];
        for (sel, want) in cases {
            let got = LabelSelector::from_api(&sel).expect_err(&want);
            assert_eq!(got.message(), want);
        }
    }

    #[test]
    fn validates_label_keys_and_values() {
        assert!(validate_label_key("app.kubernetes.io/name").is_empty());
        assert!(validate_label_key("a").is_empty());
        assert_eq!(
            validate_label_key(&format!("{}/a", "b".repeat(254))).len(),
            1
        );
        assert!(validate_label_value("").is_empty());
        assert!(validate_label_value("a.b_c-d").is_empty());
        assert_eq!(validate_label_value("é").len(), 1);
        assert_eq!(
            validate_label_value(&format!("-{}", "a".repeat(63))).len(),
            2
        );
    }
}

#[cfg(test)]
mod field_value_tests {
    use std::collections::BTreeMap;

    use generated::RESOURCES;
    use serde_json::{Value, json};

    use super::*;

    fn labels_for(group: &str, version: &str, kind: &str) -> FieldLabels {
        let r = RESOURCES
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .unwrap_or_else(|| panic!("no {group}/{version} {kind}"));
        FieldLabels::for_resource(r)
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "nodeName": "node-1",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "serviceAccountName": "default",
                "containers": [{"name": "web", "image": "nginx"}]
            },
            "status": {
                "phase": "Running",
                "podIP": "10.0.0.5",
                "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]
            }
        })
    }

    #[test]
    fn extracts_pod_fields_like_get_attrs() {
        let labels = labels_for("", "v1", "Pod");
        let got = labels.values(&pod());
        let want: BTreeMap<String, String> = [
            ("metadata.name", "web-0"),
            ("metadata.namespace", "default"),
            ("spec.nodeName", "node-1"),
            ("spec.restartPolicy", "Always"),
            ("spec.schedulerName", "default-scheduler"),
            ("spec.serviceAccountName", "default"),
            ("spec.hostNetwork", "false"),
            ("status.phase", "Running"),
            ("status.podIP", "10.0.0.5"),
            ("status.nominatedNodeName", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);

        let mut host = pod();
        host["spec"]["hostNetwork"] = json!(true);
        host["status"] = json!({"podIPs": [{"ip": "10.0.0.9"}]});
        let got = labels.values(&host);
        assert_eq!(got["spec.hostNetwork"], "true");
        assert_eq!(got["status.podIP"], "10.0.0.9");

        let matches = |input: &str, object: &Value| {
            let sel = labels
                .convert(FieldSelector::parse(input).unwrap())
                .unwrap();
            labels.matches(&sel, object)
        };
        assert!(matches("spec.host=node-1,status.phase!=Failed", &pod()));
        assert!(matches("spec.hostNetwork=false", &pod()));
        // Accepted but never set upstream: only the empty value matches.
        assert!(!matches("status.podIPs=10.0.0.5", &pod()));
        assert!(matches("status.podIPs=", &pod()));
        assert!(!matches("metadata.namespace=kube-system", &pod()));
    }

    #[test]
    fn extracts_event_fields_in_both_groups() {
        let core = json!({
            "metadata": {"name": "web-0.17a", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default", "uid": "u1", "apiVersion": "v1", "resourceVersion": "42", "fieldPath": "spec.containers{web}"},
            "reason": "Pulled",
            "type": "Normal",
            "source": {},
            "reportingComponent": "kubelet"
        });
        let got = labels_for("", "v1", "Event").values(&core);
        assert_eq!(got["involvedObject.kind"], "Pod");
        assert_eq!(got["involvedObject.fieldPath"], "spec.containers{web}");
        assert_eq!(got["source"], "kubelet");
        assert_eq!(got["reportingComponent"], "kubelet");
        assert_eq!(got["reason"], "Pulled");

        let events = json!({
            "metadata": {"name": "web-0.17a", "namespace": "default"},
            "regarding": {"kind": "Pod", "name": "web-0"},
            "reason": "Pulled",
            "type": "Warning",
            "reportingController": "kubelet",
            "deprecatedSource": {"component": "old-kubelet"}
        });
        let labels = labels_for("events.k8s.io", "v1", "Event");
        let got = labels.values(&events);
        assert_eq!(got["regarding.kind"], "Pod");
        assert_eq!(got["regarding.uid"], "");
        assert_eq!(got["reportingController"], "kubelet");
        assert_eq!(got["source"], "old-kubelet");
        let sel = FieldSelector::parse("regarding.name=web-0,type=Warning").unwrap();
        assert!(labels.matches(&labels.convert(sel).unwrap(), &events));
    }

    #[test]
    fn extracts_numbers_and_booleans_with_go_zero_values() {
        let job = labels_for("batch", "v1", "Job");
        let got = job.values(&json!({"metadata": {"name": "j"}, "status": {"succeeded": 3}}));
        assert_eq!(got["status.successful"], "3");
        assert_eq!(got["metadata.namespace"], "");
        assert_eq!(
            job.values(&json!({"metadata": {"name": "j"}}))["status.successful"],
            "0"
        );
        let rc = labels_for("", "v1", "ReplicationController");
        assert_eq!(
            rc.values(&json!({"status": {"replicas": 2}}))["status.replicas"],
            "2"
        );
        assert_eq!(rc.values(&json!({}))["status.replicas"], "0");
        let node = labels_for("", "v1", "Node");
        assert_eq!(node.values(&json!({}))["spec.unschedulable"], "false");
        let got = field_values("", &["spec.type"], &json!({"spec": {"type": ["x"]}}));
        assert_eq!(got["spec.type"], "");
    }
}
