//! The etcd backend against a real etcd (`/usr/bin/etcd`, installed by
//! `cargo xtask test`). Every test starts its own etcd process (about 0.1 s)
//! so that revisions and compactions of one test never reach another.

#[path = "support/etcd.rs"]
mod etcd_support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use runtime::storage::etcd::{EtcdConfig, EtcdStore};
use runtime::storage::{
    Event, EventKind, RangeRequest, Revision, Storage, StorageError, WatchStream,
};

use etcd_support::{EtcdProcess, free_port};

fn config(endpoint: String) -> EtcdConfig {
    EtcdConfig {
        endpoints: vec![endpoint],
        dial_timeout: Duration::from_secs(5),
        // Short, so that calls against a dead etcd fail quickly.
        request_timeout: Duration::from_secs(2),
        ..EtcdConfig::default()
    }
}

async fn connect(etcd: &EtcdProcess) -> EtcdStore {
    EtcdStore::connect(config(etcd.endpoint()))
        .await
        .expect("connecting to etcd")
}

fn value(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// The next item of a watch, failing the test if none comes within 5 s.
async fn next_event(stream: &mut WatchStream) -> Option<Result<Event, StorageError>> {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("a watch item within 5 s")
}

/// Polls `check` until it holds, for at most `limit`.
async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn two_clients_see_each_others_writes_and_events() {
    let etcd = EtcdProcess::start();
    let a = connect(&etcd).await;
    let b = connect(&etcd).await;
    let key = "/registry/pods/default/web";
    let start = b.current_revision().await.unwrap();
    let mut events = b.watch("/registry/pods/", start).await.unwrap();

    let created = a.create(key, value("v1")).await.unwrap();
    assert_eq!(created.create_revision, created.mod_revision);
    assert!(created.mod_revision > start);
    assert_eq!(b.get(key, None).await.unwrap(), Some(created.clone()));
    assert!(matches!(
        b.create(key, value("again")).await,
        Err(StorageError::AlreadyExists { .. })
    ));

    let updated = b
        .update(key, value("v2"), created.mod_revision)
        .await
        .unwrap();
    assert_eq!(updated.create_revision, created.create_revision);
    assert!(updated.mod_revision > created.mod_revision);
    match a.update(key, value("stale"), created.mod_revision).await {
        Err(StorageError::Conflict {
            expected, actual, ..
        }) => {
            assert_eq!(
                (expected, actual),
                (created.mod_revision, updated.mod_revision)
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let (deleted, deleted_at) = a.delete(key, Some(updated.mod_revision)).await.unwrap();
    assert_eq!(deleted, updated);
    assert!(matches!(
        b.update(key, value("gone"), updated.mod_revision).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(matches!(
        b.delete(key, None).await,
        Err(StorageError::NotFound { .. })
    ));

    let first = next_event(&mut events).await.unwrap().unwrap();
    assert_eq!(
        (first.kind, &first.kv, &first.prev),
        (EventKind::Put, &created, &None)
    );
    let second = next_event(&mut events).await.unwrap().unwrap();
    assert_eq!(
        (second.kind, &second.kv, second.prev.as_ref()),
        (EventKind::Put, &updated, Some(&created))
    );
    let third = next_event(&mut events).await.unwrap().unwrap();
    assert_eq!(third.kind, EventKind::Deleted);
    assert_eq!(
        (
            third.kv.key.as_str(),
            third.kv.value.is_empty(),
            third.revision()
        ),
        (key, true, deleted_at)
    );
    assert_eq!(third.prev.as_ref(), Some(&updated));
}

#[tokio::test]
async fn the_prefix_replaces_the_registry_root() {
    let etcd = EtcdProcess::start();
    let tenant = EtcdStore::connect(EtcdConfig {
        prefix: "/tenant-a/".to_owned(),
        ..config(etcd.endpoint())
    })
    .await
    .unwrap();
    let plain = connect(&etcd).await;

    let written = tenant
        .create("/registry/pods/ns/a", value("x"))
        .await
        .unwrap();
    assert_eq!(written.key, "/registry/pods/ns/a");
    assert_eq!(plain.get("/registry/pods/ns/a", None).await.unwrap(), None);
    let raw = plain
        .get("/tenant-a/pods/ns/a", None)
        .await
        .unwrap()
        .expect("stored under the prefix");
    assert_eq!(
        (raw.value, raw.mod_revision),
        (value("x"), written.mod_revision)
    );

    plain
        .create("/registry/pods/ns/b", value("y"))
        .await
        .unwrap();
    let listed = tenant
        .range(RangeRequest {
            prefix: "/registry/pods/".to_owned(),
            ..Default::default()
        })
        .await;
    let keys: Vec<_> = listed.unwrap().kvs.into_iter().map(|kv| kv.key).collect();
    assert_eq!(keys, ["/registry/pods/ns/a"]);
    assert_eq!(tenant.count("/registry/").await.unwrap(), 1);

    let mut events = tenant.watch("/registry/", Revision(0)).await.unwrap();
    let event = next_event(&mut events).await.unwrap().unwrap();
    assert_eq!(event.kv, written);
    assert!(matches!(
        tenant.create("/elsewhere", value("z")).await,
        Err(StorageError::Internal(_))
    ));
}

#[tokio::test]
async fn pages_read_one_snapshot_and_count_what_remains() {
    let etcd = EtcdProcess::start();
    let store = connect(&etcd).await;
    for name in ["a", "b", "c", "d", "e"] {
        store
            .create(&format!("/registry/pods/ns/{name}"), value(name))
            .await
            .unwrap();
    }
    store
        .create("/registry/pods/nsx/a", value("other namespace"))
        .await
        .unwrap();
    let prefix = "/registry/pods/ns/".to_owned();
    let first = store
        .range(RangeRequest {
            prefix: prefix.clone(),
            limit: Some(2),
            ..Default::default()
        })
        .await;
    let first = first.unwrap();
    assert_eq!((first.kvs.len(), first.more, first.remaining), (2, true, 3));

    // Writes after the first page do not change the pages that follow.
    store
        .create("/registry/pods/ns/bb", value("late"))
        .await
        .unwrap();
    store.delete("/registry/pods/ns/e", None).await.unwrap();
    let second = store
        .range(RangeRequest {
            prefix: prefix.clone(),
            start: Some("/registry/pods/ns/c".to_owned()),
            limit: Some(2),
            revision: Some(first.revision),
        })
        .await
        .unwrap();
    let keys: Vec<_> = second.kvs.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/registry/pods/ns/c", "/registry/pods/ns/d"]);
    assert_eq!(
        (second.revision, second.more, second.remaining),
        (first.revision, true, 1)
    );

    let latest = store
        .range(RangeRequest {
            prefix,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (latest.kvs.len(), latest.more, latest.remaining),
        (5, false, 0)
    );
    assert_eq!(latest.revision, store.current_revision().await.unwrap());
}

#[tokio::test]
async fn compaction_by_another_client_is_seen_exactly() {
    let etcd = EtcdProcess::start();
    let a = connect(&etcd).await;
    let b = connect(&etcd).await;
    let key = "/registry/configmaps/ns/counter";
    let mut revisions = vec![a.create(key, value("0")).await.unwrap().mod_revision];
    for step in 1..10 {
        let last = *revisions.last().unwrap();
        revisions.push(
            a.update(key, value(&step.to_string()), last)
                .await
                .unwrap()
                .mod_revision,
        );
    }
    assert_eq!(b.compacted_revision().await.unwrap(), Revision(0));

    a.compact(revisions[5]).await.unwrap();
    assert_eq!(b.compacted_revision().await.unwrap(), revisions[5]);
    match b.get(key, Some(revisions[4])).await {
        Err(StorageError::Compacted {
            requested,
            compacted,
        }) => {
            assert_eq!((requested, compacted), (revisions[4], revisions[5]));
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    assert_eq!(
        b.get(key, Some(revisions[5])).await.unwrap().unwrap().value,
        value("5")
    );
    // A watch after the compaction point gets every change with its
    // previous value; one that starts just below it would miss a previous
    // value, so it is refused like any older one.
    match b.watch("/registry/", revisions[4]).await {
        Err(StorageError::Compacted {
            requested,
            compacted,
        }) => assert_eq!((requested, compacted), (revisions[4], revisions[5])),
        Err(other) => panic!("expected Compacted, got {other}"),
        Ok(_) => panic!("expected Compacted, got a watch"),
    }
    let mut events = b.watch("/registry/", revisions[5]).await.unwrap();
    let first = next_event(&mut events).await.unwrap().unwrap();
    assert_eq!(first.revision(), revisions[6]);
    assert_eq!(first.prev.map(|prev| prev.mod_revision), Some(revisions[5]));

    let current = b.current_revision().await.unwrap();
    let future = Revision(current.0 + 5);
    match b.get(key, Some(future)).await {
        Err(StorageError::FutureRevision {
            requested,
            current: reported,
        }) => {
            assert_eq!((requested, reported), (future, current));
        }
        other => panic!("expected FutureRevision, got {other:?}"),
    }
    // Compacting to an already compacted revision changes nothing.
    b.compact(revisions[2]).await.unwrap();
    assert_eq!(a.compacted_revision().await.unwrap(), revisions[5]);
    assert!(matches!(
        a.compact(future).await,
        Err(StorageError::FutureRevision { .. })
    ));
}

#[tokio::test]
async fn unreachable_etcd_fails_clearly_and_is_found_once_it_starts() {
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let unreachable = EtcdConfig {
        dial_timeout: Duration::from_secs(1),
        ..config(endpoint.clone())
    };

    let started = Instant::now();
    match EtcdStore::connect(unreachable.clone()).await {
        Err(StorageError::Unavailable(message)) => {
            assert!(message.contains(&endpoint), "{message}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    // A lazily connected store reports not-ready until etcd answers.
    let lazy = EtcdStore::connect_lazy(unreachable.clone()).await.unwrap();
    assert!(matches!(
        lazy.health().await,
        Err(StorageError::Unavailable(_))
    ));
    assert!(matches!(
        lazy.get("/registry/x", None).await,
        Err(StorageError::Unavailable(_))
    ));

    // `connect` keeps retrying until its deadline: an etcd that comes up
    // meanwhile is found.
    let patient = EtcdConfig {
        dial_timeout: Duration::from_secs(20),
        ..unreachable
    };
    let connecting = tokio::spawn(EtcdStore::connect(patient));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let etcd = tokio::task::spawn_blocking(move || EtcdProcess::start_on(port))
        .await
        .unwrap();
    let store = connecting
        .await
        .unwrap()
        .expect("connect retries until etcd is up");
    store.create("/registry/x", value("1")).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            lazy.health().await.is_ok()
        })
        .await
    );
    assert_eq!(
        lazy.get("/registry/x", None).await.unwrap().unwrap().value,
        value("1")
    );
    drop(etcd);
}

#[tokio::test]
async fn killed_etcd_ends_watches_and_a_restart_loses_nothing() {
    let mut etcd = EtcdProcess::start();
    let store = connect(&etcd).await;
    let mut history = Vec::new();
    for name in ["a", "b", "c"] {
        history.push(
            store
                .create(&format!("/registry/pods/ns/{name}"), value(name))
                .await
                .unwrap()
                .mod_revision,
        );
    }
    let b = store
        .get("/registry/pods/ns/b", None)
        .await
        .unwrap()
        .unwrap();
    history.push(
        store
            .update("/registry/pods/ns/b", value("b2"), b.mod_revision)
            .await
            .unwrap()
            .mod_revision,
    );
    history.push(store.delete("/registry/pods/ns/c", None).await.unwrap().1);
    let all = RangeRequest {
        prefix: "/registry/".to_owned(),
        ..Default::default()
    };
    let before = store.range(all.clone()).await.unwrap();
    let mut watch = store.watch("/registry/", before.revision).await.unwrap();

    etcd.kill();
    let killed = Instant::now();
    assert!(matches!(
        next_event(&mut watch).await,
        Some(Err(StorageError::Unavailable(_)))
    ));
    assert!(
        next_event(&mut watch).await.is_none(),
        "the stream ends after its error"
    );
    assert!(matches!(
        store.get("/registry/pods/ns/a", None).await,
        Err(StorageError::Unavailable(_))
    ));
    assert!(matches!(
        store.create("/registry/pods/ns/d", value("d")).await,
        Err(StorageError::Unavailable(_))
    ));
    assert!(matches!(
        store.health().await,
        Err(StorageError::Unavailable(_))
    ));
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "failures took {:?}",
        killed.elapsed()
    );

    etcd.restart();
    assert!(
        eventually(Duration::from_secs(10), || async {
            store.health().await.is_ok()
        })
        .await
    );
    let after = store.range(all).await.unwrap();
    assert_eq!((after.kvs, after.revision), (before.kvs, before.revision));

    // The history replays exactly once, in order, then live writes follow.
    let mut replay = store.watch("/registry/", Revision(0)).await.unwrap();
    let mut replayed = Vec::new();
    for _ in 0..history.len() {
        replayed.push(next_event(&mut replay).await.unwrap().unwrap().revision());
    }
    assert_eq!(replayed, history);
    let d = store
        .create("/registry/pods/ns/d", value("d"))
        .await
        .unwrap();
    assert_eq!(d.mod_revision, Revision(before.revision.0 + 1));
    assert_eq!(next_event(&mut replay).await.unwrap().unwrap().kv, d);
}

#[tokio::test]
async fn answers_beyond_grpcs_default_four_mib_arrive() {
    let etcd = EtcdProcess::start();
    let store = connect(&etcd).await;
    let start = store.current_revision().await.unwrap();
    let big = Bytes::from(vec![b'x'; 1536 * 1024]);
    for name in ["a", "b", "c"] {
        store
            .create(&format!("/registry/configmaps/ns/{name}"), big.clone())
            .await
            .unwrap();
    }
    let listed = store
        .range(RangeRequest {
            prefix: "/registry/configmaps/".to_owned(),
            ..Default::default()
        })
        .await;
    assert_eq!(listed.unwrap().kvs.len(), 3);
    // etcd replays all three in one watch response.
    let mut events = store.watch("/registry/configmaps/", start).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            next_event(&mut events)
                .await
                .unwrap()
                .unwrap()
                .kv
                .value
                .len(),
            big.len()
        );
    }
}

#[tokio::test]
async fn watches_outlive_the_request_timeout() {
    let etcd = EtcdProcess::start();
    let config = EtcdConfig {
        request_timeout: Duration::from_millis(500),
        ..config(etcd.endpoint())
    };
    let store = EtcdStore::connect(config).await.unwrap();
    let mut events = store
        .watch("/registry/", store.current_revision().await.unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let written = store
        .create("/registry/pods/ns/late", value("x"))
        .await
        .unwrap();
    assert_eq!(next_event(&mut events).await.unwrap().unwrap().kv, written);
}

#[tokio::test]
async fn tls_with_client_certificates() {
    let etcd = tokio::task::spawn_blocking(EtcdProcess::start_tls)
        .await
        .unwrap();
    let tls = etcd.tls().expect("a TLS etcd");
    let secure = EtcdConfig {
        ca_file: Some(tls.ca.clone()),
        cert_file: Some(tls.client_cert.clone()),
        key_file: Some(tls.client_key.clone()),
        ..config(etcd.endpoint())
    };
    let store = EtcdStore::connect(secure.clone())
        .await
        .expect("connecting with TLS");
    let written = store
        .create("/registry/secrets/ns/s", value("x"))
        .await
        .unwrap();
    assert_eq!(store.get(&written.key, None).await.unwrap(), Some(written));

    // Without a client certificate etcd refuses the connection.
    let anonymous = EtcdConfig {
        cert_file: None,
        key_file: None,
        dial_timeout: Duration::from_millis(500),
        ..secure.clone()
    };
    assert!(matches!(
        EtcdStore::connect(anonymous).await,
        Err(StorageError::Unavailable(_))
    ));
    // Half a key pair or a missing file is a configuration error.
    let half = EtcdConfig {
        key_file: None,
        ..secure.clone()
    };
    assert!(matches!(
        EtcdStore::connect(half).await,
        Err(StorageError::Internal(_))
    ));
    let missing = EtcdConfig {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..secure
    };
    match EtcdStore::connect(missing).await {
        Err(StorageError::Internal(message)) => {
            assert!(message.contains("--etcd-cafile"), "{message}")
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

/// The shared conformance suite, each case on its own etcd process.
mod conformance {
    use super::etcd_support::EtcdProcess;
    use super::*;

    runtime::conformance_tests! {
        factory: |_case| async {
            let etcd = tokio::task::spawn_blocking(EtcdProcess::start).await.expect("starting etcd");
            (connect(&etcd).await, etcd)
        },
        // Every write is a Raft round and an fsync: the full 100 000 keys
        // take most of a minute on a 2-core machine, worth it in CI.
        scale: 100_000,
    }
}
