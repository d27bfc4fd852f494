//! Watches over HTTP: newline-delimited `WatchEvent`s, optionally as
//! one-row Tables, until the client's `timeoutSeconds`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use generated::support::meta::ResourceDescriptor;
use serde_json::{Value, json};

use super::rest::filter;
use crate::pipeline::request_info::query_param;
use crate::printers::{IncludeObject, TableListMeta, strip_headers, table};
use crate::registry::store::{ListOptions, Store, storage_error, watch_event};
use crate::registry::{Endpoint, keys};
use crate::status::ApiError;
use crate::storage::{Revision, StorageError};

/// Upstream's default and maximum watch duration are minutes; a client's
/// `timeoutSeconds` shortens it.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A watch: for no resourceVersion or "0", the current objects as ADDED
/// events first; then every change after that revision, one JSON event per
/// line, until `timeoutSeconds`. With `tables`, each event carries a
/// one-row Table, only the first with column definitions (as upstream).
pub async fn watch(
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

pub fn event_line(kind: &str, object: &Value) -> Bytes {
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
