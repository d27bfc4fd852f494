//! The OpenAPI documents the server publishes: `/openapi/v2` (upstream's
//! swagger.json plus our own groups, [`v2`]) and one `/openapi/v3/<path>`
//! document per web service root, as kube-apiserver splits them (`api/v1`,
//! `apis/apps/v1`, `apis/apps`, `version`, ..., [`v3`]), with the
//! `/openapi/v3` index that names each document with its hash.
//!
//! The documents are data files under `generated/openapi/` (compact JSON,
//! exactly the bytes served, so a hash computed here is the hash of what a
//! client receives); `generated/src/openapi.rs` embeds them with
//! `include_str!` so the server parses nothing at run time.

mod v2;
mod v3;

use std::path::PathBuf;

use anyhow::{Context, Result};
use quote::quote;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use crate::model::{Definition, Gvk, Model};
use crate::schema::{Schema, SchemaKind};

/// Where the documents live, relative to the generated crate's root.
const DIR: &str = "openapi";

/// The document files, the v3 index and the Rust module embedding them.
pub fn files(model: &Model) -> Result<Vec<(PathBuf, String)>> {
    let v2 = v2::document(model)?;
    let own = own_v3_definitions(model, &v2)?;
    let v3 = v3::documents(&v2, &own)?;

    let v2_text = json_text(&v2)?;
    let v2_etag = etag(&v2_text);
    let mut files = vec![(PathBuf::from(format!("{DIR}/v2.json")), v2_text)];

    let mut index = Map::new();
    let mut entries = Vec::new();
    for (path, document) in &v3 {
        let text = json_text(document)?;
        let hash = etag(&text);
        let file = v3_file_name(path);
        index.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
        );
        let include = format!("../{DIR}/v3/{file}");
        entries.push(quote! {
            V3Document { path: #path, etag: #hash, json: include_str!(#include) }
        });
        files.push((PathBuf::from(format!("{DIR}/v3/{file}")), text));
    }
    let index = json_text(&json!({ "paths": index }))?;
    files.push((PathBuf::from(format!("{DIR}/v3/index.json")), index));

    let v2_include = format!("../{DIR}/v2.json");
    let index_include = format!("../{DIR}/v3/index.json");
    let module = quote! {
        #![doc = " The OpenAPI documents served at `/openapi/v2` and `/openapi/v3`, embedded"]
        #![doc = " byte for byte from `generated/openapi/`. Each `etag` is upstream's: the"]
        #![doc = " upper-case hex SHA-512 of the document's bytes."]

        #[doc = " `/openapi/v2`: upstream's swagger.json plus ferrokube's own groups."]
        pub static V2: &str = include_str!(#v2_include);
        #[doc = " The ETag of [`V2`]."]
        pub static V2_ETAG: &str = #v2_etag;

        #[doc = " One document served at `/openapi/v3/<path>`."]
        #[derive(Clone, Copy, Debug)]
        pub struct V3Document {
            #[doc = " `api/v1`, `apis/apps/v1`, `version`, ..."]
            pub path: &'static str,
            #[doc = " The `hash` the index names it by and its ETag."]
            pub etag: &'static str,
            #[doc = " The OpenAPI 3.0 document."]
            pub json: &'static str,
        }

        #[doc = " Every v3 document, sorted by path."]
        pub static V3: &[V3Document] = &[#(#entries),*];

        #[doc = " `/openapi/v3`: each document's path and `serverRelativeURL`."]
        pub static V3_INDEX: &str = include_str!(#index_include);

        #[doc = " The v3 document served at `/openapi/v3/<path>`."]
        pub fn v3(path: &str) -> Option<&'static V3Document> {
            V3.binary_search_by(|d| d.path.cmp(path)).ok().map(|i| &V3[i])
        }
    };
    files.push(("src/openapi.rs".into(), super::format(module)?));
    Ok(files)
}

/// Upstream's file name for a v3 document (`apis/apps/v1` is
/// `apis__apps__v1_openapi.json` in kubernetes/kubernetes api/openapi-spec/v3).
pub fn v3_file_name(path: &str) -> String {
    format!("{}_openapi.json", path.replace('/', "__"))
}

/// Compact JSON with keys sorted (serde_json's map is ordered), newline-ended.
fn json_text(value: &impl serde::Serialize) -> Result<String> {
    let mut text = serde_json::to_string(value).context("encoding an OpenAPI document")?;
    text.push('\n');
    Ok(text)
}

/// kube-openapi's ETag: upper-case hex of the SHA-512 of the served bytes.
fn etag(text: &str) -> String {
    Sha512::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Our own definitions (those upstream's document lacks) in the v3 dialect,
/// written from the model: they were declared as OpenAPI v3, so their
/// `default`s and `nullable` are kept rather than inferred.
fn own_v3_definitions(model: &Model, v2: &Value) -> Result<Map<String, Value>> {
    let upstream = model
        .upstream_openapi
        .get("definitions")
        .and_then(Value::as_object)
        .context("upstream's swagger.json has no definitions")?;
    let mut own = Map::new();
    for def in model
        .definitions
        .values()
        .filter(|d| !upstream.contains_key(&d.name))
    {
        own.insert(def.name.clone(), definition_value(def, Dialect::V3));
    }
    // Every own definition must also be in the v2 document the v3 ones are
    // split from.
    let v2_definitions = v2.get("definitions").and_then(Value::as_object);
    if let Some(missing) = own
        .keys()
        .find(|name| !v2_definitions.is_some_and(|d| d.contains_key(*name)))
    {
        anyhow::bail!("definition {missing} is missing from the v2 document");
    }
    Ok(own)
}

/// Which OpenAPI version a schema is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `#/definitions/` references; no `default` or `nullable`, which
    /// upstream prunes from (or cannot express in) its v2 document.
    V2,
    /// `#/components/schemas/` references, wrapped in `allOf` beside
    /// sibling keys as upstream writes them.
    V3,
}

impl Dialect {
    fn ref_prefix(self) -> &'static str {
        match self {
            Dialect::V2 => "#/definitions/",
            Dialect::V3 => "#/components/schemas/",
        }
    }
}

/// A definition as a JSON schema, with its `x-kubernetes-group-version-kind`.
pub fn definition_value(def: &Definition, dialect: Dialect) -> Value {
    let mut value = schema_value(&def.schema, dialect);
    if !def.gvks.is_empty()
        && let Value::Object(obj) = &mut value
    {
        let gvks: Vec<Value> = def.gvks.iter().map(gvk_value).collect();
        obj.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks));
    }
    value
}

