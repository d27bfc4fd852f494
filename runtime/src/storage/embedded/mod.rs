//! The embedded durable backend, ferrokube's default store: one data
//! directory, no second process.
//!
//! # Why fjall
//!
//! Three well-kept embedded engines were measured with this store's own
//! schema (three inserts per write, see below) on the 2-core development
//! VM: durable (fsync) single-key writes of 1 KiB values through one
//! writer thread that batches whatever is queued into one commit, for
//! 1 and 32 concurrent writers, and range reads of 1000 such keys. The
//! VM's fsync latency swings by 30x from minute to minute (a raw
//! write+fsync loop measured 300 to 10 500 per second), so each figure is
//! the spread of several runs:
//!
//! | engine                        | 1 writer        | 32 writers, group commit | 12 s sustained, 32 writers | range of 1000 keys |
//! |-------------------------------|-----------------|--------------------------|----------------------------|--------------------|
//! | redb 4.6                      | 190 - 2 500 /s  | 8 700 - 10 900 /s        | 6 800 - 9 300 /s           | 0.7 - 1.8 ms       |
//! | SQLite 3 (rusqlite, WAL, FULL)| 220 - 5 700 /s  | 3 600 - 12 100 /s        | 8 100 - 8 900 /s           | 1.6 - 5.0 ms       |
//! | fjall 3.1                     | 420 - 11 000 /s | 24 600 - 35 900 /s       | 24 600 - 28 700 /s         | 0.7 - 1.3 ms       |
//!
//! A raw etcd 3.4 on the same VM took 6 800 - 7 700 puts/s from 32
//! concurrent clients. The B-tree engines pay for copying whole pages on
//! every commit and stay near etcd's rate once group commit has hidden the
//! fsync; fjall's commit is an append to its journal plus one fsync, which
//! is what the goal of twice etcd's write rate needs, and its range reads
//! are as fast as redb's. It is an LSM tree, so deleted history is
//! reclaimed by its background compaction without a vacuum step. Its one
//! weakness for us, that journal recovery cannot tell a damaged journal
//! from a torn last write, is covered by the checkpoint file (see
//! `layout`).
//!
//! # On disk
//!
//! `<dir>/FERROKUBE` (marker), `<dir>/checkpoint` (a durable revision, to
//! catch lost writes) and `<dir>/db/`, the fjall database with four
//! keyspaces. Integers are big-endian.
//!
//! | keyspace  | key                                   | value                                               |
//! |-----------|---------------------------------------|-----------------------------------------------------|
//! | `current` | key                                   | create rev, mod rev, value (the latest state)       |
//! | `log`     | revision                              | kind, create rev, previous rev, key, value          |
//! | `index`   | escaped key, 0x00, revision           | kind (put or delete)                                |
//! | `meta`    | `revision`, `compacted`, `compact_floor`, `format` | u64                                    |
//!
//! Latest reads scan `current` alone. A read at a past revision scans
//! `index` for each key's newest version at or below it and fetches that
//! version's value from `log`. Watch replay scans `log` in revision order
//! and finds each event's previous value through its previous revision.
//! A write is one atomic batch of the three inserts plus `meta.revision`.
//!
//! # Durability and group commit
//!
//! A write is acknowledged only after the batch holding it was fsynced
//! (see `writer` for the batching). Through this store (`create`, 1 KiB
//! values, release build, same VM, test `concurrent_writers_share_commits`
//! with `--nocapture`): 1 writer 3 000 - 8 500 /s (one write per commit),
//! 32 writers 18 000 - 41 000 /s (17 - 18 writes per commit), a gain of
//! 5 - 6x; in runs where the VM's fsync was slow, 300 - 1 300 /s against
//! 4 800 - 7 400 /s, a gain of 4 - 16x. The engine benchmark's 32-writer
//! values were `x` repeated, which flatters fjall's compressed tables but
//! not its journal (compressed only from 4 KiB on), so the write rates
//! compare fairly.
//!
//! # Compaction
//!
//! History grows until [`Storage::compact`] trims it; the server drives it
//! with [`spawn_compactor`] (upstream compacts every 5 minutes).

