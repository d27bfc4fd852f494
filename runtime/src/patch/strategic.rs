//! Strategic merge patch (`application/strategic-merge-patch+json`), the
//! format `kubectl apply`, `edit`, `set` and `patch` send for built-in kinds.
//!
//! It is a JSON merge patch whose lists may merge instead of being
//! replaced: the schema table says, per field, whether a list merges
//! (`x-kubernetes-patch-strategy: merge`) and by which key its items match
//! (`x-kubernetes-patch-merge-key`). The patch itself may carry directives:
//! `$patch: replace|delete|merge`, `$retainKeys`, `$setElementOrder/<field>`
//! and `$deleteFromPrimitiveList/<field>`. The semantics follow upstream's
//! `k8s.io/apimachinery/pkg/util/strategicpatch`; where upstream answers a
//! malformed patch with a 500, this answers with a 400.

use std::collections::HashSet;

use generated::SCHEMAS;
use generated::support::schema::SchemaId;
use serde_json::{Map, Value};

use super::{go_value, json_kind, unprocessable};
use crate::status::ApiError;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Applies a decoded strategic merge patch to `object`, whose schema is `root`.
pub fn apply(object: Value, patch: &Value, root: SchemaId) -> Result<Value, ApiError> {
    let Value::Object(patch) = patch else {
        return Err(ApiError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(patch)
        )));
    };
    let Value::Object(original) = object else {
        return Err(ApiError::bad_request(
            "the object to patch is not a JSON object",
        ));
    };
    merge_map(original, patch.clone(), Some(root)).map(Value::Object)
}

/// How a list field merges, from its schema node.
#[derive(Clone, Copy, Default)]
struct ListMeta {
    merge: bool,
    merge_key: &'static str,
    items: Option<SchemaId>,
    name: &'static str,
}

impl ListMeta {
    fn of(field: Option<SchemaId>) -> ListMeta {
        let Some(id) = field else {
            return ListMeta::default();
        };
        let node = SCHEMAS.get(id);
        ListMeta {
            merge: strategies(node.patch_strategy).any(|s| s == "merge"),
            merge_key: node.patch_merge_key.unwrap_or_default(),
            items: node.items,
            name: SCHEMAS.get(node.items.unwrap_or(id)).name,
        }
    }
}

fn strategies(strategy: Option<&'static str>) -> impl Iterator<Item = &'static str> {
    strategy.unwrap_or_default().split(',').map(str::trim)
}

/// The schema of `key` inside the object or map node `parent`.
fn child(parent: Option<SchemaId>, key: &str) -> Option<SchemaId> {
    let node = SCHEMAS.get(parent?);
    node.property(key).or(node.additional_properties)
}

/// Whether a map field is replaced whole rather than merged.
fn replaces(field: Option<SchemaId>) -> bool {
    field.is_some_and(|id| strategies(SCHEMAS.get(id).patch_strategy).any(|s| s == "replace"))
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Option<SchemaId>,
) -> Result<Map<String, Value>, ApiError> {
    if let Some(directive) = patch.remove(DIRECTIVE) {
        return match directive.as_str() {
            // The patch is the whole new map; merging it into nothing drops
            // its nulls and any directives nested inside.
            Some("replace") => merge_map(Map::new(), patch, schema),
            Some("delete") => Ok(Map::new()),
            _ => {
                patch.insert(DIRECTIVE.to_owned(), directive.clone());
                Err(bad_patch_type(&directive, &patch))
            }
        };
    }
    if let Some(keys) = patch.remove(RETAIN_KEYS) {
        retain_keys(&mut original, &patch, keys)?;
    }
    let orders: Vec<String> = patch
        .keys()
        .filter(|k| directive_field(k, SET_ELEMENT_ORDER).is_some())
        .cloned()
        .collect();
    for key in orders {
        let order = patch.remove(&key).unwrap_or_default();
        let field = directive_field(&key, SET_ELEMENT_ORDER).unwrap_or_default();
        set_element_order(&mut original, &mut patch, field, order, schema)?;
    }
    for (key, value) in patch {
        if let Some(field) = directive_field(&key, DELETE_FROM_PRIMITIVE_LIST) {
            if value.is_null() {
                original.remove(field);
            } else if let (Some(Value::Array(list)), Value::Array(remove)) =
                (original.get_mut(field), &value)
            {
                list.retain(|item| !remove.contains(item));
            }
            continue;
        }
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) || key.starts_with(SET_ELEMENT_ORDER) {
            return Err(ApiError::bad_request(
                if key.starts_with(SET_ELEMENT_ORDER) {
                    "invalid patch format of setElementOrder list"
                } else {
                    "invalid patch format of primitive list"
                },
            ));
        }
        if value.is_null() {
            original.remove(&key);
            continue;
        }
        let field = child(schema, &key);
        let merged = match (original.remove(&key), value) {
            (Some(Value::Object(current)), Value::Object(patch)) if !replaces(field) => {
                Value::Object(merge_map(current, patch, field)?)
            }
            (Some(Value::Array(current)), Value::Array(patch)) => {
                Value::Array(merge_list(current, patch, ListMeta::of(field))?)
            }
            (_, value) => new_value(value, field)?,
        };
        original.insert(key, merged);
    }
    Ok(original)
}

