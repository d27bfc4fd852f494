//! `/openapi/v2` over HTTPS as client-go's discovery asks for it: gnostic
//! protobuf by either of its media type names, the JSON's ETag with 304 on
//! `If-None-Match`, `Vary: Accept`, gzip when accepted, and 406 for other
//! media types.

mod support;

use std::io::Read;

use flate2::read::GzDecoder;
use http::{HeaderMap, Request, header};
use http_body_util::BodyExt;
use prost::Message;
use runtime::openapi_proto::messages::Document;
use support::TestServer;

const PROTOBUF_OLD_NAME: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
const PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// GETs `/openapi/v2` with the given headers: status, headers and body.
async fn get(
    client: &kube::Client,
    headers: &[(header::HeaderName, &str)],
) -> (u16, HeaderMap, Vec<u8>) {
    let mut request = Request::get("/openapi/v2");
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let request = request.body(Vec::new()).unwrap();
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

fn text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers.get(&name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn protobuf_with_etag_and_not_modified() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;

    let (status, headers, body) = get(&client, &[(header::ACCEPT, PROTOBUF_OLD_NAME)]).await;
    assert_eq!(status, 200);
    assert_eq!(text(&headers, header::CONTENT_TYPE), PROTOBUF);
    assert_eq!(text(&headers, header::VARY), "Accept");
    assert!(!text(&headers, header::LAST_MODIFIED).is_empty());
    let etag = text(&headers, header::ETAG).to_owned();
    assert!(etag.len() == 130 && etag.starts_with('"'), "{etag}");

    let doc = Document::decode(body.as_slice()).unwrap();
    let paths = doc.paths.unwrap();
    let review = paths
        .path
        .iter()
        .find(|p| p.name == "/apis/authorization.k8s.io/v1/subjectaccessreviews")
        .and_then(|p| p.value.as_ref())
        .expect("SubjectAccessReview has a path");
    assert_eq!(
        review.post.as_ref().unwrap().operation_id,
        "createAuthorizationV1SubjectAccessReview"
    );

    // The newer name gets the same bytes; JSON keeps the same ETag.
    let (status, headers, again) = get(&client, &[(header::ACCEPT, PROTOBUF)]).await;
    assert_eq!((status, again == body), (200, true));
    assert_eq!(text(&headers, header::ETAG), etag);
    let (status, headers, json) = get(&client, &[(header::ACCEPT, "application/json")]).await;
    assert_eq!(status, 200);
    assert_eq!(text(&headers, header::CONTENT_TYPE), "application/json");
    assert_eq!(text(&headers, header::ETAG), etag);
    assert_eq!(json.first(), Some(&b'{'));

    // The cached copy is current; a stale one is sent again.
    let (status, headers, empty) = get(
        &client,
        &[
            (header::ACCEPT, PROTOBUF_OLD_NAME),
            (header::IF_NONE_MATCH, &etag),
        ],
    )
    .await;
    assert_eq!(status, 304);
    assert!(empty.is_empty());
    assert_eq!(text(&headers, header::ETAG), etag);
    let (status, _, stale) = get(
        &client,
        &[
            (header::ACCEPT, PROTOBUF_OLD_NAME),
            (header::IF_NONE_MATCH, "\"0\""),
        ],
    )
    .await;
    assert_eq!((status, stale == body), (200, true));

    // Quality decides between the two forms; nothing acceptable is 406.
    let (_, headers, _) = get(
        &client,
        &[(
            header::ACCEPT,
            &format!("application/json;q=0.5, {PROTOBUF}"),
        )],
    )
    .await;
    assert_eq!(text(&headers, header::CONTENT_TYPE), PROTOBUF);
    let (status, _, _) = get(&client, &[(header::ACCEPT, "text/plain")]).await;
    assert_eq!(status, 406);

    // gzip when the client takes it, the same document inside.
    let (status, headers, zipped) = get(
        &client,
        &[
            (header::ACCEPT, PROTOBUF),
            (header::ACCEPT_ENCODING, "gzip"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(text(&headers, header::CONTENT_ENCODING), "gzip");
    assert_eq!(text(&headers, header::ETAG), etag);
    assert!(zipped.len() < body.len() / 4, "{} bytes", zipped.len());
    let mut unzipped = Vec::new();
    GzDecoder::new(zipped.as_slice())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert!(unzipped == body);
    let (_, headers, plain) = get(
        &client,
        &[
            (header::ACCEPT, PROTOBUF),
            (header::ACCEPT_ENCODING, "gzip;q=0"),
        ],
    )
    .await;
    assert_eq!(text(&headers, header::CONTENT_ENCODING), "");
    assert!(plain == body);
}