mod codec;
mod compact;
mod layout;
mod reader;
mod watch;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;

use bytes::Bytes;
use fjall::{Keyspace, KeyspaceCreateOptions, PersistMode};
use tokio::sync::{broadcast, oneshot};

pub use compact::spawn_compactor;

use super::{
    Event, KeyValue, RangeRequest, RangeResponse, Result, Revision, Storage, StorageError,
    WatchStream,
};
use codec::{FORMAT, META_COMPACTED, META_FORMAT, META_REVISION, decode_meta};
use writer::{Op, Request};

/// How many committed batches a watcher may fall behind by before its
/// stream fails, unless [`EmbeddedOptions::watch_capacity`] says otherwise.
pub const DEFAULT_WATCH_CAPACITY: usize = 4096;

/// The keyspaces, in the order they are created.
const KEYSPACES: [&str; 4] = ["current", "log", "index", "meta"];

/// The events of one committed batch, in revision order, as the writer
/// broadcasts them.
type Batch = Arc<Vec<Event>>;

/// Settings of [`EmbeddedStore::open_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// How many committed batches a watcher may fall behind by before its
    /// stream fails (at least 1).
    pub watch_capacity: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            watch_capacity: DEFAULT_WATCH_CAPACITY,
        }
    }
}

/// What [`EmbeddedStore::stats`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmbeddedStats {
    /// Durable commits (fsyncs of the journal) made for writes.
    pub commits: u64,
    /// Successful writes they carried.
    pub writes: u64,
}

/// The database handles.
struct Tables {
    db: fjall::Database,
    current: Keyspace,
    log: Keyspace,
    index: Keyspace,
    meta: Keyspace,
}

/// What the store, its writer thread and its watch streams share.
struct Shared {
    tables: Tables,
    /// The revision of the latest durable write.
    committed: AtomicU64,
    /// The oldest readable revision.
    compacted: AtomicU64,
    /// Serialises compactions.
    compaction: Mutex<()>,
    /// Why the store stopped accepting writes, once it has.
    failure: Mutex<Option<StorageError>>,
    /// Batches committed since opening.
    commits: AtomicU64,
    /// Writes committed since opening.
    writes: AtomicU64,
}

impl Shared {
    fn fail(&self, error: &StorageError) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.get_or_insert_with(|| error.clone());
    }
}

