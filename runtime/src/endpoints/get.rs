//! `GET` of one object: `resourceVersion=""` reads storage (the latest
//! state); `"0"` and a given revision ("that one or newer") are answered
//! from the watch cache, waiting for it to reach the revision as upstream
//! does, and 504 when it does not in time.

use std::sync::Arc;

use generated::support::meta::Verb;
use serde_json::Value;

use super::read_options::{CATCH_UP, ReadOptions, Wanted};
use crate::registry::store::{Store, storage_error};
use crate::registry::{Endpoint, keys};
use crate::status::ApiError;
use crate::storage::StorageError;

/// [`get`] encoded as JSON; a read of storage skips decoding the object
/// where it can (see [`Store::get_json`]).
pub async fn get_json(
    store: &Store,
    endpoint: Endpoint,
    namespace: &str,
    name: &str,
    query: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    let wanted = ReadOptions::from_query(query).wanted()?;
    if reads_storage(endpoint, wanted) {
        return store.get_json(endpoint, namespace, name).await;
    }
    let object = get(store, endpoint, namespace, name, query).await?;
    serde_json::to_vec(&object).map_err(|e| ApiError::internal(e.to_string()))
}

/// Whether the read goes to storage rather than the watch cache.
fn reads_storage(endpoint: Endpoint, wanted: Wanted) -> bool {
    wanted == Wanted::Latest || !endpoint.stored.supports(Verb::Watch)
}

/// The object `name` in the state `query`'s resourceVersion asks for.
pub async fn get(
    store: &Store,
    endpoint: Endpoint,
    namespace: &str,
    name: &str,
    query: Option<&str>,
) -> Result<Value, ApiError> {
    let wanted = ReadOptions::from_query(query).wanted()?;
    if reads_storage(endpoint, wanted) {
        return store.get(endpoint, namespace, name).await;
    }
    let caches = store.caches();
    if let Wanted::At(revision) = wanted
        && !caches.wait_for(revision, CATCH_UP).await
    {
        return Err(storage_error(StorageError::FutureRevision {
            requested: revision,
            current: caches.revision(),
        }));
    }
    let cache = caches
        .resource(endpoint.stored)
        .await
        .map_err(storage_error)?;
    let key = keys::object_key(endpoint.stored, namespace, name);
    let snapshot = cache.snapshot(&key);
    match snapshot.objects.iter().find(|object| object.key == key) {
        Some(object) => Ok(Arc::unwrap_or_clone(object.served(endpoint)?)),
        None => Err(ApiError::not_found(
            endpoint.served.group,
            endpoint.served.plural,
            name,
        )),
    }
}
