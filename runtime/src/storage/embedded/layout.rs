//! The data directory: recognising it, creating it, and the checkpoint
//! file that catches lost writes.
//!
//! ```text
//! <dir>/FERROKUBE    marker: what wrote this directory, and its format
//! <dir>/checkpoint   two slots, each a revision known to be durable
//! <dir>/db/          the fjall database (journals, keyspaces, version)
//! ```
//!
//! The marker is written (and synced) before the database is created, so a
//! directory without it that is not empty was not made by ferrokube, and
//! the store refuses to touch it rather than mixing its files with another
//! program's.
//!
//! The checkpoint exists because a write-ahead log cannot tell garbage from
//! a torn last write: the database, like every journaling engine, drops an
//! undecodable journal tail on recovery. After a crash that only drops
//! unacknowledged writes, but a journal damaged by something else would
//! lose acknowledged ones without a word. The writer therefore records the
//! latest durable revision here about once a second and on shutdown, and
//! opening refuses a database that holds less than the checkpoint says.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::storage::{Result, StorageError};

/// The marker file's name.
pub(super) const MARKER: &str = "FERROKUBE";
/// The checkpoint file's name.
pub(super) const CHECKPOINT: &str = "checkpoint";
/// The database directory's name.
pub(super) const DATABASE: &str = "db";

/// The first line of the marker.
const MARKER_MAGIC: &str = "ferrokube embedded store";
/// The layout written by this version of ferrokube.
const MARKER_FORMAT: u32 = 1;

/// One checkpoint slot: magic, sequence, revision, checksum of the first 20
/// bytes, padding.
const SLOT: usize = 32;
const SLOT_MAGIC: &[u8; 4] = b"FKCP";

/// A data directory that passed the checks and is ready for the database.
#[derive(Debug)]
pub(super) struct DataDir {
    /// The directory the caller named.
    pub root: PathBuf,
    /// `<root>/db`.
    pub database: PathBuf,
    /// Whether the database is about to be created (so its keyspaces are
    /// expected to be missing).
    pub fresh: bool,
    /// The checkpoint file, open for writing.
    pub checkpoint: Checkpoint,
    /// The largest revision a checkpoint recorded (0 if none).
    pub checkpointed: u64,
}

/// Checks `root` and prepares it: creates it (and the marker) when it is
/// missing or empty, refuses foreign or damaged ones with an error naming
/// the file at fault.
pub(super) fn prepare(root: &Path) -> Result<DataDir> {
    fs::create_dir_all(root).map_err(|e| io_error(root, "create the data directory", e))?;
    let marker = root.join(MARKER);
    let database = root.join(DATABASE);
    if !marker.exists() {
        let foreign = entries(root)?;
        if !foreign.is_empty() {
            return Err(StorageError::Corrupt(format!(
                "{} is not a ferrokube data directory: it has no {MARKER} marker file but holds \
                 {}; refusing to use it (point the store at an empty or new directory)",
                root.display(),
                foreign.join(", ")
            )));
        }
        write_marker(root, &marker)?;
    }
    check_marker(&marker)?;
    let checkpoint_path = root.join(CHECKPOINT);
    let (checkpoint, checkpointed) = Checkpoint::open(&checkpoint_path)?;
    let fresh = !database.exists();
    if fresh && checkpointed > 0 {
        return Err(StorageError::Corrupt(format!(
            "{} is missing although {} records that revision {checkpointed} was written; \
             the database was deleted or moved",
            database.display(),
            checkpoint_path.display()
        )));
    }
    Ok(DataDir {
        root: root.to_owned(),
        database,
        fresh,
        checkpoint,
        checkpointed,
    })
}

