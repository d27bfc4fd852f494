//! Which versions of a kind convert into each other by rewriting
//! `apiVersion` alone, and where the rest differ.
//!
//! The server stores every object in its resource's storage version and
//! converts on read and write. For each kind served in more than one
//! version, [`kinds`] compares every other version's schema with the storage
//! version's, structurally: property names, types, formats, and the schemas
//! of array items and map values, following `$ref`s on both sides.
//! Descriptions, constraints and `x-kubernetes-*` extensions other than
//! int-or-string are left out, because they do not change what the JSON
//! looks like. A version whose JSON form matches the storage version's is
//! converted by rewriting `apiVersion`; any other needs a hand-written hook
//! in the runtime, and the differing field paths tell its author where.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};

use crate::assemble::version_rank;
use crate::model::Model;
use crate::schema::{Schema, SchemaKind};

/// A kind served in more than one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindVersions {
    /// API group, "" for the core group.
    pub group: String,
    /// The kind, the same in every version.
    pub kind: String,
    /// The version objects are stored in: the hub every conversion goes through.
    pub storage_version: String,
    /// Every served version, the storage version included, most preferred first.
    pub versions: Vec<String>,
    /// How each version other than the storage version converts to and
    /// from it, in the order of `versions`.
    pub conversions: Vec<VersionConversion>,
}

impl KindVersions {
    /// The name hand-written hooks are registered under:
    /// `autoscaling.HorizontalPodAutoscaler`, `core.Pod` for the core group.
    pub fn hook_name(&self) -> String {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        format!("{group}.{}", self.kind)
    }
}

/// How one non-storage version relates to the storage version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionConversion {
    /// A served version other than the storage version.
    pub version: String,
    /// Where the JSON forms differ; empty when only `apiVersion` changes.
    pub differences: Vec<Difference>,
}

impl VersionConversion {
    /// Whether rewriting `apiVersion` is the whole conversion.
    pub fn is_identical(&self) -> bool {
        self.differences.is_empty()
    }
}

/// One place where two versions' JSON forms differ.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// Field path from the object's root: `spec.metrics[].type`, where `[]`
    /// steps into array items and `{}` into map values.
    pub path: String,
    /// What differs there.
    pub what: DifferenceKind,
}

/// What differs at a path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DifferenceKind {
    /// The field exists only in the non-storage version.
    OnlyInVersion,
    /// The field exists only in the storage version.
    OnlyInStorage,
    /// Both have the field with different shapes (`string` against
    /// `object`, `int32` against `int64`), version's first.
    Shape {
        /// The shape in the non-storage version.
        version: String,
        /// The shape in the storage version.
        storage: String,
    },
}

impl Difference {
    /// `spec.metrics: only in v2`, naming the versions compared.
    pub fn describe(&self, version: &str, storage_version: &str) -> String {
        match &self.what {
            DifferenceKind::OnlyInVersion => format!("{}: only in {version}", self.path),
            DifferenceKind::OnlyInStorage => format!("{}: only in {storage_version}", self.path),
            DifferenceKind::Shape {
                version: a,
                storage: b,
            } => format!("{}: {a} in {version}, {b} in {storage_version}", self.path),
        }
    }
}

/// Version -> (definition, storage version) of one group and kind.
type Served<'m> = BTreeMap<&'m str, (&'m str, &'m str)>;

/// Every kind served in more than one version, by group and kind.
pub fn kinds(model: &Model) -> Result<Vec<KindVersions>> {
    let mut served: BTreeMap<(&str, &str), Served> = BTreeMap::new();
    for r in &model.resources {
        served
            .entry((&r.gvk.group, &r.gvk.kind))
            .or_default()
            .insert(&r.gvk.version, (&r.definition, &r.storage_version));
    }
    let mut out = Vec::new();
    for ((group, kind), versions) in served {
        if versions.len() < 2 {
            continue;
        }
        let storages: BTreeSet<&str> = versions.values().map(|(_, s)| *s).collect();
        let [storage_version] = storages.into_iter().collect::<Vec<_>>()[..] else {
            bail!("{group}/{kind} is stored in more than one version");
        };
        let (storage_definition, _) = versions.get(storage_version).with_context(|| {
            format!("{group}/{kind} is stored as {storage_version}, a version it is not served in")
        })?;
        let mut ordered: Vec<&str> = versions.keys().copied().collect();
        ordered.sort_by_key(|v| preference(model, group, v));
        let mut conversions = Vec::new();
        for version in &ordered {
            if *version == storage_version {
                continue;
            }
            let (definition, _) = versions[version];
            let mut differences =
                Comparison::new(model).definitions(definition, storage_definition)?;
            differences.sort();
            conversions.push(VersionConversion {
                version: (*version).to_owned(),
                differences,
            });
        }
        out.push(KindVersions {
            group: group.to_owned(),
            kind: kind.to_owned(),
            storage_version: storage_version.to_owned(),
            versions: ordered.iter().map(|v| (*v).to_owned()).collect(),
            conversions,
        });
    }
    Ok(out)
}

