//! The byte layouts of the four keyspaces (see the module doc of
//! [`super`] for what each one holds).
//!
//! Every integer is big-endian so that byte order is numeric order, which
//! is what makes the log a revision-ordered table and lets an index scan
//! stop at a revision. Every decoder returns [`StorageError::Corrupt`] on
//! bytes it did not write rather than panicking: the disk can hand back
//! anything.

use bytes::Bytes;
use fjall::Slice;

use crate::storage::{KeyValue, Result, Revision, StorageError};

/// Meta keyspace: the revision of the latest durable write.
pub(super) const META_REVISION: &[u8] = b"revision";
/// Meta keyspace: the oldest readable revision.
pub(super) const META_COMPACTED: &[u8] = b"compacted";
/// Meta keyspace: where the next compaction starts scanning the log; only
/// advanced once a compaction has finished, so that an interrupted one is
/// redone rather than leaving history behind.
pub(super) const META_COMPACT_FLOOR: &[u8] = b"compact_floor";
/// Meta keyspace: the layout version of the keyspaces themselves.
pub(super) const META_FORMAT: &[u8] = b"format";
/// The only layout written so far.
pub(super) const FORMAT: u64 = 1;

/// A log record or index entry written by a create or update.
pub(super) const KIND_PUT: u8 = 1;
/// A log record or index entry written by a delete.
pub(super) const KIND_DELETE: u8 = 2;

/// Bytes before the value in a `current` record.
const CURRENT_HEADER: usize = 16;
/// Bytes before the key in a `log` record.
const LOG_HEADER: usize = 1 + 8 + 8 + 4;

/// A live key as the `current` keyspace stores it.
#[derive(Clone, Debug)]
pub(super) struct Current {
    pub create_revision: u64,
    pub mod_revision: u64,
    pub value: Bytes,
}

impl Current {
    /// The record: create revision, mod revision, value.
    pub fn encode(&self) -> Slice {
        let mut header = [0u8; CURRENT_HEADER];
        header[..8].copy_from_slice(&self.create_revision.to_be_bytes());
        header[8..].copy_from_slice(&self.mod_revision.to_be_bytes());
        Slice::fused(&header, &self.value)
    }

    /// Reads a record back; the value shares the record's buffer.
    pub fn decode(record: Slice) -> Result<Self> {
        let bytes = Bytes::from(record);
        if bytes.len() < CURRENT_HEADER {
            return Err(corrupt("a current-state record is truncated"));
        }
        Ok(Self {
            create_revision: be_u64(&bytes[..8]),
            mod_revision: be_u64(&bytes[8..16]),
            value: bytes.slice(CURRENT_HEADER..),
        })
    }

    /// As the API sees it.
    pub fn key_value(&self, key: &str) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: self.value.clone(),
            create_revision: Revision(self.create_revision),
            mod_revision: Revision(self.mod_revision),
        }
    }
}

/// One write as the `log` keyspace stores it under its revision.
#[derive(Clone, Debug)]
pub(super) struct LogRecord {
    pub kind: u8,
    /// The key's create revision after a put; 0 for a delete.
    pub create_revision: u64,
    /// The mod revision of the version this write replaced; 0 when it
    /// created the key. Watch replay reads the previous value through it.
    pub prev_revision: u64,
    pub key: String,
    /// Empty for a delete.
    pub value: Bytes,
}

impl LogRecord {
    /// The record: kind, create revision, previous revision, key length,
    /// key, value.
    pub fn encode(
        kind: u8,
        create_revision: u64,
        prev_revision: u64,
        key: &str,
        value: &[u8],
    ) -> Slice {
        let mut record = Vec::with_capacity(LOG_HEADER + key.len() + value.len());
        record.push(kind);
        record.extend_from_slice(&create_revision.to_be_bytes());
        record.extend_from_slice(&prev_revision.to_be_bytes());
        // Keys are far below 4 GiB (etcd caps requests at 1.5 MiB); the
        // writer refuses longer ones before they get here.
        record.extend_from_slice(&(key.len() as u32).to_be_bytes());
        record.extend_from_slice(key.as_bytes());
        record.extend_from_slice(value);
        Slice::from(record)
    }

