//! Objects read through their schema: which paths a value sets, how two
//! values differ, how an applied configuration merges into a live object,
//! and how a path is removed. Lists merge by their list type (map-lists by
//! their keys, set-lists by value, others whole) and maps by their map type.

use std::collections::BTreeMap;

use generated::SCHEMAS;
use generated::support::schema::{ListType, MapType, Schema, SchemaId, Type};
use serde_json::{Map, Value};

use super::path::{Path, PathElement};
use super::set::FieldSet;

/// A schema node, or `None` for values without a schema (replaced whole
/// when they are lists, merged key by key when they are maps).
pub type Node = Option<SchemaId>;

/// How a node takes part in merges and field sets.
#[derive(Clone, Copy)]
enum Shape {
    /// Replaced whole: scalars and atomic lists, maps and structs.
    Leaf,
    /// Keys merge one by one; `Struct` nodes declare their fields.
    Struct(&'static Schema),
    /// Free keys whose values share one node.
    Map(Node),
    /// Items identified by the values of key fields.
    MapList {
        item: SchemaId,
        keys: &'static [&'static str],
    },
    /// Items identified by their whole value.
    SetList,
}

fn shape(node: Node, value: &Value) -> Shape {
    let Some(id) = node else {
        return if value.is_object() {
            Shape::Map(None)
        } else {
            Shape::Leaf
        };
    };
    let schema = SCHEMAS.get(id);
    match schema.ty {
        Type::Object if schema.map_type == Some(MapType::Atomic) => Shape::Leaf,
        Type::Object if !schema.properties.is_empty() => Shape::Struct(schema),
        Type::Object => match schema.additional_properties {
            Some(values) => Shape::Map(Some(values)),
            None if schema.preserve_unknown_fields => Shape::Map(None),
            None => Shape::Leaf,
        },
        Type::Array => list_shape(schema),
        Type::Any => shape(None, value),
        _ => Shape::Leaf,
    }
}

fn list_shape(schema: &'static Schema) -> Shape {
    let Some(item) = schema.items else {
        return Shape::Leaf;
    };
    match schema.list_type {
        Some(ListType::Map) => Shape::MapList {
            item,
            keys: schema.list_map_keys,
        },
        Some(ListType::Set) => Shape::SetList,
        Some(ListType::Atomic) => Shape::Leaf,
        // Without a list type, the patch strategy decides, as upstream's
        // schema conversion does.
        None => match (schema.patch_strategy, schema.patch_merge_key.as_ref()) {
            (Some(strategy), Some(key)) if strategy.contains("merge") => Shape::MapList {
                item,
                keys: std::slice::from_ref(key),
            },
            (Some(strategy), None) if strategy.contains("merge") => Shape::SetList,
            _ => Shape::Leaf,
        },
    }
}

/// The node of a struct or map field; `Err` when a struct does not declare it.
fn field_node(shape: Shape, key: &str) -> Result<Node, ()> {
    match shape {
        Shape::Struct(schema) => match schema.property(key) {
            Some(id) => Ok(Some(id)),
            None if schema.additional_properties.is_some() => Ok(schema.additional_properties),
            None if schema.preserve_unknown_fields => Ok(None),
            None => Err(()),
        },
        Shape::Map(values) => Ok(values),
        _ => Ok(None),
    }
}

fn item_node(shape: Shape) -> Node {
    match shape {
        Shape::MapList { item, .. } => Some(item),
        _ => None,
    }
}

/// The path element naming a list item.
fn item_element(shape: Shape, index: usize, item: &Value) -> Result<PathElement, String> {
    match shape {
        Shape::MapList {
            item: item_id,
            keys,
        } => {
            let schema = SCHEMAS.get(item_id);
            let mut values = BTreeMap::new();
            for key in keys {
                let given = item.get(*key).filter(|v| !v.is_null()).cloned();
                let defaulted = || {
                    schema
                        .property(key)
                        .and_then(|id| SCHEMAS.get(id).default)
                        .and_then(|text| serde_json::from_str(text).ok())
                };
                match given.or_else(defaulted) {
                    Some(value) => values.insert((*key).to_owned(), value),
                    None => {
                        return Err(format!(
                            "element {index}: associative list with keys has an element that omits key field {key:?} (and doesn't have default value)"
                        ));
                    }
                };
            }
            Ok(PathElement::Key(values))
        }
        Shape::SetList => Ok(PathElement::Value(item.clone())),
        _ => Ok(PathElement::Index(index)),
    }
}

