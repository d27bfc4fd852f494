//! The HTTP side of the `scale`, `binding` and `eviction` subresources
//! and of the `bindings` collection: which verbs each takes and how bodies
//! and answers look. What they do is `registry::subresources` and
//! `registry::eviction`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use generated::support::meta::ResourceDescriptor;
use serde_json::Value;

use super::apply::{ApplyTarget, apply_configuration};
use super::media::{
    as_table, content_type, json_body, json_response, ok, table_response, with_warnings,
};
use super::rest::{RestState, delete_options_of, dry_run, method_not_allowed};
use crate::field_validation::FieldValidation;
use crate::fieldmanager::manager_for_write;
use crate::patch::{Patch, PatchFormat};
use crate::pipeline::request_info::RequestInfo;
use crate::printers::scale_table;
use crate::registry::Endpoint;
use crate::registry::eviction::Eviction;
use crate::registry::store::{WriteOptions, WriteTarget};
use crate::registry::subresources::{
    bind, get_scale, parent_configuration, scale_of, update_scale,
};
use crate::status::ApiError;

/// The definition of the scale subresource's body.
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

/// Whether a request is for one of the subresources served here.
pub fn handles(served: &ResourceDescriptor, subresource: &str) -> bool {
    match subresource {
        "" => served.group.is_empty() && served.plural == "bindings",
        "scale" | "binding" | "eviction" => served.subresource(subresource).is_some(),
        _ => false,
    }
}

/// Serves a request [`handles`] accepted.
pub async fn serve(
    state: &RestState,
    endpoint: Endpoint,
    info: &RequestInfo,
    namespace: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let dry_run = dry_run(query)?;
    let store = &state.store;
    let name = info.name.as_str();
    if namespace.is_empty() {
        return Err(ApiError::not_found_path());
    }
    match (info.subresource.as_str(), info.verb.as_str()) {
        ("scale", "get") => {
            let scale = get_scale(store, endpoint, namespace, name).await?;
            match as_table(headers, query)? {
                Some(include) => Ok(table_response(scale_table(&scale, include, Utc::now()))),
                None => ok(scale),
            }
        }
        ("scale", "update") => {
            // Scale bodies are decoded as their parent's (JSON; protobuf
            // envelopes carry their own kind).
            let scale = json_body(endpoint.served, headers, &body)?;
            let options = write_options(query, headers, "UpdateOptions", dry_run)?;
            ok(update_scale(store, endpoint, namespace, name, &scale, &options).await?)
        }
        ("scale", "patch") => {
            let patch_type = match PatchFormat::from_media_type(&content_type(headers))? {
                PatchFormat::Patch(patch_type) => patch_type,
                PatchFormat::Apply => {
                    let config =
                        parent_configuration(endpoint.served, name, &applied_scale(&body)?)?;
                    let at = ApplyTarget {
                        endpoint,
                        namespace,
                        name,
                        target: WriteTarget::Subresource("scale"),
                        dry_run,
                    };
                    let (applied, _) = apply_configuration(store, &at, query, config).await?;
                    return ok(scale_of(&applied)?);
                }
            };
            let validation = FieldValidation::from_query(query, "PatchOptions")?;
            let options = write_options(query, headers, "PatchOptions", dry_run)?;
            let patch = Patch::parse(patch_type, &body)?;
            let schema = generated::definition(SCALE)
                .ok_or_else(|| ApiError::internal(format!("no schema for {SCALE}")))?;
            loop {
                let current = scale_of(&store.get(endpoint, namespace, name).await?)?;
                let (scale, warnings) = patch.apply(current, schema, validation)?;
                match update_scale(store, endpoint, namespace, name, &scale, &options).await {
                    Err(error) if error.reason == "Conflict" && !patch.pins_resource_version() => {
                        continue;
                    }
                    other => return Ok(with_warnings(json_response(&other?), &warnings)),
                }
            }
        }
        ("binding", "create") | ("", "create") => {
            let pods = state
                .registry
                .get("", "v1", "pods")
                .ok_or_else(ApiError::not_found_path)?;
            let bindings = state
                .registry
                .get("", "v1", "bindings")
                .map_or(endpoint.served, |b| b.served);
            let binding: Value = json_body(bindings, headers, &body)?;
            let url_name = (!name.is_empty()).then_some(name);
            let options = write_options(query, headers, "CreateOptions", dry_run)?;
            let status = bind(store, pods, namespace, url_name, &binding, &options).await?;
            Ok((StatusCode::CREATED, json_response(&status)).into_response())
        }
        ("eviction", "create") => {
            // Eviction bodies are decoded as pods' (protobuf envelopes carry
            // their own kind).
            let eviction = json_body(endpoint.served, headers, &body)?;
            let options =
                delete_options_of(eviction.get("deleteOptions").unwrap_or(&Value::Null), None)?;
            let evict = Eviction {
                pods: endpoint,
                budgets: state.registry.get("policy", "v1", "poddisruptionbudgets"),
            };
            let status = evict
                .evict(store, namespace, name, &eviction, &options, dry_run)
                .await?;
            Ok((StatusCode::CREATED, json_response(&status)).into_response())
        }
        _ => Err(method_not_allowed()),
    }
}

/// The body of a Scale apply, decoded (YAML or JSON).
fn applied_scale(body: &[u8]) -> Result<Value, ApiError> {
    serde_yaml_ng::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

/// Who writes (for managedFields) and whether the write is a dry run.
fn write_options(
    query: Option<&str>,
    headers: &HeaderMap,
    options_kind: &str,
    dry_run: bool,
) -> Result<WriteOptions, ApiError> {
    let manager = manager_for_write(query, headers, options_kind)?;
    Ok(WriteOptions::update(manager, dry_run))
}
