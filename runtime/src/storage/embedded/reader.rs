//! Reads: the latest state from the `current` keyspace, past states from
//! the `index` and `log` keyspaces, all from one database snapshot.
//!
//! These functions block on disk reads; the store calls them on tokio's
//! blocking pool.

use std::sync::atomic::Ordering;

use fjall::{Readable, Snapshot};

use super::Shared;
use super::codec::{
    Current, KIND_PUT, LogRecord, META_REVISION, corrupt, decode_meta, engine, escaped, log_key,
    split_index_key,
};
use crate::storage::{KeyValue, RangeRequest, RangeResponse, Result, Revision, StorageError};

/// A snapshot of the database, the revision it holds, and the compaction
/// point that applies to it.
pub(super) struct View {
    pub snapshot: Snapshot,
    pub revision: u64,
    /// Read after the snapshot was taken: a compaction that deletes history
    /// below a newer point publishes that point before deleting anything,
    /// so if this is still the old point, the snapshot predates the
    /// deletions and everything at or above it is in the snapshot.
    pub compacted: u64,
}

impl View {
    /// Takes a snapshot now.
    pub fn open(shared: &Shared) -> Result<Self> {
        let snapshot = shared.tables.db.snapshot();
        let revision = decode_meta(
            snapshot
                .get(&shared.tables.meta, META_REVISION)
                .map_err(engine)?,
        )?;
        let compacted = shared.compacted.load(Ordering::SeqCst);
        Ok(Self {
            snapshot,
            revision,
            compacted,
        })
    }

    /// The revision a read asking for `requested` is served at.
    pub fn readable(&self, requested: Option<Revision>) -> Result<u64> {
        let Some(requested) = requested else {
            return Ok(self.revision);
        };
        if requested.0 > self.revision {
            return Err(StorageError::FutureRevision {
                requested,
                current: Revision(self.revision),
            });
        }
        if requested.0 < self.compacted {
            return Err(StorageError::Compacted {
                requested,
                compacted: Revision(self.compacted),
            });
        }
        Ok(requested.0)
    }
}

/// The key at `revision` (`None`: latest).
pub(super) fn get(
    shared: &Shared,
    key: &str,
    revision: Option<Revision>,
) -> Result<Option<KeyValue>> {
    let view = View::open(shared)?;
    let at = view.readable(revision)?;
    if at == view.revision {
        let record = view
            .snapshot
            .get(&shared.tables.current, key)
            .map_err(engine)?;
        return Ok(record
            .map(Current::decode)
            .transpose()?
            .map(|current| current.key_value(key)));
    }
    let lower = super::codec::index_key(key, 0);
    let upper = super::codec::index_key(key, at);
    let newest = view
        .snapshot
        .range(&shared.tables.index, lower..=upper)
        .next_back();
    let Some(entry) = newest else {
        return Ok(None);
    };
    let (index_key, kind) = entry.into_inner().map_err(engine)?;
    let (_, version) = split_index_key(&index_key)?;
    if kind.first() != Some(&KIND_PUT) {
        return Ok(None);
    }
    version_at(shared, &view.snapshot, version).map(Some)
}

/// The put logged at `revision`, as the key it left.
pub(super) fn version_at(shared: &Shared, snapshot: &Snapshot, revision: u64) -> Result<KeyValue> {
    let record = snapshot
        .get(&shared.tables.log, log_key(revision))
        .map_err(engine)?
        .ok_or_else(|| corrupt(&format!("the log record of revision {revision} is missing")))?;
    let record = LogRecord::decode(record)?;
    if record.kind != KIND_PUT {
        return Err(corrupt(&format!("revision {revision} is not a put")));
    }
    Ok(record.key_value(revision))
}

