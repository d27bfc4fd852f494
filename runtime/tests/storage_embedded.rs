//! The embedded durable backend: the conformance suite against a fresh
//! store in a temporary directory per case, then what only a durable
//! store promises: data and revisions survive a restart, damaged or
//! foreign data directories are refused with an error naming the file,
//! and concurrent writers share commits.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use runtime::storage::embedded::{EmbeddedOptions, EmbeddedStore, spawn_compactor};
use runtime::storage::{EventKind, RangeRequest, Revision, Storage, StorageError};

runtime::conformance_tests! {
    factory: |_case| async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = EmbeddedStore::open(dir.path()).expect("open a fresh store");
        (store, dir)
    },
}

fn value(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

fn open(dir: &Path) -> EmbeddedStore {
    EmbeddedStore::open(dir).unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

/// The message of the error opening `dir` gives; fails if it opens.
fn open_error(dir: &Path) -> StorageError {
    match EmbeddedStore::open(dir) {
        Ok(_) => panic!("{} opened although it should not", dir.display()),
        Err(error) => error,
    }
}

#[tokio::test]
async fn data_and_revisions_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a1, a2, b, deleted, compacted) = {
        let store = open(dir.path());
        let a1 = store
            .create("/registry/r/a", value("a1"))
            .await
            .expect("create");
        let a2 = store
            .update("/registry/r/a", value("a2"), a1.mod_revision)
            .await
            .expect("update");
        let b = store
            .create("/registry/r/b", value("b"))
            .await
            .expect("create");
        let gone = store
            .create("/registry/r/gone", value("x"))
            .await
            .expect("create");
        let (_, deleted) = store.delete(&gone.key, None).await.expect("delete");
        store.compact(a1.mod_revision).await.expect("compact");
        let point = a1.mod_revision;
        (a1, a2, b, deleted, point)
    };
    let store = open(dir.path());
    assert_eq!(store.current_revision().await, Ok(deleted));
    assert_eq!(store.compacted_revision().await, Ok(compacted));
    let latest = store
        .range(RangeRequest {
            prefix: "/registry/r/".into(),
            ..Default::default()
        })
        .await
        .expect("range");
    assert_eq!(latest.kvs, vec![a2.clone(), b.clone()]);
    assert_eq!(latest.revision, deleted);
    assert_eq!(
        store.get("/registry/r/a", Some(a1.mod_revision)).await,
        Ok(Some(a1.clone()))
    );
    assert_eq!(store.get("/registry/r/gone", None).await, Ok(None));
    // History replays across the restart, with previous values.
    let mut stream = store
        .watch("/registry/r/", a1.mod_revision)
        .await
        .expect("watch");
    let event = stream.next().await.expect("event").expect("ok");
    assert_eq!(
        (event.kind, &event.kv, event.prev.as_ref()),
        (EventKind::Put, &a2, Some(&a1))
    );
    // Revisions go on increasing, and CAS uses the persisted revisions.
    let a3 = store
        .update("/registry/r/a", value("a3"), a2.mod_revision)
        .await
        .expect("update");
    assert!(a3.mod_revision > deleted);
    assert_eq!(a3.create_revision, a1.create_revision);
    // b's create, gone's create and delete, then the update.
    for _ in 0..4 {
        let event = stream.next().await.expect("event").expect("ok");
        if event.kv.mod_revision == a3.mod_revision {
            assert_eq!(event.prev.as_ref(), Some(&a2));
            return;
        }
    }
    panic!("the update after the restart was not watched");
}

#[tokio::test]
async fn many_writes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(open(dir.path()));
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                store
                    .create(&format!("/registry/m/{writer}-{i:03}"), value("v"))
                    .await
                    .expect("create");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let before = store.current_revision().await.expect("revision");
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.current_revision().await, Ok(before));
    assert_eq!(store.count("/registry/m/").await, Ok(400));
}

#[tokio::test]
async fn a_directory_without_the_marker_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("member")).expect("mkdir");
    std::fs::write(dir.path().join("member/snap.db"), b"someone else's data").expect("write");
    let message = open_error(dir.path()).to_string();
    assert!(
        message.contains("not a ferrokube data directory"),
        "{message}"
    );
    assert!(message.contains("FERROKUBE"), "{message}");
    assert!(message.contains("member"), "{message}");
    // Nothing was written into it.
    assert!(!dir.path().join("FERROKUBE").exists());
}

/// A store with some writes in it, closed cleanly.
async fn written_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    for i in 0..20 {
        store
            .create(&format!("/registry/c/{i:02}"), value("data"))
            .await
            .expect("create");
    }
    drop(store);
    dir
}

#[tokio::test]
async fn a_garbage_marker_is_refused_by_name() {
    let dir = written_store().await;
    std::fs::write(dir.path().join("FERROKUBE"), b"\x00\xffgarbage").expect("write");
    let error = open_error(dir.path());
    assert!(matches!(error, StorageError::Corrupt(_)), "{error:?}");
    assert!(error.to_string().contains("FERROKUBE"), "{error}");
}

