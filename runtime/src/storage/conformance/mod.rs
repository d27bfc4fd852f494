//! The conformance suite every [`Storage`] backend passes.
//!
//! It is ordinary (non-`cfg(test)`) code so that the integration tests of
//! every backend can run it; it costs nothing unless called. A backend's
//! test file (in this package, which depends on `tokio`) invokes
//!
//! ```ignore
//! use runtime::storage::memory::MemoryStore;
//!
//! runtime::conformance_tests! {
//!     factory: |_case| async { (MemoryStore::new(), ()) },
//! }
//! ```
//!
//! which expands to one `#[tokio::test]` per case, named after the case, so
//! a failure names what broke. Options follow the factory as
//! `name: value` pairs, each a builder method of [`Options`]:
//! `scale: 10_000` (default 100 000, the size of the bulk cases),
//! `timeout: Duration::from_secs(30)` (per awaited watch event, default
//! 10 s), `case_timeout: ...` (per case, default 120 s).
//!
//! # The factory
//!
//! `factory` is any expression callable as `factory(case: Case)` returning a
//! future of `(store, guard)`. Each case calls it once and needs a store
//! that looks empty to it: no key under `/registry/` and nobody else
//! compacting it. The guard lives until the case ends (and is dropped after
//! the store), so it can remove a temporary directory or clean up keys;
//! use `()` when there is nothing to clean up.
//!
//! - memory: `MemoryStore::new()`.
//! - embedded: a store opened in a fresh temporary directory, with the
//!   directory as the guard.
//! - etcd: either a fresh etcd per case, or one shared etcd with a store
//!   that puts every key under a unique prefix (`--etcd-prefix` style,
//!   e.g. derived from [`Case::name`] plus a per-run nonce) and a guard
//!   that deletes it. Cases with [`Case::compacts`] set compact the whole
//!   keyspace, which would break concurrent cases reading old revisions of
//!   the same etcd; a shared-etcd factory can hand out a guard of a global
//!   `RwLock` (write for compacting cases, read for the rest).
//!
//! The suite therefore never assumes that it is the only writer of the
//! revision counter: revisions must strictly increase across its own
//! writes, but may jump, and the first one need not be `Revision(1)`.
//! Backend-specific exact properties (the memory store's revisions going
//! up by exactly one) belong in that backend's own tests.
//!
//! Every await on a watch is bounded by [`Options::timeout`], and every
//! case by [`Options::case_timeout`], so a bug fails instead of hanging.

mod basic;
mod compaction;
mod load;
mod range;
mod watch;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::{Event, EventKind, KeyValue, RangeRequest, Revision, Storage, StorageError};
use super::{Result, WatchStream};

pub use basic::{
    create_if_absent, delete_with_expected_revision, empty_store, future_revision,
    get_at_old_revision, large_values, not_found, range_at_old_revision,
    revisions_strictly_increase, update_compare_and_swap,
};
pub use compaction::{compaction, watch_from_compacted_revision};
pub use load::{concurrent_guaranteed_update, many_keys};
pub use range::{count, pagination_limits, pagination_reads_one_snapshot, prefix_isolation};
pub use watch::{
    watch_delete_event, watch_from_current_revision, watch_from_old_revision,
    watch_replay_meets_live, watch_single_key, watch_slow_watcher,
};

/// Expands to one `#[tokio::test]` per conformance case; see
/// [`storage::conformance`](crate::storage::conformance) for the factory
/// and the options.
#[macro_export]
macro_rules! conformance_tests {
    (factory: $factory:expr $(, $option:ident : $value:expr)* $(,)?) => {
        $crate::__conformance_cases! {
            ($factory)
            ($crate::storage::conformance::Options::default() $(.$option($value))*)
            empty_store: false,
            revisions_strictly_increase: false,
            create_if_absent: false,
            update_compare_and_swap: false,
            delete_with_expected_revision: false,
            not_found: false,
            get_at_old_revision: false,
            range_at_old_revision: false,
            future_revision: false,
            large_values: false,
            pagination_reads_one_snapshot: false,
            pagination_limits: false,
            prefix_isolation: false,
            count: false,
            many_keys: false,
            concurrent_guaranteed_update: false,
            watch_from_current_revision: false,
            watch_from_old_revision: false,
            watch_replay_meets_live: false,
            watch_single_key: false,
            watch_delete_event: false,
            watch_slow_watcher: false,
            watch_from_compacted_revision: true,
            compaction: true,
        }
    };
}

