//! Pods: Pending with a QoS class on creation, a spec that stays as it
//! was created except for the few fields upstream lets an update change,
//! and graceful deletion of pods bound to a node.

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::{Value, json};

use super::Strategy;

/// Pods: a new pod is Pending, with the QoS class its resources give it.
pub struct Pods;
impl Strategy for Pods {
    fn prepare_for_create(&self, object: &mut Value) {
        object["status"] = json!({"phase": "Pending", "qosClass": qos_class(object)});
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        // Ephemeral containers change only through their own subresource.
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            match old.pointer("/spec/ephemeralContainers") {
                Some(ephemeral) => spec.insert("ephemeralContainers".to_owned(), ephemeral.clone()),
                None => spec.remove("ephemeralContainers"),
            };
        }
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        spec_update_errors(
            new.get("spec").unwrap_or(&Value::Null),
            old.get("spec").unwrap_or(&Value::Null),
        )
    }

    /// Upstream's pod `CheckGracefulDelete`: the requested period, else
    /// the pod's `terminationGracePeriodSeconds`; pods no kubelet runs
    /// (unbound, or finished) go at once.
    fn deletion_grace_period(&self, pod: &Value, requested: Option<i64>) -> i64 {
        let bound = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let finished = matches!(
            pod.pointer("/status/phase").and_then(Value::as_str),
            Some("Failed" | "Succeeded")
        );
        if !bound || finished {
            return 0;
        }
        let period = requested
            .or_else(|| {
                pod.pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(DEFAULT_GRACE_PERIOD);
        // Upstream turns a negative period into the shortest graceful one.
        if period < 0 { 1 } else { period }
    }
}

/// `terminationGracePeriodSeconds` when a pod names none.
const DEFAULT_GRACE_PERIOD: i64 = 30;

/// Upstream's message for a pod update that touches a fixed field.
const FIXED_SPEC: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// What a pod update may change in `spec`: container images, a shorter
/// `activeDeadlineSeconds`, added tolerations (or new `tolerationSeconds`),
/// a negative `terminationGracePeriodSeconds` raised to 1, and removed
/// scheduling gates. Everything else is fixed once the pod exists.
fn spec_update_errors(new: &Value, old: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let deadline = path.child("activeDeadlineSeconds");
    let old_deadline = old.get("activeDeadlineSeconds").and_then(Value::as_i64);
    match (
        new.get("activeDeadlineSeconds").and_then(Value::as_i64),
        old_deadline,
    ) {
        (Some(n), Some(o)) if n > o => {
            return vec![FieldError::invalid(
                &deadline,
                n,
                "must be less than or equal to previous value",
            )];
        }
        (None, Some(_)) => {
            return vec![FieldError::invalid(
                &deadline,
                Value::Null,
                "must not update from a positive integer to nil value",
            )];
        }
        _ => {}
    }
    let old_tolerations = list(old, "tolerations");
    let new_tolerations = list(new, "tolerations");
    let kept = old_tolerations.iter().all(|before| {
        new_tolerations
            .iter()
            .any(|after| same_except_seconds(before, after))
    });
    if !kept {
        return vec![FieldError::forbidden(
            &path.child("tolerations"),
            "existing toleration can not be modified except its tolerationSeconds",
        )];
    }

    // Take every field an update may change from the old spec; what
    // differs after that is a change to a fixed field.
    let mut fixed = new.clone();
    let Some(spec) = fixed.as_object_mut() else {
        return vec![FieldError::forbidden(&path, FIXED_SPEC)];
    };
    for field in ["containers", "initContainers"] {
        let before = list(old, field);
        if let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut)
            && containers.len() == before.len()
        {
            for (container, old_container) in containers.iter_mut().zip(before) {
                if let (Some(container), Some(image)) =
                    (container.as_object_mut(), old_container.get("image"))
                {
                    container.insert("image".to_owned(), image.clone());
                }
            }
        }
    }
    let grace = "terminationGracePeriodSeconds";
    let raised = old
        .get(grace)
        .and_then(Value::as_i64)
        .is_some_and(|g| g < 0)
        && spec.get(grace).and_then(Value::as_i64) == Some(1);
    let gates_removed = list(&Value::Object(spec.clone()), "schedulingGates")
        .iter()
        .all(|gate| list(old, "schedulingGates").contains(gate));
    for (field, mutable) in [
        ("activeDeadlineSeconds", true),
        ("tolerations", true),
        (grace, raised),
        ("schedulingGates", gates_removed),
    ] {
        if mutable {
            match old.get(field) {
                Some(value) => spec.insert(field.to_owned(), value.clone()),
                None => spec.remove(field),
            };
        }
    }
    if &fixed == old {
        Vec::new()
    } else {
        vec![FieldError::forbidden(&path, FIXED_SPEC)]
    }
}