/// A value the patch sets where nothing (or something of another type)
/// was: taken from the patch without its nulls and directives.
fn new_value(value: Value, schema: Option<SchemaId>) -> Result<Value, ApiError> {
    Ok(match value {
        Value::Object(patch) => Value::Object(merge_map(Map::new(), patch, schema)?),
        Value::Array(patch) => Value::Array(merge_list(Vec::new(), patch, ListMeta::of(schema))?),
        other => other,
    })
}

/// The field a directive key such as `$setElementOrder/containers` names.
fn directive_field<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.strip_prefix(prefix)?.strip_prefix('/')
}

/// `$retainKeys`: keys of the original not listed are cleared; the patch
/// may only set listed keys.
fn retain_keys(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    keys: Value,
) -> Result<(), ApiError> {
    let bad = || ApiError::bad_request("invalid patch format of retainKeys");
    let Value::Array(keys) = keys else {
        return Err(bad());
    };
    let keys: HashSet<&str> = keys.iter().filter_map(Value::as_str).collect();
    let unlisted = patch.iter().any(|(k, v)| {
        !v.is_null()
            && !k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !k.starts_with(SET_ELEMENT_ORDER)
            && !keys.contains(k.as_str())
    });
    if unlisted {
        return Err(bad());
    }
    original.retain(|k, _| keys.contains(k.as_str()));
    Ok(())
}

/// `$setElementOrder/<field>`: merges the field's list (if the patch has
/// one) and orders the result as the directive lists, keeping items only
/// the server has next to their neighbours.
fn set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    field: &str,
    order: Value,
    schema: Option<SchemaId>,
) -> Result<(), ApiError> {
    let Value::Array(order) = order else {
        return Err(bad_arg_type("[]interface {}", &order));
    };
    let as_list = |value: Option<Value>| match value {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list)),
        Some(other) => Err(bad_arg_type("[]interface {}", &other)),
    };
    let meta = ListMeta::of(child(schema, field));
    let current = as_list(original.remove(field))?;
    let patch_list = as_list(patch.remove(field))?;
    if let Some(list) = &patch_list {
        check_order(list, &order, meta.merge_key)?;
    }
    let server_order = current.clone().unwrap_or_default();
    let merged = match (current, patch_list) {
        (None, None) => return Ok(()),
        (Some(current), None) => current,
        (current, Some(patch)) => merge_list(current.unwrap_or_default(), patch, meta)?,
    };
    let (in_order, server_only) = partition(merged, &order, meta.merge_key)?;
    let all = normalize_order(in_order, server_only, &order, &server_order, meta.merge_key);
    original.insert(field.to_owned(), Value::Array(all));
    Ok(())
}

