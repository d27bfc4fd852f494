//! Single-key reads and writes: revisions, compare-and-swap, history.

use std::sync::Arc;

use bytes::Bytes;

use super::{
    Options, Revision, Storage, StorageError, bytes, create, current, delete, get, request, update,
};

/// A fresh store is healthy and empty.
pub async fn empty_store<S: Storage>(store: Arc<S>, _options: Options) {
    store.health().await.expect("a fresh store is healthy");
    assert_eq!(get(&*store, "/registry/pods/default/a", None).await, None);
    let response = store.range(request("/registry/")).await.expect("range");
    assert!(response.kvs.is_empty(), "{response:?}");
    assert!(!response.more);
    assert_eq!(response.remaining, 0);
    assert_eq!(store.count("/registry/").await.expect("count"), 0);
    let now = current(&*store).await;
    assert!(
        response.revision <= now,
        "a latest read is served at a revision that happened"
    );
    let compacted = store
        .compacted_revision()
        .await
        .expect("compacted_revision");
    assert!(
        compacted <= now,
        "the oldest readable revision is not in the future"
    );
}

/// Every write gets a revision larger than every earlier one; the key's
/// `create_revision` and `mod_revision` follow its life.
pub async fn revisions_strictly_increase<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let start = current(store).await;
    let a = create(store, "/registry/pods/default/a", "1").await;
    assert!(
        a.mod_revision > start,
        "the first write is after the starting revision"
    );
    let b = create(store, "/registry/pods/default/b", "1").await;
    assert!(b.mod_revision > a.mod_revision);
    let a2 = update(store, &a, "2").await;
    assert!(a2.mod_revision > b.mod_revision);
    let deleted = delete(store, &b).await;
    assert!(deleted > a2.mod_revision);
    let b2 = create(store, "/registry/pods/default/b", "again").await;
    assert!(b2.mod_revision > deleted);
    assert_eq!(
        b2.create_revision, b2.mod_revision,
        "a recreated key starts a new life"
    );
    let a3 = update(store, &a2, "3").await;
    assert!(a3.mod_revision > b2.mod_revision);
    assert_eq!(a3.create_revision, a.create_revision);
    assert!(
        current(store).await >= a3.mod_revision,
        "current_revision includes every write"
    );
    // What get returns is what the write returned.
    assert_eq!(get(store, &a3.key, None).await, Some(a3));
    assert_eq!(get(store, &b2.key, None).await, Some(b2));
}

/// `create` fails with `AlreadyExists` while the key exists, and works again
/// after a delete.
pub async fn create_if_absent<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let key = "/registry/configmaps/default/c";
    let first = create(store, key, "first").await;
    match store.create(key, bytes("second")).await {
        Err(StorageError::AlreadyExists { key: k }) => assert_eq!(k, key),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(
        get(store, key, None).await,
        Some(first.clone()),
        "a failed create changes nothing"
    );
    delete(store, &first).await;
    let again = create(store, key, "third").await;
    assert!(again.create_revision > first.create_revision);
}

/// `update` is a compare-and-swap on `mod_revision`: a stale revision is a
/// `Conflict` naming the actual one and leaves the value alone.
pub async fn update_compare_and_swap<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let key = "/registry/secrets/default/s";
    let v1 = create(store, key, "v1").await;
    let v2 = update(store, &v1, "v2").await;
    match store.update(key, bytes("stale"), v1.mod_revision).await {
        Err(StorageError::Conflict {
            key: k,
            expected,
            actual,
        }) => {
            assert_eq!(k, key);
            assert_eq!(expected, v1.mod_revision);
            assert_eq!(actual, v2.mod_revision, "Conflict names the revision found");
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        get(store, key, None).await,
        Some(v2.clone()),
        "a failed update changes nothing"
    );
    // Writing the same bytes again is still a write.
    let v3 = store
        .update(key, bytes("v2"), v2.mod_revision)
        .await
        .expect("update with the same value");
    assert!(v3.mod_revision > v2.mod_revision);
    assert_eq!(v3.create_revision, v1.create_revision);
    // An empty value is a value, not a delete.
    let empty = store
        .update(key, Bytes::new(), v3.mod_revision)
        .await
        .expect("update to an empty value");
    assert_eq!(get(store, key, None).await, Some(empty));
}

