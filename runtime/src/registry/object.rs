//! Reading and writing the parts of an object every kind shares
//! (`apiVersion`, `kind`, `metadata`), on the JSON form the whole pipeline
//! works with.

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::{Map, Value};

/// `metadata.<field>` as a string, "" when absent.
pub fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The object's `metadata`, created if absent or not an object.
pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = Value::Object(Map::new());
    }
    let root = object.as_object_mut().expect("made an object above");
    let metadata = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    metadata.as_object_mut().expect("made an object above")
}

/// Sets or removes `metadata.<field>`.
pub fn set_meta(object: &mut Value, field: &str, value: Option<Value>) {
    let metadata = metadata_mut(object);
    match value {
        Some(value) => {
            metadata.insert(field.to_owned(), value);
        }
        None => {
            metadata.remove(field);
        }
    }
}

/// `apiVersion` for a group and version.
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// Upstream's message for names that are not RFC 1123 subdomains.
const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// Upstream's message for names that are not RFC 1123 labels.
const LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Checks `metadata.name` as upstream checks most kinds' names: an RFC
/// 1123 subdomain, or a label for the kinds whose names become DNS labels.
pub fn validate_name(name: &str, dns_label: bool) -> Vec<FieldError> {
    let path = FieldPath::new("metadata").child("name");
    let mut errors = Vec::new();
    if dns_label {
        if name.len() > 63 {
            errors.push(FieldError::invalid(
                &path,
                name,
                "must be no more than 63 characters",
            ));
        }
        if !is_label(name) && name.len() <= 63 {
            errors.push(FieldError::invalid(&path, name, LABEL_MESSAGE));
        }
        return errors;
    }
    if name.len() > 253 {
        errors.push(FieldError::invalid(
            &path,
            name,
            "must be no more than 253 characters",
        ));
    }
    if !name.split('.').all(is_label) {
        errors.push(FieldError::invalid(&path, name, SUBDOMAIN_MESSAGE));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_like_upstream() {
        assert!(validate_name("web-1.example", false).is_empty());
        let errors = validate_name("Web_1", false);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().starts_with(
            "metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain"
        ));
        assert!(
            validate_name("a.b", true)[0]
                .to_string()
                .contains("RFC 1123 label")
        );
        assert!(validate_name("", false).len() == 1);
    }
}