/// `object[field]` as a list, empty when absent.
fn list(object: &Value, field: &str) -> Vec<Value> {
    object
        .get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Whether two tolerations are the same apart from `tolerationSeconds`.
fn same_except_seconds(a: &Value, b: &Value) -> bool {
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Some(t) = t.as_object_mut() {
            t.remove("tolerationSeconds");
        }
        t
    };
    strip(a) == strip(b)
}

/// Upstream's QoS class: BestEffort without any requests or limits,
/// Guaranteed when every container limits cpu and memory and requests what
/// it limits (or nothing), else Burstable.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|field| {
            pod.pointer(&format!("/spec/{field}"))
                .and_then(Value::as_array)
        })
        .flatten()
        .collect();
    let resources = |c: &Value, kind: &str| {
        c.pointer(&format!("/resources/{kind}"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let any = containers
        .iter()
        .any(|c| !resources(c, "requests").is_empty() || !resources(c, "limits").is_empty());
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let (requests, limits) = (resources(c, "requests"), resources(c, "limits"));
        ["cpu", "memory"].iter().all(|r| limits.contains_key(*r))
            && requests
                .iter()
                .all(|(name, value)| limits.get(name) == Some(value))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_start_pending_with_their_qos_class() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        Pods.prepare_for_create(&mut pod);
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
        let limited = json!({"spec": {"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        assert_eq!(qos_class(&limited), "Guaranteed");
        let requested =
            json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "1"}}}]}});
        assert_eq!(qos_class(&requested), "Burstable");
    }

    fn pod(spec: Value) -> Value {
        json!({"spec": spec})
    }

    #[test]
    fn only_images_deadlines_and_added_tolerations_may_change() {
        let old = pod(json!({
            "containers": [{"name": "a", "image": "nginx:1"}],
            "activeDeadlineSeconds": 100,
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "nodeName": "n1",
        }));
        let mut ok = old.clone();
        ok["spec"]["containers"][0]["image"] = json!("nginx:2");
        ok["spec"]["activeDeadlineSeconds"] = json!(50);
        ok["spec"]["tolerations"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": "other", "operator": "Exists"}));
        assert!(Pods.validate_update(&ok, &old).is_empty());

        let mut moved = old.clone();
        moved["spec"]["nodeName"] = json!("n2");
        let errors = Pods.validate_update(&moved, &old);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            format!("spec: Forbidden: {FIXED_SPEC}")
        );

        let mut longer = old.clone();
        longer["spec"]["activeDeadlineSeconds"] = json!(200);
        assert_eq!(
            Pods.validate_update(&longer, &old)[0].to_string(),
            "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"
        );

        let mut dropped = old.clone();
        dropped["spec"]["tolerations"] = json!([]);
        assert!(
            Pods.validate_update(&dropped, &old)[0]
                .to_string()
                .contains("existing toleration can not be modified")
        );
    }

    #[test]
    fn bound_pods_delete_gracefully() {
        let unbound = pod(json!({"containers": []}));
        assert_eq!(Pods.deletion_grace_period(&unbound, None), 0);
        let bound = pod(json!({"nodeName": "n1", "terminationGracePeriodSeconds": 45}));
        assert_eq!(Pods.deletion_grace_period(&bound, None), 45);
        assert_eq!(Pods.deletion_grace_period(&bound, Some(0)), 0);
        assert_eq!(Pods.deletion_grace_period(&bound, Some(-5)), 1);
        let default = pod(json!({"nodeName": "n1"}));
        assert_eq!(Pods.deletion_grace_period(&default, None), 30);
        let mut done = default.clone();
        done["status"] = json!({"phase": "Succeeded"});
        assert_eq!(Pods.deletion_grace_period(&done, None), 0);
    }
}
