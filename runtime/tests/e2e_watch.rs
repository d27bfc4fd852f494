//! Watches and lists served from the watch cache, as kubectl and kube-rs
//! see them: `kubectl get -w`, a kube-rs reflector that resumes from
//! bookmarks, streaming lists (`sendInitialEvents`), expired
//! resourceVersions, the deprecated `/watch/` paths, paginated snapshots
//! and a reader that stops reading.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, VersionMatch, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::{Value, json};
use support::{TestServer, list_revision};

fn config_map(name: &str, data: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"value": data}})).unwrap()
}

async fn create(api: &Api<ConfigMap>, name: &str) -> String {
    api.create(&PostParams::default(), &config_map(name, "x"))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
}

/// A raw GET; the body as text, or the Status of an error.
async fn get_raw(client: &kube::Client, path: &str) -> Result<String, kube::Error> {
    let request = axum::http::Request::get(path).body(Vec::new()).unwrap();
    client.request_text(request).await
}

#[test]
fn kubectl_get_watch_sees_a_create_from_another_kubectl() {
    // The default, embedded store.
    let server = TestServer::start(&[]);
    server.kubectl_ok(&["create", "configmap", "before", "--from-literal=a=b"]);
    let mut watch = Command::new("kubectl")
        .env("KUBECONFIG", &server.kubeconfig)
        .env("HOME", server.data_dir.path())
        .args(["get", "configmaps", "-w", "--request-timeout=30s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl runs");
    let (lines, seen) = mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let wait_for = |name: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match seen.recv_timeout(left) {
                Ok(line) if line.split_whitespace().next() == Some(name) => return line,
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        panic!("kubectl get -w never printed {name}");
    };
    let first = wait_for("before");
    assert!(first.contains("1"), "the DATA column: {first}");
    server.kubectl_ok(&["create", "configmap", "after", "--from-literal=a=b"]);
    wait_for("after");
    let _ = watch.kill();
    let _ = watch.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reflector_follows_changes_and_resumes_from_bookmarks() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    create(&api, "one").await;
    let (reader, writer) = reflector::store();
    // A short watch timeout: the server bookmarks 2 s before it ends and
    // the watcher resumes from that bookmark's resourceVersion.
    let config = watcher::Config::default().timeout(4);
    let events = reflector(writer, watcher(api.clone(), config))
        .applied_objects()
        .boxed();
    let drive = tokio::spawn(async move { events.try_for_each(|_| async { Ok(()) }).await });
    reader.wait_until_ready().await.unwrap();
    create(&api, "two").await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    create(&api, "three").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut names: Vec<String> = reader
            .state()
            .iter()
            .filter_map(|c| c.metadata.name.clone())
            .collect();
        names.sort();
        if names == ["one", "three", "two"] {
            break;
        }
        assert!(Instant::now() < deadline, "the reflector holds {names:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !drive.is_finished(),
        "the watcher failed: {:?}",
        drive.await
    );
    drive.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn bookmarks_carry_only_a_resource_version() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let rv = create(&api, "one").await;
    let params = WatchParams {
        bookmarks: true,
        ..WatchParams::default().timeout(3)
    };
    let mut events = api.watch(&params, &rv).await.unwrap().boxed();
    let event = tokio::time::timeout(Duration::from_secs(5), events.try_next())
        .await
        .expect("a bookmark before the watch ends")
        .unwrap()
        .expect("an event");
    let WatchEvent::Bookmark(bookmark) = event else {
        panic!("expected a bookmark, got {event:?}");
    };
    assert_eq!(bookmark.types.kind, "ConfigMap");
    assert_eq!(bookmark.metadata.resource_version, rv);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_too_old_resource_version_ends_the_watch_with_410() {
    // A window of two events per resource.
    let server = TestServer::start(&["--storage=memory", "--default-watch-cache-size=2"]);
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut revisions = Vec::new();
    for name in ["one", "two", "three"] {
        revisions.push(create(&api, name).await.parse::<u64>().unwrap());
    }
    // A consistent list: the cache has caught up with the writes.
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        3
    );
    // The window holds two and three: a watch may start just before two.
    let oldest = revisions[1] - 1;
    let mut events = api
        .watch(&WatchParams::default(), &(revisions[0] - 1).to_string())
        .await
        .expect("the watch is accepted")
        .boxed();
    let event = events.try_next().await.unwrap().expect("an event");
    let WatchEvent::Error(error) = event else {
        panic!("expected an ERROR event, got {event:?}");
    };
    assert_eq!(error.code, 410);
    assert_eq!(error.reason, "Expired");
    assert_eq!(
        error.message,
        format!("too old resource version: {} ({oldest})", revisions[0] - 1)
    );
    assert!(events.try_next().await.unwrap().is_none(), "the watch ends");

    // From the window's start it replays what followed.
    let mut events = api
        .watch(&WatchParams::default().timeout(5), &oldest.to_string())
        .await
        .unwrap()
        .boxed();
    for name in ["two", "three"] {
        let event = events.try_next().await.unwrap().expect("an event");
        assert!(
            matches!(&event, WatchEvent::Added(c) if c.metadata.name.as_deref() == Some(name)),
            "{event:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_lists_send_initial_events_then_a_marked_bookmark() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    create(&api, "one").await;
    create(&api, "two").await;
    // kube-rs streams from resourceVersion "0" (any state the cache has);
    // a consistent list first makes sure the cache has caught up.
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );

    let config = watcher::Config::default().streaming_lists();
    let mut events = watcher(api.clone(), config).boxed();
    let mut initial = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.try_next())
            .await
            .expect("the initial events end")
            .unwrap()
            .expect("the stream is open");
        match event {
            watcher::Event::Init => {}
            watcher::Event::InitApply(c) => initial.push(c.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(initial, ["one", "two"]);
    create(&api, "three").await;
    let event = events.try_next().await.unwrap().unwrap();
    assert!(
        matches!(event, watcher::Event::Apply(c) if c.metadata.name.as_deref() == Some("three"))
    );

    // The raw stream: objects, then the bookmark with the annotation.
    let path = "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true\
                &resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1";
    let body = get_raw(&client, path).await.unwrap();
    let events: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[..4], ["ADDED", "ADDED", "ADDED", "BOOKMARK"]);
    assert_eq!(
        events[3]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // Without resourceVersionMatch=NotOlderThan it is refused, as upstream.
    let path = "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true";
    match get_raw(&client, path).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422);
            assert!(
                status.message.contains(
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
                ),
                "{}",
                status.message
            );
        }
        other => panic!("expected a 422, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deprecated_watch_paths_still_watch() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    create(&api, "one").await;
    create(&api, "two").await;
    let all = get_raw(
        &client,
        "/api/v1/watch/namespaces/default/configmaps?timeoutSeconds=1",
    )
    .await
    .unwrap();
    assert_eq!(all.lines().count(), 2, "{all}");
    let one = get_raw(
        &client,
        "/api/v1/watch/namespaces/default/configmaps/one?timeoutSeconds=1",
    )
    .await
    .unwrap();
    let event: Value = serde_json::from_str(one.trim()).unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "one");
    assert_eq!(event["object"]["kind"], "ConfigMap");
}

#[tokio::test(flavor = "multi_thread")]
async fn paginated_lists_are_one_snapshot_and_exact_reads_go_back_in_time() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for name in ["a", "b", "c"] {
        create(&api, name).await;
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    let snapshot = first.metadata.resource_version.clone().unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(1));
    // Written between the pages: not in the snapshot.
    create(&api, "b2").await;
    let token = first.metadata.continue_.clone().unwrap();
    let rest = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    let names: Vec<String> = first
        .items
        .iter()
        .chain(&rest.items)
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(
        rest.metadata.resource_version.as_deref(),
        Some(snapshot.as_str())
    );

    // A consistent read sees the write at once; an exact read does not.
    let latest = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(latest.items.len(), 4);
    let exact = api
        .list(
            &ListParams::default()
                .at(&snapshot)
                .matching(VersionMatch::Exact),
        )
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 3);
    assert_eq!(
        exact.metadata.resource_version.as_deref(),
        Some(snapshot.as_str())
    );
    let any = api.list(&ListParams::default().match_any()).await.unwrap();
    assert_eq!(any.items.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_that_stops_reading_does_not_hold_up_others() {
    let server = TestServer::start(&["--storage=memory"]);
    // Separate clients: separate connections, as separate processes have.
    let slow_client = server.client().await;
    let fast_client = server.client().await;
    let slow_api: Api<ConfigMap> = Api::namespaced(slow_client, "default");
    let api: Api<ConfigMap> = Api::namespaced(fast_client, "default");
    let rv = list_revision(&api).await;
    // Opened and never read.
    let _slow = slow_api
        .watch(&WatchParams::default().timeout(60), &rv)
        .await
        .unwrap()
        .boxed();
    let mut fast = api
        .watch(&WatchParams::default().timeout(60), &rv)
        .await
        .unwrap()
        .boxed();
    let data = "x".repeat(16 * 1024);
    let writes = 200;
    let writer = {
        let api = api.clone();
        tokio::spawn(async move {
            for n in 0..writes {
                api.create(
                    &PostParams::default(),
                    &config_map(&format!("cm-{n}"), &data),
                )
                .await
                .unwrap();
            }
        })
    };
    let mut seen = 0;
    while seen < writes {
        let event = tokio::time::timeout(Duration::from_secs(10), fast.try_next())
            .await
            .expect("the reading watcher keeps getting events")
            .unwrap()
            .expect("the stream is open");
        assert!(matches!(event, WatchEvent::Added(_)));
        seen += 1;
    }
    writer.await.unwrap();
}