/// Sort key putting the versions discovery prefers first.
fn preference(
    model: &Model,
    group: &str,
    version: &str,
) -> (usize, std::cmp::Reverse<(u8, u32, u32)>) {
    let position = model
        .groups
        .iter()
        .find(|g| g.name == group)
        .and_then(|g| g.versions.iter().position(|v| v == version))
        .unwrap_or(usize::MAX);
    (position, std::cmp::Reverse(version_rank(version)))
}

/// One structural comparison of two definitions, remembering the pairs of
/// named definitions already compared.
struct Comparison<'m> {
    model: &'m Model,
    /// Differences found under each pair of definitions, relative to the
    /// pair's root. A pair being compared maps to an empty list, so
    /// recursive schemas end instead of looping.
    pairs: BTreeMap<(String, String), Vec<Difference>>,
}

impl<'m> Comparison<'m> {
    fn new(model: &'m Model) -> Comparison<'m> {
        Comparison {
            model,
            pairs: BTreeMap::new(),
        }
    }

    /// Differences between definition `version` (a non-storage version's)
    /// and `storage`.
    fn definitions(&mut self, version: &str, storage: &str) -> Result<Vec<Difference>> {
        if version == storage {
            return Ok(Vec::new());
        }
        let key = (version.to_owned(), storage.to_owned());
        if let Some(known) = self.pairs.get(&key) {
            return Ok(known.clone());
        }
        self.pairs.insert(key.clone(), Vec::new());
        let a = self.definition(version)?;
        let b = self.definition(storage)?;
        let mut found = Vec::new();
        self.nodes(a, b, "", &mut found)
            .with_context(|| format!("comparing {version} with {storage}"))?;
        self.pairs.insert(key, found.clone());
        Ok(found)
    }

    fn definition(&self, name: &str) -> Result<&'m Schema> {
        let model = self.model;
        model
            .definitions
            .get(name)
            .map(|d| &d.schema)
            .with_context(|| format!("$ref to unknown definition {name}"))
    }

    /// Compares two schema nodes found at `path`, appending differences.
    fn nodes(
        &mut self,
        a: &Schema,
        b: &Schema,
        path: &str,
        out: &mut Vec<Difference>,
    ) -> Result<()> {
        match (&a.kind, &b.kind) {
            (SchemaKind::Ref(x), SchemaKind::Ref(y)) => {
                let under = self.definitions(x, y)?;
                out.extend(under.into_iter().map(|d| d.under(path)));
                return Ok(());
            }
            (SchemaKind::Ref(x), _) => {
                let resolved = self.definition(x)?;
                return self.nodes(resolved, b, path, out);
            }
            (_, SchemaKind::Ref(y)) => {
                let resolved = self.definition(y)?;
                return self.nodes(a, resolved, path, out);
            }
            _ => {}
        }
        let (shape_a, shape_b) = (shape(a), shape(b));
        if shape_a != shape_b {
            out.push(Difference {
                path: display_path(path),
                what: DifferenceKind::Shape {
                    version: shape_a,
                    storage: shape_b,
                },
            });
            return Ok(());
        }
        match (&a.kind, &b.kind) {
            (
                SchemaKind::Object {
                    properties: props_a,
                    additional: more_a,
                    ..
                },
                SchemaKind::Object {
                    properties: props_b,
                    additional: more_b,
                    ..
                },
            ) => {
                for (name, prop_a) in props_a {
                    let child = join(path, name);
                    match props_b.get(name) {
                        Some(prop_b) => self.nodes(prop_a, prop_b, &child, out)?,
                        None => out.push(Difference {
                            path: child,
                            what: DifferenceKind::OnlyInVersion,
                        }),
                    }
                }
                for name in props_b.keys().filter(|n| !props_a.contains_key(*n)) {
                    out.push(Difference {
                        path: join(path, name),
                        what: DifferenceKind::OnlyInStorage,
                    });
                }
                let values = format!("{path}{{}}");
                match (more_a, more_b) {
                    (Some(x), Some(y)) => self.nodes(x, y, &values, out)?,
                    (None, None) => {}
                    (Some(_), None) => out.push(Difference {
                        path: values,
                        what: DifferenceKind::OnlyInVersion,
                    }),
                    (None, Some(_)) => out.push(Difference {
                        path: values,
                        what: DifferenceKind::OnlyInStorage,
                    }),
                }
            }
            (SchemaKind::Array(x), SchemaKind::Array(y)) => {
                self.nodes(x, y, &format!("{path}[]"), out)?;
            }
            _ => {}
        }
        Ok(())
    }
}

