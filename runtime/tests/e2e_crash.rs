//! The real server killed with SIGKILL in the middle of concurrent
//! creates, then restarted on the same data directory, several times in a
//! row: every create the server acknowledged is there with the
//! resourceVersion it answered, every object present is whole, revisions
//! keep increasing, and a watch from before the crash either replays what
//! was written or is told its resourceVersion is gone (410).

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use support::TestServer;

/// Kill-restart rounds, and the time after which no new round starts.
const ROUNDS: usize = 3;
const TIME_BOUND: Duration = Duration::from_secs(90);
/// Concurrent writers during each round.
const WRITERS: usize = 8;

/// What a writer puts in the ConfigMap it creates: derived from the name,
/// so that a restarted server's copy can be checked for completeness.
fn payload(name: &str) -> String {
    format!("{name}:").repeat(64)
}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "data": {"payload": payload(name)},
    }))
    .unwrap()
}

fn revision(config_map: &ConfigMap) -> u64 {
    config_map
        .metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .expect("a numeric resourceVersion")
}

/// Creates ConfigMaps `<round>-<writer>-<n>` until the server stops
/// answering; records each acknowledged name with its resourceVersion.
async fn write_until_killed(
    api: Api<ConfigMap>,
    round: usize,
    writer: usize,
    acked: Arc<Mutex<BTreeMap<String, u64>>>,
) {
    for n in 0.. {
        let name = format!("r{round}-w{writer}-{n}");
        match api.create(&PostParams::default(), &config_map(&name)).await {
            Ok(created) => {
                acked.lock().unwrap().insert(name, revision(&created));
            }
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_creates_survive_sigkill_of_the_server() {
    let started = Instant::now();
    let mut server = TestServer::start(&[]);
    let mut acked_all: BTreeMap<String, u64> = BTreeMap::new();
    let mut highest = 0u64;
    for round in 0..ROUNDS {
        if round > 0 && started.elapsed() > TIME_BOUND {
            break;
        }
        let api: Api<ConfigMap> = Api::default_namespaced(server.client().await);
        let before = revision(
            &api.create(
                &PostParams::default(),
                &config_map(&format!("r{round}-start")),
            )
            .await
            .unwrap(),
        );
        assert!(before > highest, "revision {before} after {highest}");

        let acked = Arc::new(Mutex::new(BTreeMap::new()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                tokio::spawn(write_until_killed(
                    api.clone(),
                    round,
                    writer,
                    acked.clone(),
                ))
            })
            .collect();
        // Let the load build up, then kill the server under it.
        while acked.lock().unwrap().len() < 50 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let data_dir = tokio::task::spawn_blocking(move || server.kill())
            .await
            .unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        let acked = std::mem::take(&mut *acked.lock().unwrap());

        server = tokio::task::spawn_blocking(move || TestServer::start_in(data_dir, &[]))
            .await
            .unwrap();
        let api: Api<ConfigMap> = Api::default_namespaced(server.client().await);
        let listed = api.list(&ListParams::default()).await.unwrap();
        let present: BTreeMap<String, (u64, String)> = listed
            .items
            .iter()
            .map(|cm| {
                let name = cm.metadata.name.clone().unwrap();
                let data = cm.data.as_ref().and_then(|d| d.get("payload")).cloned();
                (name, (revision(cm), data.unwrap_or_default()))
            })
            .collect();
        acked_all.extend(acked.clone());
        for (name, rv) in &acked_all {
            let Some((found, _)) = present.get(name) else {
                panic!("acknowledged {name} (revision {rv}) is gone after the crash");
            };
            assert_eq!(found, rv, "{name} has another resourceVersion");
        }
        // Written but not acknowledged is allowed (the answer was lost);
        // half written is not.
        for (name, (rv, data)) in &present {
            assert_eq!(data, &payload(name), "{name} is not whole");
            highest = highest.max(*rv);
        }

        // A watch from before the crash resumes or gets a clear 410.
        let mut events = api
            .watch(&WatchParams::default().timeout(10), &before.to_string())
            .await
            .unwrap()
            .boxed();
        let mut replayed = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while replayed.len() < acked.len() {
            let next = tokio::time::timeout_at(deadline, events.next()).await;
            match next {
                Ok(Some(Ok(WatchEvent::Added(cm)))) => replayed.push(cm.metadata.name.unwrap()),
                Ok(Some(Ok(WatchEvent::Error(status)))) => {
                    assert_eq!(status.code, 410, "{status:?}");
                    assert_eq!(status.reason, "Expired", "{status:?}");
                    break;
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("the watch from {before} ended early: {other:?}"),
            }
        }
        if !replayed.is_empty() {
            for name in acked.keys() {
                assert!(replayed.contains(name), "the watch missed {name}");
            }
        }

        eprintln!(
            "round {round}: {} acknowledged, {} present, watch replayed {}",
            acked.len(),
            present.len(),
            replayed.len()
        );
        // New writes get higher revisions than anything before the crash.
        let after = revision(
            &api.create(
                &PostParams::default(),
                &config_map(&format!("r{round}-after")),
            )
            .await
            .unwrap(),
        );
        assert!(after > highest, "revision {after} is not above {highest}");
        highest = after;
    }
}
