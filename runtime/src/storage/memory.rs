//! The in-memory backend: etcd semantics without durability.
//!
//! Serves `--storage=memory` (throwaway servers) and is the reference
//! implementation the conformance suite is checked against first, so it
//! favours obviously-correct over fast: one lock around an MVCC map that
//! keeps, for every key, each version with the revision that wrote it
//! (a delete is a tombstone version), exactly like etcd's key index.
//!
//! Watches: every commit is broadcast while the write lock is still held,
//! and a new watch takes its replay from the history and subscribes while
//! holding the read lock, so no commit can fall between the two. Together
//! that gives "every change after `after`, in order, exactly once". A
//! watcher that stops reading while more than the broadcast capacity of
//! changes happen cannot be completed any more; its stream then ends with
//! an [`StorageError::Unavailable`] saying so, and the client re-watches or
//! re-lists, as it would after losing an etcd connection.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use tokio::sync::broadcast;

use super::{
    Event, EventKind, KeyValue, RangeRequest, RangeResponse, Result, Revision, Storage,
    StorageError, WatchStream,
};

/// How many committed changes a watcher may fall behind by before its
/// stream fails, unless [`MemoryStore::with_watch_capacity`] says otherwise.
pub const DEFAULT_WATCH_CAPACITY: usize = 4096;

/// One version of a key: the write that made it and what it left.
#[derive(Clone, Debug)]
struct Version {
    revision: Revision,
    /// The revision that created the key this version belongs to; unused
    /// for tombstones.
    create_revision: Revision,
    /// `None` marks a delete (a tombstone), which ends the key's life.
    value: Option<Bytes>,
}

/// Everything the lock protects.
#[derive(Debug, Default)]
struct State {
    /// Each key's versions in revision order. A key disappears from the map
    /// only when compaction has dropped all of its versions.
    keys: BTreeMap<String, Vec<Version>>,
    /// The revision of the latest write; `Revision(0)` before the first one.
    current: Revision,
    /// The oldest revision still readable.
    compacted: Revision,
}

/// An in-memory [`Storage`] with a full MVCC history.
///
/// History grows until [`Storage::compact`] is called, as it does in etcd;
/// the server's compactor is expected to call it periodically.
#[derive(Debug)]
pub struct MemoryStore {
    state: RwLock<State>,
    events: broadcast::Sender<Arc<Event>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store at `Revision(0)`.
    pub fn new() -> Self {
        Self::with_watch_capacity(DEFAULT_WATCH_CAPACITY)
    }

    /// An empty store whose watchers may fall `capacity` changes behind
    /// before their streams fail (at least 1).
    pub fn with_watch_capacity(capacity: usize) -> Self {
        let (events, _) = broadcast::channel(capacity.max(1));
        Self {
            state: RwLock::new(State::default()),
            events,
        }
    }

    // Every write checks first and mutates last, so only a bug could panic
    // halfway through one; the state behind a poisoned lock is as good as
    // it gets, and refusing all further requests would not help clients.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a version for `key` at the next revision and broadcasts the
    /// change. Called with the write lock held, which is what orders the
    /// broadcast exactly like the history.
    fn commit(&self, state: &mut State, key: &str, value: Option<Bytes>) -> Result<Event> {
        let next = state.current.0.checked_add(1);
        let revision = Revision(
            next.ok_or_else(|| StorageError::Internal("the revision counter overflowed".into()))?,
        );
        let versions = state.keys.entry(key.to_owned()).or_default();
        let create_revision = match versions.last() {
            Some(Version {
                value: Some(_),
                create_revision,
                ..
            }) if value.is_some() => *create_revision,
            _ => revision,
        };
        versions.push(Version {
            revision,
            create_revision,
            value,
        });
        state.current = revision;
        let event = event_at(key, versions, versions.len() - 1);
        // No receivers is not an error: nobody is watching.
        let _ = self.events.send(Arc::new(event.clone()));
        Ok(event)
    }
}

impl State {
    /// The revision a read at `requested` is served at, or why it cannot be.
    fn readable(&self, requested: Option<Revision>) -> Result<Revision> {
        let Some(requested) = requested else {
            return Ok(self.current);
        };
        if requested > self.current {
            return Err(StorageError::FutureRevision {
                requested,
                current: self.current,
            });
        }
        if requested < self.compacted {
            return Err(StorageError::Compacted {
                requested,
                compacted: self.compacted,
            });
        }
        Ok(requested)
    }

