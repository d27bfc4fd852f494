//! JSON patch (RFC 6902, `application/json-patch+json`): a list of `add`,
//! `remove`, `replace`, `move`, `copy` and `test` operations, applied by
//! the `json-patch` crate with upstream's answers around it: a body that is
//! not a JSON list is a 400, more than 10000 operations a 413, and an
//! operation that cannot apply (a failed `test`, a missing path) a 422.

use axum::http::StatusCode;
use json_patch::Patch;
use serde_json::Value;

use super::unprocessable;
use crate::status::ApiError;

/// Upstream's cap on the operations of one JSON patch.
const MAX_OPERATIONS: usize = 10_000;

/// The members an operation may have; others are strict decoding errors.
const OPERATION_FIELDS: [&str; 4] = ["op", "path", "from", "value"];

/// A decoded JSON patch.
pub struct JsonPatch {
    /// The operations, or `None` when some operation is malformed (an
    /// unknown `op`, a missing member), which upstream only finds when it
    /// applies the patch.
    operations: Option<Patch>,
    unknown_fields: Vec<String>,
    pins_resource_version: bool,
}

impl JsonPatch {
    /// Reads a JSON patch body.
    pub fn parse(body: &[u8]) -> Result<JsonPatch, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
        let Value::Array(operations) = value else {
            return Err(ApiError::bad_request(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                super::json_kind(&value)
            )));
        };
        if operations.len() > MAX_OPERATIONS {
            return Err(ApiError {
                code: StatusCode::PAYLOAD_TOO_LARGE,
                reason: "RequestEntityTooLarge",
                message: format!(
                    "Request entity too large: The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got {}",
                    operations.len()
                ),
                details: None,
                metadata: None,
            });
        }
        Ok(JsonPatch {
            unknown_fields: unknown_fields(&operations),
            pins_resource_version: operations.iter().any(pins_resource_version),
            operations: serde_json::from_value(Value::Array(operations)).ok(),
        })
    }

    /// Members of operations that RFC 6902 does not define, as upstream's
    /// strict decoding names them (`json patch unknown field "[0].valu"`).
    pub fn unknown_fields(&self) -> &[String] {
        &self.unknown_fields
    }

    /// Whether an operation touches `metadata.resourceVersion`, which pins
    /// the patch to one version of the object.
    pub fn pins_resource_version(&self) -> bool {
        self.pins_resource_version
    }

    /// Applies the operations to `object`; any failure is upstream's
    /// generic 422.
    pub fn apply(&self, mut object: Value) -> Result<Value, ApiError> {
        let operations = self.operations.as_ref().ok_or_else(unprocessable)?;
        json_patch::patch(&mut object, operations).map_err(|_| unprocessable())?;
        Ok(object)
    }
}

fn unknown_fields(operations: &[Value]) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, operation) in operations.iter().enumerate() {
        if let Value::Object(members) = operation {
            errors.extend(
                members
                    .keys()
                    .filter(|k| !OPERATION_FIELDS.contains(&k.as_str()))
                    .map(|k| format!("json patch unknown field \"[{i}].{k}\"")),
            );
        }
    }
    errors
}

fn pins_resource_version(operation: &Value) -> bool {
    ["path", "from"].iter().any(|member| {
        operation
            .get(member)
            .and_then(Value::as_str)
            .is_some_and(|p| {
                p.is_empty() || p == "/metadata" || p.starts_with("/metadata/resourceVersion")
            })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn apply(object: Value, patch: Value) -> Result<Value, ApiError> {
        JsonPatch::parse(patch.to_string().as_bytes())?.apply(object)
    }

    #[test]
    fn applies_every_operation() {
        let object =
            json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"list": [1, 2]}});
        let patched = apply(
            object,
            json!([
                {"op": "test", "path": "/metadata/name", "value": "a"},
                {"op": "add", "path": "/spec/list/-", "value": 3},
                {"op": "replace", "path": "/metadata/labels/x", "value": "2"},
                {"op": "copy", "from": "/metadata/labels/x", "path": "/metadata/labels/y"},
                {"op": "move", "from": "/spec/list", "path": "/spec/moved"},
                {"op": "remove", "path": "/metadata/labels/x"}
            ]),
        )
        .unwrap();
        assert_eq!(
            patched,
            json!({"metadata": {"name": "a", "labels": {"y": "2"}}, "spec": {"moved": [1, 2, 3]}})
        );
    }

    #[test]
    fn failures_have_upstreams_codes() {
        let object = json!({"metadata": {"name": "a"}});
        let failed_test = apply(
            object.clone(),
            json!([{"op": "test", "path": "/metadata/name", "value": "b"}]),
        )
        .unwrap_err();
        assert_eq!(failed_test.code, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(failed_test.reason, "Invalid");
        assert_eq!(
            failed_test.message,
            "the server rejected our request due to an error in our request"
        );
        let missing = apply(object.clone(), json!([{"op": "remove", "path": "/spec/x"}]));
        assert_eq!(missing.unwrap_err().code, StatusCode::UNPROCESSABLE_ENTITY);
        let unknown_op = apply(object.clone(), json!([{"op": "frobnicate", "path": "/a"}]));
        assert_eq!(
            unknown_op.unwrap_err().code,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let not_a_list = JsonPatch::parse(br#"{"op": "add"}"#).err().unwrap();
        assert_eq!(not_a_list.code, StatusCode::BAD_REQUEST);
        let not_json = JsonPatch::parse(b"[{").err().unwrap();
        assert_eq!(not_json.code, StatusCode::BAD_REQUEST);
        assert!(not_json.message.starts_with("error decoding patch: "));
        let huge = json!(vec![json!({"op": "test", "path": "", "value": 1}); 10_001]);
        let too_large = JsonPatch::parse(huge.to_string().as_bytes()).err().unwrap();
        assert_eq!(too_large.code, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn reports_unknown_members_and_pinning() {
        let patch = JsonPatch::parse(
            br#"[{"op": "add", "path": "/a", "valu": 1, "value": 2}, {"op": "replace", "path": "/metadata/resourceVersion", "value": "5"}]"#,
        )
        .unwrap();
        assert_eq!(
            patch.unknown_fields(),
            [r#"json patch unknown field "[0].valu""#]
        );
        assert!(patch.pins_resource_version());
        let plain = JsonPatch::parse(br#"[{"op": "add", "path": "/a", "value": 2}]"#).unwrap();
        assert!(plain.unknown_fields().is_empty());
        let extra = JsonPatch::parse(br#"[{"op": "add", "path": "/a", "value": 1, "x": 0}]"#);
        assert_eq!(extra.unwrap().apply(json!({})).unwrap(), json!({"a": 1}));
        assert!(!plain.pins_resource_version());
    }
}
