//! Patches: each kind of `PATCH` body turns the current object into the
//! new one. [`Patch::parse`] reads a body once per request (bad bodies are
//! 400s before anything is read from storage); [`Patch::apply`] then runs
//! on every attempt of the store's read-patch-write loop.
//!
//! - JSON merge patch (RFC 7386) lives here,
//! - JSON patch (RFC 6902) in [`json`],
//! - strategic merge patch in [`strategic`].

pub mod json;
pub mod strategic;

use axum::http::StatusCode;
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::schema::SchemaId;
use serde_json::{Value, json};

use self::json::JsonPatch;
use crate::endpoints::field_validation::{FieldValidation, duplicate_fields, prune_unknown};
use crate::status::ApiError;

/// The patch formats a `Content-Type` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    Strategic,
}

impl PatchType {
    /// Every format with its media type, in upstream's order.
    const ALL: [(PatchType, &'static str); 3] = [
        (PatchType::Json, "application/json-patch+json"),
        (PatchType::Merge, "application/merge-patch+json"),
        (
            PatchType::Strategic,
            "application/strategic-merge-patch+json",
        ),
    ];

    /// The format of a body of this media type (parameters already removed).
    pub fn from_media_type(media: &str) -> Result<PatchType, ApiError> {
        PatchType::ALL
            .iter()
            .find(|(_, name)| *name == media)
            .map(|(kind, _)| *kind)
            .ok_or_else(|| {
                let accepted: Vec<&str> = PatchType::ALL.iter().map(|(_, name)| *name).collect();
                ApiError::unsupported_media_type(format!(
                    "the body of the request was in an unknown format - accepted media types include: {}",
                    accepted.join(", ")
                ))
            })
    }
}

/// A decoded `PATCH` body.
pub struct Patch {
    kind: PatchType,
    body: Value,
    json: Option<JsonPatch>,
    /// Strict decoding errors of the body itself (duplicate fields, unknown
    /// members of JSON patch operations).
    body_errors: Vec<String>,
}

/// A patched object with the strict decoding errors the patch caused.
pub struct Patched {
    /// The result, without the fields its schema does not declare.
    object: Value,
    strict_errors: Vec<String>,
    /// The patch's result as it came out, unknown fields and all, which
    /// upstream shows in strict errors of JSON and merge patches.
    raw: String,
}

impl Patch {
    /// Decodes a body of the given format.
    pub fn parse(kind: PatchType, body: &[u8]) -> Result<Patch, ApiError> {
        let (json, decoded, mut body_errors) = match kind {
            PatchType::Json => {
                let patch = JsonPatch::parse(body)?;
                let errors = patch.unknown_fields();
                (Some(patch), Value::Null, errors)
            }
            PatchType::Merge | PatchType::Strategic => {
                let value: Value = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                (None, value, Vec::new())
            }
        };
        let duplicates = duplicate_fields(body);
        if kind == PatchType::Json {
            body_errors.splice(0..0, duplicates.iter().map(|d| format!("json patch {d}")));
        } else {
            body_errors.splice(0..0, duplicates);
        }
        Ok(Patch {
            kind,
            body: decoded,
            json,
            body_errors,
        })
    }

    /// Whether the patch names the object's resourceVersion: such a patch
    /// applies to that version only, so a conflict is not retried.
    pub fn pins_resource_version(&self) -> bool {
        match &self.json {
            Some(patch) => patch.pins_resource_version(),
            None => self.body.pointer("/metadata/resourceVersion").is_some(),
        }
    }

