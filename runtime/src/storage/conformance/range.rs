//! Range reads: pagination, limits, prefixes, counting.

use std::sync::Arc;

use super::{
    KeyValue, Options, RangeRequest, Storage, after_key, assert_next_is_sentinel, bytes, create,
    current, delete, next_event, read_pages, request, watch,
};

/// A list paginated with a limit reads one snapshot (the first page's
/// revision) while writes continue between pages: nothing missing, nothing
/// twice, `remaining` exact on every page.
pub async fn pagination_reads_one_snapshot<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let prefix = "/registry/pods/list/";
    let mut originals = Vec::new();
    for i in 0..50 {
        originals.push(create(store, &format!("{prefix}{i:03}"), &format!("v{i}")).await);
    }
    let last_write = originals[49].mod_revision;
    let originals_ref = &originals;
    let (listed, revision) = read_pages(store, prefix, 7, |page| async move {
        write_between_pages(store, prefix, originals_ref, page).await;
    })
    .await;
    assert!(
        revision >= last_write,
        "the first page is served at the latest revision"
    );
    assert_eq!(
        listed.len(),
        originals.len(),
        "every key of the snapshot, once"
    );
    assert_eq!(listed, originals, "the keys and values of the snapshot");

    // The writes did happen: the latest state differs.
    let now = store.range(request(prefix)).await.expect("range");
    let keys: Vec<&str> = now.kvs.iter().map(|kv| kv.key.as_str()).collect();
    assert!(!keys.contains(&"/registry/pods/list/001"));
    assert!(keys.contains(&"/registry/pods/list/0105"));
    assert!(keys.contains(&"/registry/pods/list/zzz"));
}

/// Deletes, creates and updates keys both before and after the page
/// boundary, so that a list not pinned to one revision would notice.
async fn write_between_pages<S: Storage>(
    store: &S,
    prefix: &str,
    originals: &[KeyValue],
    page: usize,
) {
    let delete_any = |key: String| async move {
        store
            .delete(&key, None)
            .await
            .expect("delete between pages");
    };
    match page {
        0 => {
            delete_any(originals[1].key.clone()).await;
            delete_any(originals[20].key.clone()).await;
            create(store, &format!("{prefix}0105"), "new").await;
            let kv = &originals[30];
            store
                .update(&kv.key, bytes("changed"), kv.mod_revision)
                .await
                .expect("update between pages");
        }
        1 => {
            create(store, &format!("{prefix}zzz"), "new").await;
            delete_any(originals[49].key.clone()).await;
            let kv = &originals[2];
            store
                .update(&kv.key, bytes("changed"), kv.mod_revision)
                .await
                .expect("update between pages");
        }
        page => {
            // A new key just after the next page's first key.
            let next = (page + 1) * 7;
            if next < originals.len() {
                create(store, &format!("{}-new", originals[next].key), "new").await;
            }
        }
    }
}

/// `limit`, `start`, `more` and `remaining` at the edges.
pub async fn pagination_limits<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let prefix = "/registry/limits/";
    let mut kvs = Vec::new();
    for i in 0..10 {
        kvs.push(create(store, &format!("{prefix}{i}"), "v").await);
    }
    create(store, "/registry/limitsx/outside", "v").await;
    let read = |limit: Option<usize>, start: Option<String>| async move {
        store
            .range(RangeRequest {
                prefix: prefix.to_owned(),
                start,
                limit,
                revision: None,
            })
            .await
            .expect("range")
    };
    let keys = |kvs: &[KeyValue]| kvs.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>();

    for limit in [None, Some(0), Some(10), Some(11), Some(1000)] {
        let response = read(limit, None).await;
        assert_eq!(response.kvs, kvs, "limit {limit:?} returns every key");
        assert!(!response.more, "limit {limit:?}: nothing more");
        assert_eq!(response.remaining, 0, "limit {limit:?}: nothing remains");
    }
    let response = read(Some(3), None).await;
    assert_eq!(response.kvs, kvs[..3]);
    assert!(response.more);
    assert_eq!(response.remaining, 7);
    let response = read(Some(9), None).await;
    assert_eq!(response.remaining, 1);

    // `start` is inclusive, and `remaining` counts only what follows.
    let response = read(Some(2), Some(kvs[4].key.clone())).await;
    assert_eq!(keys(&response.kvs), keys(&kvs[4..6]));
    assert!(response.more);
    assert_eq!(response.remaining, 4);
    let response = read(None, Some(after_key(&kvs[4].key))).await;
    assert_eq!(
        response.kvs,
        kvs[5..],
        "a start between keys begins at the next one"
    );
    // A start before the prefix (a forged continue token) must not reach
    // keys outside it.
    let response = read(None, Some("/registry/a".to_owned())).await;
    assert_eq!(
        response.kvs, kvs,
        "a start before the prefix begins at the prefix"
    );
    let response = read(Some(5), Some(format!("{prefix}~"))).await;
    assert!(
        response.kvs.is_empty(),
        "a start past every key of the prefix"
    );
    assert!(!response.more);
    assert_eq!(response.remaining, 0);

    // Deleted keys are not counted.
    delete(store, &kvs[8]).await;
    let response = read(Some(3), None).await;
    assert_eq!(response.remaining, 6);

    // Exactly filled pages: the last full page says there is no more.
    let (all, _) = read_pages(store, prefix, 3, |_| async {}).await;
    assert_eq!(all.len(), 9);
}

