//! Watches over HTTP, served from the watch cache: newline-delimited
//! `WatchEvent`s (optionally one-row Tables), from the requested
//! resourceVersion, until the client's `timeoutSeconds`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::Value;

use super::list::wait_for;
use super::read_options::{ReadOptions, Wanted};
use super::rest::filter;
use crate::cache::watcher::{self, WatchOptions, error_line};
use crate::cache::{Expired, Start};
use crate::pipeline::request_info::query_param;
use crate::printers::IncludeObject;
use crate::registry::object::meta_str;
use crate::registry::store::{Filter, Store, storage_error};
use crate::registry::{Endpoint, keys};
use crate::status::ApiError;
use crate::storage::StorageError;

/// Upstream's default and maximum watch duration are minutes; a client's
/// `timeoutSeconds` shortens it.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How often a watcher that asked for bookmarks gets one (as upstream).
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

/// A watch of the resource's objects in `namespace` (all for ""), or of
/// the one called `name` (the deprecated `/watch/.../<name>` form).
/// `resourceVersion` "" or "0" sends the current objects as ADDED events
/// first; a revision resumes after it, or ends at once with a 410 ERROR
/// event when the cache's window no longer reaches back that far.
/// `sendInitialEvents=true` sends the objects, then a BOOKMARK marking
/// their end.
pub async fn watch(
    store: &Store,
    endpoint: Endpoint,
    namespace: &str,
    name: &str,
    query: Option<&str>,
    tables: Option<IncludeObject>,
) -> Result<Response, ApiError> {
    let options = ReadOptions::from_query(query);
    options.validate_watch()?;
    let wanted = options.wanted()?;
    let filter = with_name(filter(endpoint.served, query)?, name);
    let timeout = query_param(query, "timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_WATCH_TIMEOUT);

    let caches = store.caches();
    let cache = caches
        .resource(endpoint.stored)
        .await
        .map_err(storage_error)?;
    let initial_events = options
        .send_initial_events
        .unwrap_or(matches!(wanted, Wanted::Latest | Wanted::Any));
    let start = match (options.send_initial_events, wanted) {
        // "" is the latest state: the cache catches up with storage first.
        (_, Wanted::Latest) => {
            let current = caches
                .storage()
                .current_revision()
                .await
                .map_err(storage_error)?;
            wait_for(caches, current).await?;
            Start::Now
        }
        (Some(true), Wanted::At(revision)) => {
            wait_for(caches, revision).await?;
            Start::Now
        }
        (_, Wanted::Any) => Start::Now,
        (_, Wanted::At(revision)) => {
            wait_for(caches, revision).await?;
            Start::After(revision)
        }
    };
    let subscription = match cache.subscribe(start) {
        Ok(subscription) => subscription,
        Err(Expired { requested, oldest }) => {
            // As upstream: the watch is accepted, then ends with a 410 event.
            let error = storage_error(StorageError::Compacted {
                requested,
                compacted: oldest,
            });
            let line = error_line(&error);
            return Ok(stream_response(futures::stream::iter([line]).boxed()));
        }
    };
    let events = watcher::stream(
        cache,
        subscription,
        WatchOptions {
            endpoint,
            prefix: keys::list_prefix(
                endpoint.stored,
                (!namespace.is_empty()).then_some(namespace),
            ),
            filter,
            tables,
            initial_events,
            bookmarks: options.allow_bookmarks,
            initial_events_end: options.send_initial_events == Some(true),
            timeout,
            bookmark_interval: BOOKMARK_INTERVAL,
        },
    );
    Ok(stream_response(events))
}

/// Narrows the filter to one object name, if one is given.
fn with_name(filter: Option<Filter>, name: &str) -> Option<Filter> {
    if name.is_empty() {
        return filter;
    }
    let name = name.to_owned();
    Some(Arc::new(move |object: &Value| {
        meta_str(object, "name") == name && filter.as_ref().is_none_or(|f| f(object))
    }))
}

fn stream_response(stream: BoxStream<'static, Bytes>) -> Response {
    let body = Body::from_stream(stream.map(Ok::<Bytes, Infallible>));
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
