//! Compaction: history below the point is gone, current values are not.

use std::sync::Arc;

use super::{
    Options, RangeRequest, Revision, Storage, StorageError, assert_compacted, assert_deleted,
    assert_put, create, current, delete, get, next_event, next_item, request, update, watch,
};

/// After `compact(point)`: reads below `point` are `Compacted`, reads at or
/// above it (and the latest values, however old) are intact, watches from
/// `point` still carry previous values, and `compacted_revision` is `point`.
pub async fn compaction<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let prefix = "/registry/compact/";
    let old = create(store, "/registry/compact/old", "never touched").await;
    let a1 = create(store, "/registry/compact/a", "a1").await;
    let a2 = update(store, &a1, "a2").await;
    let b1 = create(store, "/registry/compact/b", "b1").await;
    delete(store, &b1).await;
    let c1 = create(store, "/registry/compact/c", "c1").await;
    let d1 = create(store, "/registry/compact/d", "d1").await;
    let point = current(store).await;
    let a3 = update(store, &a2, "a3").await;
    let d_deleted = delete(store, &d1).await;

    store.compact(point).await.expect("compact");
    let compacted = store
        .compacted_revision()
        .await
        .expect("compacted_revision");
    assert_eq!(
        compacted, point,
        "compacted_revision reports the compaction point"
    );

    // Below the point: gone.
    assert_compacted(
        store.get(&a1.key, Some(a1.mod_revision)).await,
        a1.mod_revision,
        point,
    );
    let range = store
        .range(RangeRequest {
            revision: Some(a2.mod_revision),
            ..request(prefix)
        })
        .await;
    assert_compacted(range, a2.mod_revision, point);

    // At the point: the state of that moment, including keys last written
    // long before it, without deleted ones coming back.
    let at_point = store
        .range(RangeRequest {
            revision: Some(point),
            ..request(prefix)
        })
        .await
        .expect("range at the compaction point");
    assert_eq!(
        at_point.kvs,
        vec![a2.clone(), c1.clone(), d1.clone(), old.clone()]
    );
    assert_eq!(get(store, &b1.key, Some(point)).await, None);

    // Latest: intact.
    let latest = store.range(request(prefix)).await.expect("range");
    assert_eq!(latest.kvs, vec![a3.clone(), c1.clone(), old.clone()]);
    assert_eq!(store.count(prefix).await.expect("count"), 3);

    // A watch from the point replays what followed, with previous values.
    let mut stream = watch(store, prefix, point).await;
    assert_put(&next_event(&mut stream, options).await, &a3, Some(&a2));
    assert_deleted(&next_event(&mut stream, options).await, &d1, d_deleted);
    let old2 = update(store, &old, "touched").await;
    assert_put(&next_event(&mut stream, options).await, &old2, Some(&old));

    // Compacting to an older point changes nothing (it may say Compacted).
    match store.compact(a1.mod_revision).await {
        Ok(()) | Err(StorageError::Compacted { .. }) => {}
        Err(other) => panic!("compacting below the compaction point: {other}"),
    }
    assert_eq!(
        store
            .compacted_revision()
            .await
            .expect("compacted_revision"),
        point
    );
    // Compacting the future is refused.
    let ahead = Revision(current(store).await.0 + 1_000_000);
    match store.compact(ahead).await {
        Err(StorageError::FutureRevision { requested, .. }) => assert_eq!(requested, ahead),
        other => panic!("compacting a future revision: expected FutureRevision, got {other:?}"),
    }
    assert_eq!(
        store
            .compacted_revision()
            .await
            .expect("compacted_revision"),
        point
    );

    // Compacting everything keeps every current value.
    let now = current(store).await;
    store
        .compact(now)
        .await
        .expect("compact to the current revision");
    assert_eq!(
        store
            .compacted_revision()
            .await
            .expect("compacted_revision"),
        now
    );
    assert_compacted(store.get(&a3.key, Some(point)).await, point, now);
    let latest = store.range(request(prefix)).await.expect("range");
    assert_eq!(latest.kvs, vec![a3.clone(), c1, old2.clone()]);
    assert_eq!(get(store, &a3.key, None).await, Some(a3.clone()));
    // And they can still be updated by their revisions.
    update(store, &a3, "a4").await;
    delete(store, &old2).await;
    assert_eq!(store.count(prefix).await.expect("count"), 2);
}

/// A watch from below the compaction point fails with `Compacted` (from
/// `watch` itself or as the stream's first item); from the point itself
/// it works.
pub async fn watch_from_compacted_revision<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let prefix = "/registry/pods/wc/";
    let start = current(store).await;
    let a1 = create(store, "/registry/pods/wc/a", "a1").await;
    let a2 = update(store, &a1, "a2").await;
    let a3 = update(store, &a2, "a3").await;
    let point = current(store).await;
    store.compact(point).await.expect("compact");

    for (watched, after) in [
        (prefix, start),
        (prefix, a1.mod_revision),
        (a1.key.as_str(), a1.mod_revision),
    ] {
        let failure = match store.watch(watched, after).await {
            Err(error) => Some(error),
            Ok(mut stream) => next_item(&mut stream, options).await.and_then(Result::err),
        };
        match failure {
            Some(StorageError::Compacted { compacted, .. }) => {
                assert_eq!(compacted, point, "Compacted names the compaction point");
            }
            other => panic!("watch {watched} after {after}: expected Compacted, got {other:?}"),
        }
    }

    let mut stream = watch(store, prefix, point).await;
    let a4 = update(store, &a3, "a4").await;
    assert_put(&next_event(&mut stream, options).await, &a4, Some(&a3));
}
