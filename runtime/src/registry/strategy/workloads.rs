//! Workload controllers: the selector of a Deployment, ReplicaSet or
//! DaemonSet is fixed at creation (apps/v1), a StatefulSet's spec changes
//! only in the fields upstream lists, and a Job keeps its selector,
//! template and completion settings.

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::Value;

use super::{Strategy, immutable};

/// Deployments, ReplicaSets and DaemonSets: `spec.selector` is immutable.
pub struct FixedSelector;
impl Strategy for FixedSelector {
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        spec_fields_fixed(new, old, &["selector"])
    }
}

/// StatefulSets: only the listed spec fields may change.
pub struct StatefulSets;

/// The spec fields of a StatefulSet an update may change.
const STATEFULSET_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

impl Strategy for StatefulSets {
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let without_mutable = |object: &Value| {
            let mut spec = object.get("spec").cloned().unwrap_or(Value::Null);
            if let Some(spec) = spec.as_object_mut() {
                for field in STATEFULSET_MUTABLE {
                    spec.remove(*field);
                }
            }
            spec
        };
        if without_mutable(new) == without_mutable(old) {
            return Vec::new();
        }
        vec![FieldError::forbidden(
            &FieldPath::new("spec"),
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        )]
    }
}

/// Jobs: selector, template and completion settings are fixed, except
/// that a suspended Job that never ran may change where its pods run, and
/// an Indexed Job may scale `completions` together with `parallelism`.
pub struct Jobs;

/// Template fields a suspended, never started Job may still change.
const SCHEDULING_DIRECTIVES: &[&str] =
    &["nodeSelector", "affinity", "tolerations", "schedulingGates"];

impl Strategy for Jobs {
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errors = spec_fields_fixed(
            new,
            old,
            &[
                "selector",
                "completionMode",
                "podFailurePolicy",
                "backoffLimitPerIndex",
                "managedBy",
                "successPolicy",
            ],
        );
        let spec = |o: &Value, f: &str| o.pointer(&format!("/spec/{f}")).cloned();
        let elastic = spec(new, "completionMode").as_ref().and_then(Value::as_str)
            == Some("Indexed")
            && spec(new, "completions") == spec(new, "parallelism");
        if !elastic {
            errors.extend(spec_fields_fixed(new, old, &["completions"]));
        }
        let suspended_before_start = old.pointer("/spec/suspend") == Some(&Value::Bool(true))
            && old.pointer("/status/startTime").is_none();
        let template = |object: &Value| {
            let mut template = spec(object, "template").unwrap_or(Value::Null);
            if suspended_before_start {
                if let Some(metadata) = template.get_mut("metadata").and_then(Value::as_object_mut)
                {
                    metadata.remove("labels");
                    metadata.remove("annotations");
                }
                if let Some(pod) = template.get_mut("spec").and_then(Value::as_object_mut) {
                    for field in SCHEDULING_DIRECTIVES {
                        pod.remove(*field);
                    }
                }
            }
            template
        };
        if template(new) != template(old) {
            errors.push(FieldError::invalid(
                &FieldPath::new("spec").child("template"),
                spec(new, "template").unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
        errors
    }
}

/// `spec.<field>: Invalid value: ...: field is immutable` for each of
/// `fields` an update changed.
fn spec_fields_fixed(new: &Value, old: &Value, fields: &[&str]) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    fields
        .iter()
        .filter_map(|field| {
            let at = |o: &'_ Value| o.get("spec").and_then(|s| s.get(*field)).cloned();
            immutable(&path.child(field), at(new).as_ref(), at(old).as_ref())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn deployment_selectors_are_immutable() {
        let old = json!({"spec": {"selector": {"matchLabels": {"app": "a"}}, "replicas": 1}});
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(3);
        assert!(FixedSelector.validate_update(&scaled, &old).is_empty());
        let mut moved = old.clone();
        moved["spec"]["selector"] = json!({"matchLabels": {"app": "b"}});
        assert_eq!(
            FixedSelector.validate_update(&moved, &old)[0].to_string(),
            r#"spec.selector: Invalid value: {"matchLabels":{"app":"b"}}: field is immutable"#
        );
    }

    #[test]
    fn statefulsets_change_only_the_listed_fields() {
        let old = json!({"spec": {"serviceName": "db", "replicas": 1, "template": {}}});
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(2);
        assert!(StatefulSets.validate_update(&scaled, &old).is_empty());
        let mut renamed = old.clone();
        renamed["spec"]["serviceName"] = json!("other");
        assert!(
            StatefulSets.validate_update(&renamed, &old)[0]
                .to_string()
                .starts_with("spec: Forbidden: updates to statefulset spec")
        );
    }

    #[test]
    fn job_templates_are_fixed_unless_suspended_before_start() {
        let old = json!({"spec": {
            "selector": {"matchLabels": {"x": "y"}},
            "template": {"spec": {"nodeSelector": {"zone": "a"}, "containers": []}},
        }});
        let mut moved = old.clone();
        moved["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "b"});
        let errors = Jobs.validate_update(&moved, &old);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("spec.template: Invalid value:")
        );

        let mut suspended = old.clone();
        suspended["spec"]["suspend"] = json!(true);
        let mut moved = suspended.clone();
        moved["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "b"});
        assert!(Jobs.validate_update(&moved, &suspended).is_empty());
    }
}
