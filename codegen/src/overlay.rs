//! `specs/overlays/<group>.toml`: what the upstream OpenAPI v2 document does
//! not say. `[[resource]]` entries add table columns, field selectors and
//! storage version exceptions to a resource in every version that serves
//! it; `[[definition]]` entries add the enums and constant defaults that
//! upstream declares in Go (`+enum`, `+default`, `SetDefaults_*`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::model::{FieldSelector, Model, PrinterColumn};
use crate::schema::{Schema, SchemaKind};

/// One overlay file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// The API group, "" for the core group.
    pub group: String,
    #[serde(default)]
    pub resource: Vec<ResourceOverlay>,
    #[serde(default)]
    pub definition: Vec<DefinitionOverlay>,
}

/// Enums and defaults for the properties of one definition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefinitionOverlay {
    pub name: String,
    /// Property -> allowed values (of its items, for an array property).
    #[serde(default)]
    pub enums: BTreeMap<String, Vec<String>>,
    /// Property -> the value it gets when absent.
    #[serde(default)]
    pub defaults: BTreeMap<String, toml::Value>,
}

/// What an overlay adds to one resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceOverlay {
    pub plural: String,
    #[serde(default)]
    pub field_selectors: Vec<String>,
    #[serde(default)]
    pub printer_columns: Vec<PrinterColumn>,
    pub storage_version: Option<String>,
}

/// Reads every `*.toml` in `dir` (missing directory: no overlays).
pub fn read_all(dir: &Path) -> Result<Vec<Overlay>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
        })
        .collect()
}

/// Applies overlays to the model and returns the storage
/// version exceptions as `plural.group` -> version. An entry naming a
/// resource the model lacks is an error, so typos cannot hide.
pub fn apply(model: &mut Model, overlays: &[Overlay]) -> Result<BTreeMap<String, String>> {
    let mut storage = BTreeMap::new();
    for overlay in overlays {
        for entry in &overlay.definition {
            apply_definition(model, entry)?;
        }
        for entry in &overlay.resource {
            let mut matched = false;
            for r in model
                .resources
                .iter_mut()
                .filter(|r| r.gvk.group == overlay.group && r.plural == entry.plural)
            {
                matched = true;
                r.field_selectors = entry
                    .field_selectors
                    .iter()
                    .map(|label| FieldSelector {
                        label: label.clone(),
                    })
                    .collect();
                r.printer_columns = entry.printer_columns.clone();
            }
            if !matched {
                bail!(
                    "overlay for group {:?} names unknown resource {:?}",
                    overlay.group,
                    entry.plural
                );
            }
            if let Some(version) = &entry.storage_version {
                let key = if overlay.group.is_empty() {
                    entry.plural.clone()
                } else {
                    format!("{}.{}", entry.plural, overlay.group)
                };
                storage.insert(key, version.clone());
            }
        }
    }
    Ok(storage)
}

fn apply_definition(model: &mut Model, entry: &DefinitionOverlay) -> Result<()> {
    let def = model
        .definitions
        .get_mut(&entry.name)
        .with_context(|| format!("overlay names unknown definition {}", entry.name))?;
    let SchemaKind::Object { properties, .. } = &mut def.schema.kind else {
        bail!(
            "overlay for {} names a definition that is not an object",
            entry.name
        );
    };
    let unknown = |name: &str| format!("overlay names unknown property {}.{name}", entry.name);
    for (name, values) in &entry.enums {
        let schema = properties.get_mut(name).with_context(|| unknown(name))?;
        let target: &mut Schema = match &mut schema.kind {
            SchemaKind::Array(items) => items,
            _ => schema,
        };
        if target.kind != SchemaKind::String {
            bail!(
                "enum overlay on {}.{name}, which is not a string",
                entry.name
            );
        }
        target.constraints.enum_values = values.clone();
    }
    for (name, value) in &entry.defaults {
        let json = serde_json::to_value(value)
            .with_context(|| format!("default of {}.{name}", entry.name))?;
        properties
            .get_mut(name)
            .with_context(|| unknown(name))?
            .default = Some(json);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Definition;

    fn model_with_pod_spec() -> Model {
        let json = serde_json::json!({
            "type": "object",
            "properties": {
                "restartPolicy": {"type": "string"},
                "accessModes": {"type": "array", "items": {"type": "string"}},
                "replicas": {"type": "integer"},
            },
        });
        let mut model = Model::default();
        model.definitions.insert(
            "PodSpec".into(),
            Definition {
                name: "PodSpec".into(),
                schema: Schema::from_json(&json, "#/definitions/").unwrap(),
                gvks: Vec::new(),
                proto_fields: BTreeMap::new(),
            },
        );
        model
    }

    fn overlay(text: &str) -> Vec<Overlay> {
        vec![toml::from_str(text).unwrap()]
    }

    #[test]
    fn enums_and_defaults_land_on_properties() {
        let mut model = model_with_pod_spec();
        let text = r#"
            group = ""
            [[definition]]
            name = "PodSpec"
            enums = { restartPolicy = ["Always", "Never"], accessModes = ["ReadWriteOnce"] }
            defaults = { restartPolicy = "Always", replicas = 1 }
        "#;
        apply(&mut model, &overlay(text)).unwrap();
        let SchemaKind::Object { properties, .. } = &model.definitions["PodSpec"].schema.kind
        else {
            panic!("object");
        };
        assert_eq!(
            properties["restartPolicy"].constraints.enum_values,
            ["Always", "Never"]
        );
        assert_eq!(
            properties["restartPolicy"].default,
            Some(serde_json::json!("Always"))
        );
        assert_eq!(properties["replicas"].default, Some(serde_json::json!(1)));
        let SchemaKind::Array(items) = &properties["accessModes"].kind else {
            panic!("array");
        };
        assert_eq!(items.constraints.enum_values, ["ReadWriteOnce"]);
    }

    #[test]
    fn mistakes_are_named() {
        for (text, expected) in [
            ("[[definition]]\nname = \"Nope\"", "unknown definition Nope"),
            (
                "[[definition]]\nname = \"PodSpec\"\nenums = { bogus = [\"x\"] }",
                "unknown property PodSpec.bogus",
            ),
            (
                "[[definition]]\nname = \"PodSpec\"\nenums = { replicas = [\"x\"] }",
                "not a string",
            ),
            ("[[resource]]\nplural = \"nopes\"", "unknown resource"),
        ] {
            let mut model = model_with_pod_spec();
            let error = apply(&mut model, &overlay(&format!("group = \"\"\n{text}"))).unwrap_err();
            assert!(format!("{error:#}").contains(expected), "{error:#}");
        }
    }
}