    /// The key as it was at `revision`.
    fn get_at(&self, key: &str, revision: Revision) -> Option<KeyValue> {
        self.keys
            .get(key)
            .and_then(|versions| visible_at(key, versions, revision))
    }

    /// The keys with `prefix` from `lower` on, with their histories.
    fn under<'a>(
        &'a self,
        prefix: &'a str,
        lower: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Vec<Version>)> + 'a {
        self.keys
            .range::<str, _>((Bound::Included(lower), Bound::Unbounded))
            .take_while(move |(key, _)| key.starts_with(prefix))
    }

    /// Every change under `prefix` after `after`, in revision order.
    fn history_after(&self, prefix: &str, after: Revision) -> Vec<Event> {
        let mut events = Vec::new();
        for (key, versions) in self.under(prefix, prefix) {
            let first = versions.partition_point(|v| v.revision <= after);
            events.extend((first..versions.len()).map(|i| event_at(key, versions, i)));
        }
        // One revision writes one key, so revisions are unique and this
        // order is total.
        events.sort_by_key(Event::revision);
        events
    }
}

/// The live value of a key at `revision`, if it had one.
fn visible_at(key: &str, versions: &[Version], revision: Revision) -> Option<KeyValue> {
    let index = versions.partition_point(|v| v.revision <= revision);
    let version = versions.get(index.checked_sub(1)?)?;
    live(key, version)
}

/// A version as a [`KeyValue`]; `None` for a tombstone.
fn live(key: &str, version: &Version) -> Option<KeyValue> {
    let value = version.value.clone()?;
    Some(KeyValue {
        key: key.to_owned(),
        value,
        create_revision: version.create_revision,
        mod_revision: version.revision,
    })
}

/// The change that wrote `versions[index]`.
fn event_at(key: &str, versions: &[Version], index: usize) -> Event {
    let version = &versions[index];
    // Compaction keeps the newest version at or below the compaction point,
    // so the predecessor of any version a reader may still ask about is
    // present; if it is a tombstone or missing, the key did not exist.
    let prev = index.checked_sub(1).and_then(|i| live(key, &versions[i]));
    match live(key, version) {
        Some(kv) => Event {
            kind: EventKind::Put,
            kv,
            prev,
        },
        None => Event {
            kind: EventKind::Deleted,
            // etcd reports a delete with the key, no value, no create
            // revision, and the revision of the delete.
            kv: KeyValue {
                key: key.to_owned(),
                value: Bytes::new(),
                create_revision: Revision(0),
                mod_revision: version.revision,
            },
            prev,
        },
    }
}

#[async_trait::async_trait]
impl Storage for MemoryStore {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>> {
        let state = self.read();
        let revision = state.readable(revision)?;
        Ok(state.get_at(key, revision))
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse> {
        let state = self.read();
        let revision = state.readable(request.revision)?;
        let prefix = request.prefix.as_str();
        // A start before the prefix would otherwise pull in foreign keys.
        let lower = match request.start.as_deref() {
            Some(start) if start > prefix => start,
            _ => prefix,
        };
        let limit = request.limit.filter(|&limit| limit > 0);
        let mut kvs = Vec::new();
        let mut remaining = 0u64;
        for (key, versions) in state.under(prefix, lower) {
            let Some(kv) = visible_at(key, versions, revision) else {
                continue;
            };
            if limit.is_some_and(|limit| kvs.len() >= limit) {
                remaining += 1;
            } else {
                kvs.push(kv);
            }
        }
        Ok(RangeResponse {
            kvs,
            revision,
            more: remaining > 0,
            remaining,
        })
    }

