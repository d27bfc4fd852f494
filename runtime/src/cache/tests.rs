//! The watch cache against the memory storage: lists, the event window and
//! its expiry, slow watchers, bookmarks and the end of initial events.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use generated::RESOURCES;
use serde_json::{Value, json};

use super::watcher::{self, INITIAL_EVENTS_END, WatchOptions};
use super::{Caches, Expired, Settings, Start, list};
use crate::registry::{Endpoint, keys};
use crate::storage::memory::MemoryStore;
use crate::storage::{Revision, Storage};

fn configmaps() -> Endpoint {
    let resource = RESOURCES
        .iter()
        .find(|r| r.group.is_empty() && r.plural == "configmaps")
        .expect("configmaps are served");
    Endpoint {
        served: resource,
        stored: resource,
    }
}

fn setup(settings: Settings) -> (Arc<dyn Storage>, Caches) {
    let storage: Arc<dyn Storage> = Arc::new(MemoryStore::new());
    (storage.clone(), Caches::new(storage, settings))
}

/// Writes a ConfigMap and waits until the cache has it.
async fn put(storage: &Arc<dyn Storage>, caches: &Caches, name: &str, labels: Value) -> Revision {
    let key = keys::object_key(configmaps().stored, "ns", name);
    let object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "ns", "labels": labels},
    });
    let bytes = Bytes::from(object.to_string());
    let kv = match storage.get(&key, None).await.unwrap() {
        Some(current) => storage.update(&key, bytes, current.mod_revision).await,
        None => storage.create(&key, bytes).await,
    }
    .unwrap();
    assert!(
        caches
            .wait_for(kv.mod_revision, Duration::from_secs(5))
            .await
    );
    kv.mod_revision
}

fn options(timeout: Duration) -> WatchOptions {
    WatchOptions {
        endpoint: configmaps(),
        prefix: keys::list_prefix(configmaps().stored, None),
        filter: None,
        tables: None,
        initial_events: true,
        bookmarks: false,
        initial_events_end: false,
        timeout,
        bookmark_interval: Duration::from_secs(60),
    }
}

async fn next_event(events: &mut BoxStream<'static, Bytes>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event in time")
        .expect("the watch still open");
    serde_json::from_slice(&line).unwrap()
}

