//! `PATCH` with `application/apply-patch+yaml`: server-side apply. Checks
//! the options and the configuration as upstream does, then applies it to
//! the live object through the store's patch path, or creates the object
//! when there is none.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::time::Time;
use serde_json::{Map, Value, json};

use super::media::{json_response, ok};
use crate::fieldmanager::apply::{Applier, ApplyError, apply};
use crate::fieldmanager::{Ownership, validate_manager};
use crate::pipeline::request_info::query_param;
use crate::registry::Endpoint;
use crate::registry::object::{api_version, set_meta};
use crate::registry::store::{Store, WriteOptions, WriteTarget};
use crate::status::ApiError;

/// Where an apply goes and how.
pub struct ApplyTarget<'a> {
    pub endpoint: Endpoint,
    pub namespace: &'a str,
    pub name: &'a str,
    pub target: WriteTarget,
    pub dry_run: bool,
}

/// Serves one apply request: 200 with the object, or 201 when it was created.
pub async fn serve(
    store: &Store,
    at: &ApplyTarget<'_>,
    query: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let config = configuration(at, body)?;
    match apply_configuration(store, at, query, config).await? {
        (created, true) => Ok((StatusCode::CREATED, json_response(&created)).into_response()),
        (updated, false) => ok(updated),
    }
}

/// Applies a checked configuration of the target's kind; returns the
/// object and whether it was created.
pub async fn apply_configuration(
    store: &Store,
    at: &ApplyTarget<'_>,
    query: Option<&str>,
    config: Value,
) -> Result<(Value, bool), ApiError> {
    let manager = query_param(query, "fieldManager").unwrap_or_default();
    if manager.is_empty() {
        let error = FieldError::required(
            &FieldPath::new("fieldManager"),
            "is required for apply patch",
        );
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[error],
        ));
    }
    validate_manager(&manager, "PatchOptions")?;
    let force = match query_param(query, "force").as_deref() {
        None | Some("") => false,
        Some(text) => parse_bool(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "strconv.ParseBool: parsing {text:?}: invalid syntax"
            ))
        })?,
    };
    let pinned = config.pointer("/metadata/resourceVersion").is_some();
    let served = at.endpoint.served;
    let now = Time::now().to_string();
    let version = api_version(served.group, served.version);
    let applier = Applier {
        manager: &manager,
        force,
        api_version: &version,
        subresource: at.target.subresource(),
        now: &now,
    };
    let root = Some(served.schema);
    let options = WriteOptions {
        dry_run: at.dry_run,
        ownership: Ownership::Applied,
    };
    let patch =
        |live: Value| apply(root, Some(&live), &config, &applier).map_err(|e| apply_error(at, e));
    loop {
        let updated = store
            .patch(
                at.endpoint,
                at.namespace,
                at.name,
                &patch,
                pinned,
                at.target,
                &options,
            )
            .await;
        match updated {
            Err(error) if error.reason == "NotFound" && at.target == WriteTarget::Main => {
                let object =
                    apply(root, None, &config, &applier).map_err(|e| apply_error(at, e))?;
                match store
                    .create(at.endpoint, at.namespace, object, &options)
                    .await
                {
                    Ok(created) => return Ok((created, true)),
                    Err(error) if error.reason == "AlreadyExists" => continue,
                    Err(error) => return Err(error),
                }
            }
            other => return Ok((other?, false)),
        }
    }
}

/// Conflicts as they are; a configuration that does not fit the schema
/// named as upstream names it (which answers those with a 500).
fn apply_error(at: &ApplyTarget<'_>, error: ApplyError) -> ApiError {
    match error {
        ApplyError::Invalid(why) => {
            let served = at.endpoint.served;
            ApiError::bad_request(format!(
                "failed to create typed patch object ({}/{}; {}, Kind={}): {why}",
                at.namespace,
                at.name,
                api_version(served.group, served.version),
                served.kind
            ))
        }
        conflicts => conflicts.into(),
    }
}

/// Reads the applied configuration (YAML, or JSON, which is YAML) and
/// checks it names this kind and object, as upstream does.
fn configuration(at: &ApplyTarget<'_>, body: &[u8]) -> Result<Value, ApiError> {
    let parsed: Value = serde_yaml_ng::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut config = match parsed {
        Value::Object(map) => Value::Object(map),
        Value::Null => Value::Object(Map::new()),
        _ => return Err(ApiError::bad_request("error decoding patch: not an object")),
    };
    let served = at.endpoint.served;
    let text = |v: &Value, field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let given_version = text(&config, "apiVersion");
    let (group, version) = given_version
        .split_once('/')
        .unwrap_or(("", &given_version));
    let given = format!("{group}/{version}, Kind={}", text(&config, "kind"));
    let expected = format!("{}/{}, Kind={}", served.group, served.version, served.kind);
    if given_version.is_empty() && text(&config, "kind").is_empty() {
        return Err(ApiError::bad_request(format!(
            "invalid object type: {given}"
        )));
    }
    if given != expected {
        return Err(ApiError::bad_request(format!(
            "invalid object type: {given}, expected {expected}"
        )));
    }
    if config.pointer("/metadata/managedFields").is_some() {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let metadata = config.get("metadata").cloned().unwrap_or(json!({}));
    match text(&metadata, "name").as_str() {
        "" => set_meta(&mut config, "name", Some(json!(at.name))),
        name if name != at.name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({name}) does not match the name on the URL ({})",
                at.name
            )));
        }
        _ => {}
    }
    if served.namespaced && text(&metadata, "namespace").is_empty() {
        set_meta(&mut config, "namespace", Some(json!(at.namespace)));
    }
    // Each endpoint owns its part of the object: the resource itself
    // ignores status where /status exists, and /status takes only status.
    let has_status = served.subresource("status").is_some();
    match at.target {
        WriteTarget::Main if has_status => {
            config.as_object_mut().map(|o| o.remove("status"));
        }
        // Subresources that build whole objects are served elsewhere.
        WriteTarget::Main | WriteTarget::Subresource(_) => {}
        WriteTarget::Status => {
            let keep = ["apiVersion", "kind", "status"];
            let object = config.as_object_mut().expect("made an object above");
            object.retain(|k, _| keep.contains(&k.as_str()) || k == "metadata");
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.retain(|k, _| k == "name" || k == "namespace");
            }
        }
    }
    Ok(config)
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}
