//! Watches: from every kind of revision, exactly once, in order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{
    EventKind, KeyValue, Options, Revision, Storage, WatchStream, assert_deleted,
    assert_next_is_sentinel, assert_put, bytes, create, current, delete, next_event, next_item,
    update, watch,
};

/// Watching from the current revision delivers only the changes made after
/// it, with the values before them.
pub async fn watch_from_current_revision<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let prefix = "/registry/pods/w/";
    let a = create(store, "/registry/pods/w/a", "a1").await;
    let mut stream = watch(store, prefix, current(store).await).await;
    let b = create(store, "/registry/pods/w/b", "b1").await;
    create(store, "/registry/pods/wx/elsewhere", "x").await;
    let a2 = update(store, &a, "a2").await;
    let deleted = delete(store, &b).await;

    assert_put(&next_event(&mut stream, options).await, &b, None);
    assert_put(&next_event(&mut stream, options).await, &a2, Some(&a));
    assert_deleted(&next_event(&mut stream, options).await, &b, deleted);
    assert_next_is_sentinel(store, &mut stream, "/registry/pods/w/sentinel", options).await;
}

/// Watching from a past revision replays the history after it (with the
/// values before each change), then continues with live changes, each
/// exactly once and in order.
pub async fn watch_from_old_revision<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let prefix = "/registry/pods/w/";
    let start = current(store).await;
    let a1 = create(store, "/registry/pods/w/a", "a1").await;
    let a2 = update(store, &a1, "a2").await;
    create(store, "/registry/pods/other/x", "x").await;
    let b1 = create(store, "/registry/pods/w/b", "b1").await;
    let a_deleted = delete(store, &a2).await;

    let mut from_start = watch(store, prefix, start).await;
    let mut from_a1 = watch(store, prefix, a1.mod_revision).await;
    let mut from_deleted = watch(store, prefix, a_deleted).await;

    assert_put(&next_event(&mut from_start, options).await, &a1, None);
    for stream in [&mut from_start, &mut from_a1] {
        assert_put(&next_event(stream, options).await, &a2, Some(&a1));
        assert_put(&next_event(stream, options).await, &b1, None);
        assert_deleted(&next_event(stream, options).await, &a2, a_deleted);
    }

    // Live changes follow the replay, on every stream.
    let a3 = create(store, "/registry/pods/w/a", "a3").await;
    let b2 = update(store, &b1, "b2").await;
    for stream in [&mut from_start, &mut from_a1, &mut from_deleted] {
        assert_put(&next_event(stream, options).await, &a3, None);
        assert_put(&next_event(stream, options).await, &b2, Some(&b1));
    }
    let sentinel = create(store, "/registry/pods/w/sentinel", "s").await;
    for stream in [&mut from_start, &mut from_a1, &mut from_deleted] {
        assert_put(&next_event(stream, options).await, &sentinel, None);
    }
}