/// The embedded durable [`Storage`]: a fjall database in one directory.
///
/// Opening takes an exclusive lock on the directory; dropping the store
/// stops its writer (after the batch in flight) and releases the lock once
/// the last watch stream that is still replaying history is gone too.
pub struct EmbeddedStore {
    shared: Arc<Shared>,
    requests: Option<mpsc::Sender<Request>>,
    events: broadcast::Sender<Batch>,
    writer: Option<JoinHandle<()>>,
    dir: PathBuf,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens the store in `dir`, creating the directory and an empty store
    /// if it is missing or empty. Blocks on disk I/O (call it at startup or
    /// on the blocking pool). Fails with [`StorageError::Corrupt`], naming
    /// the file, when the directory holds something ferrokube did not
    /// write or that was damaged, and with [`StorageError::Unavailable`]
    /// when it cannot be read or another process has it open.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, EmbeddedOptions::default())
    }

    /// [`EmbeddedStore::open`] with settings.
    pub fn open_with(dir: impl AsRef<Path>, options: EmbeddedOptions) -> Result<Self> {
        let dir = dir.as_ref();
        let layout = layout::prepare(dir)?;
        let tables = open_tables(&layout)?;
        let (revision, compacted) = check_contents(&layout, &tables)?;
        let shared = Arc::new(Shared {
            tables,
            committed: AtomicU64::new(revision),
            compacted: AtomicU64::new(compacted),
            compaction: Mutex::new(()),
            failure: Mutex::new(None),
            commits: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        });
        let (events, _) = broadcast::channel(options.watch_capacity.max(1));
        let (requests, receiver) = mpsc::channel();
        let writer = {
            let shared = Arc::clone(&shared);
            let events = events.clone();
            let checkpoint = layout.checkpoint;
            std::thread::Builder::new()
                .name("ferrokube-store-writer".into())
                .spawn(move || writer::run(shared, receiver, events, checkpoint))
                .map_err(|e| {
                    StorageError::Internal(format!("cannot start the store's writer thread: {e}"))
                })?
        };
        Ok(Self {
            shared,
            requests: Some(requests),
            events,
            writer: Some(writer),
            dir: layout.root,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Counters since opening, for metrics and for checking that
    /// concurrent writes share commits.
    pub fn stats(&self) -> EmbeddedStats {
        EmbeddedStats {
            commits: self.shared.commits.load(Ordering::Relaxed),
            writes: self.shared.writes.load(Ordering::Relaxed),
        }
    }

    /// Queues a write and waits for the commit that makes it durable.
    async fn write(&self, key: &str, op: Op) -> Result<(KeyValue, Revision)> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            key: key.to_owned(),
            op,
            reply,
        };
        let sent = self
            .requests
            .as_ref()
            .map(|requests| requests.send(request));
        if !matches!(sent, Some(Ok(()))) {
            return Err(StorageError::Unavailable(
                "the store's writer has stopped".into(),
            ));
        }
        answer.await.map_err(|_| {
            StorageError::Unavailable("the store's writer stopped before answering".into())
        })?
    }

    /// Runs a blocking read on tokio's blocking pool.
    async fn blocking<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> Result<T> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || read(&shared))
            .await
            .map_err(|e| StorageError::Internal(format!("a storage read failed: {e}")))?
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Closing the queue ends the writer after the batch in flight; its
        // copy of the broadcast sender goes with it, so watch streams end
        // with an error once ours is gone too.
        self.requests.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The most each keyspace holds in memory before it writes a table.
const MEMTABLE_BYTES: u64 = 8 * 1024 * 1024;

/// Opens the database and its keyspaces, checking that an existing one is
/// complete and of our format.
fn open_tables(layout: &layout::DataDir) -> Result<Tables> {
    let path = layout.database.clone();
    // The engine is written not to panic on bad input, but a panic here
    // would take the server down with a message that names no file, so it
    // is turned into the same error as any other damage.
    let opened = std::panic::catch_unwind(move || fjall::Database::builder(&path).open());
    let db = match opened {
        Ok(Ok(db)) => db,
        Ok(Err(fjall::Error::Locked)) => {
            return Err(StorageError::Unavailable(format!(
                "{} is in use by another process",
                layout.database.display()
            )));
        }
        Ok(Err(error)) => return Err(opening(layout, error)),
        Err(_) => {
            return Err(StorageError::Corrupt(format!(
                "the database engine crashed while opening {}; its files are damaged",
                layout.database.display()
            )));
        }
    };
    let present = KEYSPACES
        .iter()
        .filter(|name| db.keyspace_exists(name))
        .count();
    let fresh = present == 0 && (layout.fresh || layout.checkpointed == 0);
    if !fresh && present < KEYSPACES.len() {
        let missing: Vec<_> = KEYSPACES
            .iter()
            .filter(|name| !db.keyspace_exists(name))
            .collect();
        return Err(StorageError::Corrupt(format!(
            "the database in {} lacks the keyspaces {missing:?}; it is damaged or was not \
             written by ferrokube",
            layout.database.display()
        )));
    }
    // Writes not yet flushed to tables are held in memory, and replayed
    // into it from the journal at start: the engine's 64 MiB per keyspace
    // would keep up to a few hundred MiB resident for a store whose
    // objects the watch cache holds anyway. The size is fixed when a
    // keyspace is created.
    let options = || KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES);
    let open = |name: &str| db.keyspace(name, options).map_err(|e| opening(layout, e));
    let tables = Tables {
        current: open(KEYSPACES[0])?,
        log: open(KEYSPACES[1])?,
        index: open(KEYSPACES[2])?,
        meta: open(KEYSPACES[3])?,
        db: db.clone(),
    };
    if fresh {
        let mut batch = db.batch().durability(Some(PersistMode::SyncAll));
        batch.insert(&tables.meta, META_FORMAT, FORMAT.to_be_bytes());
        batch.commit().map_err(|e| opening(layout, e))?;
    }
    Ok(tables)
}

