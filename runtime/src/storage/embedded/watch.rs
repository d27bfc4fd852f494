//! Watches: replay from the log, then live events from the writer.
//!
//! A watch subscribes to the writer's broadcast *before* it takes the
//! snapshot it replays from. Every batch the writer commits after the
//! subscription is therefore in the subscription, every batch committed
//! before the snapshot is in the snapshot, and the two overlap only in
//! batches committed between the two steps; those are dropped from the
//! live side by revision (anything at or below the snapshot's revision
//! was replayed). That is the whole "no gap, no duplicate" argument.
//!
//! The replay reads the log in chunks on the blocking pool, holding the
//! snapshot for its duration so that a compaction running meanwhile cannot
//! pull history out from under it.

use std::collections::VecDeque;
use std::sync::Arc;

use fjall::{Readable, Snapshot};
use tokio::sync::broadcast;

use super::codec::{KIND_PUT, LogRecord, decode_log_key, engine, log_key};
use super::reader::{View, version_at};
use super::{Batch, Shared};
use crate::storage::{Event, EventKind, KeyValue, Result, Revision, StorageError, WatchStream};

/// A replay chunk ends after this many matching events...
const CHUNK_EVENTS: usize = 256;
/// ...or after this many log records, so that a narrow watch over a busy
/// log still yields to the runtime regularly.
const CHUNK_SCAN: usize = 4096;

/// Opens a watch: validates `after` against a fresh snapshot and returns
/// the stream. `live` must have been subscribed before this is called.
pub(super) fn open(
    shared: Arc<Shared>,
    prefix: String,
    after: Revision,
    live: broadcast::Receiver<Batch>,
) -> Result<WatchStream> {
    let view = View::open(&shared)?;
    if after.0 > view.revision {
        return Err(StorageError::FutureRevision {
            requested: after,
            current: Revision(view.revision),
        });
    }
    // The log keeps every change after the compaction point and the
    // predecessor of each (for `prev`), so `after` may equal the point.
    if after.0 < view.compacted {
        return Err(StorageError::Compacted {
            requested: after,
            compacted: Revision(view.compacted),
        });
    }
    let replay = (after.0 < view.revision).then(|| Replay {
        shared,
        snapshot: view.snapshot,
        next: after.0 + 1,
    });
    let state = State {
        prefix,
        replay,
        replay_end: view.revision,
        buffered: VecDeque::new(),
        live,
        batch: None,
        last: after.0,
        failed: false,
    };
    Ok(Box::pin(futures::stream::unfold(state, next)))
}

/// The part of a watch that is still reading history.
struct Replay {
    shared: Arc<Shared>,
    snapshot: Snapshot,
    /// The next revision to read.
    next: u64,
}

/// Everything a watch stream carries between items.
struct State {
    prefix: String,
    /// `None` once the history up to `replay_end` has been read.
    replay: Option<Replay>,
    /// The snapshot's revision: live events at or below it were replayed.
    replay_end: u64,
    /// Replayed events not yet handed out.
    buffered: VecDeque<Event>,
    live: broadcast::Receiver<Batch>,
    /// The live batch being handed out and the position in it.
    batch: Option<(Batch, usize)>,
    /// The revision of the last event delivered (or `after`), so that an
    /// error can tell the client where to resume.
    last: u64,
    /// Set once an error has been delivered: the stream then ends.
    failed: bool,
}

impl State {
    fn fail(mut self, error: StorageError) -> Option<(Result<Event>, Self)> {
        self.failed = true;
        self.replay = None;
        self.batch = None;
        Some((Err(error), self))
    }
}

async fn next(mut state: State) -> Option<(Result<Event>, State)> {
    if state.failed {
        return None;
    }
    loop {
        if let Some(event) = state.buffered.pop_front() {
            state.last = event.revision().0;
            return Some((Ok(event), state));
        }
        if let Some(replay) = state.replay.take() {
            if replay.next > state.replay_end {
                continue;
            }
            let prefix = state.prefix.clone();
            let end = state.replay_end;
            let chunk = tokio::task::spawn_blocking(move || {
                let chunk = read_chunk(&replay, &prefix, end);
                (replay, chunk)
            })
            .await;
            match chunk {
                Ok((mut replay, Ok((events, next)))) => {
                    replay.next = next;
                    state.buffered.extend(events);
                    state.replay = Some(replay);
                }
                Ok((_, Err(error))) => return state.fail(error),
                Err(join) => {
                    return state.fail(StorageError::Internal(format!(
                        "watch replay failed: {join}"
                    )));
                }
            }
            continue;
        }
        if let Some((batch, position)) = state.batch.take() {
            let found = batch[position..].iter().position(|event| {
                event.revision().0 > state.replay_end && event.kv.key.starts_with(&state.prefix)
            });
            if let Some(offset) = found {
                let event = batch[position + offset].clone();
                state.batch = Some((batch, position + offset + 1));
                state.last = event.revision().0;
                return Some((Ok(event), state));
            }
            continue;
        }
        match state.live.recv().await {
            Ok(batch) => state.batch = Some((batch, 0)),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                let error = StorageError::Unavailable(format!(
                    "the watch on {:?} fell {missed} commits behind the store and cannot be \
                     completed; watch again after revision {} or re-list",
                    state.prefix, state.last
                ));
                return state.fail(error);
            }
            Err(broadcast::error::RecvError::Closed) => {
                return state.fail(StorageError::Unavailable("the store was shut down".into()));
            }
        }
    }
}

/// Reads matching events from `replay.next` on, up to `end`; returns them
/// and the revision to continue from.
fn read_chunk(replay: &Replay, prefix: &str, end: u64) -> Result<(Vec<Event>, u64)> {
    let tables = &replay.shared.tables;
    let mut events = Vec::new();
    let mut scanned = 0usize;
    for entry in replay
        .snapshot
        .range(&tables.log, log_key(replay.next)..=log_key(end))
    {
        let (key, record) = entry.into_inner().map_err(engine)?;
        let revision = decode_log_key(&key)?;
        scanned += 1;
        if LogRecord::key_of(&record)?.starts_with(prefix) {
            events.push(event_at(replay, revision, LogRecord::decode(record)?)?);
        }
        if events.len() >= CHUNK_EVENTS || scanned >= CHUNK_SCAN {
            return Ok((events, revision + 1));
        }
    }
    Ok((events, end + 1))
}

/// The event a logged write makes, with the version it replaced.
fn event_at(replay: &Replay, revision: u64, record: LogRecord) -> Result<Event> {
    let prev = match record.prev_revision {
        0 => None,
        prev => Some(version_at(&replay.shared, &replay.snapshot, prev)?),
    };
    Ok(if record.kind == KIND_PUT {
        Event {
            kind: EventKind::Put,
            kv: record.key_value(revision),
            prev,
        }
    } else {
        Event {
            kind: EventKind::Deleted,
            kv: KeyValue {
                key: record.key,
                value: bytes::Bytes::new(),
                create_revision: Revision(0),
                mod_revision: Revision(revision),
            },
            prev,
        }
    })
}
