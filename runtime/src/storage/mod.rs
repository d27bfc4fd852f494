//! The storage interface: etcd semantics, not a map.
//!
//! Every write gets the next value of one global, strictly increasing
//! [`Revision`]; reads can be served at a past revision (so that a
//! paginated list reads one consistent snapshot while writes continue);
//! watches deliver every change after a revision, in order, exactly once;
//! history older than the compaction point is gone, and asking for it is
//! the distinct [`StorageError::Compacted`] error that the API turns into
//! 410 Gone.
//!
//! Keys are strings in upstream kube-apiserver's etcd layout
//! (`/registry/pods/<namespace>/<name>`); values are opaque bytes. Backends:
//! `memory` (tests and throwaway servers), the embedded durable default, and
//! etcd v3. All of them pass the one conformance suite in
//! `storage::conformance`.

pub mod conformance;
pub mod embedded;
pub mod etcd;
pub mod memory;

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

/// A point in the store's history. Every successful write gets a new,
/// larger one; `Revision(0)` is "before anything was written".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(pub u64);

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A stored key with its value and the revisions that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// The revision of the write that created the key (since its last delete).
    pub create_revision: Revision,
    /// The revision of the write that last changed it.
    pub mod_revision: Revision,
}

/// What a range read asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeRequest {
    /// Keys that start with this prefix. A prefix that should stop at a
    /// path segment must end with `/` (`/registry/pods/a/`), so that
    /// `/registry/pods/ab...` does not match; the store does not add one.
    pub prefix: String,
    /// Start at this key (inclusive) instead of the first key of the prefix;
    /// the API layer builds continue tokens from it.
    pub start: Option<String>,
    /// At most this many keys; `None` or 0 for all.
    pub limit: Option<usize>,
    /// Read the state as of this revision; `None` for the latest.
    pub revision: Option<Revision>,
}

/// The answer to a range read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeResponse {
    /// In key order.
    pub kvs: Vec<KeyValue>,
    /// The revision the read was served at (the latest one when the request
    /// named none). Continuing a paginated list must read at this revision.
    pub revision: Revision,
    /// Whether keys beyond `limit` remain.
    pub more: bool,
    /// How many keys of the prefix remain after the returned ones (an
    /// estimate is allowed; upstream reports it as `remainingItemCount`).
    pub remaining: u64,
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Created or updated.
    Put,
    Deleted,
}

/// One change, as a watch delivers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The key after the change. For a delete: the key, an empty value,
    /// and `mod_revision` set to the revision of the delete.
    pub kv: KeyValue,
    /// The key before the change; `None` when a put created it.
    pub prev: Option<KeyValue>,
}

impl Event {
    /// The revision of the write this event reports.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// A stream of changes in revision order. It ends with an `Err` when the
/// backend can no longer guarantee completeness (the connection to etcd is
/// lost, the watcher fell behind a compaction); the client then re-lists,
/// as client-go does after a watch error.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<Event, StorageError>> + Send>>;

/// Why a storage call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("key {key} not found")]
    NotFound { key: String },
    #[error("key {key} already exists")]
    AlreadyExists { key: String },
    /// A compare-and-swap found another revision than the caller expected.
    #[error("key {key} was modified: expected revision {expected}, found {actual}")]
    Conflict {
        key: String,
        expected: Revision,
        /// `Revision(0)` when the key no longer exists.
        actual: Revision,
    },
    /// The revision asked for is older than the oldest one kept.
    #[error("revision {requested} has been compacted; the oldest available is {compacted}")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    /// The revision asked for is newer than the store's current one.
    #[error("revision {requested} is in the future; the current revision is {current}")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    /// The backend cannot be reached or is not ready (maps to 5xx / 504).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Data on disk or in the backend is not what ferrokube wrote.
    #[error("storage data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage failure: {0}")]
    Internal(String),
}

/// The result of a storage call.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The one interface every backend implements. All methods are safe to call
/// concurrently; writes are durable when they return (for durable backends).
#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The key as of `revision` (`None`: latest); `Ok(None)` if absent then.
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>>;

    /// Keys under a prefix, in key order, at one revision.
    async fn range(&self, request: RangeRequest) -> Result<RangeResponse>;

    /// How many keys the prefix holds now.
    async fn count(&self, prefix: &str) -> Result<u64>;

    /// Creates the key if it is absent (`AlreadyExists` otherwise); returns
    /// the stored key.
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue>;

    /// Replaces the value if the key's `mod_revision` is still `expected`
    /// (`Conflict` otherwise, `NotFound` if it is gone); returns the stored key.
    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue>;

    /// Deletes the key, if `expected` is given only while its `mod_revision`
    /// is still that (`Conflict` otherwise); returns the deleted key and the
    /// revision of the delete.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)>;

    /// Every change under `prefix` (a key is its own prefix) with a revision
    /// greater than `after`, in order, then live changes as they happen.
    /// `Compacted` if history after `after` is no longer complete.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream>;

    /// The revision of the latest write.
    async fn current_revision(&self) -> Result<Revision>;

    /// Forgets history older than `revision`; reads and watches below it
    /// then fail with `Compacted`. Current values are never lost.
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// The oldest revision still readable.
    async fn compacted_revision(&self) -> Result<Revision>;

    /// Ok when the backend can serve reads and writes now.
    async fn health(&self) -> Result<()>;
}

/// Reads the key, lets `update` compute its new value from the current one,
/// and writes it with compare-and-swap, retrying on conflicts: upstream's
/// `GuaranteedUpdate`. `update` gets `None` when the key is absent and
/// returns the new value, or an error of its own to stop. Returns the
/// stored key.
pub async fn guaranteed_update<S, E, F>(
    store: &S,
    key: &str,
    mut update: F,
) -> std::result::Result<KeyValue, E>
where
    S: Storage + ?Sized,
    E: From<StorageError>,
    F: FnMut(Option<&KeyValue>) -> std::result::Result<Bytes, E>,
{
    loop {
        let current = store.get(key, None).await?;
        let value = update(current.as_ref())?;
        let written = match &current {
            Some(kv) => store.update(key, value, kv.mod_revision).await,
            None => store.create(key, value).await,
        };
        match written {
            Ok(kv) => return Ok(kv),
            Err(
                StorageError::Conflict { .. }
                | StorageError::AlreadyExists { .. }
                | StorageError::NotFound { .. },
            ) => {
                continue;
            }
            Err(other) => return Err(other.into()),
        }
    }
}
