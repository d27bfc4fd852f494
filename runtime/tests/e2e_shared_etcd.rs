//! Two ferrokube processes on one etcd: each sees the other's writes in
//! its lists (consistent reads wait for its watch cache to catch up with
//! etcd) and in its watches.

#[allow(dead_code)] // the TLS and restart helpers are for other tests
#[path = "support/etcd.rs"]
mod etcd_support;
mod support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

use etcd_support::EtcdProcess;
use support::{TestServer, list_revision};

async fn create(api: &Api<ConfigMap>, name: &str) {
    let object: ConfigMap = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
}

async fn names(api: &Api<ConfigMap>) -> Vec<String> {
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_etcd_see_each_others_writes_and_events() {
    let etcd = EtcdProcess::start();
    let flag = format!("--etcd-servers={}", etcd.endpoint());
    let first = TestServer::start(&[&flag]);
    let second = TestServer::start(&[&flag]);
    let on_first: Api<ConfigMap> = Api::namespaced(first.client().await, "default");
    let on_second: Api<ConfigMap> = Api::namespaced(second.client().await, "default");

    // Both caches are built before the writes, so the lists below must
    // come from caches kept current by the etcd watch.
    assert!(names(&on_first).await.is_empty());
    assert!(names(&on_second).await.is_empty());
    let rv = list_revision(&on_second).await;
    let mut events = on_second
        .watch(&WatchParams::default().timeout(20), &rv)
        .await
        .unwrap()
        .boxed();

    create(&on_first, "from-first").await;
    assert_eq!(names(&on_second).await, ["from-first"]);
    let event = tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .expect("the second server's watch sees the first's write")
        .unwrap()
        .expect("the stream is open");
    assert!(
        matches!(&event, WatchEvent::Added(c) if c.metadata.name.as_deref() == Some("from-first")),
        "{event:?}"
    );

    create(&on_second, "from-second").await;
    assert_eq!(names(&on_first).await, ["from-first", "from-second"]);
    drop(first);
    drop(second);
    drop(etcd);
}
