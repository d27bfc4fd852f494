//! Concurrency and volume: many writers, many keys, no lost update.

use std::sync::Arc;

use bytes::Bytes;

use super::{
    EventKind, KeyValue, Options, Storage, StorageError, current, get, next_event, read_pages,
    request, watch,
};
use crate::storage::guaranteed_update;

/// `Options::scale` keys created by 32 concurrent writers all get distinct
/// revisions, are all counted, and list completely and in order, both at
/// once and page by page.
pub async fn many_keys<S: Storage>(store: Arc<S>, options: Options) {
    const WRITERS: usize = 32;
    const PREFIX: &str = "/registry/many/";
    let total = options.scale;
    let key = |i: usize| format!("{PREFIX}{i:08}");
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        writers.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            for i in (writer..total).step_by(WRITERS) {
                let kv = store
                    .create(&key(i), Bytes::from_static(b"v"))
                    .await
                    .unwrap_or_else(|e| panic!("create {}: {e}", key(i)));
                revisions.push(kv.mod_revision);
            }
            revisions
        }));
    }
    let mut revisions = Vec::with_capacity(total);
    for writer in writers {
        let written = writer.await.expect("a writer finished");
        assert!(
            written.windows(2).all(|pair| pair[0] < pair[1]),
            "one writer's successive writes get increasing revisions"
        );
        revisions.extend(written);
    }
    revisions.sort_unstable();
    revisions.dedup();
    assert_eq!(revisions.len(), total, "every write got its own revision");

    assert_eq!(store.count(PREFIX).await.expect("count"), total as u64);
    let all = store.range(request(PREFIX)).await.expect("range");
    assert_eq!(all.kvs.len(), total);
    assert!(!all.more);
    let (pages, revision) = read_pages(&*store, PREFIX, (total / 50).max(7), |_| async {}).await;
    assert!(revision >= *revisions.last().expect("at least one write"));
    assert_eq!(pages.len(), total);
    for (i, kv) in pages.iter().enumerate() {
        assert_eq!(kv.key, key(i), "key {i} in order");
    }
}

/// Concurrent read-modify-write loops through
/// [`guaranteed_update`](crate::storage::guaranteed_update) lose no update:
/// a counter incremented `tasks * iterations` times ends there, and a watch
/// sees every value from 1 up, in order.
pub async fn concurrent_guaranteed_update<S: Storage>(store: Arc<S>, options: Options) {
    const TASKS: u64 = 8;
    const ITERATIONS: u64 = 50;
    const KEY: &str = "/registry/counters/c";
    let mut stream = watch(&*store, KEY, current(&*store).await).await;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for _ in 0..ITERATIONS {
                guaranteed_update::<S, StorageError, _>(&*store, KEY, |current| {
                    let next = counter(current)? + 1;
                    Ok(Bytes::from(next.to_string()))
                })
                .await
                .expect("guaranteed_update");
            }
        }));
    }
    for task in tasks {
        task.await.expect("an incrementing task finished");
    }
    let last = get(&*store, KEY, None).await.expect("the counter exists");
    assert_eq!(
        counter(Some(&last)),
        Ok(TASKS * ITERATIONS),
        "no update was lost"
    );

    let mut prev: Option<KeyValue> = None;
    for expected in 1..=TASKS * ITERATIONS {
        let event = next_event(&mut stream, options).await;
        assert_eq!(event.kind, EventKind::Put);
        assert_eq!(
            counter(Some(&event.kv)),
            Ok(expected),
            "the watch sees every value in order"
        );
        assert_eq!(event.prev, prev, "each change follows the one before");
        prev = Some(event.kv);
    }
}

/// The counter a key holds; 0 when it is absent.
fn counter(kv: Option<&KeyValue>) -> Result<u64, StorageError> {
    let Some(kv) = kv else { return Ok(0) };
    std::str::from_utf8(&kv.value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            StorageError::Corrupt(format!("{} holds no counter: {:?}", kv.key, kv.value))
        })
}