#[tokio::test]
async fn a_garbage_checkpoint_is_refused_by_name() {
    let dir = written_store().await;
    std::fs::write(dir.path().join("checkpoint"), vec![0x5a; 64]).expect("write");
    let error = open_error(dir.path());
    assert!(matches!(error, StorageError::Corrupt(_)), "{error:?}");
    assert!(error.to_string().contains("checkpoint"), "{error}");
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Overwrites the files under `<dir>/db` whose name passes `select` with
/// garbage of the same length (at least 64 bytes); returns how many.
fn garble(dir: &Path, select: impl Fn(&Path) -> bool) -> usize {
    let mut garbled = 0;
    for file in files_under(&dir.join("db")) {
        if file.file_name().is_some_and(|name| name == "lock") || !select(&file) {
            continue;
        }
        let len = std::fs::metadata(&file).expect("metadata").len().max(64) as usize;
        let garbage: Vec<u8> = (0..len).map(|i| (i * 131 + 7) as u8).collect();
        std::fs::write(&file, garbage).expect("garble");
        garbled += 1;
    }
    garbled
}

#[tokio::test]
async fn garbage_in_the_database_files_is_refused_by_name() {
    let dir = written_store().await;
    assert!(garble(dir.path(), |_| true) > 0);
    let error = open_error(dir.path());
    assert!(matches!(error, StorageError::Corrupt(_)), "{error:?}");
    let message = error.to_string();
    println!("{message}");
    assert!(
        message.contains(&dir.path().join("db").display().to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn a_garbage_journal_is_caught_by_the_checkpoint() {
    let dir = written_store().await;
    let journals = garble(dir.path(), |file| {
        file.extension().is_some_and(|ext| ext == "jnl")
    });
    assert!(journals > 0, "the store has journal files");
    // The engine drops an undecodable journal as a torn tail; the
    // checkpoint notices that acknowledged writes went with it.
    let error = open_error(dir.path());
    assert!(matches!(error, StorageError::Corrupt(_)), "{error:?}");
    let message = error.to_string();
    println!("{message}");
    assert!(message.contains("checkpoint"), "{message}");
    assert!(message.contains("revision 20"), "{message}");
}

#[tokio::test]
async fn a_removed_database_is_refused() {
    let dir = written_store().await;
    std::fs::remove_dir_all(dir.path().join("db")).expect("remove");
    let message = open_error(dir.path()).to_string();
    assert!(message.contains("missing"), "{message}");
    assert!(message.contains("checkpoint"), "{message}");
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _store = open(dir.path());
    let error = open_error(dir.path());
    assert!(matches!(error, StorageError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("in use"), "{error}");
}

#[tokio::test]
async fn a_lagging_watcher_gets_an_error_then_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        EmbeddedStore::open_with(dir.path(), EmbeddedOptions { watch_capacity: 4 }).expect("open");
    let mut stream = store.watch("/w/", Revision(0)).await.expect("watch");
    for i in 0..20 {
        store
            .create(&format!("/w/{i:02}"), value("x"))
            .await
            .expect("create");
    }
    let next = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("in time");
    match next {
        Some(Err(StorageError::Unavailable(message))) => {
            assert!(message.contains("behind"), "{message}");
            assert!(message.contains("after revision 0"), "{message}");
        }
        other => panic!("expected a lag error, got {other:?}"),
    }
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_watch_ends_with_an_error_when_the_store_goes_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let mut stream = store.watch("/", Revision(0)).await.expect("watch");
    store.create("/k", value("v")).await.expect("create");
    drop(store);
    let first = stream
        .next()
        .await
        .expect("the change made before the drop");
    assert_eq!(first.expect("ok").kind, EventKind::Put);
    assert!(matches!(
        stream.next().await,
        Some(Err(StorageError::Unavailable(_)))
    ));
    assert!(stream.next().await.is_none());
}

/// Durable creates of 1 KiB values from `writers` tasks for `duration`;
/// returns writes per second and writes per commit.
async fn create_rate(store: &Arc<EmbeddedStore>, writers: usize, duration: Duration) -> (f64, f64) {
    let before = store.stats();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            let payload = Bytes::from(vec![b'x'; 1024]);
            let mut i = 0u64;
            while start.elapsed() < duration {
                let key = format!("/registry/rate/{writers}/{writer}/{i}");
                store.create(&key, payload.clone()).await.expect("create");
                i += 1;
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let after = store.stats();
    let writes = (after.writes - before.writes) as f64;
    let commits = (after.commits - before.commits).max(1) as f64;
    (writes / elapsed, writes / commits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(open(dir.path()));
    let duration = Duration::from_millis(1500);
    let (single, single_batch) = create_rate(&store, 1, duration).await;
    let (many, many_batch) = create_rate(&store, 32, duration).await;
    println!(
        "durable 1 KiB creates: 1 writer {single:.0}/s ({single_batch:.1} per commit), \
         32 writers {many:.0}/s ({many_batch:.1} per commit), gain {:.1}x",
        many / single
    );
    assert!(
        (single_batch - 1.0).abs() < f64::EPSILON,
        "one writer commits alone"
    );
    assert!(
        many_batch > 2.0,
        "32 writers share commits: {many_batch:.1} per commit"
    );
}

#[tokio::test]
async fn the_compactor_trims_history_one_interval_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(open(dir.path()));
    let first = store
        .create("/registry/t/k", value("0"))
        .await
        .expect("create");
    let mut kv = first.clone();
    let compactor = spawn_compactor(Arc::clone(&store), Duration::from_millis(50));
    let deadline = Instant::now() + Duration::from_secs(10);
    // Until the first version is history below the compaction point.
    while store.compacted_revision().await.expect("compacted") <= first.mod_revision {
        assert!(Instant::now() < deadline, "the compactor did not compact");
        kv = store
            .update(&kv.key, value("n"), kv.mod_revision)
            .await
            .expect("update");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    compactor.abort();
    let compacted = store.compacted_revision().await.expect("compacted");
    assert!(compacted <= store.current_revision().await.expect("revision"));
    assert!(matches!(
        store.get(&kv.key, Some(first.mod_revision)).await,
        Err(StorageError::Compacted { .. })
    ));
    assert!(
        store
            .get(&kv.key, Some(compacted))
            .await
            .expect("at the point")
            .is_some()
    );
    assert_eq!(store.get(&kv.key, None).await, Ok(Some(kv)));
}
