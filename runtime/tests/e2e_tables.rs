//! Tables and protobuf lists written from the watch cache's kept bytes
//! describe the same objects as the JSON list: each row's object is the
//! item's metadata (or the whole item), cached and storage tables agree,
//! watch events carry one-row tables, and a protobuf list decodes to the
//! JSON list.

mod support;

use http::{Method, header};
use runtime::codec::protobuf;
use serde_json::{Value, json};
use support::{TestServer, send};

const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// GETs `path` with `accept` and returns the Content-Type and body.
async fn get(client: &kube::Client, path: &str, accept: &str) -> (String, Vec<u8>) {
    let (status, content_type, body) =
        send(client, Method::GET, path, &[(header::ACCEPT, accept)], "").await;
    assert_eq!(status, 200, "GET {path}");
    (content_type, body)
}

async fn get_json(client: &kube::Client, path: &str, accept: &str) -> Value {
    let (_, body) = get(client, path, accept).await;
    serde_json::from_slice(&body).unwrap()
}

fn create_pods(server: &TestServer) {
    for n in 0..3 {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("web-{n}"), "namespace": "default",
                         "labels": {"app": "web"}, "annotations": {"note": "\"quoted\" é"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        });
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), pod.to_string()).unwrap();
        server.kubectl_ok(&["create", "-f", file.path().to_str().unwrap()]);
    }
}

/// The rows' cells without the Age column (ages move with the clock).
fn cells_without_age(table: &Value) -> Vec<Value> {
    let age = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == "Age")
        .unwrap();
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let mut cells = row["cells"].as_array().unwrap().clone();
            cells.remove(age);
            Value::Array(cells)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_tables_describe_the_listed_objects() {
    let server = TestServer::start(&["--storage=memory"]);
    create_pods(&server);
    let client = server.client().await;
    let path = "/api/v1/namespaces/default/pods";
    let list = get_json(&client, path, "application/json").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items[0]["metadata"]["managedFields"].is_array());

    let (content_type, body) = get(&client, &format!("{path}?resourceVersion=0"), TABLE).await;
    assert_eq!(content_type, TABLE);
    let table: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(table["kind"], "Table");
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, item) in rows.iter().zip(items) {
        assert_eq!(
            row["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": item["metadata"]})
        );
        assert_eq!(row["cells"][0], item["metadata"]["name"]);
        assert_eq!(row["cells"][2], "Pending");
    }

    // The same table read from storage (an exact read) prints the same rows.
    let revision = list["metadata"]["resourceVersion"].as_str().unwrap();
    let exact = format!("{path}?resourceVersion={revision}&resourceVersionMatch=Exact");
    let stored = get_json(&client, &exact, TABLE).await;
    assert_eq!(cells_without_age(&stored), cells_without_age(&table));
    assert_eq!(stored["columnDefinitions"], table["columnDefinitions"]);
    let objects = |t: &Value| -> Vec<Value> {
        t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["object"].clone())
            .collect()
    };
    assert_eq!(objects(&stored), objects(&table));

    // Whole objects carry their type meta; None leaves them out.
    let whole = get_json(&client, &format!("{path}?includeObject=Object"), TABLE).await;
    for (row, item) in whole["rows"].as_array().unwrap().iter().zip(items) {
        let mut expected = item.clone();
        expected["apiVersion"] = json!("v1");
        expected["kind"] = json!("Pod");
        assert_eq!(row["object"], expected);
    }
    let none = get_json(&client, &format!("{path}?includeObject=None"), TABLE).await;
    assert!(
        none["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["object"].is_null())
    );

    // A protobuf list from the cache (twice: the second from kept
    // encodings) decodes to the JSON list.
    for _ in 0..2 {
        let (content_type, body) = get(&client, path, protobuf::MEDIA_TYPE).await;
        assert_eq!(content_type, protobuf::MEDIA_TYPE);
        let decoded = protobuf::decode(&body).unwrap();
        assert_eq!(decoded.kind, "PodList");
        let decoded_items = decoded.object["items"].as_array().unwrap();
        assert_eq!(decoded_items.len(), 3);
        for (decoded, item) in decoded_items.iter().zip(items) {
            assert_eq!(decoded["metadata"]["name"], item["metadata"]["name"]);
            assert_eq!(decoded["metadata"]["uid"], item["metadata"]["uid"]);
            assert_eq!(decoded["spec"]["containers"][0]["image"], "nginx");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watched_tables_carry_one_row_per_event() {
    let server = TestServer::start(&["--storage=memory"]);
    create_pods(&server);
    let client = server.client().await;
    let list = get_json(
        &client,
        "/api/v1/namespaces/default/pods",
        "application/json",
    )
    .await;
    let path = "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1&includeObject=Object";
    let (_, body) = get(&client, path, TABLE).await;
    let events: Vec<Value> = body
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    for (n, (event, item)) in events
        .iter()
        .zip(list["items"].as_array().unwrap())
        .enumerate()
    {
        assert_eq!(event["type"], "ADDED");
        let table = &event["object"];
        assert_eq!(table["kind"], "Table");
        // Column definitions come with the first event only.
        assert_eq!(table["columnDefinitions"].is_array(), n == 0);
        assert_eq!(
            table["metadata"]["resourceVersion"],
            item["metadata"]["resourceVersion"]
        );
        let row = &table["rows"][0];
        assert_eq!(row["object"]["metadata"], item["metadata"]);
        assert_eq!(row["object"]["kind"], "Pod");
    }
}