impl Difference {
    /// This difference, found relative to a definition, placed under `path`.
    fn under(self, path: &str) -> Difference {
        let path = if self.path == "." {
            display_path(path)
        } else if path.is_empty() || self.path.starts_with(['[', '{']) {
            format!("{path}{}", self.path)
        } else {
            format!("{path}.{}", self.path)
        };
        Difference { path, ..self }
    }
}

/// The JSON shape of a non-reference node, with its format: what two
/// versions must agree on for their JSON to be interchangeable.
fn shape(schema: &Schema) -> String {
    let ty = if schema.extensions.int_or_string {
        "int-or-string"
    } else {
        match &schema.kind {
            SchemaKind::Object { .. } => "object",
            SchemaKind::Array(_) => "array",
            SchemaKind::String => "string",
            SchemaKind::Integer => "integer",
            SchemaKind::Number => "number",
            SchemaKind::Boolean => "boolean",
            SchemaKind::Any | SchemaKind::Ref(_) => "any",
        }
    };
    match schema.format.as_deref() {
        Some(format) if format != "int-or-string" => format!("{ty}({format})"),
        _ => ty.to_owned(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The root is shown as `.`.
fn display_path(path: &str) -> String {
    if path.is_empty() {
        ".".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Definition;

    fn definition(name: &str, json: serde_json::Value) -> (String, Definition) {
        let schema = Schema::from_json(&json, "#/definitions/").expect("schema reads");
        let def = Definition {
            name: name.to_owned(),
            schema,
            gvks: Vec::new(),
            proto_fields: BTreeMap::new(),
        };
        (name.to_owned(), def)
    }

    fn compare(definitions: Vec<(String, Definition)>, a: &str, b: &str) -> Vec<String> {
        let model = Model {
            definitions: definitions.into_iter().collect(),
            ..Model::default()
        };
        let mut found = Comparison::new(&model).definitions(a, b).expect("compares");
        found.sort();
        found.iter().map(|d| d.describe("v1", "v2")).collect()
    }

    #[test]
    fn descriptions_and_extensions_do_not_count() {
        let found = compare(
            vec![
                definition(
                    "a.v1.Thing",
                    serde_json::json!({"type": "object", "description": "old", "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/definitions/a.v1.Item"}},
                    }}),
                ),
                definition(
                    "a.v1.Item",
                    serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}}),
                ),
                definition(
                    "a.v2.Thing",
                    serde_json::json!({"type": "object", "properties": {
                        "items": {"type": "array", "x-kubernetes-list-type": "map",
                                  "items": {"$ref": "#/definitions/a.v2.Item"}},
                    }}),
                ),
                definition(
                    "a.v2.Item",
                    serde_json::json!({"type": "object", "description": "new",
                        "properties": {"name": {"type": "string", "maxLength": 3}}}),
                ),
            ],
            "a.v1.Thing",
            "a.v2.Thing",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn differences_carry_their_path() {
        let found = compare(
            vec![
                definition(
                    "a.v1.Thing",
                    serde_json::json!({"type": "object", "properties": {
                        "spec": {"$ref": "#/definitions/a.v1.Spec"},
                    }}),
                ),
                definition(
                    "a.v1.Spec",
                    serde_json::json!({"type": "object", "properties": {
                        "old": {"type": "integer", "format": "int32"},
                        "size": {"type": "integer", "format": "int32"},
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                    }}),
                ),
                definition(
                    "a.v2.Thing",
                    serde_json::json!({"type": "object", "properties": {
                        "spec": {"$ref": "#/definitions/a.v2.Spec"},
                    }}),
                ),
                definition(
                    "a.v2.Spec",
                    serde_json::json!({"type": "object", "properties": {
                        "new": {"type": "string"},
                        "size": {"type": "string"},
                        "tags": {"type": "object", "additionalProperties": {"type": "integer"}},
                    }}),
                ),
            ],
            "a.v1.Thing",
            "a.v2.Thing",
        );
        assert_eq!(
            found,
            [
                "spec.new: only in v2",
                "spec.old: only in v1",
                "spec.size: integer(int32) in v1, string in v2",
                "spec.tags{}: string in v1, integer in v2",
            ]
        );
    }

    #[test]
    fn recursive_definitions_end() {
        let found = compare(
            vec![
                definition(
                    "a.v1.Node",
                    serde_json::json!({"type": "object", "properties": {
                        "children": {"type": "array", "items": {"$ref": "#/definitions/a.v1.Node"}},
                    }}),
                ),
                definition(
                    "a.v2.Node",
                    serde_json::json!({"type": "object", "properties": {
                        "children": {"type": "array", "items": {"$ref": "#/definitions/a.v2.Node"}},
                        "extra": {"type": "boolean"},
                    }}),
                ),
            ],
            "a.v1.Node",
            "a.v2.Node",
        );
        assert_eq!(found, ["extra: only in v2"]);
    }
}
