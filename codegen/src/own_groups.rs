//! API groups of our own, declared as OpenAPI v3 documents in
//! `specs/groups/*.json`. A document's `components/schemas` become
//! definitions; a schema with `x-kubernetes-group-version-kind` and an
//! `x-ferrokube-resource` block becomes a served resource. Nothing else is
//! needed to add a group: no hand-written Rust.
//!
//! ```json
//! "x-ferrokube-resource": {
//!   "plural": "widgets", "singular": "widget", "scope": "Namespaced",
//!   "shortNames": ["wd"], "categories": ["all"], "subresources": ["status", "scale"]
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::json;

use crate::model::{Definition, Gvk, Model, Resource, Subresource, Verb};
use crate::schema::Schema;
use crate::swagger::gvks;

const REF_PREFIX: &str = "#/components/schemas/";

/// The `x-ferrokube-resource` block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ResourceBlock {
    plural: String,
    singular: String,
    scope: Scope,
    #[serde(default)]
    short_names: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    subresources: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
enum Scope {
    Namespaced,
    Cluster,
}

/// Adds every document in `dir` (missing directory: none) to the model.
pub fn add_all(model: &mut Model, dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        add(model, &text).with_context(|| format!("in {}", path.display()))?;
    }
    Ok(())
}

/// Adds one OpenAPI v3 document's definitions and resources to the model.
pub fn add(model: &mut Model, text: &str) -> Result<()> {
    // The openapiv3 types check the document's structure; the schemas are
    // then read by the same reader as upstream's, so both dialects share
    // one model.
    let document: openapiv3::OpenAPI =
        serde_json::from_str(text).context("not an OpenAPI v3 document")?;
    let components = document
        .components
        .context("the document has no components")?;
    for (name, schema) in components.schemas {
        let json = serde_json::to_value(&schema)?;
        if model.definitions.contains_key(&name) {
            bail!("definition {name} is already defined");
        }
        let parsed =
            Schema::from_json(&json, REF_PREFIX).with_context(|| format!("schema {name}"))?;
        let definition = Definition {
            name: name.clone(),
            schema: parsed,
            gvks: gvks(json.get("x-kubernetes-group-version-kind")),
            proto_fields: BTreeMap::new(),
        };
        if let Some(block) = json.get("x-ferrokube-resource") {
            let block: ResourceBlock = serde_json::from_value(block.clone())
                .with_context(|| format!("x-ferrokube-resource of {name}"))?;
            let [gvk] = definition.gvks.as_slice() else {
                bail!(
                    "{name} declares a resource but not exactly one x-kubernetes-group-version-kind"
                );
            };
            let list = list_definition(&name, gvk);
            model.resources.push(resource(&name, gvk.clone(), block));
            model.definitions.entry(list.name.clone()).or_insert(list);
        }
        model.definitions.insert(name, definition);
    }
    check_refs(model)
}

fn resource(definition: &str, gvk: Gvk, block: ResourceBlock) -> Resource {
    let object_verbs = BTreeSet::from([Verb::Get, Verb::Patch, Verb::Update]);
    let subresources = block
        .subresources
        .iter()
        .map(|name| Subresource {
            name: name.clone(),
            kind: Some(if name == "scale" {
                Gvk {
                    group: "autoscaling".into(),
                    version: "v1".into(),
                    kind: "Scale".into(),
                }
            } else {
                gvk.clone()
            }),
            verbs: object_verbs.clone(),
            connect: false,
        })
        .collect();
    Resource {
        plural: block.plural,
        singular: block.singular,
        namespaced: block.scope == Scope::Namespaced,
        verbs: BTreeSet::from([
            Verb::Create,
            Verb::Delete,
            Verb::DeleteCollection,
            Verb::Get,
            Verb::List,
            Verb::Patch,
            Verb::Update,
            Verb::Watch,
        ]),
        short_names: block.short_names,
        categories: block.categories,
        subresources,
        definition: definition.to_owned(),
        storage_version: String::new(),
        field_selectors: Vec::new(),
        printer_columns: Vec::new(),
        gvk,
    }
}

/// The `<Kind>List` definition a resource's list responses use, in the
/// shape upstream gives every list.
fn list_definition(item: &str, gvk: &Gvk) -> Definition {
    let name = format!("{item}List");
    let json = json!({
        "description": format!("A list of {}.", gvk.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": "The versioned schema of this representation of an object."},
            "kind": {"type": "string", "description": "The REST resource this object represents."},
            "items": {"type": "array", "items": {"$ref": format!("{REF_PREFIX}{item}")}},
            "metadata": {"$ref": format!("{REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")},
        },
    });
    Definition {
        schema: Schema::from_json(&json, REF_PREFIX)
            .expect("the list schema literal is well formed"),
        gvks: vec![Gvk {
            kind: format!("{}List", gvk.kind),
            ..gvk.clone()
        }],
        proto_fields: BTreeMap::new(),
        name,
    }
}

fn check_refs(model: &Model) -> Result<()> {
    for def in model.definitions.values() {
        let mut refs = Vec::new();
        def.schema.refs(&mut refs);
        if let Some(missing) = refs.iter().find(|r| !model.definitions.contains_key(**r)) {
            bail!("{} refers to unknown definition {missing}", def.name);
        }
    }
    Ok(())
}
