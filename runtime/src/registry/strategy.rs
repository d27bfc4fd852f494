//! What differs per kind, asked by the generic store at fixed points.
//! Kinds without special rules use the defaults; upstream's per-kind
//! `strategy.go` files are where these rules come from.

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

/// Services: DNS label names.
struct Services;
impl Strategy for Services {
    fn dns_label_names(&self) -> bool {
        true
    }
}

/// Secrets: `stringData` is write-only convenience, merged into `data`.
struct Secrets;
impl Secrets {
    fn merge_string_data(object: &mut Value) {
        use base64::Engine as _;
        let Some(string_data) = object.as_object_mut().and_then(|o| o.remove("stringData")) else {
            return;
        };
        let Value::Object(entries) = string_data else {
            return;
        };
        if !object.get("data").is_some_and(Value::is_object) {
            object["data"] = json!({});
        }
        for (key, value) in entries {
            let text = value.as_str().unwrap_or_default();
            object["data"][key] = json!(base64::engine::general_purpose::STANDARD.encode(text));
        }
    }
}
impl Strategy for Secrets {
    fn prepare_for_create(&self, object: &mut Value) {
        Self::merge_string_data(object);
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        Self::merge_string_data(new);
    }

    fn validate(&self, object: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(data) = object.get("data").and_then(Value::as_object) {
            for key in data.keys() {
                let valid = !key.is_empty()
                    && key.len() <= 253
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
                if !valid {
                    errors.push(FieldError::invalid(
                        &FieldPath::new("data").key(key),
                        key.as_str(),
                        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                    ));
                }
            }
        }
        errors
    }
}

/// Pods: a new pod is Pending, with the QoS class its resources give it.
struct Pods;
impl Strategy for Pods {
    fn prepare_for_create(&self, object: &mut Value) {
        object["status"] = json!({"phase": "Pending", "qosClass": qos_class(object)});
    }
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

/// The strategy for a resource.
pub fn for_resource(group: &str, plural: &str) -> &'static dyn Strategy {
    match (group, plural) {
        ("", "namespaces") => &Namespaces,
        ("", "pods") => &Pods,
        ("", "services") => &Services,
        ("", "secrets") => &Secrets,
        _ => &Generic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_string_data_lands_in_data() {
        let mut secret = json!({"data": {"a": "eA=="}, "stringData": {"b": "hello"}});
        for_resource("", "secrets").prepare_for_create(&mut secret);
        assert_eq!(secret, json!({"data": {"a": "eA==", "b": "aGVsbG8="}}));
    }

    #[test]
    fn pods_start_pending_with_their_qos_class() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        for_resource("", "pods").prepare_for_create(&mut pod);
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

    #[test]
    fn namespaces_start_active_with_the_kubernetes_finalizer() {
        let mut namespace = json!({"metadata": {"name": "x"}});
        for_resource("", "namespaces").prepare_for_create(&mut namespace);
        assert_eq!(namespace["status"]["phase"], "Active");
        assert_eq!(namespace["spec"]["finalizers"], json!(["kubernetes"]));
    }
}
