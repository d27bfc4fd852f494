//! ConfigMaps and Secrets: Secrets fold `stringData` into `data`; both
//! freeze their content once `immutable: true` is set, and a Secret's
//! `type` never changes.

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::{Value, json};

use super::{Strategy, immutable};

/// Upstream's message for content changed under `immutable: true`.
const SEALED: &str = "field is immutable when `immutable` is set";

/// The errors for an update of an object whose old version set
/// `immutable: true`: the flag stays, and so does each of `fields`.
fn sealed_fields(new: &Value, old: &Value, fields: &[&str]) -> Vec<FieldError> {
    if old.get("immutable") != Some(&Value::Bool(true)) {
        return Vec::new();
    }
    let mut errors = Vec::new();
    if new.get("immutable") != Some(&Value::Bool(true)) {
        errors.push(FieldError::forbidden(&FieldPath::new("immutable"), SEALED));
    }
    for field in fields {
        if new.get(*field) != old.get(*field) {
            errors.push(FieldError::forbidden(&FieldPath::new(field), SEALED));
        }
    }
    errors
}

/// ConfigMaps: `data` and `binaryData` are frozen by `immutable: true`.
pub struct ConfigMaps;
impl Strategy for ConfigMaps {
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        sealed_fields(new, old, &["data", "binaryData"])
    }
}

/// Secrets: `stringData` is write-only convenience, merged into `data`.
pub struct Secrets;
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

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> =
            immutable(&FieldPath::new("type"), new.get("type"), old.get("type"))
                .into_iter()
                .collect();
        errors.extend(sealed_fields(new, old, &["data"]));
        errors
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_string_data_lands_in_data() {
        let mut secret = json!({"data": {"a": "eA=="}, "stringData": {"b": "hello"}});
        Secrets.prepare_for_create(&mut secret);
        assert_eq!(secret, json!({"data": {"a": "eA==", "b": "aGVsbG8="}}));
    }

    #[test]
    fn immutable_config_maps_and_secrets_keep_their_content() {
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let changed = json!({"immutable": true, "data": {"a": "2"}});
        let errors = ConfigMaps.validate_update(&changed, &old);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "data: Forbidden: field is immutable when `immutable` is set"
        );
        let unsealed = json!({"immutable": false, "data": {"a": "1"}});
        assert_eq!(
            ConfigMaps.validate_update(&unsealed, &old)[0].to_string(),
            "immutable: Forbidden: field is immutable when `immutable` is set"
        );
        let mutable = json!({"data": {"a": "1"}});
        assert!(ConfigMaps.validate_update(&changed, &mutable).is_empty());

        let secret = json!({"type": "Opaque", "data": {}});
        let retyped = json!({"type": "kubernetes.io/tls", "data": {}});
        assert_eq!(
            Secrets.validate_update(&retyped, &secret)[0].to_string(),
            "type: Invalid value: \"kubernetes.io/tls\": field is immutable"
        );
    }
}
