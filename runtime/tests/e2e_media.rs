//! Content negotiation over HTTPS, as a raw client sees it: YAML and
//! protobuf answers, YAML request bodies, metadata-only lists, and the 406
//! and 415 Statuses for media types the server cannot handle.

mod support;

use http::{Method, Request, header};
use http_body_util::BodyExt;
use serde_json::Value;
use support::{TestServer, send};

const CONFIG_MAP_YAML: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels: {app: demo}\ndata:\n  mode: fast\n";

#[tokio::test(flavor = "multi_thread")]
async fn yaml_and_protobuf_in_and_out() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let path = "/api/v1/namespaces/default/configmaps";

    // A YAML body creates the object; a YAML answer describes it.
    let (status, content_type, body) = send(
        &client,
        Method::POST,
        path,
        &[
            (header::CONTENT_TYPE, "application/yaml"),
            (header::ACCEPT, "application/yaml"),
        ],
        CONFIG_MAP_YAML,
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, "application/yaml");
    let created: Value = serde_yaml_ng::from_slice(&body).unwrap();
    assert_eq!(created["data"]["mode"], "fast");
    assert_eq!(created["metadata"]["namespace"], "default");

    // Protobuf answers carry the `k8s\0` envelope and decode to the same object.
    let (status, content_type, body) = send(
        &client,
        Method::GET,
        &format!("{path}/settings"),
        &[(
            header::ACCEPT,
            "application/vnd.kubernetes.protobuf, application/json",
        )],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/vnd.kubernetes.protobuf");
    assert_eq!(&body[..4], b"k8s\0");
    let decoded = runtime::codec::protobuf::decode(&body).unwrap().object;
    assert_eq!(decoded["data"]["mode"], "fast");
    assert_eq!(decoded["metadata"]["uid"], created["metadata"]["uid"]);

    // Errors follow the negotiated encoding too.
    let (status, content_type, body) = send(
        &client,
        Method::GET,
        &format!("{path}/missing"),
        &[(header::ACCEPT, "application/yaml")],
        "",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(content_type, "application/yaml");
    let status_object: Value = serde_yaml_ng::from_slice(&body).unwrap();
    assert_eq!(status_object["reason"], "NotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_only_lists_and_unacceptable_types() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let (status, _, _) = send(
        &client,
        Method::POST,
        path,
        &[(header::CONTENT_TYPE, "application/yaml")],
        CONFIG_MAP_YAML,
    )
    .await;
    assert_eq!(status, 201);

    // What client-go's metadata client asks for.
    let (status, content_type, body) = send(
        &client,
        Method::GET,
        path,
        &[(
            header::ACCEPT,
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert_eq!(list["apiVersion"], "meta.k8s.io/v1");
    assert!(list["metadata"]["resourceVersion"].is_string());
    let item = &list["items"][0];
    assert_eq!(item["kind"], "PartialObjectMetadata");
    assert_eq!(item["metadata"]["name"], "settings");
    assert_eq!(item["metadata"]["labels"]["app"], "demo");
    assert!(item.get("data").is_none());

    // One object asked for as a list's metadata is not acceptable.
    let (status, _, body) = send(
        &client,
        Method::GET,
        &format!("{path}/settings"),
        &[(
            header::ACCEPT,
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )],
        "",
    )
    .await;
    assert_eq!(status, 406);
    let status_object: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status_object["reason"], "NotAcceptable");

    // Nothing writable: 406 with upstream's message.
    let (status, _, body) = send(
        &client,
        Method::GET,
        path,
        &[(header::ACCEPT, "text/html")],
        "",
    )
    .await;
    assert_eq!(status, 406);
    let status_object: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        status_object["message"],
        "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"
    );

    // A body in an unknown format: 415.
    let (status, _, body) = send(
        &client,
        Method::POST,
        path,
        &[(header::CONTENT_TYPE, "text/plain")],
        "hello",
    )
    .await;
    assert_eq!(status, 415, "{}", String::from_utf8_lossy(&body));
    let status_object: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status_object["reason"], "UnsupportedMediaType");
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregated_discovery_revalidates_with_etags() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    let request = |accept: &'static str, etag: Option<String>| {
        let mut builder = Request::builder()
            .uri("/apis")
            .header(header::ACCEPT, accept);
        if let Some(etag) = etag {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        builder.body(kube::client::Body::empty()).unwrap()
    };
    let first = client.send(request(v2, None)).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()[header::CONTENT_TYPE], v2);
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() == 130, "{etag}");

    let again = client.send(request(v2, Some(etag.clone()))).await.unwrap();
    assert_eq!(again.status(), 304);

    let stale = client
        .send(request(v2, Some("\"0\"".to_owned())))
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    // Clients that only know v2beta1 get that version of the same document.
    let beta = client
        .send(request(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(beta.status(), 200);
    let body = beta.into_body().collect().await.unwrap().to_bytes();
    let document: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(document["apiVersion"], "apidiscovery.k8s.io/v2beta1");
    assert_eq!(document["kind"], "APIGroupDiscoveryList");
}