/// A range read.
pub(super) fn range(shared: &Shared, request: &RangeRequest) -> Result<RangeResponse> {
    let view = View::open(shared)?;
    let at = view.readable(request.revision)?;
    let prefix = request.prefix.as_str();
    // A start before the prefix would otherwise pull in foreign keys.
    let lower = match request.start.as_deref() {
        Some(start) if start > prefix => start,
        _ => prefix,
    };
    let limit = request
        .limit
        .filter(|&limit| limit > 0)
        .unwrap_or(usize::MAX);
    let (kvs, remaining) = if at == view.revision {
        range_latest(shared, &view.snapshot, prefix, lower, limit)?
    } else {
        range_past(shared, &view.snapshot, prefix, lower, limit, at)?
    };
    Ok(RangeResponse {
        kvs,
        revision: Revision(at),
        more: remaining > 0,
        remaining,
    })
}

/// Keys under `prefix` from `lower` on, now: one scan of `current`.
fn range_latest(
    shared: &Shared,
    snapshot: &Snapshot,
    prefix: &str,
    lower: &str,
    limit: usize,
) -> Result<(Vec<KeyValue>, u64)> {
    let mut kvs = Vec::new();
    let mut remaining = 0u64;
    for entry in snapshot.range(&shared.tables.current, lower..) {
        if kvs.len() >= limit {
            // Past the page only the count matters: skip the values.
            let key = entry.key().map_err(engine)?;
            if !key.starts_with(prefix.as_bytes()) {
                break;
            }
            remaining += 1;
            continue;
        }
        let (key, record) = entry.into_inner().map_err(engine)?;
        if !key.starts_with(prefix.as_bytes()) {
            break;
        }
        let key = std::str::from_utf8(&key).map_err(|_| corrupt("a key is not UTF-8"))?;
        kvs.push(Current::decode(record)?.key_value(key));
    }
    Ok((kvs, remaining))
}

/// Keys under `prefix` from `lower` on, as of `at`: one scan of `index`,
/// whose entries come per key in revision order, taking each key's newest
/// version at or below `at`.
fn range_past(
    shared: &Shared,
    snapshot: &Snapshot,
    prefix: &str,
    lower: &str,
    limit: usize,
    at: u64,
) -> Result<(Vec<KeyValue>, u64)> {
    let escaped_prefix = escaped(prefix);
    let mut live: Vec<u64> = Vec::new();
    let mut remaining = 0u64;
    // The key being walked and its newest put at or below `at` (`None` if
    // that version is a delete or there is none).
    let mut group: Option<(Vec<u8>, Option<u64>)> = None;
    let mut settle = |newest: Option<u64>, live: &mut Vec<u64>| {
        if let Some(revision) = newest {
            if live.len() < limit {
                live.push(revision);
            } else {
                remaining += 1;
            }
        }
    };
    for entry in snapshot.range(&shared.tables.index, escaped(lower)..) {
        let (index_key, kind) = entry.into_inner().map_err(engine)?;
        if !index_key.starts_with(&escaped_prefix) {
            break;
        }
        let (key, revision) = split_index_key(&index_key)?;
        match &mut group {
            Some((current, newest)) if current.as_slice() == key => {
                if revision <= at {
                    *newest = (kind.first() == Some(&KIND_PUT)).then_some(revision);
                }
            }
            _ => {
                if let Some((_, newest)) = group.take() {
                    settle(newest, &mut live);
                }
                let newest =
                    (revision <= at && kind.first() == Some(&KIND_PUT)).then_some(revision);
                group = Some((key.to_vec(), newest));
            }
        }
    }
    if let Some((_, newest)) = group {
        settle(newest, &mut live);
    }
    let mut kvs = Vec::with_capacity(live.len());
    for revision in live {
        kvs.push(version_at(shared, snapshot, revision)?);
    }
    Ok((kvs, remaining))
}

/// How many keys the prefix holds now.
pub(super) fn count(shared: &Shared, prefix: &str) -> Result<u64> {
    let snapshot = shared.tables.db.snapshot();
    let mut count = 0u64;
    for entry in snapshot.prefix(&shared.tables.current, prefix) {
        entry.key().map_err(engine)?;
        count += 1;
    }
    Ok(count)
}
