//! Reading cells out of JSON objects the way upstream's printers read Go
//! structs: an absent or `null` field is the zero value of its type, never
//! an error. Objects come from clients, so nothing here assumes a shape.

use generated::SCHEMAS;
use generated::support::meta::ResourceDescriptor;
use generated::support::schema::Type;
use serde_json::{Map, Value};

/// The value at `path` (object keys only), or `None` when a step is
/// missing, `null` or not an object.
pub(crate) fn get_path<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut current = value;
    for key in path {
        current = current.as_object()?.get(*key)?;
    }
    (!current.is_null()).then_some(current)
}

/// The string at `path`, if there is one (Go's `*string`).
pub(crate) fn opt_str<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    get_path(value, path).and_then(Value::as_str)
}

/// The string at `path`, "" when absent (Go's `string`).
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    opt_str(value, path).unwrap_or_default()
}

/// The integer at `path`, if there is one (Go's `*int32`, `*int64`).
pub(crate) fn opt_int(value: &Value, path: &[&str]) -> Option<i64> {
    get_path(value, path).and_then(Value::as_i64)
}

/// The integer at `path`, 0 when absent.
pub(crate) fn int_at(value: &Value, path: &[&str]) -> i64 {
    opt_int(value, path).unwrap_or_default()
}

/// The boolean at `path`, if there is one (Go's `*bool`).
pub(crate) fn opt_bool(value: &Value, path: &[&str]) -> Option<bool> {
    get_path(value, path).and_then(Value::as_bool)
}

/// The boolean at `path`, false when absent.
pub(crate) fn bool_at(value: &Value, path: &[&str]) -> bool {
    opt_bool(value, path).unwrap_or_default()
}

/// The array at `path`, empty when absent.
pub(crate) fn array_at<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    get_path(value, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The object (a Go map or struct) at `path`, if there is one.
pub(crate) fn object_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    get_path(value, path).and_then(Value::as_object)
}

/// `len()` of the Go slice or map at `path`: 0 when absent.
pub(crate) fn len_at(value: &Value, path: &[&str]) -> i64 {
    let len = match get_path(value, path) {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Object(map)) => map.len(),
        _ => 0,
    };
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// A value that upstream holds as a `resource.Quantity` or an
/// `IntOrString`, as text. JSON allows either a string or a number there.
pub(crate) fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The value of `metadata.annotations[key]`, if the annotation is set.
pub(crate) fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object_at(object, &["metadata", "annotations"])
        .and_then(|annotations| annotations.get(key))
        .and_then(Value::as_str)
}

/// The cell of a column declared with a JSON path (`.status.podIP`): the
/// value found there, or the zero value of the field's schema type when it
/// is absent, which is what upstream's printers put in the cell when they
/// copy a Go field ("" / 0 / false). A path the schema does not know (none
/// should; a test checks the overlays) also reads as "".
pub(crate) fn json_path_cell(
    resource: &ResourceDescriptor,
    json_path: &str,
    object: &Value,
) -> Value {
    let path: Vec<&str> = json_path.trim_start_matches('.').split('.').collect();
    match get_path(object, &path) {
        Some(found) => found.clone(),
        None => zero_value(schema_type(resource, &path)),
    }
}

/// The schema type of the field at `path` of `resource`'s kind, if the
/// schema declares every step.
pub(crate) fn schema_type(resource: &ResourceDescriptor, path: &[&str]) -> Option<Type> {
    let mut node = SCHEMAS.nodes.get(resource.schema.0 as usize)?;
    for key in path {
        let id = node.property(key)?;
        node = SCHEMAS.nodes.get(id.0 as usize)?;
    }
    Some(node.ty)
}

/// Go's zero value of a field of schema type `ty`, as a cell.
fn zero_value(ty: Option<Type>) -> Value {
    match ty {
        Some(Type::Integer | Type::Number) => Value::from(0),
        Some(Type::Boolean) => Value::Bool(false),
        _ => Value::String(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_and_null_fields_read_as_zero() {
        let object = json!({"spec": {"replicas": null, "name": "a", "list": [1], "flag": true}});
        assert_eq!(get_path(&object, &["spec", "replicas"]), None);
        assert_eq!(get_path(&object, &["spec", "name", "deeper"]), None);
        assert_eq!(str_at(&object, &["spec", "name"]), "a");
        assert_eq!(str_at(&object, &["spec", "missing"]), "");
        assert_eq!(int_at(&object, &["spec", "replicas"]), 0);
        assert_eq!(len_at(&object, &["spec", "list"]), 1);
        assert_eq!(len_at(&object, &["spec"]), 4);
        assert!(bool_at(&object, &["spec", "flag"]));
        assert!(array_at(&object, &["spec", "name"]).is_empty());
    }

    #[test]
    fn json_path_cells_take_the_schema_zero_value() {
        let deployments = generated::RESOURCES
            .iter()
            .find(|r| r.group == "apps" && r.plural == "deployments")
            .expect("deployments are served");
        let object = json!({"metadata": {"name": "web"}, "status": {"availableReplicas": 2}});
        assert_eq!(
            json_path_cell(deployments, ".metadata.name", &object),
            json!("web")
        );
        assert_eq!(
            json_path_cell(deployments, ".status.availableReplicas", &object),
            json!(2)
        );
        assert_eq!(
            json_path_cell(deployments, ".status.updatedReplicas", &object),
            json!(0)
        );
        assert_eq!(
            json_path_cell(deployments, ".metadata.namespace", &object),
            json!("")
        );
        assert_eq!(
            json_path_cell(deployments, ".spec.paused", &object),
            json!(false)
        );
    }
}
