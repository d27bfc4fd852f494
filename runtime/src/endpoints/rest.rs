//! The REST handlers of every resource: one handler reads the
//! [`RequestInfo`], finds the resource in the [`Registry`], checks that it
//! supports the verb, and calls the generic [`Store`].

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use generated::SCHEMAS;
use generated::support::meta::{ResourceDescriptor, Verb};
use generated::support::schema::SchemaId;
use serde_json::{Value, json};

use crate::codec::protobuf;
use crate::pipeline::request_info::{RequestInfo, query_param};
use crate::printers::{IncludeObject, TableListMeta, strip_headers, table};
use crate::registry::store::{
    Filter, ListOptions, Preconditions, Store, WriteTarget, storage_error, watch_event,
};
use crate::registry::{Endpoint, Registry, keys};
use crate::selectors::{FieldLabels, FieldSelector, LabelSelector, SelectorError};
use crate::status::ApiError;
use crate::storage::{Revision, StorageError};

/// What the REST handlers share.
pub struct RestState {
    pub registry: Registry,
    pub store: Store,
}

/// Upstream's default and maximum watch duration are minutes; a client's
/// `timeoutSeconds` shortens it.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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
            let options = ListOptions {
                limit: query_param(query, "limit").and_then(|l| l.parse().ok()),
                continue_token: query_param(query, "continue"),
                filter: filter(served, query)?,
            };
            let namespace = (!namespace.is_empty()).then_some(namespace);
            let list = store.list(endpoint, namespace, &options).await?;
            match as_table(headers, query)? {
                Some(include) => {
                    let items = list["items"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    let meta = TableListMeta::of_list(&list);
                    Ok(table_response(&table(
                        served,
                        items,
                        meta,
                        include,
                        Utc::now(),
                    )))
                }
                None => ok(list),
            }
        }
        Verb::Watch => {
            let tables = as_table(headers, query)?;
            watch(store, endpoint, namespace, query, tables).await
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
            let content_type = content_type(headers);
            if content_type != "application/merge-patch+json" {
                return Err(ApiError::unsupported_media_type(format!(
                    "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got {content_type:?})"
                )));
            }
            let patch: Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            ok(store
                .merge_patch(endpoint, namespace, name, &patch, target, dry_run)
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

fn ok(object: Value) -> Result<Response, ApiError> {
    Ok(json_response(&object).into_response())
}

fn json_response(object: &Value) -> Response {
    let mut response = object.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The media type of a Table answer.
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// Whether the client asks for a Table (`kubectl get` does), and what each
/// row should carry.
fn as_table(headers: &HeaderMap, query: Option<&str>) -> Result<Option<IncludeObject>, ApiError> {
    let wants = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            params.first() == Some(&"application/json")
                && params.contains(&"as=Table")
                && params.contains(&"g=meta.k8s.io")
                && (params.contains(&"v=v1") || params.contains(&"v=v1beta1"))
        });
    if !wants {
        return Ok(None);
    }
    IncludeObject::from_query(query_param(query, "includeObject").as_deref())
        .map(Some)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

fn table_response(table: &Value) -> Response {
    let mut response = table.to_string().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TABLE));
    response
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn json_body(
    resource: &ResourceDescriptor,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    match content_type(headers).as_str() {
        "" | "application/json" | "*/*" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body of the request could not be decoded as JSON: {e}"
            ))
        }),
        // client-go's typed clients (kubectl create deployment, ...) send protobuf.
        protobuf::MEDIA_TYPE => {
            let mut object = protobuf::decode(body)
                .map(|decoded| decoded.object)
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "the body of the request could not be decoded: {e}"
                    ))
                })?;
            drop_empty_strings(resource.schema, &mut object);
            Ok(object)
        }
        other => Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/vnd.kubernetes.protobuf (got {other:?})"
        ))),
    }
}

