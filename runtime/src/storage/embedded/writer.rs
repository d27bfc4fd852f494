//! The single writer: group commit.
//!
//! One OS thread owns every write. It blocks for a request, then takes
//! whatever else is already queued (up to [`MAX_BATCH`] requests or
//! [`MAX_BATCH_BYTES`] of values), gives each successful request the next
//! revision while evaluating its compare-and-swap against the state left
//! by the requests before it (in the database or earlier in the batch),
//! commits the whole batch as one atomic write batch with one fsync, and
//! only then publishes the batch's events and answers the callers. While
//! the fsync runs, new requests queue up and form the next batch, so the
//! number of fsyncs per second stays constant as writers are added and the
//! throughput grows with them.
//!
//! Failed compare-and-swaps take no revision, as in etcd.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fjall::PersistMode;
use tokio::sync::{broadcast, oneshot};

use super::codec::{
    Current, KIND_DELETE, KIND_PUT, LogRecord, META_REVISION, corrupt, engine, index_key, log_key,
};
use super::layout::Checkpoint;
use super::{Batch, Shared};
use crate::storage::{Event, EventKind, KeyValue, Result, Revision, StorageError};

/// At most this many requests share one commit: bounds the latency a
/// request can add to the others of its batch.
const MAX_BATCH: usize = 1024;
/// A batch stops taking requests once their values add up to this, so that
/// a burst of large objects does not build one huge commit.
const MAX_BATCH_BYTES: usize = 16 << 20;
/// The longest key accepted: the database caps keys at 64 KiB, and the
/// index key is the (escaped) key plus nine bytes.
pub(super) const MAX_KEY_LEN: usize = 16 << 10;
/// How often, at most, the checkpoint file is rewritten.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// What a write asks for.
#[derive(Debug)]
pub(super) enum Op {
    Create(Bytes),
    Update(Bytes, Revision),
    Delete(Option<Revision>),
}

impl Op {
    /// The bytes the write stores.
    fn value_len(&self) -> usize {
        match self {
            Op::Create(value) | Op::Update(value, _) => value.len(),
            Op::Delete(_) => 0,
        }
    }
}

/// What a successful write reports: the key as stored (for a delete, as it
/// was before) and the revision of the write.
pub(super) type Written = (KeyValue, Revision);

/// One queued write and where its answer goes.
#[derive(Debug)]
pub(super) struct Request {
    pub key: String,
    pub op: Op,
    pub reply: oneshot::Sender<Result<Written>>,
}

/// A request that passed its checks, waiting for the commit.
struct Accepted {
    reply: oneshot::Sender<Result<Written>>,
    written: Written,
}

