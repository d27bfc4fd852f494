//! What differs per kind, asked by the generic store at fixed points.
//! Kinds without special rules use the defaults; upstream's per-kind
//! `strategy.go` files are where these rules come from. Larger kinds have
//! a file of their own: `pods`, `services`, `config` (ConfigMaps and
//! Secrets), `workloads` (apps and batch).

mod config;
mod pods;
mod services;
mod workloads;

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::{Value, json};

/// Per-kind hooks of the generic store.
pub trait Strategy: Sync {
    /// Whether names must be RFC 1123 labels (they become DNS labels)
    /// rather than subdomains.
    fn dns_label_names(&self) -> bool {
        false
    }

    /// Adjusts a new object before validation (status a client may not set,
    /// fields derived from others).
    fn prepare_for_create(&self, _object: &mut Value) {}

    /// Adjusts an updated object before validation, knowing the old one.
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) {}

    /// Rules the schema cannot express.
    fn validate(&self, _object: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// Rules about what an update may change (immutable fields).
    fn validate_update(&self, _new: &Value, _old: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// How many seconds a delete of `object` waits before the object is
    /// removed, given `DeleteOptions.gracePeriodSeconds`; 0 deletes at once.
    fn deletion_grace_period(&self, _object: &Value, _requested: Option<i64>) -> i64 {
        0
    }

    /// Whether a deleted object must stay, marked for deletion, until
    /// something finishes it (beyond `metadata.finalizers`, which every
    /// kind honours).
    fn deletion_waits(&self, _object: &Value) -> bool {
        false
    }
}

/// The strategy of kinds without rules of their own.
struct Generic;
impl Strategy for Generic {}

/// Namespaces: DNS label names, Active on creation, and the `kubernetes`
/// finalizer that keeps a deleted namespace until its content is gone.
struct Namespaces;
impl Strategy for Namespaces {
    fn dns_label_names(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, object: &mut Value) {
        object["status"] = json!({"phase": "Active"});
        let finalizers = object
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == "kubernetes") {
            let mut finalizers = finalizers;
            finalizers.push(json!("kubernetes"));
            object["spec"] = json!({"finalizers": finalizers});
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        // spec.finalizers changes only through /finalize; status through /status.
        new["spec"] = old.get("spec").cloned().unwrap_or(json!({}));
    }

    fn deletion_waits(&self, object: &Value) -> bool {
        object
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
    }
}

/// The strategy for a resource.
pub fn for_resource(group: &str, plural: &str) -> &'static dyn Strategy {
    match (group, plural) {
        ("", "namespaces") => &Namespaces,
        ("", "pods") => &pods::Pods,
        ("", "services") => &services::Services,
        ("", "secrets") => &config::Secrets,
        ("", "configmaps") => &config::ConfigMaps,
        ("apps", "deployments" | "replicasets" | "daemonsets") => &workloads::FixedSelector,
        ("apps", "statefulsets") => &workloads::StatefulSets,
        ("batch", "jobs") => &workloads::Jobs,
        _ => &Generic,
    }
}

/// Upstream's `ValidateImmutableField`: `<path>: Invalid value: <new>: field is immutable`.
fn immutable(path: &FieldPath, new: Option<&Value>, old: Option<&Value>) -> Option<FieldError> {
    (new != old).then(|| {
        FieldError::invalid(
            path,
            new.cloned().unwrap_or(Value::Null),
            "field is immutable",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_start_active_with_the_kubernetes_finalizer() {
        let mut namespace = json!({"metadata": {"name": "x"}});
        for_resource("", "namespaces").prepare_for_create(&mut namespace);
        assert_eq!(namespace["status"]["phase"], "Active");
        assert_eq!(namespace["spec"]["finalizers"], json!(["kubernetes"]));
    }
}