/// `delete` with an expected revision is a compare-and-swap too.
pub async fn delete_with_expected_revision<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let key = "/registry/pods/kube-system/d";
    let v1 = create(store, key, "v1").await;
    let v2 = update(store, &v1, "v2").await;
    match store.delete(key, Some(v1.mod_revision)).await {
        Err(StorageError::Conflict {
            key: k,
            expected,
            actual,
        }) => {
            assert_eq!(k, key);
            assert_eq!(expected, v1.mod_revision);
            assert_eq!(actual, v2.mod_revision);
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        get(store, key, None).await,
        Some(v2.clone()),
        "a failed delete changes nothing"
    );
    let deleted_at = delete(store, &v2).await;
    assert_eq!(get(store, key, None).await, None);
    assert!(current(store).await >= deleted_at);
    // Without an expected revision, a delete takes whatever is there.
    let v3 = create(store, key, "v3").await;
    let (deleted, revision) = store.delete(key, None).await.expect("unconditional delete");
    assert_eq!(deleted, v3);
    assert!(revision > v3.mod_revision);
    assert_eq!(get(store, key, None).await, None);
}

/// Absent keys: `get` is `Ok(None)`, `update` and `delete` are `NotFound`,
/// whether the key never existed or was deleted.
pub async fn not_found<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let deleted = create(store, "/registry/pods/default/gone", "x").await;
    delete(store, &deleted).await;
    for key in [
        "/registry/pods/default/never",
        "/registry/pods/default/gone",
    ] {
        assert_eq!(get(store, key, None).await, None);
        let not_found = |result: &str, error: StorageError| match error {
            StorageError::NotFound { key: k } => assert_eq!(k, key),
            other => panic!("{result} of absent {key}: expected NotFound, got {other:?}"),
        };
        let at = deleted.mod_revision;
        not_found(
            "update",
            store.update(key, bytes("y"), at).await.expect_err("update"),
        );
        not_found("delete", store.delete(key, None).await.expect_err("delete"));
        not_found(
            "delete",
            store.delete(key, Some(at)).await.expect_err("delete"),
        );
    }
    let response = store
        .range(request("/registry/pods/"))
        .await
        .expect("range");
    assert!(response.kvs.is_empty());
    assert_eq!(store.count("/registry/pods/").await.expect("count"), 0);
}

/// A key reads as it was at any revision since the compaction point.
pub async fn get_at_old_revision<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let key = "/registry/services/default/web";
    let before = current(store).await;
    let v1 = create(store, key, "v1").await;
    // A write of another key, so that a revision lies between two of ours.
    let other = create(store, "/registry/services/default/other", "x").await;
    let v2 = update(store, &v1, "v2").await;
    let deleted_at = delete(store, &v2).await;
    let v3 = create(store, key, "v3").await;
    let v4 = update(store, &v3, "v4").await;

    assert_eq!(
        get(store, key, Some(before)).await,
        None,
        "before it was created"
    );
    assert_eq!(
        get(store, key, Some(v1.mod_revision)).await,
        Some(v1.clone())
    );
    assert_eq!(
        get(store, key, Some(v2.mod_revision)).await,
        Some(v2.clone())
    );
    assert_eq!(
        get(store, key, Some(deleted_at)).await,
        None,
        "after its delete"
    );
    assert_eq!(
        get(store, key, Some(v3.mod_revision)).await,
        Some(v3.clone())
    );
    assert_eq!(
        get(store, key, Some(v4.mod_revision)).await,
        Some(v4.clone())
    );
    assert_eq!(get(store, key, None).await, Some(v4.clone()));
    // Between two writes of the key, the earlier one is what was there.
    assert_eq!(get(store, key, Some(other.mod_revision)).await, Some(v1));
    assert_eq!(
        v4.create_revision, v3.mod_revision,
        "the recreated key's life started at v3"
    );
}