/// The names in `dir`, sorted, at most a handful (for error messages).
fn entries(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let read = fs::read_dir(dir).map_err(|e| io_error(dir, "list the data directory", e))?;
    for entry in read {
        let entry = entry.map_err(|e| io_error(dir, "list the data directory", e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    if names.len() > 5 {
        let more = names.len() - 5;
        names.truncate(5);
        names.push(format!("{more} more"));
    }
    Ok(names)
}

fn write_marker(root: &Path, marker: &Path) -> Result<()> {
    let text = format!("{MARKER_MAGIC}\nformat {MARKER_FORMAT}\n");
    let mut file = File::create(marker).map_err(|e| io_error(marker, "create", e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(marker, "write", e))?;
    sync_dir(root)
}

fn check_marker(marker: &Path) -> Result<()> {
    let mut text = String::new();
    let mut file = File::open(marker).map_err(|e| io_error(marker, "open", e))?;
    // A marker is a few dozen bytes; reading more would only load garbage.
    let read = (&mut file).take(4096).read_to_string(&mut text);
    let not_ours = || {
        StorageError::Corrupt(format!(
            "{} is not a ferrokube marker file (expected \"{MARKER_MAGIC}\" and a format line); \
             the data directory is damaged or belongs to another program",
            marker.display()
        ))
    };
    if read.is_err() {
        return Err(not_ours());
    }
    let mut lines = text.lines();
    if lines.next() != Some(MARKER_MAGIC) {
        return Err(not_ours());
    }
    let format = lines
        .next()
        .and_then(|line| line.strip_prefix("format "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .ok_or_else(not_ours)?;
    if format != MARKER_FORMAT {
        return Err(StorageError::Corrupt(format!(
            "{} says the data directory has format {format}, but this ferrokube reads only \
             format {MARKER_FORMAT}; use the ferrokube version that wrote it",
            marker.display()
        )));
    }
    Ok(())
}

/// Makes a new directory entry durable (the file's own sync does not).
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, "sync", e))
}

/// The checkpoint file: two fixed slots written alternately, so that a
/// torn write of one leaves the other intact.
#[derive(Debug)]
pub(super) struct Checkpoint {
    file: File,
    path: PathBuf,
    sequence: u64,
}

impl Checkpoint {
    /// Opens (or creates) the file and reads the newest valid slot.
    fn open(path: &Path) -> Result<(Self, u64)> {
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_error(path, "open", e))?;
        let len = file
            .metadata()
            .map_err(|e| io_error(path, "inspect", e))?
            .len();
        let mut newest: Option<(u64, u64)> = None;
        if len > 0 {
            let mut slots = [0u8; 2 * SLOT];
            let readable = len as usize >= slots.len() && file.read_exact_at(&mut slots, 0).is_ok();
            if readable {
                for slot in slots.chunks_exact(SLOT) {
                    if let Some((sequence, revision)) = decode_slot(slot)
                        && newest.is_none_or(|(s, _)| sequence > s)
                    {
                        newest = Some((sequence, revision));
                    }
                }
            }
            if newest.is_none() {
                return Err(StorageError::Corrupt(format!(
                    "{} is not a ferrokube checkpoint file (no valid slot); the data directory \
                     is damaged",
                    path.display()
                )));
            }
        }
        // An empty file was created but never written: the process died
        // before its first checkpoint, which promises nothing.
        let (sequence, revision) = newest.unwrap_or((0, 0));
        if !existed && let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
        Ok((
            Self {
                file,
                path: path.to_owned(),
                sequence,
            },
            revision,
        ))
    }

    /// Records `revision` as durable (it must be: the writer calls this
    /// only after the commit that wrote it).
    pub fn record(&mut self, revision: u64) -> io::Result<()> {
        let sequence = self.sequence + 1;
        let mut slot = [0u8; SLOT];
        slot[..4].copy_from_slice(SLOT_MAGIC);
        slot[4..12].copy_from_slice(&sequence.to_be_bytes());
        slot[12..20].copy_from_slice(&revision.to_be_bytes());
        let sum = checksum(&slot[..20]);
        slot[20..28].copy_from_slice(&sum.to_be_bytes());
        let offset = (sequence % 2) * SLOT as u64;
        self.file.write_all_at(&slot, offset)?;
        self.file.sync_data()?;
        self.sequence = sequence;
        Ok(())
    }

    /// Where the file is, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn decode_slot(slot: &[u8]) -> Option<(u64, u64)> {
    if &slot[..4] != SLOT_MAGIC {
        return None;
    }
    let word = |range: std::ops::Range<usize>| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&slot[range]);
        u64::from_be_bytes(bytes)
    };
    (word(20..28) == checksum(&slot[..20])).then(|| (word(4..12), word(12..20)))
}

/// FNV-1a: enough to tell a whole slot from a torn or foreign one.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An I/O failure on `path`, named.
pub(super) fn io_error(path: &Path, action: &str, error: io::Error) -> StorageError {
    StorageError::Unavailable(format!("cannot {action} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_slots_survive_a_torn_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(CHECKPOINT);
        let (mut checkpoint, revision) = Checkpoint::open(&path).expect("open");
        assert_eq!(revision, 0);
        checkpoint.record(5).expect("record");
        checkpoint.record(9).expect("record");
        drop(checkpoint);
        assert_eq!(Checkpoint::open(&path).expect("reopen").1, 9);
        // Tear the newer slot: the older one still counts.
        let file = OpenOptions::new().write(true).open(&path).expect("open");
        file.write_all_at(b"torn", 0).expect("tear");
        assert_eq!(Checkpoint::open(&path).expect("reopen").1, 5);
        file.write_all_at(b"torn", SLOT as u64).expect("tear");
        let error = Checkpoint::open(&path).expect_err("both torn");
        assert!(error.to_string().contains("checkpoint"), "{error}");
    }
}
