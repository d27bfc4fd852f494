//! The schema part of the model: one JSON-schema node type that both
//! upstream's OpenAPI v2 definitions and our own OpenAPI v3 documents are
//! read into, with every `x-kubernetes-*` extension kept.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// What a schema node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum SchemaKind {
    /// A reference to a named definition.
    Ref(String),
    Object {
        properties: BTreeMap<String, Schema>,
        required: Vec<String>,
        /// Value schema of a map (`additionalProperties`).
        additional: Option<Box<Schema>>,
    },
    Array(Box<Schema>),
    String,
    Integer,
    Number,
    Boolean,
    /// Anything: untyped definitions (RawExtension, JSON) and
    /// `x-kubernetes-preserve-unknown-fields` without a type.
    Any,
}

/// The `x-kubernetes-*` extensions a node may carry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extensions {
    pub list_type: Option<String>,
    pub list_map_keys: Vec<String>,
    pub map_type: Option<String>,
    pub patch_strategy: Option<String>,
    pub patch_merge_key: Option<String>,
    pub preserve_unknown_fields: bool,
    pub embedded_resource: bool,
    pub int_or_string: bool,
    pub unions: Option<Value>,
}

/// Value constraints beyond the type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Constraints {
    pub enum_values: Vec<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub pattern: Option<String>,
}

/// One schema node.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub description: Option<String>,
    pub kind: SchemaKind,
    pub format: Option<String>,
    pub nullable: bool,
    pub default: Option<Value>,
    pub constraints: Constraints,
    pub extensions: Extensions,
}

impl Schema {
    /// A node of the given kind with nothing else set.
    pub fn of(kind: SchemaKind) -> Schema {
        Schema {
            description: None,
            kind,
            format: None,
            nullable: false,
            default: None,
            constraints: Constraints::default(),
            extensions: Extensions::default(),
        }
    }

    /// Reads a JSON schema object (OpenAPI v2 or v3 dialect). `$ref`s must
    /// point at `ref_prefix` followed by a definition name.
    pub fn from_json(json: &Value, ref_prefix: &str) -> Result<Schema> {
        let obj = json.as_object().context("a schema must be a JSON object")?;
        let str_field = |key: &str| obj.get(key).and_then(Value::as_str).map(str::to_owned);
        let u64_field = |key: &str| obj.get(key).and_then(Value::as_u64);
        let f64_field = |key: &str| obj.get(key).and_then(Value::as_f64);
        let bool_field = |key: &str| obj.get(key).and_then(Value::as_bool).unwrap_or(false);

        let extensions = Extensions {
            list_type: str_field("x-kubernetes-list-type"),
            list_map_keys: string_list(obj.get("x-kubernetes-list-map-keys")),
            map_type: str_field("x-kubernetes-map-type"),
            patch_strategy: str_field("x-kubernetes-patch-strategy"),
            patch_merge_key: str_field("x-kubernetes-patch-merge-key"),
            preserve_unknown_fields: bool_field("x-kubernetes-preserve-unknown-fields"),
            embedded_resource: bool_field("x-kubernetes-embedded-resource"),
            int_or_string: bool_field("x-kubernetes-int-or-string")
                || str_field("format").as_deref() == Some("int-or-string"),
            unions: obj.get("x-kubernetes-unions").cloned(),
        };
        let constraints = Constraints {
            enum_values: obj
                .get("enum")
                .and_then(Value::as_array)
                .map(|values| values.iter().map(enum_text).collect())
                .unwrap_or_default(),
            minimum: f64_field("minimum"),
            maximum: f64_field("maximum"),
            exclusive_minimum: bool_field("exclusiveMinimum"),
            exclusive_maximum: bool_field("exclusiveMaximum"),
            min_length: u64_field("minLength"),
            max_length: u64_field("maxLength"),
            min_items: u64_field("minItems"),
            max_items: u64_field("maxItems"),
            min_properties: u64_field("minProperties"),
            max_properties: u64_field("maxProperties"),
            pattern: str_field("pattern"),
        };

        let kind = if let Some(reference) = reference(obj) {
            let name = reference.strip_prefix(ref_prefix).with_context(|| {
                format!("$ref {reference:?} does not start with {ref_prefix:?}")
            })?;
            SchemaKind::Ref(name.to_owned())
        } else {
            match obj.get("type").and_then(Value::as_str) {
                Some("object") => read_object(obj, ref_prefix)?,
                Some("array") => {
                    let items = obj.get("items").context("array schema without items")?;
                    SchemaKind::Array(Box::new(
                        Schema::from_json(items, ref_prefix).context("in items")?,
                    ))
                }
                Some("string") => SchemaKind::String,
                Some("integer") => SchemaKind::Integer,
                Some("number") => SchemaKind::Number,
                Some("boolean") => SchemaKind::Boolean,
                None if obj.contains_key("properties") => read_object(obj, ref_prefix)?,
                None => SchemaKind::Any,
                Some(other) => bail!("unsupported schema type {other:?}"),
            }
        };
        Ok(Schema {
            description: str_field("description"),
            kind,
            format: str_field("format"),
            nullable: bool_field("nullable"),
            default: obj.get("default").cloned(),
            constraints,
            extensions,
        })
    }

    /// Every definition this node refers to, directly or through children.
    pub fn refs<'a>(&'a self, out: &mut Vec<&'a str>) {
        match &self.kind {
            SchemaKind::Ref(name) => out.push(name),
            SchemaKind::Object {
                properties,
                additional,
                ..
            } => {
                properties.values().for_each(|p| p.refs(out));
                if let Some(additional) = additional {
                    additional.refs(out);
                }
            }
            SchemaKind::Array(items) => items.refs(out),
            _ => {}
        }
    }
}

/// `$ref`, either bare or (OpenAPI v3 style, when it has siblings) as the
/// single entry of an `allOf`.
fn reference(obj: &serde_json::Map<String, Value>) -> Option<&str> {
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        return Some(reference);
    }
    match obj
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([single]) => single.get("$ref").and_then(Value::as_str),
        _ => None,
    }
}

fn read_object(obj: &serde_json::Map<String, Value>, ref_prefix: &str) -> Result<SchemaKind> {
    let mut properties = BTreeMap::new();
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let schema = Schema::from_json(prop, ref_prefix)
                .with_context(|| format!("in property {name:?}"))?;
            properties.insert(name.clone(), schema);
        }
    }
    let additional = match obj.get("additionalProperties") {
        Some(Value::Object(schema)) if !schema.is_empty() => Some(Box::new(
            Schema::from_json(&Value::Object(schema.clone()), ref_prefix)
                .context("in additionalProperties")?,
        )),
        Some(Value::Object(_)) | Some(Value::Bool(true)) => {
            Some(Box::new(Schema::of(SchemaKind::Any)))
        }
        _ => None,
    };
    Ok(SchemaKind::Object {
        properties,
        required: string_list(obj.get("required")),
        additional,
    })
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn enum_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
