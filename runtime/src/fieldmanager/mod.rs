//! Field ownership (`metadata.managedFields`) and server-side apply, read
//! from the generated schema table as upstream's structured-merge-diff
//! reads OpenAPI.
//!
//! Start at [`record`], the store's hook on every create and update, and
//! at [`apply::apply`], which `PATCH` with `application/apply-patch+yaml`
//! runs. Underneath: [`path`] (path elements and their `FieldsV1` keys),
//! [`set`] (sets of paths), [`typed`] (objects through their schema:
//! field sets, comparison, merge), `managed` (the entries) and `update`
//! (ownership after a non-apply write).

pub mod apply;
mod managed;
pub mod path;
pub mod set;
pub mod typed;
mod update;

#[cfg(test)]
mod tests;

use axum::http::{HeaderMap, header};
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::meta::ResourceDescriptor;
use generated::support::time::Time;
use serde_json::Value;

use crate::pipeline::request_info::query_param;
use crate::registry::object::api_version;
use crate::status::ApiError;

/// Upstream's limit on the length of a field manager name.
pub const MAX_MANAGER_LENGTH: usize = 128;

/// How a write records field ownership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// A create, update or non-apply patch by this manager (operation
    /// `Update`): it takes the fields it sets or changes.
    Update(String),
    /// Server-side apply computed `metadata.managedFields` already.
    Applied,
}

/// The store's hook: records in `new`'s managedFields that the writer
/// changed `old` (`None` for a create) into `new`, through `subresource`
/// ("" or `status`). Malformed entries sent by the client are a 422.
pub fn record(
    resource: &ResourceDescriptor,
    ownership: &Ownership,
    old: Option<&Value>,
    new: &mut Value,
    subresource: &str,
) -> Result<(), ApiError> {
    let Ownership::Update(manager) = ownership else {
        if let Some(old) = old {
            keep_times_of_a_no_op(old, new);
        }
        return Ok(());
    };
    let now = Time::now().to_string();
    let version = api_version(resource.group, resource.version);
    let writer = update::Writer {
        manager,
        api_version: &version,
        subresource,
        now: &now,
    };
    update::track(Some(resource.schema), old, new, &writer).map_err(|errors| {
        let name = new
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        ApiError::invalid(resource.group, resource.kind, name, &errors)
    })
}

/// An apply that changes nothing but its entries' times writes nothing,
/// as upstream's managed-fields timestamp transformer arranges.
fn keep_times_of_a_no_op(old: &Value, new: &mut Value) {
    let without_times = |object: &Value| {
        let mut object = object.clone();
        if let Some(entries) = object
            .pointer_mut("/metadata/managedFields")
            .and_then(Value::as_array_mut)
        {
            for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
                entry.remove("time");
            }
        }
        object
    };
    if without_times(old) == without_times(new) {
        *new = old.clone();
    }
}

/// Refuses `force` on patches other than apply, as upstream's PatchOptions
/// validation does.
pub fn refuse_force(query: Option<&str>) -> Result<(), ApiError> {
    if query_param(query, "force").is_none() {
        return Ok(());
    }
    let error = FieldError::forbidden(
        &FieldPath::new("force"),
        "may not be specified for non-apply patch",
    );
    Err(ApiError::invalid(
        "meta.k8s.io",
        "PatchOptions",
        "",
        &[error],
    ))
}

/// The manager of a non-apply write: the `fieldManager` query parameter,
/// else the User-Agent up to its first `/`, as upstream derives it.
/// `options_kind` (`CreateOptions`, `UpdateOptions`, `PatchOptions`) names
/// the options in the 422 for a bad name.
pub fn manager_for_write(
    query: Option<&str>,
    headers: &HeaderMap,
    options_kind: &str,
) -> Result<String, ApiError> {
    if let Some(given) = query_param(query, "fieldManager").filter(|m| !m.is_empty()) {
        validate_manager(&given, options_kind)?;
        return Ok(given);
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut name = String::new();
    for c in agent.split('/').next().unwrap_or_default().chars() {
        if c.is_control() {
            continue;
        }
        if name.len() + c.len_utf8() > MAX_MANAGER_LENGTH {
            break;
        }
        name.push(c);
    }
    Ok(name)
}

/// Upstream's checks of `fieldManager`: at most 128 bytes, printable.
pub fn validate_manager(manager: &str, options_kind: &str) -> Result<(), ApiError> {
    let path = FieldPath::new("fieldManager");
    let mut errors = Vec::new();
    if manager.len() > MAX_MANAGER_LENGTH {
        errors.push(FieldError::too_long(&path, MAX_MANAGER_LENGTH));
    }
    for (i, c) in manager.chars().enumerate() {
        if c.is_control() {
            errors.push(FieldError::invalid(
                &path,
                manager,
                format!("invalid character U+{:04X} (at position {i})", c as u32),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid("meta.k8s.io", options_kind, "", &errors))
    }
}
