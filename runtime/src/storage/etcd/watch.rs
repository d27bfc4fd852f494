//! Turns an etcd watch into the trait's [`WatchStream`].
//!
//! etcd delivers events in revision order, grouped per revision, exactly
//! once per watcher; what this module adds is the trait's end-of-stream
//! rule: the stream never just stops. A cancelled watcher (compaction, lost
//! leader), a broken connection or a server that closes the stream all end
//! it with an `Err`, so that the caller re-lists instead of silently missing
//! events.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use etcd_client::proto::{PbEvent, PbWatchResponse};
use futures::StreamExt;

use super::convert_kv;
use super::errors::{Failure, classify};
use super::keys::KeyMap;
use crate::storage::{Event, EventKind, Result, Revision, StorageError, WatchStream};

// etcd's mvccpb.Event.EventType values.
const PUT: i32 = 0;
const DELETE: i32 = 1;

/// One open etcd watch and what has been received but not yet handed out.
pub(super) struct Watch {
    /// Kept whole (not split) because dropping its request half would close
    /// our side of the gRPC stream.
    stream: etcd_client::WatchStream,
    pending: VecDeque<Result<Event>>,
    keys: KeyMap,
    /// The revision the caller watches after, reported in `Compacted`
    /// errors.
    after: Revision,
    /// The store's lower bound of etcd's compaction point, raised when etcd
    /// tells a watcher about a newer one.
    compacted_floor: Arc<AtomicU64>,
    finished: bool,
}

impl Watch {
    /// Wraps a freshly created etcd watch.
    pub(super) fn new(
        stream: etcd_client::WatchStream,
        keys: KeyMap,
        after: Revision,
        compacted_floor: Arc<AtomicU64>,
    ) -> Self {
        Self {
            stream,
            pending: VecDeque::new(),
            keys,
            after,
            compacted_floor,
            finished: false,
        }
    }

    /// Waits for etcd to confirm that the watcher exists, so that a rejected
    /// watch fails the `watch` call instead of the first read of the stream.
    /// Events that arrive before the confirmation (etcd does not send any,
    /// but nothing forbids it) are kept.
    pub(super) async fn wait_created(&mut self) -> Result<()> {
        loop {
            let response = self.next_response().await?;
            let created = response.created;
            self.absorb(response);
            if let Some(Err(error)) = self.pending.back() {
                return Err(error.clone());
            }
            if created {
                return Ok(());
            }
        }
    }

    /// The trait's stream: pending events first, then whatever etcd sends,
    /// ending after the first error.
    pub(super) fn into_stream(self) -> WatchStream {
        futures::stream::unfold(self, |mut watch| async move {
            loop {
                if let Some(item) = watch.pending.pop_front() {
                    if item.is_err() {
                        watch.finished = true;
                        watch.pending.clear();
                    }
                    return Some((item, watch));
                }
                if watch.finished {
                    return None;
                }
                match watch.next_response().await {
                    Ok(response) => watch.absorb(response),
                    Err(error) => watch.pending.push_back(Err(error)),
                }
            }
        })
        .boxed()
    }

    /// The next message from etcd; the end of the gRPC stream is an error
    /// too, because the trait promises completeness until an `Err`.
    async fn next_response(&mut self) -> Result<PbWatchResponse> {
        match self.stream.message().await {
            Ok(Some(response)) => Ok(response.0),
            Ok(None) => Err(StorageError::Unavailable(
                "etcd closed the watch stream".to_owned(),
            )),
            Err(error) => Err(match classify(error) {
                Failure::Compacted => self.compacted(Revision(0)),
                // A watch has no revision that could be in the future; should
                // etcd say so anyway, the caller must re-list all the same.
                Failure::FutureRevision => {
                    StorageError::Internal("etcd reported a future revision on a watch".to_owned())
                }
                Failure::Other(error) => error,
            }),
        }
    }

    /// Queues the events of one response, or the error it carries.
    fn absorb(&mut self, response: PbWatchResponse) {
        if response.canceled || response.compact_revision > 0 {
            let error = if response.compact_revision > 0 {
                let compacted = Revision(u64::try_from(response.compact_revision).unwrap_or(0));
                self.compacted(compacted)
            } else {
                // etcd cancels watchers when the member loses its leader (we
                // ask for require-leader) or permissions change; either way
                // the history from here on is not guaranteed.
                StorageError::Unavailable(format!(
                    "etcd cancelled the watch: {}",
                    response.cancel_reason
                ))
            };
            self.pending.push_back(Err(error));
            return;
        }
        for event in response.events {
            match convert_event(&self.keys, event) {
                Ok(event) => self.pending.push_back(Ok(event)),
                Err(error) => {
                    self.pending.push_back(Err(error));
                    return;
                }
            }
        }
    }

    fn compacted(&self, compacted: Revision) -> StorageError {
        let floor = self
            .compacted_floor
            .fetch_max(compacted.0, Ordering::Relaxed)
            .max(compacted.0);
        StorageError::Compacted {
            requested: self.after,
            compacted: Revision(floor),
        }
    }
}

/// One etcd event as the trait's [`Event`].
fn convert_event(keys: &KeyMap, event: PbEvent) -> Result<Event> {
    let kv = event
        .kv
        .ok_or_else(|| StorageError::Corrupt("etcd sent a watch event without a key".to_owned()))?;
    let prev = event
        .prev_kv
        .map(|prev| convert_kv(keys, prev))
        .transpose()?;
    match event.r#type {
        PUT => Ok(Event {
            kind: EventKind::Put,
            kv: convert_kv(keys, kv)?,
            prev,
        }),
        // etcd's tombstone carries the key, no value, no create revision
        // and the revision of the delete: what the trait asks for.
        DELETE => Ok(Event {
            kind: EventKind::Deleted,
            kv: convert_kv(keys, kv)?,
            prev,
        }),
        other => Err(StorageError::Corrupt(format!(
            "etcd sent a watch event of unknown type {other}"
        ))),
    }
}