/// The items of a patch list (deletions aside) must appear in the
/// `$setElementOrder` list, in the same relative order.
fn check_order(patch: &[Value], order: &[Value], merge_key: &str) -> Result<(), ApiError> {
    let kept: Vec<&Value> = patch
        .iter()
        .filter(|item| directive(item).is_none_or(|d| merge_key.is_empty() || d != "delete"))
        .collect();
    let (mut p, mut o) = (0, 0);
    while p < kept.len() && o < order.len() {
        if directive(kept[p]).is_some() {
            p += 1;
            continue;
        }
        if same_item(kept[p], &order[o], merge_key)? {
            p += 1;
        }
        o += 1;
    }
    if p < kept.len() {
        return Err(ApiError::bad_request(format!(
            "the order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}",
            go_value(&Value::Array(patch.to_vec())),
            go_value(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

fn directive(item: &Value) -> Option<&Value> {
    item.as_object()?.get(DIRECTIVE)
}

fn same_item(left: &Value, right: &Value, merge_key: &str) -> Result<bool, ApiError> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    Ok(key_of(left, merge_key)? == key_of(right, merge_key)?)
}

fn key_of<'v>(item: &'v Value, merge_key: &str) -> Result<&'v Value, ApiError> {
    let Value::Object(map) = item else {
        return Err(bad_arg_type("map[string]interface {}", item));
    };
    map.get(merge_key)
        .ok_or_else(|| no_merge_key(item, merge_key))
}

/// Merges a list field: replaced unless its schema says `merge`.
fn merge_list(
    current: Vec<Value>,
    patch: Vec<Value>,
    meta: ListMeta,
) -> Result<Vec<Value>, ApiError> {
    if !meta.merge {
        return Ok(patch.into_iter().map(drop_nulls).collect());
    }
    if current.is_empty() && patch.is_empty() {
        return Ok(current);
    }
    if current.iter().chain(&patch).any(Value::is_array) {
        return Err(unprocessable());
    }
    let maps = current
        .iter()
        .chain(&patch)
        .next()
        .is_some_and(Value::is_object);
    if !maps {
        let mut merged: Vec<Value> = Vec::with_capacity(current.len() + patch.len());
        for item in current.iter().chain(&patch) {
            if !merged.contains(item) {
                merged.push(item.clone());
            }
        }
        let (in_patch, server_only) = partition(merged, &patch, "")?;
        return Ok(normalize_order(in_patch, server_only, &patch, &current, ""));
    }
    if meta.merge_key.is_empty() {
        return Err(ApiError::bad_request(format!(
            "cannot merge lists without merge key for {}",
            meta.name
        )));
    }
    let (base, patch) = special_elements(current, patch, meta.merge_key)?;
    let mut merged = base.clone();
    for item in &patch {
        let key = key_of(item, meta.merge_key)?;
        let found = merged
            .iter()
            .position(|m| m.as_object().and_then(|m| m.get(meta.merge_key)) == Some(key));
        let Value::Object(item_patch) = item.clone() else {
            return Err(bad_arg_type("map[string]interface {}", item));
        };
        match found {
            Some(i) => {
                let Value::Object(existing) = merged[i].take() else {
                    return Err(bad_arg_type("map[string]interface {}", &merged[i]));
                };
                merged[i] = Value::Object(merge_map(existing, item_patch, meta.items)?);
            }
            None => merged.push(Value::Object(merge_map(
                Map::new(),
                item_patch,
                meta.items,
            )?)),
        }
    }
    let (in_patch, server_only) = partition(merged, &patch, meta.merge_key)?;
    Ok(normalize_order(
        in_patch,
        server_only,
        &patch,
        &base,
        meta.merge_key,
    ))
}

/// Applies the `$patch` items of a merging list of maps: `delete` removes
/// the matching items, `replace` makes the other patch items the whole
/// list. Returns the list to merge into and the remaining patch items.
fn special_elements(
    mut current: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), ApiError> {
    let mut rest = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Some(kind) = directive(&item) else {
            rest.push(item);
            continue;
        };
        match kind.as_str() {
            Some("delete") => {
                let key = key_of(&item, merge_key)?.clone();
                current.retain(|c| c.as_object().and_then(|c| c.get(merge_key)) != Some(&key));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(ApiError::bad_request(
                    "merging lists cannot yet be specified in the patch",
                ));
            }
            _ => {
                let map = item.as_object().cloned().unwrap_or_default();
                return Err(bad_patch_type(kind, &map));
            }
        }
    }
    if replace {
        let replaced = rest.into_iter().map(drop_nulls).collect();
        return Ok((replaced, Vec::new()));
    }
    Ok((current, rest))
}

/// Splits `items` into those `by` lists and the others, in their order.
fn partition(
    items: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), ApiError> {
    let (mut listed, mut others) = (Vec::new(), Vec::new());
    for item in items {
        let found = if merge_key.is_empty() || !item.is_object() {
            by.contains(&item)
        } else {
            let key = key_of(&item, merge_key)?;
            by.iter()
                .any(|b| b.as_object().and_then(|b| b.get(merge_key)) == Some(key))
        };
        if found {
            listed.push(item);
        } else {
            others.push(item);
        }
    }
    Ok((listed, others))
}

/// Orders the patch's items as `patch_order` and the server's own items as
/// `server_order`, then interleaves them: where both sides appear in the
/// server's list, the earlier one there goes first; otherwise the patch's.
fn normalize_order(
    mut in_patch: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
) -> Vec<Value> {
    sort_by(&mut in_patch, patch_order, merge_key);
    sort_by(&mut server_only, server_order, merge_key);
    let mut all = Vec::with_capacity(in_patch.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = in_patch.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    index_in(server_order, l, merge_key),
                    index_in(server_order, r, merge_key),
                ) {
                    (Some(li), Some(ri)) => li < ri,
                    _ => false,
                }
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        all.extend(next);
    }
    all
}

fn sort_by(items: &mut [Value], order: &[Value], merge_key: &str) {
    items.sort_by_key(|item| index_in(order, item, merge_key).unwrap_or(usize::MAX));
}

fn index_in(list: &[Value], item: &Value, merge_key: &str) -> Option<usize> {
    match item.as_object().and_then(|m| m.get(merge_key)) {
        Some(key) if !merge_key.is_empty() => list
            .iter()
            .position(|l| l.as_object().and_then(|l| l.get(merge_key)) == Some(key)),
        _ => list.iter().position(|l| l == item),
    }
}

/// A value taken whole from the patch, without null map entries (which a
/// decoder would read as unset).
fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(drop_nulls).collect()),
        other => other,
    }
}

fn bad_patch_type(kind: &Value, map: &Map<String, Value>) -> ApiError {
    let kind = kind.as_str().map_or_else(|| go_value(kind), str::to_owned);
    ApiError::bad_request(format!(
        "unknown patch type: {kind} in map: {}",
        go_value(&Value::Object(map.clone()))
    ))
}

fn no_merge_key(item: &Value, merge_key: &str) -> ApiError {
    ApiError::bad_request(format!(
        "map: {} does not contain declared merge key: {merge_key}",
        go_value(item)
    ))
}

fn bad_arg_type(expected: &str, actual: &Value) -> ApiError {
    ApiError::bad_request(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

/// Go's name for the dynamic type a JSON value decodes to.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
#[path = "strategic_tests.rs"]
mod tests;