/// Runs until every sender of `requests` is gone, then records a last
/// checkpoint.
pub(super) fn run(
    shared: Arc<Shared>,
    requests: Receiver<Request>,
    events: broadcast::Sender<Batch>,
    mut checkpoint: Checkpoint,
) {
    let mut writer = Writer {
        revision: shared.committed.load(Ordering::SeqCst),
        shared,
        events,
        pending: Vec::with_capacity(MAX_BATCH),
        accepted: Vec::with_capacity(MAX_BATCH),
        touched: HashMap::new(),
    };
    let mut checkpointed = writer.revision;
    let mut last_checkpoint = Instant::now();
    while let Ok(first) = requests.recv() {
        let mut bytes = first.op.value_len();
        writer.pending.push(first);
        while writer.pending.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match requests.try_recv() {
                Ok(request) => {
                    bytes += request.op.value_len();
                    writer.pending.push(request);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        writer.apply_batch();
        if writer.revision > checkpointed && last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            record_checkpoint(&mut checkpoint, writer.revision);
            checkpointed = writer.revision;
            last_checkpoint = Instant::now();
        }
    }
    if writer.revision > checkpointed {
        record_checkpoint(&mut checkpoint, writer.revision);
    }
}

fn record_checkpoint(checkpoint: &mut Checkpoint, revision: u64) {
    // A missed checkpoint only weakens the damage check at the next start;
    // it is no reason to stop accepting writes.
    if let Err(error) = checkpoint.record(revision) {
        tracing::warn!(path = %checkpoint.path().display(), %error, "cannot record the storage checkpoint");
    }
}

/// The writer thread's state between batches.
struct Writer {
    shared: Arc<Shared>,
    events: broadcast::Sender<Batch>,
    /// The revision of the latest durable write.
    revision: u64,
    /// The requests of the batch being built.
    pending: Vec<Request>,
    /// Those of them that passed their checks, in revision order.
    accepted: Vec<Accepted>,
    /// Keys written earlier in this batch and what they hold now (`None`:
    /// deleted), since the database does not show uncommitted writes.
    touched: HashMap<String, Option<Current>>,
}

impl Writer {
    fn apply_batch(&mut self) {
        let tables = &self.shared.tables;
        let mut batch = tables.db.batch().durability(Some(PersistMode::SyncAll));
        let mut events = Vec::with_capacity(self.pending.len());
        let mut next = self.revision;
        for request in self.pending.drain(..) {
            let existing = match self.touched.get(&request.key) {
                Some(state) => Ok(state.clone()),
                None => read_current(&self.shared, &request.key),
            };
            let outcome = existing.and_then(|existing| check(&request, existing, next + 1));
            let (new_state, event) = match outcome {
                Ok(change) => change,
                Err(error) => {
                    // The caller may have given up waiting; nothing to do then.
                    let _ = request.reply.send(Err(error));
                    continue;
                }
            };
            next += 1;
            let key = request.key;
            match &new_state {
                Some(current) => {
                    batch.insert(&tables.current, key.as_str(), current.encode());
                    let create = current.create_revision;
                    let prev = event.prev.as_ref().map_or(0, |kv| kv.mod_revision.0);
                    batch.insert(
                        &tables.log,
                        log_key(next),
                        LogRecord::encode(KIND_PUT, create, prev, &key, &current.value),
                    );
                    batch.insert(&tables.index, index_key(&key, next), [KIND_PUT]);
                }
                None => {
                    batch.remove(&tables.current, key.as_str());
                    let prev = event.prev.as_ref().map_or(0, |kv| kv.mod_revision.0);
                    batch.insert(
                        &tables.log,
                        log_key(next),
                        LogRecord::encode(KIND_DELETE, 0, prev, &key, &[]),
                    );
                    batch.insert(&tables.index, index_key(&key, next), [KIND_DELETE]);
                }
            }
            let written = match event.kind {
                EventKind::Put => (event.kv.clone(), Revision(next)),
                // A delete answers with the key as it was.
                EventKind::Deleted => (
                    event.prev.clone().unwrap_or_else(|| event.kv.clone()),
                    Revision(next),
                ),
            };
            self.touched.insert(key, new_state);
            self.accepted.push(Accepted {
                reply: request.reply,
                written,
            });
            events.push(event);
        }
        self.touched.clear();
        if self.accepted.is_empty() {
            return;
        }
        batch.insert(&tables.meta, META_REVISION, next.to_be_bytes());
        if let Err(error) = batch.commit() {
            let error = engine(error);
            tracing::error!(%error, "the embedded store could not commit a batch of writes");
            self.shared.fail(&error);
            for accepted in self.accepted.drain(..) {
                let _ = accepted.reply.send(Err(error.clone()));
            }
            return;
        }
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        self.shared
            .writes
            .fetch_add(next - self.revision, Ordering::Relaxed);
        self.revision = next;
        self.shared.committed.store(next, Ordering::SeqCst);
        // Publishing before answering means a caller that saw its write
        // acknowledged also finds it queued for every watcher. No receiver
        // is not an error: nobody is watching.
        let _ = self.events.send(Arc::new(events));
        for accepted in self.accepted.drain(..) {
            let _ = accepted.reply.send(Ok(accepted.written));
        }
    }
}

/// The key's live state as last committed.
fn read_current(shared: &Shared, key: &str) -> Result<Option<Current>> {
    let record = shared.tables.current.get(key).map_err(engine)?;
    record.map(Current::decode).transpose()
}

/// Evaluates one request against the key's state; on success returns the
/// key's new state (`None`: deleted) and the event it makes at `revision`.
fn check(
    request: &Request,
    existing: Option<Current>,
    revision: u64,
) -> Result<(Option<Current>, Event)> {
    let key = request.key.as_str();
    if key.len() > MAX_KEY_LEN {
        return Err(StorageError::Internal(format!(
            "key of {} bytes is longer than the embedded store's limit of {MAX_KEY_LEN}",
            key.len()
        )));
    }
    if revision == u64::MAX {
        return Err(corrupt("the revision counter is exhausted"));
    }
    let not_found = || StorageError::NotFound {
        key: key.to_owned(),
    };
    let conflict = |expected: Revision, actual: u64| StorageError::Conflict {
        key: key.to_owned(),
        expected,
        actual: Revision(actual),
    };
    match &request.op {
        Op::Create(value) => {
            if existing.is_some() {
                return Err(StorageError::AlreadyExists {
                    key: key.to_owned(),
                });
            }
            let current = Current {
                create_revision: revision,
                mod_revision: revision,
                value: value.clone(),
            };
            let event = Event {
                kind: EventKind::Put,
                kv: current.key_value(key),
                prev: None,
            };
            Ok((Some(current), event))
        }
        Op::Update(value, expected) => {
            let existing = existing.ok_or_else(not_found)?;
            if existing.mod_revision != expected.0 {
                return Err(conflict(*expected, existing.mod_revision));
            }
            let current = Current {
                create_revision: existing.create_revision,
                mod_revision: revision,
                value: value.clone(),
            };
            let event = Event {
                kind: EventKind::Put,
                kv: current.key_value(key),
                prev: Some(existing.key_value(key)),
            };
            Ok((Some(current), event))
        }
        Op::Delete(expected) => {
            let existing = existing.ok_or_else(not_found)?;
            if let Some(expected) = expected
                && existing.mod_revision != expected.0
            {
                return Err(conflict(*expected, existing.mod_revision));
            }
            let event = Event {
                kind: EventKind::Deleted,
                // etcd reports a delete with the key, no value, no create
                // revision, and the revision of the delete.
                kv: KeyValue {
                    key: key.to_owned(),
                    value: Bytes::new(),
                    create_revision: Revision(0),
                    mod_revision: Revision(revision),
                },
                prev: Some(existing.key_value(key)),
            };
            Ok((None, event))
        }
    }
}