fn summary(event: &Value) -> (String, String) {
    (
        event["type"].as_str().unwrap_or_default().to_owned(),
        event["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn lists_come_from_the_cache_with_pages_at_one_revision() {
    let (storage, caches) = setup(Settings::default());
    let cache = caches.resource(configmaps().stored).await.unwrap();
    for name in ["a", "b", "c"] {
        put(&storage, &caches, name, json!({})).await;
    }
    let page = list::page(&cache, configmaps(), Some("ns"), None, Some(2)).unwrap();
    let names: Vec<&str> = page.items.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        names,
        ["/registry/configmaps/ns/a", "/registry/configmaps/ns/b"]
    );
    assert_eq!(page.remaining, Some(1));
    assert!(page.continue_token.is_some());
    let body: Value =
        serde_json::from_slice(&list::encode(configmaps(), &page).unwrap().to_bytes()).unwrap();
    assert_eq!(body["kind"], "ConfigMapList");
    assert_eq!(body["items"][1]["metadata"]["name"], "b");
    assert!(body["items"][0].get("kind").is_none());
    assert_eq!(
        body["metadata"]["resourceVersion"],
        storage.current_revision().await.unwrap().to_string()
    );
}

#[tokio::test]
async fn continue_pages_come_from_the_first_page_snapshot() {
    let (storage, caches) = setup(Settings::default());
    let cache = caches.resource(configmaps().stored).await.unwrap();
    for name in ["a", "b", "c"] {
        put(&storage, &caches, name, json!({})).await;
    }
    let first = list::page(&cache, configmaps(), None, None, Some(2)).unwrap();
    put(&storage, &caches, "b2", json!({})).await;
    let token = first.continue_token.clone().unwrap();
    let rest = list::continued(&cache, configmaps(), None, None, Some(2), &token)
        .unwrap()
        .expect("the snapshot is kept");
    let names: Vec<&str> = rest.items.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(names, ["/registry/configmaps/ns/c"]);
    assert_eq!(rest.revision, first.revision);
    assert!(rest.continue_token.is_none());
    // The last page let the snapshot go: storage answers from now on.
    assert!(
        list::continued(&cache, configmaps(), None, None, Some(2), &token)
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn watches_resume_inside_the_window_and_expire_before_it() {
    let (storage, caches) = setup(Settings {
        window: 3,
        ..Settings::default()
    });
    let cache = caches.resource(configmaps().stored).await.unwrap();
    let mut revisions = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        if name == "c" {
            // Another resource's write: c's revision is not b's plus one.
            storage
                .create("/registry/secrets/ns/s", Bytes::from("{}"))
                .await
                .unwrap();
        }
        revisions.push(put(&storage, &caches, name, json!({})).await);
    }
    // The window holds c, d and e: watches may resume from just before c.
    let resumed = cache
        .subscribe(Start::After(Revision(revisions[2].0 - 1)))
        .unwrap();
    let replayed: Vec<&str> = resumed
        .replay
        .iter()
        .map(|e| e.object.key.as_str())
        .collect();
    assert_eq!(
        replayed,
        [
            "/registry/configmaps/ns/c",
            "/registry/configmaps/ns/d",
            "/registry/configmaps/ns/e"
        ]
    );
    let Err(expired) = cache.subscribe(Start::After(revisions[1])) else {
        panic!("a watch from before the window must expire");
    };
    assert_eq!(
        expired,
        Expired {
            requested: revisions[1],
            oldest: Revision(revisions[2].0 - 1)
        }
    );
}

#[tokio::test]
async fn a_watch_sends_current_objects_then_changes_by_its_selection() {
    let (storage, caches) = setup(Settings::default());
    let cache = caches.resource(configmaps().stored).await.unwrap();
    put(&storage, &caches, "a", json!({"app": "web"})).await;
    put(&storage, &caches, "b", json!({"app": "db"})).await;
    let mut watch = options(Duration::from_secs(30));
    watch.filter = Some(Arc::new(|o: &Value| {
        o.pointer("/metadata/labels/app") == Some(&json!("web"))
    }));
    let mut events = watcher::stream(cache.clone(), cache.subscribe(Start::Now).unwrap(), watch);
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("ADDED".into(), "a".into())
    );
    put(&storage, &caches, "b", json!({"app": "web"})).await;
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("ADDED".into(), "b".into())
    );
    put(&storage, &caches, "a", json!({"app": "web", "v": "2"})).await;
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("MODIFIED".into(), "a".into())
    );
    put(&storage, &caches, "a", json!({"app": "db"})).await;
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("DELETED".into(), "a".into())
    );
    storage
        .delete(&keys::object_key(configmaps().stored, "ns", "b"), None)
        .await
        .unwrap();
    let deleted = next_event(&mut events).await;
    assert_eq!(summary(&deleted), ("DELETED".into(), "b".into()));
    assert_eq!(
        deleted["object"]["metadata"]["resourceVersion"],
        storage.current_revision().await.unwrap().to_string()
    );
}

#[tokio::test]
async fn a_slow_watcher_is_dropped_without_holding_up_others() {
    let (storage, caches) = setup(Settings {
        watcher_buffer: 2,
        ..Settings::default()
    });
    let cache = caches.resource(configmaps().stored).await.unwrap();
    let mut slow = cache.subscribe(Start::Now).unwrap();
    let mut fast = cache.subscribe(Start::Now).unwrap();
    for name in ["a", "b", "c", "d", "e"] {
        put(&storage, &caches, name, json!({})).await;
        let event = tokio::time::timeout(Duration::from_secs(5), fast.live.recv())
            .await
            .unwrap()
            .expect("the fast watcher keeps up");
        assert!(event.object.key.ends_with(name));
    }
    let mut buffered = 0;
    while slow.live.recv().await.is_some() {
        buffered += 1;
    }
    assert_eq!(
        buffered, 2,
        "the slow watcher got its buffer, then was closed"
    );
}