/// Where the item `element` names sits in `items`.
fn position(shape: Shape, items: &[Value], element: &PathElement) -> Option<usize> {
    items
        .iter()
        .enumerate()
        .position(|(i, v)| item_element(shape, i, v).ok().as_ref() == Some(element))
}

fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// The paths an applied configuration sets: leaves, list items, map
/// entries, and fields given as `null` or `{}`. Fields a struct does not
/// declare are errors, as upstream reports them.
pub fn to_field_set(node: Node, value: &Value) -> Result<FieldSet, String> {
    let mut set = FieldSet::new();
    collect(node, value, &mut Vec::new(), &mut set)?;
    Ok(set)
}

fn collect(node: Node, value: &Value, path: &mut Path, set: &mut FieldSet) -> Result<(), String> {
    let shape = shape(node, value);
    match (shape, value) {
        (Shape::Struct(_) | Shape::Map(_), Value::Object(object)) => {
            for (key, child) in object {
                let declared = matches!(shape, Shape::Struct(s) if s.property(key).is_some());
                let child_node = field_node(shape, key).map_err(|()| {
                    format!(
                        "{}.{key}: field not declared in schema",
                        super::path::display(path)
                    )
                })?;
                path.push(PathElement::Field(key.clone()));
                collect(child_node, child, path, set)?;
                let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                if empty || !declared {
                    set.insert(path.clone());
                }
                path.pop();
            }
        }
        (Shape::MapList { .. } | Shape::SetList, Value::Array(items)) => {
            let mut seen = std::collections::BTreeSet::new();
            for (index, item) in items.iter().enumerate() {
                let at = super::path::display(path);
                let element = item_element(shape, index, item).map_err(|e| format!("{at}: {e}"))?;
                if !seen.insert(element.clone()) {
                    return Err(format!("{at}: duplicate entries for key {element}"));
                }
                path.push(element);
                collect(item_node(shape), item, path, set)?;
                set.insert(path.clone());
                path.pop();
            }
        }
        _ => {
            if !path.is_empty() {
                set.insert(path.clone());
            }
        }
    }
    Ok(())
}

/// How a new object differs from an old one, path by path.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    /// Paths that are set now and were unset or different before.
    pub fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }
}

/// Compares `old` (`None` for a create) with `new`. Fields that Go always
/// serializes (a struct's required fields and its embedded `metadata`,
/// `spec`, `status`, `template`, ... structs) count as present, if empty,
/// whenever their parent is, so that only optional nodes appear as added
/// or removed themselves, as with upstream's typed objects.
pub fn compare(node: Node, old: Option<&Value>, new: &Value) -> Comparison {
    let mut out = Comparison::default();
    let old = Some(old.unwrap_or(&Value::Null));
    walk_compare(node, old, Some(new), &mut Vec::new(), &mut out);
    out
}

/// Struct fields upstream's Go types never omit (non-pointer structs).
const ALWAYS_SERIALIZED: &[&str] = &[
    "metadata",
    "spec",
    "status",
    "template",
    "strategy",
    "updateStrategy",
    "jobTemplate",
];

fn always_present(schema: &Schema, key: &str) -> bool {
    schema.required.contains(&key) || ALWAYS_SERIALIZED.contains(&key)
}