    /// Applies the patch to `object`, whose schema is `schema`. Fields the
    /// schema does not declare are dropped from the result and reported.
    pub fn apply(&self, object: Value, schema: SchemaId) -> Result<Patched, ApiError> {
        let mut object = match (self.kind, &self.json) {
            (PatchType::Json, Some(patch)) => patch.apply(object)?,
            (PatchType::Merge, _) => apply_merge(object, &self.body)?,
            (PatchType::Strategic, _) | (PatchType::Json, None) => {
                strategic::apply(object, &self.body, schema)?
            }
        };
        let raw = match self.kind {
            PatchType::Strategic => go_value(&self.body),
            PatchType::Json | PatchType::Merge => object.to_string(),
        };
        let mut strict_errors = self.body_errors.clone();
        strict_errors.extend(prune_unknown(schema, &mut object));
        Ok(Patched {
            object,
            strict_errors,
            raw,
        })
    }
}

impl Patched {
    /// The object to write and the warnings to send under a
    /// `fieldValidation` directive.
    pub fn validate(self, validation: FieldValidation) -> Result<(Value, Vec<String>), ApiError> {
        let raw = self.raw;
        let warnings = validation.check(self.strict_errors, |m| strict_error(raw, m))?;
        Ok((self.object, warnings))
    }
}

/// The error a patch fails with under `fieldValidation=Strict`: a 422
/// naming the `patch` field, whose value upstream shows as the patched
/// object (JSON and merge patches) or the decoded patch (strategic).
fn strict_error(shown: String, message: String) -> ApiError {
    let error = FieldError::invalid(&FieldPath::new("patch"), shown, message);
    ApiError::invalid("", "", "", &[error])
}

/// RFC 7386 on a decoded patch, which must be an object.
fn apply_merge(mut object: Value, patch: &Value) -> Result<Value, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_request("Invalid JSON Patch"));
    }
    merge_patch(&mut object, patch);
    Ok(object)
}

/// RFC 7386: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let object = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Upstream's answer to a patch that cannot apply: a 422 whose message
/// (Go's generic one for the code) says nothing more.
fn unprocessable() -> ApiError {
    ApiError {
        code: StatusCode::UNPROCESSABLE_ENTITY,
        reason: "Invalid",
        message: "the server rejected our request due to an error in our request".to_owned(),
        details: Some(json!({})),
    }
}

/// A decoded JSON value as Go's `%v` prints it: `map[a:1 b:[x y]]`.
fn go_value(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(k, _)| *k);
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", go_value(v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
        other => other.to_string(),
    }
}

/// The JSON kind as Go's decoder names it in type errors.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1, 2]});
        merge_patch(&mut target, &json!({"a": [3]}));
        assert_eq!(target, json!({"a": [3]}));
    }

    #[test]
    fn unknown_media_types_list_the_accepted_ones() {
        let error = PatchType::from_media_type("application/json").unwrap_err();
        assert_eq!(error.code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            error.message,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
        );
        assert_eq!(
            PatchType::from_media_type("application/strategic-merge-patch+json").unwrap(),
            PatchType::Strategic
        );
    }

    #[test]
    fn body_errors_are_reported_with_upstreams_words() {
        let merge = Patch::parse(PatchType::Merge, br#"{"a": 1, "a": 2}"#).unwrap();
        assert_eq!(merge.body_errors, [r#"duplicate field "a""#]);
        let json_patch = Patch::parse(
            PatchType::Json,
            br#"[{"op": "add", "op": "add", "path": "/a", "value": 1}]"#,
        )
        .unwrap();
        assert_eq!(
            json_patch.body_errors,
            [r#"json patch duplicate field "[0].op""#]
        );
        let bad = Patch::parse(PatchType::Merge, b"{").err().unwrap();
        assert_eq!(bad.code, StatusCode::BAD_REQUEST);
        let not_an_object = Patch::parse(PatchType::Merge, b"[1]")
            .unwrap()
            .apply(json!({}), SchemaId(0))
            .err()
            .unwrap();
        assert_eq!(not_an_object.message, "Invalid JSON Patch");
    }

    #[test]
    fn go_values_print_as_go_does() {
        assert_eq!(
            go_value(&json!({"b": [1, "x"], "a": {"c": null, "d": true}})),
            "map[a:map[c:<nil> d:true] b:[1 x]]"
        );
    }
}
