//! Reads upstream's discovery documents for what the OpenAPI document does
//! not say: singular names, short names, categories, and the kinds of
//! subresources (pods/attach answers with PodAttachOptions, not Pod).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::model::{Gvk, Verb};

/// What discovery says about one resource.
#[derive(Debug, Default)]
pub struct Discovered {
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: BTreeSet<Verb>,
    /// Subresource name -> the kind it answers with.
    pub subresource_kinds: BTreeMap<String, Gvk>,
}

/// What upstream discovery says.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Keyed by (group, version, plural).
    pub resources: BTreeMap<(String, String, String), Discovered>,
    /// Named groups in upstream's priority order, each with its versions
    /// from most to least preferred: the order clients see in `/apis`.
    pub group_order: Vec<(String, Vec<String>)>,
}

impl Discovery {
    /// What discovery says about (group, version, plural), if it lists it.
    pub fn get(&self, key: &(String, String, String)) -> Option<&Discovered> {
        self.resources.get(key)
    }
}

/// Reads the aggregated document for named groups and the core group's
/// `APIResourceList`.
pub fn read(aggregated: &Value, core: &Value) -> Result<Discovery> {
    let mut out = Discovery::default();
    let groups = aggregated
        .get("items")
        .and_then(Value::as_array)
        .context("aggregated discovery has no items")?;
    for group in groups {
        let group_name = text(group.pointer("/metadata/name"));
        let mut versions = Vec::new();
        for version in array(group.get("versions")) {
            let version_name = text(version.get("version"));
            versions.push(version_name.clone());
            for resource in array(version.get("resources")) {
                let mut found = Discovered {
                    singular: text(resource.get("singularResource")),
                    short_names: strings(resource.get("shortNames")),
                    categories: strings(resource.get("categories")),
                    verbs: verbs(resource.get("verbs")),
                    subresource_kinds: BTreeMap::new(),
                };
                for sub in array(resource.get("subresources")) {
                    if let Some(kind) =
                        response_kind(sub.get("responseKind"), &group_name, &version_name)
                    {
                        found
                            .subresource_kinds
                            .insert(text(sub.get("subresource")), kind);
                    }
                }
                let key = (
                    group_name.clone(),
                    version_name.clone(),
                    text(resource.get("resource")),
                );
                out.resources.insert(key, found);
            }
        }
        out.group_order.push((group_name, versions));
    }

    let version = text(core.get("groupVersion"));
    for resource in array(core.get("resources")) {
        let name = text(resource.get("name"));
        match name.split_once('/') {
            None => {
                let found = out
                    .resources
                    .entry((String::new(), version.clone(), name))
                    .or_default();
                found.singular = text(resource.get("singularName"));
                found.short_names = strings(resource.get("shortNames"));
                found.categories = strings(resource.get("categories"));
                found.verbs = verbs(resource.get("verbs"));
            }
            Some((parent, sub)) => {
                let kind = Gvk {
                    group: text(resource.get("group")),
                    version: match resource.get("version") {
                        Some(v) => text(Some(v)),
                        None => version.clone(),
                    },
                    kind: text(resource.get("kind")),
                };
                out.resources
                    .entry((String::new(), version.clone(), parent.to_owned()))
                    .or_default()
                    .subresource_kinds
                    .insert(sub.to_owned(), kind);
            }
        }
    }
    Ok(out)
}

/// A `responseKind`; empty group and version mean "the parent's".
fn response_kind(value: Option<&Value>, group: &str, version: &str) -> Option<Gvk> {
    let value = value?;
    let kind = text(value.get("kind"));
    if kind.is_empty() {
        return None;
    }
    let (g, v) = (text(value.get("group")), text(value.get("version")));
    Some(if v.is_empty() {
        Gvk {
            group: group.to_owned(),
            version: version.to_owned(),
            kind,
        }
    } else {
        Gvk {
            group: g,
            version: v,
            kind,
        }
    })
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn array(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    array(value)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn verbs(value: Option<&Value>) -> BTreeSet<Verb> {
    array(value)
        .iter()
        .filter_map(Value::as_str)
        .filter_map(Verb::parse)
        .collect()
}