/// Checks what the database holds against the checkpoint and the format
/// it must have; returns the revision and the compaction point.
fn check_contents(layout: &layout::DataDir, tables: &Tables) -> Result<(u64, u64)> {
    let read = |key: &[u8]| decode_meta(tables.meta.get(key).map_err(|e| opening(layout, e))?);
    let revision = read(META_REVISION)?;
    // First, as lost writes also lose the format record.
    if revision < layout.checkpointed {
        return Err(StorageError::Corrupt(format!(
            "the database in {} holds writes up to revision {revision}, but {} records that \
             revision {} was written durably: a journal or table file under {} was damaged \
             or removed, and acknowledged writes are lost",
            layout.database.display(),
            layout.checkpoint.path().display(),
            layout.checkpointed,
            layout.database.display()
        )));
    }
    let format = read(META_FORMAT)?;
    if format != FORMAT {
        return Err(StorageError::Corrupt(format!(
            "the database in {} has layout {format}, but this ferrokube reads only layout {FORMAT}",
            layout.database.display()
        )));
    }
    Ok((revision, read(META_COMPACTED)?))
}

/// An engine error while opening, naming the database and, where the
/// error tells, the file at fault.
fn opening(layout: &layout::DataDir, error: fjall::Error) -> StorageError {
    let db = layout.database.display();
    let culprit = match &error {
        fjall::Error::InvalidVersion(_) => format!("; {db}/version is not a fjall version file"),
        fjall::Error::JournalRecovery(_) | fjall::Error::InvalidTrailer => {
            format!("; a journal file ({db}/*.jnl) is damaged")
        }
        _ => String::new(),
    };
    StorageError::Corrupt(format!(
        "cannot open the database in {db} (data directory {}): {error}{culprit}",
        layout.root.display()
    ))
}

#[async_trait::async_trait]
impl Storage for EmbeddedStore {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>> {
        let key = key.to_owned();
        self.blocking(move |shared| reader::get(shared, &key, revision))
            .await
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse> {
        self.blocking(move |shared| reader::range(shared, &request))
            .await
    }

    async fn count(&self, prefix: &str) -> Result<u64> {
        let prefix = prefix.to_owned();
        self.blocking(move |shared| reader::count(shared, &prefix))
            .await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        Ok(self.write(key, Op::Create(value)).await?.0)
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue> {
        Ok(self.write(key, Op::Update(value, expected)).await?.0)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)> {
        self.write(key, Op::Delete(expected)).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        // Subscribe first: see `watch` for why that closes every gap.
        let live = self.events.subscribe();
        let prefix = prefix.to_owned();
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || watch::open(shared, prefix, after, live))
            .await
            .map_err(|e| StorageError::Internal(format!("opening a watch failed: {e}")))?
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(Revision(self.shared.committed.load(Ordering::SeqCst)))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.blocking(move |shared| compact::compact(shared, revision))
            .await
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        Ok(Revision(self.shared.compacted.load(Ordering::SeqCst)))
    }

    async fn health(&self) -> Result<()> {
        let failure = self
            .shared
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &*failure {
            Some(error) => Err(StorageError::Unavailable(format!(
                "the embedded store failed: {error}"
            ))),
            None if self.writer.as_ref().is_some_and(JoinHandle::is_finished) => Err(
                StorageError::Unavailable("the store's writer thread has stopped".into()),
            ),
            None => Ok(()),
        }
    }
}