#[tokio::test]
async fn bookmarks_carry_the_current_revision() {
    let (storage, caches) = setup(Settings::default());
    let cache = caches.resource(configmaps().stored).await.unwrap();
    let revision = put(&storage, &caches, "a", json!({})).await;
    let mut watch = options(Duration::from_secs(30));
    watch.initial_events = false;
    watch.bookmarks = true;
    watch.bookmark_interval = Duration::from_millis(50);
    let mut events = watcher::stream(cache.clone(), cache.subscribe(Start::Now).unwrap(), watch);
    let bookmark = next_event(&mut events).await;
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(
        bookmark["object"],
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": revision.to_string()}})
    );
}

#[tokio::test]
async fn initial_events_end_with_a_marked_bookmark() {
    let (storage, caches) = setup(Settings::default());
    let cache = caches.resource(configmaps().stored).await.unwrap();
    put(&storage, &caches, "a", json!({})).await;
    let revision = put(&storage, &caches, "b", json!({})).await;
    let mut watch = options(Duration::from_secs(30));
    watch.bookmarks = true;
    watch.initial_events_end = true;
    let mut events = watcher::stream(cache.clone(), cache.subscribe(Start::Now).unwrap(), watch);
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("ADDED".into(), "a".into())
    );
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("ADDED".into(), "b".into())
    );
    let end = next_event(&mut events).await;
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["resourceVersion"],
        revision.to_string()
    );
    assert_eq!(
        end["object"]["metadata"]["annotations"][INITIAL_EVENTS_END],
        "true"
    );
}

#[tokio::test]
async fn a_watch_ends_at_its_timeout() {
    let (_storage, caches) = setup(Settings::default());
    let cache = caches.resource(configmaps().stored).await.unwrap();
    let mut events = watcher::stream(
        cache.clone(),
        cache.subscribe(Start::Now).unwrap(),
        options(Duration::from_millis(100)),
    );
    let end = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
    assert!(matches!(end, Ok(None)));
}

#[tokio::test]
async fn a_failed_storage_watch_ends_watchers_and_the_cache_relists() {
    // The storage watch fails as soon as it falls one change behind.
    let storage: Arc<dyn Storage> = Arc::new(MemoryStore::with_watch_capacity(1));
    let caches = Caches::new(storage.clone(), Settings::default());
    let cache = caches.resource(configmaps().stored).await.unwrap();
    let mut watcher = cache.subscribe(Start::Now).unwrap();
    // Written without yielding, so the storage watch cannot keep up.
    for name in ["a", "b", "c", "d"] {
        let key = keys::object_key(configmaps().stored, "ns", name);
        storage.create(&key, Bytes::from("{}")).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(5), async {
        while watcher.live.recv().await.is_some() {}
    })
    .await
    .expect("the watcher's stream ends");
    let fresh = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let current = caches.resource(configmaps().stored).await.unwrap();
            if !Arc::ptr_eq(&current, &cache) {
                return current;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a new cache");
    assert_eq!(fresh.snapshot("/registry/configmaps/").objects.len(), 4);
}

#[tokio::test]
async fn a_cache_fills_from_storage_in_pages_at_one_revision() {
    let (storage, caches) = setup(Settings::default());
    let count = 2 * super::FILL_PAGE + 7;
    assert!(count < 50_000, "the test writes {count} keys");
    for n in 0..count {
        let key = keys::object_key(configmaps().stored, "ns", &format!("cm-{n:05}"));
        let object = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{n:05}"), "namespace": "ns"},
        });
        storage
            .create(&key, Bytes::from(object.to_string()))
            .await
            .unwrap();
    }
    let written = storage.current_revision().await.unwrap();
    // The first use of the resource fills its cache from storage.
    let cache = caches.resource(configmaps().stored).await.unwrap();
    let page = list::page(&cache, configmaps(), Some("ns"), None, None).unwrap();
    assert_eq!(page.items.len(), count);
    assert!(page.revision >= written);
    let names: Vec<&str> = page.items.iter().map(|o| o.key.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted, "every key once, in order");
}