/// Go writes every string field of a struct into protobuf, set or not, where
/// its JSON would omit the empty ones; an empty string in a declared
/// property of a protobuf body therefore means "unset" (so that defaulting
/// and enum validation see what a JSON client would have sent). Map values
/// and list items are data and stay.
fn drop_empty_strings(root: SchemaId, value: &mut Value) {
    let node = SCHEMAS.get(root);
    match value {
        Value::Object(object) if !node.properties.is_empty() => {
            object.retain(|name, v| !(v.as_str() == Some("") && node.property(name).is_some()));
            for (name, v) in object.iter_mut() {
                if let Some(child) = node.property(name) {
                    drop_empty_strings(child, v);
                }
            }
        }
        Value::Object(object) => {
            if let Some(values) = node.additional_properties {
                object
                    .values_mut()
                    .for_each(|v| drop_empty_strings(values, v));
            }
        }
        Value::Array(items) => {
            if let Some(item) = node.items {
                items.iter_mut().for_each(|v| drop_empty_strings(item, v));
            }
        }
        _ => {}
    }
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
fn filter(served: &ResourceDescriptor, query: Option<&str>) -> Result<Option<Filter>, ApiError> {
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

/// A watch: for no resourceVersion or "0", the current objects as ADDED
/// events first; then every change after that revision, one JSON event per
/// line, until `timeoutSeconds`. With `tables`, each event carries a
/// one-row Table, only the first with column definitions (as upstream).
async fn watch(
    store: &Store,
    endpoint: Endpoint,
    namespace: &str,
    query: Option<&str>,
    tables: Option<IncludeObject>,
) -> Result<Response, ApiError> {
    let filter = filter(endpoint.served, query)?;
    let timeout = query_param(query, "timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let namespace = (!namespace.is_empty()).then_some(namespace);
    let requested = query_param(query, "resourceVersion").unwrap_or_default();
    let encoder = Arc::new(EventEncoder {
        resource: endpoint.served,
        tables,
        headers_sent: AtomicBool::new(false),
    });
    let (initial, after) = match requested.as_str() {
        "" | "0" => {
            let listing = store
                .list(
                    endpoint,
                    namespace,
                    &ListOptions {
                        filter: filter.clone(),
                        ..ListOptions::default()
                    },
                )
                .await?;
            let revision = listing
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            let served = endpoint.served;
            let items: Vec<Bytes> = listing["items"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|item| {
                    let mut object = item.clone();
                    object["apiVersion"] = json!(crate::registry::object::api_version(
                        served.group,
                        served.version
                    ));
                    object["kind"] = json!(served.kind);
                    encoder.event("ADDED", object)
                })
                .collect();
            (items, Revision(revision))
        }
        text => {
            let revision = text
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {text}")))?;
            (Vec::new(), Revision(revision))
        }
    };
    let prefix = keys::list_prefix(endpoint.stored, namespace);
    let events = match store.storage().watch(&prefix, after).await {
        Ok(events) => events,
        Err(error @ StorageError::Compacted { .. }) => {
            // As upstream: the watch is accepted, then ends with a 410 event.
            let line = event_line("ERROR", &storage_error(error).to_status());
            return Ok(stream_response(futures::stream::iter(vec![line]).boxed()));
        }
        Err(other) => return Err(storage_error(other)),
    };
    let live = events.filter_map(move |event| {
        let filter = filter.clone();
        let encoder = encoder.clone();
        async move {
            match event {
                Ok(event) => match watch_event(endpoint, &event, filter.as_deref()) {
                    Ok(Some((kind, object))) => Some(encoder.event(kind, object)),
                    Ok(None) => None,
                    Err(error) => Some(event_line("ERROR", &error.to_status())),
                },
                Err(error) => Some(event_line("ERROR", &storage_error(error).to_status())),
            }
        }
    });
    let stream = futures::stream::iter(initial).chain(live);
    let stream = tokio_stream_timeout(stream, timeout);
    Ok(stream_response(stream))
}

/// Writes the events of one watch: objects as they are, or as one-row
/// Tables whose column definitions only the first event carries.
struct EventEncoder {
    resource: &'static ResourceDescriptor,
    tables: Option<IncludeObject>,
    headers_sent: AtomicBool,
}

impl EventEncoder {
    fn event(&self, kind: &str, object: Value) -> Bytes {
        let Some(include) = self.tables else {
            return event_line(kind, &object);
        };
        let meta = TableListMeta::of_object(&object);
        let mut rendered = table(self.resource, &[object], meta, include, Utc::now());
        if self.headers_sent.swap(true, Ordering::SeqCst) {
            strip_headers(&mut rendered);
        }
        event_line(kind, &rendered)
    }
}

/// Ends the stream after `timeout`.
fn tokio_stream_timeout(
    stream: impl futures::Stream<Item = Bytes> + Send + 'static,
    timeout: Duration,
) -> futures::stream::BoxStream<'static, Bytes> {
    let deadline = tokio::time::sleep(timeout);
    stream.take_until(deadline).boxed()
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

fn stream_response(stream: futures::stream::BoxStream<'static, Bytes>) -> Response {
    let body = Body::from_stream(stream.map(Ok::<Bytes, Infallible>));
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
