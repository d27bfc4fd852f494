//! The checks every kind's `metadata` gets on create and update, after
//! upstream's object-meta validation: label keys and values, annotation
//! keys and total size, owner references, finalizer names, and the
//! metadata fields an update may not change.

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::Value;

/// The most bytes all annotation keys and values of one object may hold.
const ANNOTATIONS_SIZE_LIMIT: usize = 256 * 1024;

/// The longest label value and the longest name part of a qualified name.
const MAX_PART: usize = 63;

/// Upstream's finalizers that ask the garbage collector for opposite things.
const ORPHAN: &str = "orphan";
const FOREGROUND: &str = "foregroundDeletion";

const QUALIFIED_NAME_RULE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const LABEL_VALUE_RULE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const SUBDOMAIN_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// Everything wrong with the labels, annotations, owner references and
/// finalizers of `object`.
pub fn validate(object: &Value) -> Vec<FieldError> {
    let metadata = FieldPath::new("metadata");
    let mut errors = Vec::new();
    let Some(meta) = object.get("metadata") else {
        return errors;
    };
    let strings = |field: &str| -> Vec<(String, String)> {
        meta.get(field)
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };

    let labels = metadata.child("labels");
    for (key, value) in strings("labels") {
        for message in qualified_name(&key) {
            errors.push(FieldError::invalid(&labels, key.as_str(), message));
        }
        for message in label_value(&value) {
            errors.push(FieldError::invalid(&labels, value.as_str(), message));
        }
    }

    let annotations = metadata.child("annotations");
    let mut size = 0;
    for (key, value) in strings("annotations") {
        // Case does not matter in annotation keys.
        for message in qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(&annotations, key.as_str(), message));
        }
        size += key.len() + value.len();
    }
    if size > ANNOTATIONS_SIZE_LIMIT {
        errors.push(FieldError::too_long(&annotations, ANNOTATIONS_SIZE_LIMIT));
    }

    errors.extend(owner_references(meta, &metadata.child("ownerReferences")));

    let finalizers_path = metadata.child("finalizers");
    let finalizers: Vec<&str> = meta
        .get("finalizers")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for finalizer in &finalizers {
        for message in qualified_name(finalizer) {
            errors.push(FieldError::invalid(&finalizers_path, *finalizer, message));
        }
    }
    if finalizers.contains(&ORPHAN) && finalizers.contains(&FOREGROUND) {
        errors.push(FieldError::invalid(
            &finalizers_path,
            meta["finalizers"].clone(),
            format!("finalizer {ORPHAN} and {FOREGROUND} cannot be both set"),
        ));
    }
    errors
}

/// What an update may not do to metadata: add finalizers to an object that
/// is being deleted.
pub fn validate_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let deleting = old
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null());
    if !deleting {
        return Vec::new();
    }
    let finalizers = |object: &Value| -> Vec<String> {
        object
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = finalizers(old);
    let mut added: Vec<String> = finalizers(new)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    if added.is_empty() {
        return Vec::new();
    }
    added.sort();
    added.dedup();
    let quoted: Vec<String> = added.iter().map(|f| format!("{f:?}")).collect();
    vec![FieldError::forbidden(
        &FieldPath::new("metadata").child("finalizers"),
        format!(
            "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
            quoted.join(", ")
        ),
    )]
}