    /// Only the key, for filtering the log by prefix without copying values.
    pub fn key_of(record: &[u8]) -> Result<&str> {
        let (key, _) = split_log(record)?;
        std::str::from_utf8(key).map_err(|_| corrupt("a log record's key is not UTF-8"))
    }

    /// Reads a record back; the value shares the record's buffer.
    pub fn decode(record: Slice) -> Result<Self> {
        let bytes = Bytes::from(record);
        let (key, _) = split_log(&bytes)?;
        let key_end = LOG_HEADER + key.len();
        let key = String::from_utf8(key.to_vec())
            .map_err(|_| corrupt("a log record's key is not UTF-8"))?;
        let kind = bytes[0];
        if kind != KIND_PUT && kind != KIND_DELETE {
            return Err(corrupt("a log record has an unknown kind"));
        }
        Ok(Self {
            kind,
            create_revision: be_u64(&bytes[1..9]),
            prev_revision: be_u64(&bytes[9..17]),
            key,
            value: bytes.slice(key_end..),
        })
    }

    /// The key as this write left it, at `revision` (a put only).
    pub fn key_value(&self, revision: u64) -> KeyValue {
        KeyValue {
            key: self.key.clone(),
            value: self.value.clone(),
            create_revision: Revision(self.create_revision),
            mod_revision: Revision(revision),
        }
    }
}

/// The key bytes and value bytes of a log record.
fn split_log(record: &[u8]) -> Result<(&[u8], &[u8])> {
    if record.len() < LOG_HEADER {
        return Err(corrupt("a log record is truncated"));
    }
    let key_len = u32::from_be_bytes([record[17], record[18], record[19], record[20]]) as usize;
    let rest = &record[LOG_HEADER..];
    if rest.len() < key_len {
        return Err(corrupt("a log record's key is truncated"));
    }
    Ok(rest.split_at(key_len))
}

/// The `log` key of a revision.
pub(super) fn log_key(revision: u64) -> [u8; 8] {
    revision.to_be_bytes()
}

/// Reads a `log` key back.
pub(super) fn decode_log_key(key: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt("a log key is not a revision"))
}

/// Appends `key` escaped so that it can be followed by a 0x00 terminator
/// and a revision while keeping byte order equal to key order: 0x00 becomes
/// 0x01 0x01 and 0x01 becomes 0x01 0x02. The escape is also prefix
/// preserving, so the escaped prefix selects exactly the escaped keys under
/// it. Keys are paths and almost never hold either byte, so this is a copy.
pub(super) fn escape_into(out: &mut Vec<u8>, key: &[u8]) {
    if !key.iter().any(|&b| b <= 1) {
        out.extend_from_slice(key);
        return;
    }
    for &b in key {
        match b {
            0 => out.extend_from_slice(&[1, 1]),
            1 => out.extend_from_slice(&[1, 2]),
            other => out.push(other),
        }
    }
}

/// The escaped form of `key`, to start or bound an index scan.
pub(super) fn escaped(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 9);
    escape_into(&mut out, key.as_bytes());
    out
}

/// The `index` key of one version of `key`.
pub(super) fn index_key(key: &str, revision: u64) -> Vec<u8> {
    let mut out = escaped(key);
    out.push(0);
    out.extend_from_slice(&revision.to_be_bytes());
    out
}

/// Splits an `index` key into the escaped key and the revision.
pub(super) fn split_index_key(index_key: &[u8]) -> Result<(&[u8], u64)> {
    let Some(split) = index_key.len().checked_sub(9) else {
        return Err(corrupt("an index key is truncated"));
    };
    let (escaped, tail) = index_key.split_at(split);
    if tail[0] != 0 {
        return Err(corrupt("an index key has no terminator"));
    }
    Ok((escaped, be_u64(&tail[1..])))
}