/// `None`: absent. `Some(Null)`: present but empty (a Go zero value).
fn walk_compare(
    node: Node,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &mut Path,
    out: &mut Comparison,
) {
    let sample = present(new).or(present(old)).unwrap_or(&Value::Null);
    let shape = shape(node, sample);
    match shape {
        Shape::Struct(_) | Shape::Map(_) if sample.is_object() => {
            let empty = Map::new();
            let old_map = present(old).and_then(Value::as_object).unwrap_or(&empty);
            let new_map = present(new).and_then(Value::as_object).unwrap_or(&empty);
            let mut keys: Vec<&String> = old_map.keys().chain(new_map.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = field_node(shape, key).unwrap_or(None);
                let implied = matches!(shape, Shape::Struct(s) if always_present(s, key));
                let old_child = child_of(old_map, old, key, implied);
                let new_child = child_of(new_map, new, key, implied);
                path.push(PathElement::Field(key.clone()));
                walk_compare(child, old_child, new_child, path, out);
                path.pop();
            }
            node_presence(old, new, path, out);
        }
        Shape::MapList { .. } | Shape::SetList if sample.is_array() => {
            let old_items = index_items(shape, present(old));
            let new_items = index_items(shape, present(new));
            let mut elements: Vec<&PathElement> =
                old_items.keys().chain(new_items.keys()).collect();
            elements.sort();
            elements.dedup();
            for element in elements {
                path.push(element.clone());
                let (o, n) = (
                    old_items.get(element).copied(),
                    new_items.get(element).copied(),
                );
                walk_compare(item_node(shape), o, n, path, out);
                node_presence(o, n, path, out);
                path.pop();
            }
            node_presence(old, new, path, out);
        }
        _ => match (present(old), present(new)) {
            (None, Some(_)) => out.added.insert(path.clone()),
            (Some(_), None) => out.removed.insert(path.clone()),
            (Some(a), Some(b)) if a != b => out.modified.insert(path.clone()),
            _ => {}
        },
    }
}

/// A field of a struct or map side; fields Go always serializes are
/// present (as null) whenever their parent is.
fn child_of<'a>(
    map: &'a Map<String, Value>,
    parent: Option<&Value>,
    key: &str,
    implied: bool,
) -> Option<&'a Value> {
    const EMPTY: &Value = &Value::Null;
    present(map.get(key)).or_else(|| (implied && parent.is_some()).then_some(EMPTY))
}

fn node_presence(old: Option<&Value>, new: Option<&Value>, path: &Path, out: &mut Comparison) {
    if path.is_empty() {
        return;
    }
    match (old, new) {
        (None, Some(_)) => out.added.insert(path.clone()),
        (Some(_), None) => out.removed.insert(path.clone()),
        _ => {}
    }
}

fn index_items(shape: Shape, list: Option<&Value>) -> BTreeMap<PathElement, &Value> {
    let items = list
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| item_element(shape, i, item).ok().map(|e| (e, item)))
        .collect()
}

/// Merges an applied configuration into the live object: struct fields
/// and map entries one by one (`null` removes), map-list items by key,
/// set-list items by value, everything else replaced.
pub fn merge(node: Node, live: Option<&Value>, config: &Value) -> Value {
    let shape = shape(node, config);
    match (shape, config) {
        (Shape::Struct(_) | Shape::Map(_), Value::Object(entries)) => {
            let mut out = present(live)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (key, value) in entries {
                if value.is_null() {
                    out.remove(key);
                    continue;
                }
                let child = field_node(shape, key).unwrap_or(None);
                let merged = merge(child, out.get(key), value);
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Shape::MapList { .. } | Shape::SetList, Value::Array(items)) => {
            let mut out: Vec<Value> = present(live)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (index, item) in items.iter().enumerate() {
                let Ok(element) = item_element(shape, index, item) else {
                    out.push(item.clone());
                    continue;
                };
                match position(shape, &out, &element) {
                    Some(at) => out[at] = merge(item_node(shape), Some(&out[at]), item),
                    None => out.push(merge(item_node(shape), None, item)),
                }
            }
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// Removes the node `path` names from `value`; false when it is not there.
pub fn remove(node: Node, value: &mut Value, path: &[PathElement]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let shape = shape(node, value);
    match (first, value) {
        (PathElement::Field(key), Value::Object(object)) => {
            if rest.is_empty() {
                return object.remove(key).is_some();
            }
            let child = field_node(shape, key).unwrap_or(None);
            object.get_mut(key).is_some_and(|v| remove(child, v, rest))
        }
        (element, Value::Array(items)) => {
            let Some(at) = position(shape, items, element) else {
                return false;
            };
            if rest.is_empty() {
                items.remove(at);
                return true;
            }
            remove(item_node(shape), &mut items[at], rest)
        }
        _ => false,
    }
}

/// The value at `path`, if there is one.
pub fn get<'a>(node: Node, value: &'a Value, path: &[PathElement]) -> Option<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    let shape = shape(node, value);
    match (first, value) {
        (PathElement::Field(key), Value::Object(object)) => {
            let child = field_node(shape, key).unwrap_or(None);
            get(child, object.get(key)?, rest)
        }
        (element, Value::Array(items)) => {
            let at = position(shape, items, element)?;
            get(item_node(shape), &items[at], rest)
        }
        _ => None,
    }
}
