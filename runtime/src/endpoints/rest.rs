//! The REST handlers of every resource: one handler reads the
//! [`RequestInfo`], finds the resource in the [`Registry`], checks that it
//! supports the verb, and calls the generic [`Store`].

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use generated::support::meta::{ResourceDescriptor, Verb};
use serde_json::{Value, json};

use super::media::{as_table, content_type, json_body, json_response, ok, table_response};
use super::{list, watch};
use crate::patch::{self, PatchType};
use crate::pipeline::request_info::{RequestInfo, query_param};
use crate::printers::{TableListMeta, table};
use crate::registry::Registry;
use crate::registry::store::{Filter, ListOptions, Preconditions, Store, WriteTarget};
use crate::selectors::{FieldLabels, FieldSelector, LabelSelector, SelectorError};
use crate::status::ApiError;

/// What the REST handlers share.
pub struct RestState {
    pub registry: Registry,
    pub store: Store,
}

/// Every request under `/api/<version>/...` and `/apis/<group>/<version>/...`.
pub async fn handle(
    State(state): State<Arc<RestState>>,
    Extension(info): Extension<RequestInfo>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match serve(&state, &info, query.as_deref(), &headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn serve(
    state: &RestState,
    info: &RequestInfo,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let endpoint = state
        .registry
        .get(&info.api_group, &info.api_version, &info.resource)
        .ok_or_else(ApiError::not_found_path)?;
    let served = endpoint.served;
    // `/api/v1/namespaces/<name>` names a namespace, it is not scoped by one.
    let namespace = if served.namespaced {
        info.namespace.as_str()
    } else {
        ""
    };
    let is_namespaces = served.group.is_empty() && served.plural == "namespaces";
    if !served.namespaced && !info.namespace.is_empty() && !is_namespaces {
        return Err(ApiError::not_found_path());
    }
    let target = match info.subresource.as_str() {
        "" => WriteTarget::Main,
        "status" if served.subresource("status").is_some() => WriteTarget::Status,
        other if served.subresource(other).is_some() => {
            return Err(ApiError::method_not_allowed(format!(
                "the {other} subresource of {} is not served yet",
                served.plural
            )));
        }
        _ => return Err(ApiError::not_found_path()),
    };
    let verb = match info.verb.as_str() {
        "get" => Verb::Get,
        "list" => Verb::List,
        "watch" => Verb::Watch,
        "create" => Verb::Create,
        "update" => Verb::Update,
        "patch" => Verb::Patch,
        "delete" => Verb::Delete,
        "deletecollection" => Verb::DeleteCollection,
        _ => return Err(method_not_allowed()),
    };
    let supported = match target {
        WriteTarget::Main => served.supports(verb),
        WriteTarget::Status => served
            .subresource("status")
            .is_some_and(|s| s.verbs.contains(&verb)),
    };
    if !supported {
        return Err(method_not_allowed());
    }
    if served.namespaced && namespace.is_empty() && !matches!(verb, Verb::List | Verb::Watch) {
        return Err(ApiError::not_found_path());
    }
    let dry_run = dry_run(query)?;
    let store = &state.store;
    let name = info.name.as_str();
    match verb {
        Verb::Get => {
            let object = store.get(endpoint, namespace, name).await?;
            match as_table(headers, query)? {
                Some(include) => {
                    let meta = TableListMeta::of_object(&object);
                    Ok(table_response(&table(
                        served,
                        &[object],
                        meta,
                        include,
                        Utc::now(),
                    )))
                }
                None => ok(object),
            }
        }
        Verb::List => {
            let namespace = (!namespace.is_empty()).then_some(namespace);
            list::list(store, endpoint, namespace, query, headers).await
        }
        Verb::Watch => {
            let tables = as_table(headers, query)?;
            watch::watch(store, endpoint, namespace, name, query, tables).await
        }
        Verb::Create => {
            let object = json_body(served, headers, &body)?;
            let created = store.create(endpoint, namespace, object, dry_run).await?;
            Ok((StatusCode::CREATED, json_response(&created)).into_response())
        }
        Verb::Update => {
            let object = json_body(served, headers, &body)?;
            ok(store
                .update(endpoint, namespace, name, object, target, dry_run)
                .await?)
        }
        Verb::Patch => {
            let patch_type = PatchType::from_media_type(&content_type(headers))?;
            let pinned = patch::pins_resource_version(&body);
            let apply = move |object: Value| match patch_type {
                PatchType::Merge => patch::apply_merge(object, &body),
            };
            ok(store
                .patch(endpoint, namespace, name, &apply, pinned, target, dry_run)
                .await?)
        }
        Verb::Delete => {
            let preconditions = delete_preconditions(&body)?;
            ok(store
                .delete(endpoint, namespace, name, &preconditions, dry_run)
                .await?)
        }
        Verb::DeleteCollection => {
            let options = ListOptions {
                filter: filter(served, query)?,
                ..ListOptions::default()
            };
            let listing = store
                .list(
                    endpoint,
                    (!namespace.is_empty()).then_some(namespace),
                    &options,
                )
                .await?;
            let mut deleted = Vec::new();
            for item in listing["items"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let item_namespace = item
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let item_name = item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match store
                    .delete(
                        endpoint,
                        item_namespace,
                        item_name,
                        &Preconditions::default(),
                        dry_run,
                    )
                    .await
                {
                    Ok(object) => deleted.push(object),
                    Err(error) if error.reason == "NotFound" => {}
                    Err(error) => return Err(error),
                }
            }
            let mut result = listing;
            result["items"] = json!(deleted);
            ok(result)
        }
    }
}

fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed("the server does not allow this method on the requested resource")
}

fn dry_run(query: Option<&str>) -> Result<bool, ApiError> {
    match query_param(query, "dryRun").as_deref() {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dry run value: {other}: supported values: \"All\""
        ))),
    }
}

fn delete_preconditions(body: &[u8]) -> Result<Preconditions, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Preconditions::default());
    }
    let options: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?;
    let text = |field: &str| {
        options
            .pointer(&format!("/preconditions/{field}"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Preconditions {
        uid: text("uid"),
        resource_version: text("resourceVersion"),
    })
}

/// The list/watch filter from `labelSelector` and `fieldSelector`; bad
/// selectors and fields the kind does not support are 400s, as upstream.
pub fn filter(
    served: &ResourceDescriptor,
    query: Option<&str>,
) -> Result<Option<Filter>, ApiError> {
    let bad = |e: SelectorError| ApiError::bad_request(e.message().to_owned());
    let labels = match query_param(query, "labelSelector") {
        Some(text) => LabelSelector::parse(&text).map_err(bad)?,
        None => LabelSelector::everything(),
    };
    let field_labels = FieldLabels::for_resource(served);
    let fields = match query_param(query, "fieldSelector") {
        Some(text) => field_labels
            .convert(FieldSelector::parse(&text).map_err(bad)?)
            .map_err(bad)?,
        None => FieldSelector::everything(),
    };
    if labels.is_empty() && fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::new(move |object: &Value| {
        labels.matches_object(object) && field_labels.matches(&fields, object)
    })))
}