/// Watches opened at many revisions while a writer runs each see exactly
/// the writer's changes after their revision: no gap and no duplicate where
/// the replayed history meets the live changes.
pub async fn watch_replay_meets_live<S: Storage>(store: Arc<S>, options: Options) {
    const PREFIX: &str = "/registry/pods/seam/";
    const SENTINEL: &str = "/registry/pods/seam/~done";
    let base = current(&*store).await;
    let writer = tokio::spawn(write_churn(Arc::clone(&store), PREFIX, SENTINEL, 200));

    let mut readers = Vec::new();
    for round in 0..8u64 {
        let now = current(&*store).await;
        // Alternate between the newest revision and one a few writes back,
        // so that some watches start with a replay racing the writer.
        let after = if round % 2 == 0 {
            now
        } else {
            Revision(now.0.saturating_sub(3).max(base.0))
        };
        let stream = watch(&*store, PREFIX, after).await;
        readers.push((after, tokio::spawn(read_until(stream, SENTINEL, options))));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let log = writer.await.expect("the writer finished");
    for (after, reader) in readers {
        let seen = reader.await.expect("a reader finished");
        let expected: Vec<_> = log
            .iter()
            .filter(|(revision, ..)| *revision > after)
            .cloned()
            .collect();
        assert_eq!(
            seen, expected,
            "the watch after {after} saw each change once, in order"
        );
    }
}

/// One change as the seam case compares them.
type Change = (Revision, String, EventKind);

/// Creates, updates and deletes a few keys `writes` times, then writes
/// `sentinel`; returns every change made, in order.
async fn write_churn<S: Storage>(
    store: Arc<S>,
    prefix: &'static str,
    sentinel: &'static str,
    writes: usize,
) -> Vec<Change> {
    let store = &*store;
    let mut live: BTreeMap<String, KeyValue> = BTreeMap::new();
    let mut log = Vec::new();
    for i in 0..writes {
        let key = format!("{prefix}k{}", i % 5);
        let change = match live.remove(&key) {
            None => {
                let kv = create(store, &key, &i.to_string()).await;
                live.insert(key.clone(), kv.clone());
                (kv.mod_revision, key, EventKind::Put)
            }
            Some(kv) if i % 3 == 0 => (delete(store, &kv).await, key, EventKind::Deleted),
            Some(kv) => {
                let kv = update(store, &kv, &i.to_string()).await;
                live.insert(key.clone(), kv.clone());
                (kv.mod_revision, key, EventKind::Put)
            }
        };
        log.push(change);
        if i % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let done = create(store, sentinel, "done").await;
    log.push((done.mod_revision, done.key, EventKind::Put));
    log
}

/// Every change a stream delivers up to and including the one to `sentinel`.
async fn read_until(mut stream: WatchStream, sentinel: &str, options: Options) -> Vec<Change> {
    let mut seen = Vec::new();
    loop {
        let event = next_event(&mut stream, options).await;
        let done = event.kv.key == sentinel;
        seen.push((event.revision(), event.kv.key, event.kind));
        if done {
            return seen;
        }
    }
}

/// A watch on one key (a key is its own prefix) sees only that key.
pub async fn watch_single_key<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let key = "/registry/pods/default/single";
    let mut stream = watch(store, key, current(store).await).await;
    create(store, "/registry/pods/default/other", "x").await;
    create(store, "/registry/pods/default/singl", "a prefix of the key").await;
    let v1 = create(store, key, "v1").await;
    create(store, "/registry/pods/default/sinkhole", "x").await;
    let v2 = update(store, &v1, "v2").await;
    let deleted = delete(store, &v2).await;

    assert_put(&next_event(&mut stream, options).await, &v1, None);
    assert_put(&next_event(&mut stream, options).await, &v2, Some(&v1));
    assert_deleted(&next_event(&mut stream, options).await, &v2, deleted);
    // Recreating the key is the next thing the watch reports.
    assert_next_is_sentinel(store, &mut stream, key, options).await;
}

/// A delete arrives as `Deleted` with the key, no value, the delete's
/// revision and the deleted value, both live and replayed.
pub async fn watch_delete_event<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let prefix = "/registry/pods/del/";
    let key = "/registry/pods/del/victim";
    let v1 = create(store, key, "v1").await;
    let v2 = update(store, &v1, "v2").await;
    let mut live = watch(store, prefix, current(store).await).await;
    let (deleted, revision) = store.delete(key, None).await.expect("delete");
    assert_eq!(deleted, v2);
    assert_deleted(&next_event(&mut live, options).await, &v2, revision);

    let mut replay = watch(store, prefix, v1.mod_revision).await;
    assert_put(&next_event(&mut replay, options).await, &v2, Some(&v1));
    assert_deleted(&next_event(&mut replay, options).await, &v2, revision);

    // After a delete, the next create has no previous value.
    let again = create(store, key, "again").await;
    for stream in [&mut live, &mut replay] {
        assert_put(&next_event(stream, options).await, &again, None);
    }
}

/// A watcher that does not read while many changes happen either gets all
/// of them, in order, or gets every one up to some point and then an error,
/// after which the stream ends: never a silent gap.
pub async fn watch_slow_watcher<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let prefix = "/registry/events/slow/";
    let writes = (options.scale / 10).clamp(100, 10_000);
    let mut stream = watch(store, prefix, current(store).await).await;
    let mut revisions = Vec::with_capacity(writes);
    for i in 0..writes {
        let kv = store
            .create(&format!("{prefix}{i:06}"), bytes("payload"))
            .await
            .expect("create");
        revisions.push(kv.mod_revision);
    }
    for (i, revision) in revisions.iter().enumerate() {
        match next_item(&mut stream, options).await {
            Some(Ok(event)) => {
                assert_eq!(
                    event.revision(),
                    *revision,
                    "change {i} of {writes}, in order"
                );
                assert_eq!(event.kv.key, format!("{prefix}{i:06}"));
            }
            Some(Err(_)) => {
                let end = next_item(&mut stream, options).await;
                assert!(end.is_none(), "a watch ends after its error, got {end:?}");
                return;
            }
            None => panic!("the watch ended silently after {i} of {writes} changes"),
        }
    }
}