/// The expansion of [`conformance_tests!`]: one test per `name: compacts`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    (($factory:expr) ($options:expr) $($name:ident : $compacts:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let case = $crate::storage::conformance::Case {
                    name: stringify!($name),
                    compacts: $compacts,
                };
                let options: $crate::storage::conformance::Options = $options;
                let (store, guard) = ($factory)(case).await;
                // Declared before the store so that it is dropped after it.
                let _guard = guard;
                let store = ::std::sync::Arc::new(store);
                $crate::storage::conformance::within(
                    case,
                    options,
                    $crate::storage::conformance::$name(store, options),
                )
                .await;
            }
        )*
    };
}

/// Which case a factory is making a store for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    /// The case's name, which is also its test's name.
    pub name: &'static str,
    /// Whether the case compacts the store (a store shared with other
    /// cases must not be compacted under them).
    pub compacts: bool,
}

/// Knobs for slow backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// How many keys the bulk cases write (`many_keys`), and from which the
    /// other load sizes are derived.
    pub scale: usize,
    /// How long to wait for any one watch event.
    pub timeout: Duration,
    /// How long one case may take.
    pub case_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            scale: 100_000,
            timeout: Duration::from_secs(10),
            case_timeout: Duration::from_secs(120),
        }
    }
}

impl Options {
    /// Sets [`Options::scale`] (at least 100, so every case still
    /// paginates and overflows a watcher's buffer in a meaningful way).
    pub fn scale(mut self, scale: usize) -> Self {
        self.scale = scale.max(100);
        self
    }

    /// Sets [`Options::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`Options::case_timeout`].
    pub fn case_timeout(mut self, case_timeout: Duration) -> Self {
        self.case_timeout = case_timeout;
        self
    }
}

/// Runs one case's body, failing it by name if it exceeds
/// [`Options::case_timeout`]. Used by [`conformance_tests!`].
pub async fn within(case: Case, options: Options, body: impl Future<Output = ()>) {
    if tokio::time::timeout(options.case_timeout, body)
        .await
        .is_err()
    {
        panic!(
            "conformance case {} did not finish within {:?}",
            case.name, options.case_timeout
        );
    }
}

fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

fn request(prefix: &str) -> RangeRequest {
    RangeRequest {
        prefix: prefix.to_owned(),
        ..RangeRequest::default()
    }
}

/// The key just after `key` in byte order: where the next page starts, as
/// upstream builds continue tokens.
fn after_key(key: &str) -> String {
    format!("{key}\u{0}")
}

async fn create<S: Storage>(store: &S, key: &str, value: &str) -> KeyValue {
    let kv = store
        .create(key, bytes(value))
        .await
        .unwrap_or_else(|e| panic!("create {key}: {e}"));
    assert_eq!(kv.key, key);
    assert_eq!(kv.value, value.as_bytes());
    assert_eq!(
        kv.create_revision, kv.mod_revision,
        "a create starts the key's life"
    );
    kv
}

async fn update<S: Storage>(store: &S, previous: &KeyValue, value: &str) -> KeyValue {
    let kv = store
        .update(&previous.key, bytes(value), previous.mod_revision)
        .await
        .unwrap_or_else(|e| panic!("update {}: {e}", previous.key));
    assert_eq!(kv.key, previous.key);
    assert_eq!(kv.value, value.as_bytes());
    assert_eq!(
        kv.create_revision, previous.create_revision,
        "an update keeps create_revision"
    );
    assert!(
        kv.mod_revision > previous.mod_revision,
        "an update gets a new revision"
    );
    kv
}

async fn delete<S: Storage>(store: &S, previous: &KeyValue) -> Revision {
    let (deleted, revision) = store
        .delete(&previous.key, Some(previous.mod_revision))
        .await
        .unwrap_or_else(|e| panic!("delete {}: {e}", previous.key));
    assert_eq!(&deleted, previous, "delete returns the key as it was");
    assert!(
        revision > previous.mod_revision,
        "a delete gets a new revision"
    );
    revision
}

async fn get<S: Storage>(store: &S, key: &str, revision: Option<Revision>) -> Option<KeyValue> {
    store
        .get(key, revision)
        .await
        .unwrap_or_else(|e| panic!("get {key} at {revision:?}: {e}"))
}

async fn current<S: Storage>(store: &S) -> Revision {
    store.current_revision().await.expect("current_revision")
}

async fn watch<S: Storage>(store: &S, prefix: &str, after: Revision) -> WatchStream {
    store
        .watch(prefix, after)
        .await
        .unwrap_or_else(|e| panic!("watch {prefix} after {after}: {e}"))
}