/// A range at a past revision returns the keys, values and revisions of
/// that moment, and says it was served there.
pub async fn range_at_old_revision<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let prefix = "/registry/pods/ns/";
    let a = create(store, "/registry/pods/ns/a", "a1").await;
    let b = create(store, "/registry/pods/ns/b", "b1").await;
    let c = create(store, "/registry/pods/ns/c", "c1").await;
    let then = current(store).await;
    let b2 = update(store, &b, "b2").await;
    delete(store, &c).await;
    let d = create(store, "/registry/pods/ns/d", "d1").await;
    let a2 = update(store, &a, "a2").await;

    let old = store
        .range(super::RangeRequest {
            revision: Some(then),
            ..request(prefix)
        })
        .await
        .expect("range at a past revision");
    assert_eq!(old.revision, then);
    assert_eq!(old.kvs, vec![a, b, c]);
    assert!(!old.more);
    assert_eq!(old.remaining, 0);

    let now = store.range(request(prefix)).await.expect("range");
    assert!(
        now.revision >= a2.mod_revision,
        "a latest read sees every finished write"
    );
    assert_eq!(now.kvs, vec![a2, b2, d]);
}

/// Reading a revision that has not happened yet is `FutureRevision`.
pub async fn future_revision<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let kv = create(store, "/registry/pods/default/f", "x").await;
    // Far enough ahead that concurrent writers sharing the backend cannot
    // reach it during the case.
    let ahead = Revision(current(store).await.0 + 1_000_000);
    let check = |what: &str, result: StorageError| match result {
        StorageError::FutureRevision {
            requested,
            current: now,
        } => {
            assert_eq!(
                requested, ahead,
                "{what}: FutureRevision names the revision asked for"
            );
            assert!(
                now >= kv.mod_revision && now < ahead,
                "{what}: and the current one"
            );
        }
        other => panic!("{what}: expected FutureRevision, got {other:?}"),
    };
    check(
        "get",
        store.get(&kv.key, Some(ahead)).await.expect_err("get"),
    );
    let range = store
        .range(super::RangeRequest {
            revision: Some(ahead),
            ..request("/registry/pods/")
        })
        .await;
    check("range", range.expect_err("range"));
    // The revision of the latest write is readable.
    assert_eq!(get(store, &kv.key, Some(kv.mod_revision)).await, Some(kv));
}

/// Values of 1.5 MiB (upstream's object size limit) round-trip byte for
/// byte through create, update, get, range and the history.
pub async fn large_values<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let key = "/registry/configmaps/default/large";
    let first = noise(1536 * 1024, 1);
    let second = noise(1536 * 1024, 2);
    let v1 = store
        .create(key, first.clone())
        .await
        .expect("create 1.5 MiB");
    assert_eq!(v1.value, first);
    let v2 = store
        .update(key, second.clone(), v1.mod_revision)
        .await
        .expect("update 1.5 MiB");
    let latest = get(store, key, None).await.expect("present");
    assert_eq!(latest.value.len(), second.len());
    assert!(latest.value == second, "the latest value round-trips");
    let old = get(store, key, Some(v1.mod_revision))
        .await
        .expect("present then");
    assert!(old.value == first, "the old value round-trips");
    let listed = store
        .range(request("/registry/configmaps/"))
        .await
        .expect("range");
    assert_eq!(listed.kvs, vec![v2]);
}

/// `len` bytes that do not compress and differ per `seed`.
fn noise(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        // xorshift64: cheap and good enough to defeat compression.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}