    async fn count(&self, prefix: &str) -> Result<u64> {
        let state = self.read();
        let live = state
            .under(prefix, prefix)
            .filter(|(_, versions)| versions.last().is_some_and(|v| v.value.is_some()))
            .count();
        Ok(live as u64)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        let mut state = self.write();
        let current = state.current;
        if state.get_at(key, current).is_some() {
            return Err(StorageError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        Ok(self.commit(&mut state, key, Some(value))?.kv)
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue> {
        let mut state = self.write();
        let current = state.current;
        let Some(existing) = state.get_at(key, current) else {
            return Err(StorageError::NotFound {
                key: key.to_owned(),
            });
        };
        if existing.mod_revision != expected {
            return Err(StorageError::Conflict {
                key: key.to_owned(),
                expected,
                actual: existing.mod_revision,
            });
        }
        Ok(self.commit(&mut state, key, Some(value))?.kv)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)> {
        let mut state = self.write();
        let current = state.current;
        let Some(existing) = state.get_at(key, current) else {
            return Err(StorageError::NotFound {
                key: key.to_owned(),
            });
        };
        if let Some(expected) = expected
            && existing.mod_revision != expected
        {
            return Err(StorageError::Conflict {
                key: key.to_owned(),
                expected,
                actual: existing.mod_revision,
            });
        }
        let event = self.commit(&mut state, key, None)?;
        Ok((existing, event.revision()))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        let state = self.read();
        if after > state.current {
            return Err(StorageError::FutureRevision {
                requested: after,
                current: state.current,
            });
        }
        // The history keeps every change after the compaction point, and
        // the predecessor of each (for `prev`), so `after` may equal it.
        if after < state.compacted {
            return Err(StorageError::Compacted {
                requested: after,
                compacted: state.compacted,
            });
        }
        // Commits broadcast under the write lock, so while this read lock
        // is held none can land between the replay and the subscription.
        let live = self.events.subscribe();
        let replay = state.history_after(prefix, after);
        drop(state);
        Ok(watch_stream(prefix.to_owned(), after, replay, live))
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(self.read().current)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let mut state = self.write();
        if revision > state.current {
            return Err(StorageError::FutureRevision {
                requested: revision,
                current: state.current,
            });
        }
        // Compacting to an older point than already done has nothing left
        // to drop; it is not worth failing the periodic compactor over.
        if revision <= state.compacted {
            return Ok(());
        }
        state.keys.retain(|_, versions| {
            // Keep the newest version at or below `revision` (the key's
            // state at the compaction point, needed for reads there and as
            // `prev` of the next change) unless it is a tombstone: then the
            // key did not exist at that point and nothing before it matters.
            let at_or_below = versions.partition_point(|v| v.revision <= revision);
            let keep_from = match at_or_below.checked_sub(1) {
                Some(newest) if versions[newest].value.is_some() => newest,
                Some(newest) => newest + 1,
                None => 0,
            };
            versions.drain(..keep_from);
            !versions.is_empty()
        });
        state.compacted = revision;
        Ok(())
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        Ok(self.read().compacted)
    }

    async fn health(&self) -> Result<()> {
        Ok(())
    }
}

/// What a watch stream carries between items.
struct WatchState {
    prefix: String,
    /// The revision of the last event delivered (or `after`), so that an
    /// error can tell the client where to resume.
    last: Revision,
    replay: std::vec::IntoIter<Event>,
    live: broadcast::Receiver<Arc<Event>>,
    /// Set once an error has been delivered: the stream then ends.
    failed: bool,
}

/// The replayed history, then matching live changes.
fn watch_stream(
    prefix: String,
    after: Revision,
    replay: Vec<Event>,
    live: broadcast::Receiver<Arc<Event>>,
) -> WatchStream {
    let state = WatchState {
        prefix,
        last: after,
        replay: replay.into_iter(),
        live,
        failed: false,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        if state.failed {
            return None;
        }
        if let Some(event) = state.replay.next() {
            state.last = event.revision();
            return Some((Ok(event), state));
        }
        loop {
            match state.live.recv().await {
                Ok(event) => {
                    if event.kv.key.starts_with(&state.prefix) {
                        state.last = event.revision();
                        return Some((Ok(Event::clone(&event)), state));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    state.failed = true;
                    let error = StorageError::Unavailable(format!(
                        "the watch on {:?} fell {missed} changes behind the store and cannot \
                         be completed; watch again after revision {} or re-list",
                        state.prefix, state.last
                    ));
                    return Some((Err(error), state));
                }
                Err(broadcast::error::RecvError::Closed) => {
                    state.failed = true;
                    let error = StorageError::Unavailable("the store was shut down".into());
                    return Some((Err(error), state));
                }
            }
        }
    }))
}
