//! `GET` of a collection: from the watch cache when the requested state
//! allows it, from storage otherwise (`Exact` reads, continued pages whose
//! snapshot the cache no longer keeps, a cache that does not catch up in
//! time).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::media::{as_table, ok, table_response};
use super::negotiate::{Encoding, Negotiated, Shape, negotiate};
use super::read_options::{CATCH_UP, EXACT, ReadOptions, Wanted};
use super::rest::filter;
use crate::cache::list::{self, EncodedList, Page};
use crate::codec::protobuf;
use crate::printers::{TableListMeta, TablePrinter};
use crate::registry::Endpoint;
use crate::registry::store::{Filter, ListOptions, Store, storage_error};
use crate::status::ApiError;
use crate::storage::{Revision, StorageError};

/// A list, as JSON or as a Table.
pub async fn list(
    store: &Store,
    endpoint: Endpoint,
    namespace: Option<&str>,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let options = ReadOptions::from_query(query);
    options.validate_list()?;
    let wanted = options.wanted()?;
    let filter = filter(endpoint.served, query)?;
    let tables = as_table(headers, query)?;
    // As upstream: a paged list from a given revision without a match is
    // an exact read (the legacy meaning of resourceVersion with limit).
    let exact = options.matching == EXACT
        || (options.matching.is_empty()
            && options.limit.is_some_and(|l| l > 0)
            && matches!(wanted, Wanted::At(_)));
    if !exact
        && let Some(page) = cached(store, endpoint, namespace, &options, wanted, &filter).await?
    {
        return match tables {
            None if negotiate(headers)? == PROTOBUF => Ok(with_type(
                list::encode_protobuf(endpoint, &page)?.into(),
                protobuf::MEDIA_TYPE,
            )),
            None => Ok(streamed_json(list::encode(endpoint, &page)?)),
            Some(include) => {
                let meta = TableListMeta {
                    resource_version: page.revision.to_string(),
                    continue_token: page.continue_token.clone().unwrap_or_default(),
                    remaining_item_count: page.remaining.map(|r| r as i64),
                };
                let mut printer =
                    TablePrinter::new(endpoint.served, &meta, include, Utc::now(), true);
                for item in &page.items {
                    item.print(endpoint, &mut printer)?;
                }
                Ok(table_response(printer.finish()))
            }
        };
    }
    let revision = match wanted {
        Wanted::At(revision) if exact => Some(revision),
        _ => None,
    };
    let listing = store
        .list(
            endpoint,
            namespace,
            &ListOptions {
                limit: options.limit,
                continue_token: Some(options.continue_token).filter(|t| !t.is_empty()),
                filter,
                revision,
            },
        )
        .await?;
    match tables {
        Some(include) => {
            let meta = TableListMeta::of_list(&listing);
            let mut printer = TablePrinter::new(endpoint.served, &meta, include, Utc::now(), true);
            for item in listing["items"].as_array().into_iter().flatten() {
                printer.print(item);
            }
            Ok(table_response(printer.finish()))
        }
        None => ok(listing),
    }
}

/// The page from the cache: the first once the cache holds the wanted
/// state, a continued one from its kept snapshot. `None` when a consistent
/// read finds the cache lagging or the snapshot is gone (storage answers
/// instead).
async fn cached(
    store: &Store,
    endpoint: Endpoint,
    namespace: Option<&str>,
    options: &ReadOptions,
    wanted: Wanted,
    filter: &Option<Filter>,
) -> Result<Option<Page>, ApiError> {
    let caches = store.caches();
    let cache = caches
        .resource(endpoint.stored)
        .await
        .map_err(storage_error)?;
    if !options.continue_token.is_empty() {
        let token = &options.continue_token;
        return list::continued(
            &cache,
            endpoint,
            namespace,
            filter.as_ref(),
            options.limit,
            token,
        );
    }
    match wanted {
        Wanted::Any => {}
        Wanted::Latest => {
            let current = caches
                .storage()
                .current_revision()
                .await
                .map_err(storage_error)?;
            if !caches.wait_for(current, CATCH_UP).await {
                return Ok(None);
            }
        }
        Wanted::At(revision) => wait_for(caches, revision).await?,
    }
    list::page(&cache, endpoint, namespace, filter.as_ref(), options.limit).map(Some)
}

/// Waits for the cache to reach a revision a client names; upstream's
/// "Too large resource version" 504 if it does not in time.
pub async fn wait_for(caches: &crate::cache::Caches, revision: Revision) -> Result<(), ApiError> {
    if caches.wait_for(revision, CATCH_UP).await {
        return Ok(());
    }
    Err(storage_error(StorageError::FutureRevision {
        requested: revision,
        current: caches.revision(),
    }))
}

/// A JSON list sent as it is joined, with its length announced.
fn streamed_json(list: EncodedList) -> Response {
    let len = list.content_length();
    let chunks = list.into_chunks().map(Ok::<_, std::convert::Infallible>);
    let mut response = Body::from_stream(futures::stream::iter(chunks)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    response
}

/// A protobuf list, which the cache writes itself from its objects' kept
/// messages (other negotiated forms are made from the JSON answer).
const PROTOBUF: Negotiated = Negotiated {
    encoding: Encoding::Protobuf,
    shape: Shape::Object,
};

fn with_type(body: bytes::Bytes, media_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}