/// Reverses [`escape_into`] (the store never needs to: the log holds the
/// plain key).
#[cfg(test)]
fn unescape(escaped: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(escaped.len());
    let mut bytes = escaped.iter();
    while let Some(&b) = bytes.next() {
        match b {
            1 => match bytes.next() {
                Some(1) => out.push(0),
                Some(2) => out.push(1),
                _ => return Err(corrupt("an index key has a bad escape")),
            },
            0 => return Err(corrupt("an index key has a stray terminator")),
            other => out.push(other),
        }
    }
    String::from_utf8(out).map_err(|_| corrupt("an index key is not UTF-8"))
}

/// A meta value (a big-endian u64); absent means 0.
pub(super) fn decode_meta(value: Option<Slice>) -> Result<u64> {
    match value {
        None => Ok(0),
        Some(value) => <[u8; 8]>::try_from(&*value)
            .map(u64::from_be_bytes)
            .map_err(|_| corrupt("a meta value is not a number")),
    }
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut array = [0u8; 8];
    array.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(array)
}

/// A [`StorageError::Corrupt`] about the database's contents.
pub(super) fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("{what} in the embedded database"))
}

/// Maps an error of the database engine.
pub(super) fn engine(error: fjall::Error) -> StorageError {
    match error {
        fjall::Error::Io(io) => {
            StorageError::Unavailable(format!("embedded database I/O failed: {io}"))
        }
        fjall::Error::Poisoned => StorageError::Unavailable(
            "the embedded database refused the write because an earlier one could not be made \
             durable; restart the server"
                .into(),
        ),
        other @ (fjall::Error::Decompress(_)
        | fjall::Error::InvalidTrailer
        | fjall::Error::InvalidTag(_)
        | fjall::Error::JournalRecovery(_)
        | fjall::Error::InvalidVersion(_)
        | fjall::Error::Unrecoverable) => {
            StorageError::Corrupt(format!("embedded database: {other}"))
        }
        other => StorageError::Internal(format!("embedded database: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_order_and_prefixes() {
        let keys = [
            "", "\u{0}", "\u{0}a", "\u{1}", "\u{2}", "a", "a\u{0}", "a\u{0}b", "a\u{1}", "ab", "b",
        ];
        for pair in keys.windows(2) {
            let (a, b) = (index_key(pair[0], u64::MAX), index_key(pair[1], 0));
            assert!(a < b, "{:?} sorts before {:?}", pair[0], pair[1]);
        }
        for key in keys {
            let encoded = index_key(key, 42);
            let (escaped_key, revision) = split_index_key(&encoded).expect("split");
            assert_eq!(revision, 42);
            assert_eq!(unescape(escaped_key).expect("unescape"), key);
            for prefix in keys {
                assert_eq!(
                    encoded.starts_with(&escaped(prefix)),
                    key.starts_with(prefix),
                    "{key:?} under {prefix:?}"
                );
            }
        }
    }

    #[test]
    fn records_round_trip_and_reject_garbage() {
        let current = Current {
            create_revision: 3,
            mod_revision: 9,
            value: Bytes::from_static(b"value"),
        };
        let back = Current::decode(current.encode()).expect("decode");
        assert_eq!((back.create_revision, back.mod_revision), (3, 9));
        assert_eq!(back.value, "value");
        let log = LogRecord::encode(KIND_PUT, 3, 7, "/k", b"v");
        assert_eq!(LogRecord::key_of(&log).expect("key"), "/k");
        let back = LogRecord::decode(log).expect("decode");
        assert_eq!(
            (back.kind, back.create_revision, back.prev_revision),
            (KIND_PUT, 3, 7)
        );
        assert_eq!((back.key.as_str(), &back.value[..]), ("/k", &b"v"[..]));
        assert!(Current::decode(Slice::from(&b"short"[..])).is_err());
        assert!(LogRecord::decode(Slice::from(&[1u8; 21][..])).is_err());
        assert!(LogRecord::decode(Slice::from(&[9u8; 30][..])).is_err());
        assert!(decode_meta(Some(Slice::from(&b"abc"[..]))).is_err());
        assert!(split_index_key(b"short").is_err());
    }
}
