//! The server as a kube-rs client sees it: typed create, get, list, merge
//! patch, watch and delete over HTTPS with the admin client certificate.

mod support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::json;
use support::{TestServer, list_revision};

#[tokio::test(flavor = "multi_thread")]
async fn typed_round_trip_through_kube_rs() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let mut cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "settings", "labels": {"app": "demo"}},
        "data": {"mode": "fast"}
    }))
    .unwrap();
    let created = config_maps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    let rv = created.metadata.resource_version.clone().unwrap();

    let fetched = config_maps.get("settings").await.unwrap();
    assert_eq!(fetched.data.unwrap()["mode"], "fast");

    // A stale resourceVersion conflicts.
    cm.metadata.resource_version = Some("1".into());
    let conflict = config_maps
        .replace("settings", &PostParams::default(), &cm)
        .await
        .unwrap_err();
    match conflict {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert_eq!(status.reason, "Conflict");
        }
        other => panic!("expected a 409, got {other:?}"),
    }

    let patched = config_maps
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"mode": "slow"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["mode"], "slow");
    assert_ne!(patched.metadata.resource_version.unwrap(), rv);

    let list = config_maps.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());

    let missing = config_maps.get("nope").await.unwrap_err();
    match missing {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"))
        }
        other => panic!("expected a 404, got {other:?}"),
    }

    config_maps
        .delete("settings", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        config_maps
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_streams_typed_events() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client, "default");
    let rv = list_revision(&deployments).await;
    let mut events = deployments
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .unwrap()
        .boxed();

    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
        }
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    deployments
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.try_next())
            .await
            .expect("an event arrives")
            .unwrap()
            .expect("the stream is open");
        match event {
            WatchEvent::Added(d) => seen.push(("ADDED", d.metadata.name.unwrap())),
            WatchEvent::Deleted(d) => seen.push(("DELETED", d.metadata.name.unwrap())),
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [("ADDED", "web".to_owned()), ("DELETED", "web".to_owned())]
    );
}
