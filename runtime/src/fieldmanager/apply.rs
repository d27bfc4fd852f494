//! Server-side apply: merges a manager's configuration into the live
//! object, removes what the manager applied before and no longer applies
//! (unless someone else owns it), and refuses to change fields other
//! managers own unless forced.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::managed::{self, Entry, Managed, Operation};
use super::path::{Path, display};
use super::set::FieldSet;
use super::typed::{self, Node};
use crate::status::ApiError;

/// The annotation client-side `kubectl apply` keeps its last configuration in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The manager name `kubectl apply --server-side` uses; only it upgrades
/// objects from client-side apply, as upstream.
const KUBECTL: &str = "kubectl";

/// Who applies, and how.
pub struct Applier<'a> {
    pub manager: &'a str,
    pub force: bool,
    pub api_version: &'a str,
    /// "" for the resource itself, `status` for `/status`.
    pub subresource: &'a str,
    pub now: &'a str,
}

/// A field another manager owns and the applied configuration changes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Conflict {
    /// The owner as conflict messages name it (`"mgr" using apps/v1`).
    pub manager: String,
    pub path: Path,
}

/// Why an apply failed.
#[derive(Debug, PartialEq)]
pub enum ApplyError {
    Conflicts(Vec<Conflict>),
    /// The configuration does not fit the schema.
    Invalid(String),
}

impl From<ApplyError> for ApiError {
    fn from(error: ApplyError) -> ApiError {
        match error {
            ApplyError::Invalid(message) => ApiError::bad_request(message),
            ApplyError::Conflicts(conflicts) => conflict_error(&conflicts),
        }
    }
}

/// Applies `config` to `live` (`None` when the object does not exist yet)
/// and returns the new object with its managedFields.
pub fn apply(
    root: Node,
    live: Option<&Value>,
    config: &Value,
    applier: &Applier<'_>,
) -> Result<Value, ApplyError> {
    let mut live = live.cloned().unwrap_or_else(|| json!({}));
    let owners = Managed::of(&live).unwrap_or_default();
    managed::take(&mut live);
    let applied = typed::to_field_set(root, config).map_err(ApplyError::Invalid)?;
    let mine = Entry {
        manager: applier.manager.to_owned(),
        operation: Operation::Apply,
        api_version: applier.api_version.to_owned(),
        time: Some(applier.now.to_owned()),
        subresource: applier.subresource.to_owned(),
        fields: managed::strip_meta(applied),
    };
    let result = merge_and_own(
        root,
        &live,
        config,
        owners.clone(),
        mine.clone(),
        applier.force,
    );
    let mut merged = match result {
        Err(ApplyError::Conflicts(conflicts))
            if applier.manager == KUBECTL
                && allowed_by_last_applied(root, &live, applier.api_version)
                    .is_some_and(|allowed| conflicts.iter().all(|c| allowed.contains(&c.path))) =>
        {
            merge_and_own(root, &live, config, owners, mine, true)?
        }
        other => other?,
    };
    if applier.manager == KUBECTL && last_applied(&live).is_some() {
        set_last_applied(&mut merged, config);
    }
    Ok(merged)
}

fn merge_and_own(
    root: Node,
    live: &Value,
    config: &Value,
    mut owners: Managed,
    mine: Entry,
    force: bool,
) -> Result<Value, ApplyError> {
    let mut merged = typed::merge(root, Some(live), config);
    let last = owners
        .entries
        .iter()
        .find(|e| e.same_manager(&mine))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let others = owners.owned_by_others(&mine);
    prune(root, &mut merged, &last, &mine.fields, &others);

    let comparison = typed::compare(root, Some(live), &merged);
    let changed = comparison.changed();
    let mut conflicts: Vec<Conflict> = owners
        .entries
        .iter()
        .filter(|e| !e.same_manager(&mine))
        .flat_map(|e| {
            e.fields
                .intersection(&changed)
                .iter()
                .map(|path| Conflict {
                    manager: e.describe(),
                    path: path.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if !conflicts.is_empty() && !force {
        conflicts.sort();
        return Err(ApplyError::Conflicts(conflicts));
    }
    owners.entries.retain(|e| !e.same_manager(&mine));
    owners.take_from_all(&changed.union(&comparison.removed));
    owners.entries.push(mine);
    owners.write_to(&mut merged);
    Ok(merged)
}

/// Removes what the applier applied last time and not now, where no one
/// else (and nothing it applies now) lies at or below it; parents left
/// empty by that, and owned by nobody, go too.
fn prune(root: Node, merged: &mut Value, last: &FieldSet, now: &FieldSet, others: &FieldSet) {
    let kept = now.union(others);
    for path in last.difference(now).iter() {
        if kept.has_at_or_below(path) || !typed::remove(root, merged, path) {
            continue;
        }
        let mut parent = path.clone();
        parent.pop();
        while !parent.is_empty() && !kept.has_at_or_below(&parent) {
            let empty = typed::get(root, merged, &parent).is_some_and(|v| match v {
                Value::Object(o) => o.is_empty(),
                Value::Array(a) => a.is_empty(),
                _ => false,
            });
            if !empty {
                break;
            }
            typed::remove(root, merged, &parent);
            parent.pop();
        }
    }
}

fn last_applied(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The fields of a client-side applied object that `kubectl apply
/// --server-side` may take over without a conflict: those of the last
/// applied configuration that still have the values it gave them.
fn allowed_by_last_applied(root: Node, live: &Value, api_version: &str) -> Option<FieldSet> {
    let last: Value = serde_json::from_str(last_applied(live)?).ok()?;
    if last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let fields = typed::to_field_set(root, &last).ok()?;
    let comparison = typed::compare(root, Some(&last), live);
    Some(
        fields
            .difference(&comparison.modified)
            .difference(&comparison.added)
            .difference(&comparison.removed),
    )
}

/// Keeps the client-side apply annotation in step with what
/// `kubectl apply --server-side` applied, so client-side apply still works.
fn set_last_applied(object: &mut Value, config: &Value) {
    let mut config = config.clone();
    if let Some(annotations) = config
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(LAST_APPLIED);
        if annotations.is_empty() {
            config["metadata"]
                .as_object_mut()
                .map(|m| m.remove("annotations"));
        }
    }
    let text = format!("{config}\n");
    if let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.insert(LAST_APPLIED.to_owned(), json!(text));
    }
}

/// The 409 upstream answers conflicts with: one cause per field, and a
/// message listing them by manager.
fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager),
                "field": display(&c.path),
            })
        })
        .collect();
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager,
            display(&one.path)
        ),
        _ => {
            let mut lines = Vec::new();
            let mut managers: Vec<&String> = conflicts.iter().map(|c| &c.manager).collect();
            managers.sort();
            managers.dedup();
            for manager in managers {
                lines.push(format!("conflicts with {manager}:"));
                for conflict in conflicts.iter().filter(|c| &c.manager == manager) {
                    lines.push(format!("- {}", display(&conflict.path)));
                }
            }
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                lines.join("\n")
            )
        }
    };
    ApiError {
        code: StatusCode::CONFLICT,
        reason: "Conflict",
        message,
        details: Some(json!({ "causes": causes })),
        metadata: None,
    }
}
