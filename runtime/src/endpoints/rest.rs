//! The REST handlers of every resource: one handler reads the
//! [`RequestInfo`], finds the resource in the [`Registry`], checks that it
//! supports the verb, and calls the generic [`Store`].

use std::sync::{Arc, Mutex, PoisonError};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::meta::{ResourceDescriptor, Verb};
use serde_json::{Value, json};

use super::apply::{self, ApplyTarget};
use super::media::{
    as_table, content_type, decode_strictly, json_bytes_response, json_response, ok,
    table_response, with_warnings,
};
use super::{get, list, negotiate, reviews, subresources, watch};
use crate::field_validation::FieldValidation;
use crate::fieldmanager::{self, manager_for_write};
use crate::patch::{Patch, PatchFormat};
use crate::pipeline::Security;
use crate::pipeline::authn::UserInfo;
use crate::pipeline::request_info::{RequestInfo, query_param};
use crate::printers::{TableListMeta, TablePrinter};
use crate::registry::Registry;
use crate::registry::store::{
    DeleteOptions, Filter, ListOptions, Preconditions, Store, WriteOptions, WriteTarget,
};
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
    Extension(user): Extension<UserInfo>,
    Extension(security): Extension<Arc<Security>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let negotiated = match negotiate::negotiate(&headers) {
        Ok(negotiated) => negotiated,
        Err(error) => return error.into_response(),
    };
    let served = if reviews::handles(&info) {
        match state
            .registry
            .get(&info.api_group, &info.api_version, &info.resource)
        {
            Some(endpoint) => {
                reviews::serve(&security, &user, &info, endpoint.served, &headers, &body)
            }
            None => Err(ApiError::not_found_path()),
        }
    } else {
        serve(&state, &info, query.as_deref(), &headers, body).await
    };
    let response = match served {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if info.verb == "watch" {
        return response;
    }
    negotiate::transcode(response, negotiated).await
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
    if subresources::handles(served, &info.subresource) {
        return subresources::serve(state, endpoint, info, namespace, query, headers, body).await;
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
        WriteTarget::Status | WriteTarget::Subresource(_) => served
            .subresource(&info.subresource)
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
            // A bad includeObject is reported only for objects that exist.
            let include = match as_table(headers, query) {
                Ok(None) => {
                    let body = get::get_json(store, endpoint, namespace, name, query).await?;
                    return Ok(json_bytes_response(body));
                }
                Ok(Some(include)) => Ok(include),
                Err(error) => Err(error),
            };
            let object = get::get(store, endpoint, namespace, name, query).await?;
            let meta = TableListMeta::of_object(&object);
            let mut printer = TablePrinter::new(served, &meta, include?, Utc::now(), true);
            printer.print(&object);
            Ok(table_response(printer.finish()))
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
            let validation = FieldValidation::from_query(query, "CreateOptions")?;
            let (object, warnings) = decode_strictly(served, headers, &body, validation)?;
            let manager = manager_for_write(query, headers, "CreateOptions")?;
            let options = WriteOptions::update(manager, dry_run);
            let created = store.create(endpoint, namespace, object, &options).await?;
            let response = (StatusCode::CREATED, json_response(&created)).into_response();
            Ok(with_warnings(response, &warnings))
        }
        Verb::Update => {
            let validation = FieldValidation::from_query(query, "UpdateOptions")?;
            let (object, warnings) = decode_strictly(served, headers, &body, validation)?;
            let manager = manager_for_write(query, headers, "UpdateOptions")?;
            let options = WriteOptions::update(manager, dry_run);
            let updated = store
                .update(endpoint, namespace, name, object, target, &options)
                .await?;
            Ok(with_warnings(json_response(&updated), &warnings))
        }
        Verb::Patch => match PatchFormat::from_media_type(&content_type(headers))? {
            PatchFormat::Apply => {
                let at = ApplyTarget {
                    endpoint,
                    namespace,
                    name,
                    target,
                    dry_run,
                };
                apply::serve(store, &at, query, &body).await
            }
            PatchFormat::Patch(patch_type) => {
                fieldmanager::refuse_force(query)?;
                let validation = FieldValidation::from_query(query, "PatchOptions")?;
                let manager = manager_for_write(query, headers, "PatchOptions")?;
                let options = WriteOptions::update(manager, dry_run);
                let patch = Patch::parse(patch_type, &body)?;
                // The warnings of the attempt that was written (the store may
                // re-apply the patch after a conflict).
                let warnings = Mutex::new(Vec::new());
                let apply = |object: Value| {
                    let (object, found) = patch.apply(object, served.schema, validation)?;
                    *warnings.lock().unwrap_or_else(PoisonError::into_inner) = found;
                    Ok(object)
                };
                let pinned = patch.pins_resource_version();
                let patched = store
                    .patch(endpoint, namespace, name, &apply, pinned, target, &options)
                    .await?;
                let warnings = warnings
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                Ok(with_warnings(json_response(&patched), &warnings))
            }
        },
        Verb::Delete => {
            let options = delete_options(&body, query)?;
            ok(store
                .delete(endpoint, namespace, name, &options, dry_run)
                .await?)
        }
        Verb::DeleteCollection => {
            let delete_options = delete_options(&body, query)?;
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
                        &delete_options,
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

pub(super) fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed("the server does not allow this method on the requested resource")
}

pub(super) fn dry_run(query: Option<&str>) -> Result<bool, ApiError> {
    match query_param(query, "dryRun").as_deref() {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dry run value: {other}: supported values: \"All\""
        ))),
    }
}

/// `DeleteOptions` from the body (or the query, where clients put
/// `gracePeriodSeconds` and `propagationPolicy`), checked as upstream's
/// `ValidateDeleteOptions` does.
fn delete_options(body: &[u8], query: Option<&str>) -> Result<DeleteOptions, ApiError> {
    let options: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    delete_options_of(&options, query)
}

/// [`delete_options`] from an already decoded `DeleteOptions` object.
pub(super) fn delete_options_of(
    options: &Value,
    query: Option<&str>,
) -> Result<DeleteOptions, ApiError> {
    let text = |field: &str| {
        options
            .pointer(&format!("/preconditions/{field}"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let grace_period_seconds = match options.get("gracePeriodSeconds") {
        Some(Value::Null) | None => match query_param(query, "gracePeriodSeconds") {
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("invalid gracePeriodSeconds: {text:?}"))
            })?),
            None => None,
        },
        Some(value) => Some(value.as_i64().ok_or_else(|| {
            ApiError::bad_request(
                "error decoding DeleteOptions: gracePeriodSeconds must be an integer",
            )
        })?),
    };
    let policy = options
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| query_param(query, "propagationPolicy"));
    if let Some(policy) = policy
        && !matches!(policy.as_str(), "Foreground" | "Background" | "Orphan")
    {
        let error = FieldError::not_supported(
            &FieldPath::new("propagationPolicy"),
            policy,
            &["Foreground", "Background", "Orphan", "nil"],
        );
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "DeleteOptions",
            "",
            &[error],
        ));
    }
    Ok(DeleteOptions {
        preconditions: Preconditions {
            uid: text("uid"),
            resource_version: text("resourceVersion"),
        },
        grace_period_seconds,
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
