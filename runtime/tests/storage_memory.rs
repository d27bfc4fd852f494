//! The in-memory backend passes the storage conformance suite, plus the
//! exact properties only it promises (revisions counted from 1 up by one,
//! a lagging watcher's error).

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use runtime::storage::memory::MemoryStore;
use runtime::storage::{EventKind, Revision, Storage, StorageError};

runtime::conformance_tests! {
    factory: |_case| async { (MemoryStore::new(), ()) },
}

fn value(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

#[tokio::test]
async fn revisions_count_from_one_and_failed_writes_take_none() {
    let store = MemoryStore::new();
    assert_eq!(store.current_revision().await, Ok(Revision(0)));
    assert_eq!(store.compacted_revision().await, Ok(Revision(0)));
    let a = store.create("/a", value("1")).await.expect("create");
    assert_eq!(a.mod_revision, Revision(1));
    assert!(store.create("/a", value("2")).await.is_err());
    assert!(store.update("/a", value("2"), Revision(7)).await.is_err());
    assert!(store.delete("/b", None).await.is_err());
    assert_eq!(store.current_revision().await, Ok(Revision(1)));
    let a2 = store
        .update("/a", value("2"), a.mod_revision)
        .await
        .expect("update");
    assert_eq!(a2.mod_revision, Revision(2));
    let (_, deleted) = store.delete("/a", None).await.expect("delete");
    assert_eq!(deleted, Revision(3));
    // Revision 0 is the empty store, readable until compacted.
    assert_eq!(store.get("/a", Some(Revision(0))).await, Ok(None));
    let mut stream = store.watch("/", Revision(0)).await.expect("watch");
    for revision in 1..=3 {
        let event = stream.next().await.expect("event").expect("ok");
        assert_eq!(event.revision(), Revision(revision));
    }
}

#[tokio::test]
async fn a_watch_at_the_point_before_compaction_is_refused() {
    let store = MemoryStore::new();
    let a = store.create("/a", value("1")).await.expect("create");
    store
        .update("/a", value("2"), a.mod_revision)
        .await
        .expect("update");
    store.compact(Revision(2)).await.expect("compact");
    // The change at revision 2 lost its previous value, so history after
    // revision 1 is no longer complete.
    assert!(matches!(
        store.watch("/", Revision(1)).await,
        Err(StorageError::Compacted {
            requested: Revision(1),
            compacted: Revision(2)
        })
    ));
    assert!(store.watch("/", Revision(2)).await.is_ok());
    assert!(matches!(
        store.watch("/", Revision(3)).await,
        Err(StorageError::FutureRevision {
            requested: Revision(3),
            current: Revision(2)
        })
    ));
}

#[tokio::test]
async fn a_lagging_watcher_gets_an_error_then_ends() {
    let store = MemoryStore::with_watch_capacity(8);
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
            assert!(message.contains("fell 12 changes behind"), "{message}");
            assert!(message.contains("after revision 0"), "{message}");
        }
        other => panic!("expected a lag error, got {other:?}"),
    }
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_watch_ends_with_an_error_when_the_store_goes_away() {
    let store = MemoryStore::new();
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