fn owner_references(meta: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(references) = meta.get("ownerReferences").and_then(Value::as_array) else {
        return errors;
    };
    let mut controller: Option<String> = None;
    for reference in references {
        let text = |field: &str| reference.get(field).and_then(Value::as_str).unwrap_or("");
        let api_version = text("apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or_default();
        if version.is_empty() {
            errors.push(FieldError::invalid(
                &path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        for field in ["kind", "name", "uid"] {
            if text(field).is_empty() {
                errors.push(FieldError::invalid(
                    &path.child(field),
                    "",
                    "must not be empty",
                ));
            }
        }
        if api_version == "v1" && text("kind") == "Event" {
            errors.push(FieldError::invalid(
                path,
                reference.clone(),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if reference.get("controller").and_then(Value::as_bool) == Some(true) {
            let this = format!("{}/{}", text("kind"), text("name"));
            match &controller {
                Some(first) => errors.push(FieldError::invalid(
                    path,
                    Value::Array(references.clone()),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {this}"
                    ),
                )),
                None => controller = Some(this),
            }
        }
    }
    errors
}

/// Upstream's qualified-name rule (`example.com/MyName`): what is wrong
/// with `value`, if anything.
fn qualified_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_owned());
            } else {
                if prefix.len() > 253 {
                    errors.push("prefix part must be no more than 253 characters".to_owned());
                }
                if !is_subdomain(prefix) {
                    errors.push(format!("prefix part {SUBDOMAIN_RULE}"));
                }
            }
            name
        }
        _ => {
            return vec![format!(
                "a qualified name {QUALIFIED_NAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_owned());
    } else if name.len() > MAX_PART {
        errors.push(format!(
            "name part must be no more than {MAX_PART} characters"
        ));
    }
    if !is_qualified_part(name) {
        errors.push(format!("name part {QUALIFIED_NAME_RULE}"));
    }
    errors
}

/// What is wrong with a label value, if anything.
fn label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > MAX_PART {
        errors.push(format!("must be no more than {MAX_PART} characters"));
    }
    if !value.is_empty() && !is_qualified_part(value) {
        errors.push(LABEL_VALUE_RULE.to_owned());
    }
    errors
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_qualified_part(text: &str) -> bool {
    let bytes = text.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A lowercase RFC 1123 subdomain: dot-separated labels.
fn is_subdomain(text: &str) -> bool {
    text.split('.').all(|label| {
        let bytes = label.as_bytes();
        let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        bytes.first().is_some_and(edge)
            && bytes.last().is_some_and(edge)
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn messages(object: Value) -> Vec<String> {
        validate(&object).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn good_metadata_passes() {
        let object = json!({"metadata": {
            "labels": {"app.kubernetes.io/name": "web", "tier": "", "v": "1.2_3-a"},
            "annotations": {"Example.com/Note": "anything at all: {}"},
            "finalizers": ["kubernetes.io/pv-protection", "foregroundDeletion"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "web", "uid": "1", "controller": true}],
        }});
        assert_eq!(messages(object), Vec::<String>::new());
    }

    #[test]
    fn bad_labels_read_like_upstream() {
        let errors = messages(json!({"metadata": {"labels": {"bad key!": "-x"}}}));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.contains(&format!(
            "metadata.labels: Invalid value: \"bad key!\": name part {QUALIFIED_NAME_RULE}"
        )));
        assert!(errors.contains(&format!(
            "metadata.labels: Invalid value: \"-x\": {LABEL_VALUE_RULE}"
        )));
        let errors = messages(json!({"metadata": {"labels": {"Example.com/a": "b"}}}));
        assert_eq!(
            errors,
            vec![format!(
                "metadata.labels: Invalid value: \"Example.com/a\": prefix part {SUBDOMAIN_RULE}"
            )]
        );
        let long = "x".repeat(64);
        let errors = messages(json!({"metadata": {"labels": {"a": long}}}));
        assert_eq!(
            errors,
            vec![format!(
                "metadata.labels: Invalid value: \"{long}\": must be no more than 63 characters"
            )]
        );
        assert_eq!(
            messages(json!({"metadata": {"labels": {"a/b/c": "d"}}})).len(),
            1
        );
    }

    #[test]
    fn annotations_are_limited_in_size() {
        let big = "x".repeat(ANNOTATIONS_SIZE_LIMIT);
        let errors = messages(json!({"metadata": {"annotations": {"a": big}}}));
        assert_eq!(
            errors,
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes".to_owned()]
        );
    }

    #[test]
    fn owner_references_and_finalizers() {
        let errors = messages(json!({"metadata": {
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": true},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "", "controller": true},
            ],
            "finalizers": ["orphan", "foregroundDeletion"],
        }}));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().any(|e| {
            e.starts_with("metadata.ownerReferences.uid: Invalid value: \"\": must not be empty")
        }));
        assert!(errors.iter().any(|e| e.contains(
            "Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"
        )));
        assert!(
            errors
                .iter()
                .any(|e| e.contains("finalizer orphan and foregroundDeletion cannot be both set"))
        );
    }

    #[test]
    fn no_new_finalizers_while_deleting() {
        let old = json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["a/b"]}});
        let new = json!({"metadata": {"finalizers": ["a/b", "c/d"]}});
        let errors: Vec<String> = validate_update(&new, &old)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            vec![
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"c/d\"}"
            ]
        );
        assert!(validate_update(&new, &json!({"metadata": {}})).is_empty());
    }
}
