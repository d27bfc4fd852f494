//! Compaction: trimming history, and the timer that drives it.
//!
//! `compact(point)` keeps, for every key, each version above the point and
//! the newest one at or below it (the key's state at the point, and the
//! `prev` of its next change) unless that one is a delete. Everything
//! else below the point is removed from `log` and `index`. The point is
//! published (and persisted) before anything is deleted, so reads and
//! watches below it are refused from then on; see [`super::reader::View`]
//! for why readers that raced with it are still served correctly.
//!
//! Each compaction scans the log from where the previous one stopped (the
//! persisted floor) to the point, so its cost follows the writes since the
//! last compaction, not the size of the store. A version the previous
//! compaction kept (below the floor) is reached through the `prev` pointer
//! of the key's first write after the floor. The floor only moves once a
//! compaction has finished, so one interrupted by a crash is redone; every
//! step is idempotent.
//!
//! Disk space: the deletions are tombstones in the LSM tree, which its
//! background compaction merges away together with the versions they
//! cover, returning the space to the file system. Since log and index
//! keys grow with the revision, old history sits in old table files that
//! compaction drops whole.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use fjall::{PersistMode, Readable};

use super::Shared;
use super::codec::{
    KIND_PUT, LogRecord, META_COMPACT_FLOOR, META_COMPACTED, decode_log_key, decode_meta, engine,
    index_key, log_key,
};
use crate::storage::{Result, Revision, Storage, StorageError};

/// Deletions per write batch, so that a large compaction does not build
/// one huge batch in memory.
const DELETES_PER_BATCH: usize = 8192;

/// Compacts the store to `point`; blocks, runs on the blocking pool.
pub(super) fn compact(shared: &Shared, point: Revision) -> Result<()> {
    // One compaction at a time: two would scan the same floor.
    let _only = shared
        .compaction
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let tables = &shared.tables;
    let current = shared.committed.load(Ordering::SeqCst);
    if point.0 > current {
        return Err(StorageError::FutureRevision {
            requested: point,
            current: Revision(current),
        });
    }
    let previous = shared.compacted.load(Ordering::SeqCst);
    // Compacting to an older point than already done has nothing left to
    // drop; it is not worth failing the periodic compactor over.
    if point.0 <= previous {
        return Ok(());
    }
    let mut batch = tables.db.batch().durability(Some(PersistMode::SyncAll));
    batch.insert(&tables.meta, META_COMPACTED, point.0.to_be_bytes());
    batch.commit().map_err(engine)?;
    shared.compacted.store(point.0, Ordering::SeqCst);

    let snapshot = tables.db.snapshot();
    let floor = decode_meta(
        snapshot
            .get(&tables.meta, META_COMPACT_FLOOR)
            .map_err(engine)?,
    )?
    .max(1);
    let mut deletes = Deletes::new(shared);
    // Each key written in the window: its newest revision so far and
    // whether that write was a put.
    let mut newest: HashMap<String, (u64, bool)> = HashMap::new();
    for entry in snapshot.range(&tables.log, log_key(floor)..=log_key(point.0)) {
        let (key, record) = entry.into_inner().map_err(engine)?;
        let revision = decode_log_key(&key)?;
        let record = LogRecord::decode(record)?;
        let is_put = record.kind == KIND_PUT;
        if let Some((older, _)) = newest.get(&record.key).copied() {
            // Superseded within the window, at or below the point.
            deletes.remove(&record.key, older)?;
        } else if record.prev_revision != 0 && record.prev_revision < floor {
            // The version an earlier compaction kept is superseded now.
            deletes.remove(&record.key, record.prev_revision)?;
        }
        newest.insert(record.key, (revision, is_put));
    }
    for (key, (revision, is_put)) in &newest {
        // A key deleted at or below the point did not exist there; nothing
        // needs its tombstone any more.
        if !is_put {
            deletes.remove(key, *revision)?;
        }
    }
    deletes.finish(point.0 + 1)
}

/// Deletions of history, committed in bounded batches.
struct Deletes<'a> {
    shared: &'a Shared,
    batch: fjall::OwnedWriteBatch,
}

impl<'a> Deletes<'a> {
    fn new(shared: &'a Shared) -> Self {
        Self {
            shared,
            batch: shared.tables.db.batch(),
        }
    }

    /// Removes the version of `key` written at `revision`.
    fn remove(&mut self, key: &str, revision: u64) -> Result<()> {
        let tables = &self.shared.tables;
        self.batch.remove(&tables.log, log_key(revision));
        self.batch.remove(&tables.index, index_key(key, revision));
        if self.batch.len() >= DELETES_PER_BATCH {
            // Not synced: a crash before the final commit redoes the work.
            std::mem::replace(&mut self.batch, tables.db.batch())
                .commit()
                .map_err(engine)?;
        }
        Ok(())
    }

    /// Commits the rest and moves the floor to `floor`.
    fn finish(mut self, floor: u64) -> Result<()> {
        let tables = &self.shared.tables;
        self.batch
            .insert(&tables.meta, META_COMPACT_FLOOR, floor.to_be_bytes());
        self.batch
            .durability(Some(PersistMode::SyncAll))
            .commit()
            .map_err(engine)
    }
}

/// Compacts `store` every `interval`, each time to the revision it had at
/// the previous tick, so that at least one interval of history stays
/// available for watches to resume from: what kube-apiserver does against
/// etcd (every 5 minutes by default). Failures are logged and retried at
/// the next tick. Works for any backend; drop or abort the handle to stop.
pub fn spawn_compactor<S>(store: Arc<S>, interval: Duration) -> tokio::task::JoinHandle<()>
where
    S: Storage + ?Sized,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut previous: Option<Revision> = None;
        loop {
            ticks.tick().await;
            if let Some(point) = previous
                && let Err(error) = store.compact(point).await
            {
                tracing::warn!(%error, revision = %point, "storage compaction failed");
            }
            match store.current_revision().await {
                Ok(revision) => previous = Some(revision),
                Err(error) => tracing::warn!(%error, "cannot read the storage revision to compact"),
            }
        }
    })
}