/// The next item of a watch, failing the case if none comes in time.
async fn next_item(stream: &mut WatchStream, options: Options) -> Option<Result<Event>> {
    tokio::time::timeout(options.timeout, stream.next())
        .await
        .unwrap_or_else(|_| panic!("no watch event within {:?}", options.timeout))
}

/// The next event of a watch, failing on errors and on the end of the stream.
async fn next_event(stream: &mut WatchStream, options: Options) -> Event {
    match next_item(stream, options).await {
        Some(Ok(event)) => event,
        Some(Err(e)) => panic!("the watch failed: {e}"),
        None => panic!("the watch ended"),
    }
}

/// Checks that `event` reports `kv` being written, with `prev` before it.
fn assert_put(event: &Event, kv: &KeyValue, prev: Option<&KeyValue>) {
    assert_eq!(event.kind, EventKind::Put, "{event:?}");
    assert_eq!(&event.kv, kv, "the event carries the stored key");
    assert_eq!(
        event.prev.as_ref(),
        prev,
        "the event carries the key before the change"
    );
    assert_eq!(event.revision(), kv.mod_revision);
}

/// Checks that `event` reports the delete of `prev` at `revision`.
fn assert_deleted(event: &Event, prev: &KeyValue, revision: Revision) {
    assert_eq!(event.kind, EventKind::Deleted, "{event:?}");
    assert_eq!(event.kv.key, prev.key);
    assert!(event.kv.value.is_empty(), "a delete event has no value");
    assert_eq!(
        event.kv.mod_revision, revision,
        "a delete event has the delete's revision"
    );
    assert_eq!(event.revision(), revision);
    assert_eq!(
        event.prev.as_ref(),
        Some(prev),
        "a delete event carries the deleted key"
    );
}

/// Writes `key` under the watched prefix and checks that it is the next
/// event: proof that nothing else was pending before it.
async fn assert_next_is_sentinel<S: Storage>(
    store: &S,
    stream: &mut WatchStream,
    key: &str,
    options: Options,
) {
    let kv = create(store, key, "sentinel").await;
    let event = next_event(stream, options).await;
    assert_put(&event, &kv, None);
}

/// Checks that a read failed with `Compacted` for `requested`.
fn assert_compacted<T: std::fmt::Debug>(
    result: Result<T>,
    requested: Revision,
    compacted: Revision,
) {
    match result {
        Err(StorageError::Compacted {
            requested: r,
            compacted: c,
        }) => {
            assert_eq!(r, requested, "Compacted names the revision asked for");
            assert_eq!(c, compacted, "Compacted names the compaction point");
        }
        other => panic!("expected Compacted below {compacted} for {requested}, got {other:?}"),
    }
}

/// Reads a whole prefix page by page at one revision (the first page's),
/// checking `more` and `remaining` on every page; returns the keys and the
/// revision. `between` runs after each page, to write while listing.
async fn read_pages<S, F, Fut>(
    store: &S,
    prefix: &str,
    limit: usize,
    mut between: F,
) -> (Vec<KeyValue>, Revision)
where
    S: Storage,
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut all: Vec<KeyValue> = Vec::new();
    let mut revision = None;
    let mut start = None;
    let mut expected_total = None;
    for page in 0.. {
        let response = store
            .range(RangeRequest {
                prefix: prefix.to_owned(),
                start: start.clone(),
                limit: Some(limit),
                revision,
            })
            .await
            .unwrap_or_else(|e| panic!("page {page} of {prefix}: {e}"));
        if let Some(revision) = revision {
            assert_eq!(
                response.revision, revision,
                "a page is served at the revision asked for"
            );
        }
        revision = Some(response.revision);
        assert!(
            response.kvs.len() <= limit,
            "a page holds at most `limit` keys"
        );
        assert!(response.kvs.iter().all(|kv| kv.key.starts_with(prefix)));
        all.extend(response.kvs.iter().cloned());
        let total = all.len() as u64 + response.remaining;
        assert_eq!(
            *expected_total.get_or_insert(total),
            total,
            "page {page}: returned + remaining is the same snapshot's size on every page"
        );
        assert_eq!(
            response.more,
            response.remaining > 0,
            "page {page}: more iff remaining"
        );
        if !response.more {
            break;
        }
        assert_eq!(response.kvs.len(), limit, "only the last page may be short");
        start = response.kvs.last().map(|kv| after_key(&kv.key));
        between(page).await;
    }
    assert!(
        all.windows(2).all(|pair| pair[0].key < pair[1].key),
        "pages are in key order without duplicates"
    );
    (all, revision.expect("at least one page"))
}
