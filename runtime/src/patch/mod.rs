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
use crate::field_validation::{FieldValidation, duplicate_fields, prune_unknown};
use crate::status::ApiError;

/// What a `PATCH` request's `Content-Type` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchFormat {
    /// A patch the server applies to the current object.
    Patch(PatchType),
    /// `application/apply-patch+yaml`: server-side apply
    /// (`crate::endpoints::apply`), a configuration rather than a patch.
    Apply,
}

/// The patch formats [`Patch::parse`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    Strategic,
}

impl PatchFormat {
    /// Every format with its media type, in upstream's order.
    const ALL: [(PatchFormat, &'static str); 4] = [
        (
            PatchFormat::Patch(PatchType::Json),
            "application/json-patch+json",
        ),
        (
            PatchFormat::Patch(PatchType::Merge),
            "application/merge-patch+json",
        ),
        (
            PatchFormat::Patch(PatchType::Strategic),
            "application/strategic-merge-patch+json",
        ),
        (PatchFormat::Apply, "application/apply-patch+yaml"),
    ];

    /// The format of a body of this media type (parameters already removed).
    pub fn from_media_type(media: &str) -> Result<PatchFormat, ApiError> {
        PatchFormat::ALL
            .iter()
            .find(|(_, name)| *name == media)
            .map(|(kind, _)| *kind)
            .ok_or_else(|| {
                let accepted: Vec<&str> =
                    PatchFormat::ALL.iter().map(|(_, name)| *name).collect();
                ApiError::unsupported_media_type(format!(
                    "the body of the request was in an unknown format - accepted media types include: {}",
                    accepted.join(", ")
                ))
            })
    }
}

/// A decoded `PATCH` body.
pub struct Patch {
    body: Body,
    /// Strict decoding errors of the body itself (duplicate fields, unknown
    /// members of JSON patch operations).
    body_errors: Vec<String>,
}

/// A body decoded for its format.
enum Body {
    Json(JsonPatch),
    Merge(Value),
    Strategic(Value),
}

impl Patch {
    /// Decodes a body of the given format.
    pub fn parse(kind: PatchType, body: &[u8]) -> Result<Patch, ApiError> {
        let document = || {
            serde_json::from_slice::<Value>(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
        };
        let duplicates = duplicate_fields(body);
        let (body, body_errors) = match kind {
            PatchType::Json => {
                let patch = JsonPatch::parse(body)?;
                let mut errors: Vec<String> = duplicates
                    .iter()
                    .map(|d| format!("json patch {d}"))
                    .collect();
                errors.extend_from_slice(patch.unknown_fields());
                (Body::Json(patch), errors)
            }
            PatchType::Merge => (Body::Merge(document()?), duplicates),
            PatchType::Strategic => (Body::Strategic(document()?), duplicates),
        };
        Ok(Patch { body, body_errors })
    }

    /// Whether the patch names the object's resourceVersion: such a patch
    /// applies to that version only, so a conflict is not retried.
    pub fn pins_resource_version(&self) -> bool {
        match &self.body {
            Body::Json(patch) => patch.pins_resource_version(),
            Body::Merge(document) | Body::Strategic(document) => {
                document.pointer("/metadata/resourceVersion").is_some()
            }
        }
    }

    /// Applies the patch to `object`, whose schema is `schema`, under a
    /// `fieldValidation` directive. Fields the schema does not declare are
    /// dropped from the result; the warnings to send come with it.
    pub fn apply(
        &self,
        object: Value,
        schema: SchemaId,
        validation: FieldValidation,
    ) -> Result<(Value, Vec<String>), ApiError> {
        let mut object = match &self.body {
            Body::Json(patch) => patch.apply(object)?,
            Body::Merge(document) => apply_merge(object, document)?,
            Body::Strategic(document) => strategic::apply(object, document, schema)?,
        };
        let unpruned = (validation == FieldValidation::Strict).then(|| object.clone());
        let mut errors = self.body_errors.clone();
        errors.extend(prune_unknown(schema, &mut object));
        let warnings = validation.check(errors, |message| {
            self.strict_error(unpruned.unwrap_or_default(), message)
        })?;
        Ok((object, warnings))
    }

    /// The error a patch fails with under `fieldValidation=Strict`: a 422
    /// naming the `patch` field, whose value upstream shows as the patched
    /// object (JSON and merge patches) or the decoded patch (strategic).
    fn strict_error(&self, patched: Value, message: String) -> ApiError {
        let shown = match &self.body {
            Body::Strategic(document) => go_value(document),
            Body::Json(_) | Body::Merge(_) => patched.to_string(),
        };
        let error = FieldError::invalid(&FieldPath::new("patch"), shown, message);
        ApiError::invalid("", "", "", &[error])
    }
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
        metadata: None,
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
        let error = PatchFormat::from_media_type("application/json").unwrap_err();
        assert_eq!(error.code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            error.message,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
        );
        assert_eq!(
            PatchFormat::from_media_type("application/strategic-merge-patch+json").unwrap(),
            PatchFormat::Patch(PatchType::Strategic)
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
            .apply(json!({}), SchemaId(0), FieldValidation::Warn)
            .err()
            .unwrap();
        assert_eq!(not_an_object.message, "Invalid JSON Patch");
    }

    #[test]
    fn unknown_fields_follow_the_directive() {
        let pods = generated::RESOURCES
            .iter()
            .find(|r| r.group.is_empty() && r.plural == "pods")
            .expect("pods are served")
            .schema;
        let object = json!({"metadata": {"name": "p"}});
        let body = br#"{"metadata": {"bogus": 1}}"#;
        for kind in [PatchType::Merge, PatchType::Strategic] {
            let patch = Patch::parse(kind, body).unwrap();
            let (patched, warnings) = patch
                .apply(object.clone(), pods, FieldValidation::Warn)
                .unwrap();
            assert_eq!(patched, object, "{kind:?}: the unknown field is dropped");
            assert_eq!(warnings, [r#"unknown field "metadata.bogus""#]);
            let (_, quiet) = patch
                .apply(object.clone(), pods, FieldValidation::Ignore)
                .unwrap();
            assert!(quiet.is_empty());
        }
        let strict = |kind| {
            Patch::parse(kind, body)
                .unwrap()
                .apply(object.clone(), pods, FieldValidation::Strict)
                .unwrap_err()
        };
        let merge = strict(PatchType::Merge);
        assert_eq!(merge.code, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            merge.message,
            r#" "" is invalid: patch: Invalid value: "{\"metadata\":{\"bogus\":1,\"name\":\"p\"}}": strict decoding error: unknown field "metadata.bogus""#
        );
        assert_eq!(
            strict(PatchType::Strategic).message,
            r#" "" is invalid: patch: Invalid value: "map[metadata:map[bogus:1]]": strict decoding error: unknown field "metadata.bogus""#
        );
    }

    #[test]
    fn go_values_print_as_go_does() {
        assert_eq!(
            go_value(&json!({"b": [1, "x"], "a": {"c": null, "d": true}})),
            "map[a:map[c:<nil> d:true] b:[1 x]]"
        );
    }
}