/// A prefix matches keys as bytes: `/registry/pods/a/` does not match
/// `/registry/pods/ab/x`, and keys sort in byte order.
pub async fn prefix_isolation<S: Storage>(store: Arc<S>, options: Options) {
    let store = &*store;
    let keys = [
        "/registry/pods/a/x",
        "/registry/pods/ab/x",
        "/registry/pods/a",
        "/registry/pods/a.b/x",
        "/registry/pods/a0/x",
        "/registry/pods/\u{e9}/x",
        "/registry/pods/z/x",
        "/registry/pods/a/y",
        "/registry/podsx/a/x",
        "/registry/pod/a",
    ];
    let mut watch_a = watch(store, "/registry/pods/a/", current(store).await).await;
    for key in keys {
        create(store, key, key).await;
    }
    let listed = |prefix: &'static str| async move {
        let response = store.range(request(prefix)).await.expect("range");
        assert_eq!(
            store.count(prefix).await.expect("count"),
            response.kvs.len() as u64
        );
        response
            .kvs
            .into_iter()
            .map(|kv| kv.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed("/registry/pods/a/").await,
        ["/registry/pods/a/x", "/registry/pods/a/y"]
    );
    // '.' < '/' < '0' < 'b' as bytes.
    assert_eq!(
        listed("/registry/pods/a").await,
        [
            "/registry/pods/a",
            "/registry/pods/a.b/x",
            "/registry/pods/a/x",
            "/registry/pods/a/y",
            "/registry/pods/a0/x",
            "/registry/pods/ab/x",
        ]
    );
    // The two-byte UTF-8 'é' sorts after 'z'.
    let all = listed("/registry/pods/").await;
    assert_eq!(all.len(), 8);
    assert_eq!(all[6..], ["/registry/pods/z/x", "/registry/pods/\u{e9}/x"]);
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(all, sorted);
    assert_eq!(listed("/registry/pod").await.len(), 10);
    assert!(listed("/registry/pods/b").await.is_empty());

    // A watch filters the same way.
    for key in ["/registry/pods/a/x", "/registry/pods/a/y"] {
        assert_eq!(next_event(&mut watch_a, options).await.kv.key, key);
    }
    assert_next_is_sentinel(store, &mut watch_a, "/registry/pods/a/sentinel", options).await;
}

/// `count` reports the keys a prefix holds now, not deleted ones.
pub async fn count<S: Storage>(store: Arc<S>, _options: Options) {
    let store = &*store;
    let count = |prefix: &'static str| async move { store.count(prefix).await.expect("count") };
    assert_eq!(count("/registry/").await, 0);
    let mut kvs = Vec::new();
    for i in 0..7 {
        kvs.push(create(store, &format!("/registry/nodes/n{i}"), "v").await);
    }
    for i in 0..3 {
        create(store, &format!("/registry/leases/l{i}"), "v").await;
    }
    assert_eq!(count("/registry/").await, 10);
    assert_eq!(count("/registry/nodes/").await, 7);
    assert_eq!(count("/registry/leases/").await, 3);
    assert_eq!(
        count("/registry/nodes/n3").await,
        1,
        "a key is its own prefix"
    );
    delete(store, &kvs[3]).await;
    delete(store, &kvs[5]).await;
    assert_eq!(count("/registry/nodes/").await, 5);
    assert_eq!(count("/registry/nodes/n3").await, 0);
    create(store, "/registry/nodes/n3", "again").await;
    assert_eq!(count("/registry/nodes/").await, 6);
    // Updates do not change the count.
    let n0 = &kvs[0];
    store
        .update(&n0.key, bytes("v2"), n0.mod_revision)
        .await
        .expect("update");
    assert_eq!(count("/registry/nodes/").await, 6);
}
