//! `specs/overlays/<group>.toml`: what the upstream OpenAPI does not say
//! about a resource (table columns, field selectors, storage version
//! exceptions). Entries apply to every version that serves the resource.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::model::{FieldSelector, Model, PrinterColumn};

/// One overlay file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// The API group, "" for the core group.
    pub group: String,
    #[serde(default)]
    pub resource: Vec<ResourceOverlay>,
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

/// Applies overlays to the model's resources and returns the storage
/// version exceptions as `plural.group` -> version. An entry naming a
/// resource the model lacks is an error, so typos cannot hide.
pub fn apply(model: &mut Model, overlays: &[Overlay]) -> Result<BTreeMap<String, String>> {
    let mut storage = BTreeMap::new();
    for overlay in overlays {
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