/// `{"group", "kind", "version"}` as upstream writes a GVK.
pub fn gvk_value(gvk: &Gvk) -> Value {
    json!({"group": gvk.group, "kind": gvk.kind, "version": gvk.version})
}

/// Writes a model schema node back as JSON: the inverse of
/// [`Schema::from_json`] for everything the model keeps.
pub fn schema_value(schema: &Schema, dialect: Dialect) -> Value {
    let mut out = Map::new();
    let mut put = |key: &str, value: Value| {
        out.insert(key.to_owned(), value);
    };
    if let Some(description) = &schema.description {
        put("description", json!(description));
    }
    let type_name = match &schema.kind {
        SchemaKind::Ref(name) => {
            put("$ref", json!(format!("{}{name}", dialect.ref_prefix())));
            None
        }
        SchemaKind::Object {
            properties,
            required,
            additional,
        } => {
            if !properties.is_empty() {
                let props: Map<String, Value> = properties
                    .iter()
                    .map(|(name, p)| (name.clone(), schema_value(p, dialect)))
                    .collect();
                put("properties", Value::Object(props));
            }
            if !required.is_empty() {
                put("required", json!(required));
            }
            if let Some(additional) = additional {
                put("additionalProperties", schema_value(additional, dialect));
            }
            Some("object")
        }
        SchemaKind::Array(items) => {
            put("items", schema_value(items, dialect));
            Some("array")
        }
        SchemaKind::String => Some("string"),
        SchemaKind::Integer => Some("integer"),
        SchemaKind::Number => Some("number"),
        SchemaKind::Boolean => Some("boolean"),
        SchemaKind::Any => None,
    };
    if let Some(type_name) = type_name {
        put("type", json!(type_name));
    }
    if let Some(format) = &schema.format {
        put("format", json!(format));
    }
    if dialect == Dialect::V3 {
        if schema.nullable {
            put("nullable", json!(true));
        }
        if let Some(default) = &schema.default {
            put("default", default.clone());
        }
    }
    put_constraints(&mut put, schema);
    put_extensions(&mut put, schema);

    if dialect == Dialect::V3
        && out.len() > 1
        && let Some(reference) = out.remove("$ref")
    {
        out.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
    Value::Object(out)
}

fn put_constraints(put: &mut impl FnMut(&str, Value), schema: &Schema) {
    let c = &schema.constraints;
    if !c.enum_values.is_empty() {
        // The model keeps enum values as text; give non-string kinds their
        // JSON type back.
        let values = c.enum_values.iter().map(|text| match schema.kind {
            SchemaKind::String => json!(text),
            _ => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
        });
        put("enum", Value::Array(values.collect()));
    }
    for (key, bound) in [("minimum", c.minimum), ("maximum", c.maximum)] {
        if let Some(bound) = bound {
            put(key, number(bound));
        }
    }
    for (key, flag) in [
        ("exclusiveMinimum", c.exclusive_minimum),
        ("exclusiveMaximum", c.exclusive_maximum),
    ] {
        if flag {
            put(key, json!(true));
        }
    }
    for (key, count) in [
        ("minLength", c.min_length),
        ("maxLength", c.max_length),
        ("minItems", c.min_items),
        ("maxItems", c.max_items),
        ("minProperties", c.min_properties),
        ("maxProperties", c.max_properties),
    ] {
        if let Some(count) = count {
            put(key, json!(count));
        }
    }
    if let Some(pattern) = &c.pattern {
        put("pattern", json!(pattern));
    }
}

fn put_extensions(put: &mut impl FnMut(&str, Value), schema: &Schema) {
    let e = &schema.extensions;
    let strings = [
        ("x-kubernetes-list-type", &e.list_type),
        ("x-kubernetes-map-type", &e.map_type),
        ("x-kubernetes-patch-strategy", &e.patch_strategy),
        ("x-kubernetes-patch-merge-key", &e.patch_merge_key),
    ];
    for (key, value) in strings {
        if let Some(value) = value {
            put(key, json!(value));
        }
    }
    if !e.list_map_keys.is_empty() {
        put("x-kubernetes-list-map-keys", json!(e.list_map_keys));
    }
    // The reader sets int_or_string from `format: int-or-string` too; only
    // the extension spelling needs writing back.
    let int_or_string = e.int_or_string && schema.format.as_deref() != Some("int-or-string");
    for (key, flag) in [
        (
            "x-kubernetes-preserve-unknown-fields",
            e.preserve_unknown_fields,
        ),
        ("x-kubernetes-embedded-resource", e.embedded_resource),
        ("x-kubernetes-int-or-string", int_or_string),
    ] {
        if flag {
            put(key, json!(true));
        }
    }
    if let Some(unions) = &e.unions {
        put("x-kubernetes-unions", unions.clone());
    }
}

/// Whole numbers as JSON integers (`1`, not `1.0`), as they were written.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workspace's model, loaded once for every test of the documents.
    pub fn model() -> &'static Model {
        static MODEL: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        MODEL.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            crate::load_model(&crate::Options::for_workspace(&root)).expect("the model loads")
        })
    }

    #[test]
    fn schemas_read_back_write_the_same_json() {
        let declared = json!({
            "description": "A widget.",
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 100},
                "colour": {"type": "string", "enum": ["Red", "Green"], "default": "Red"},
                "ratio": {"type": "number", "minimum": 0.5},
                "tags": {
                    "type": "array", "maxItems": 16, "x-kubernetes-list-type": "set",
                    "items": {"type": "string", "maxLength": 63}
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "spec": {
                    "description": "The spec.",
                    "allOf": [{"$ref": "#/components/schemas/a.Spec"}]
                },
                "raw": {"x-kubernetes-preserve-unknown-fields": true, "nullable": true},
                "port": {"x-kubernetes-int-or-string": true}
            }
        });
        let schema = Schema::from_json(&declared, "#/components/schemas/").unwrap();
        assert_eq!(schema_value(&schema, Dialect::V3), declared);

        // v2: plain `$ref` beside its description, no defaults or nullable.
        let v2 = schema_value(&schema, Dialect::V2);
        assert_eq!(
            v2["properties"]["spec"],
            json!({"description": "The spec.", "$ref": "#/definitions/a.Spec"})
        );
        assert_eq!(v2["properties"]["colour"].get("default"), None);
        assert_eq!(v2["properties"]["raw"].get("nullable"), None);
    }

    #[test]
    fn etags_are_upper_case_sha512() {
        let tag = etag("");
        assert_eq!(tag.len(), 128);
        assert!(tag.starts_with("CF83E1357EEFB8BDF1542850D66D8007"));
    }

    #[test]
    fn v3_files_are_named_as_upstream_names_them() {
        assert_eq!(v3_file_name("api/v1"), "api__v1_openapi.json");
        assert_eq!(
            v3_file_name("apis/example.ferrokube.dev/v1"),
            "apis__example.ferrokube.dev__v1_openapi.json"
        );
        assert_eq!(
            v3_file_name(".well-known/openid-configuration"),
            ".well-known__openid-configuration_openapi.json"
        );
    }
}
