//! `/openapi/v2` and `/openapi/v3`: the documents generated at build time,
//! served byte for byte with upstream's ETags, the v3 index listing only
//! what this server serves (its `--runtime-config`).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use generated::openapi::{V2, V2_ETAG, V3, v3};
use serde_json::{Map, Value, json};

use crate::endpoints::discovery::DiscoveryState;
use crate::pipeline::request_info::query_param;
use crate::status::ApiError;

/// `GET /openapi/v2`.
pub async fn v2(headers: HeaderMap) -> Response {
    document(&headers, V2, V2_ETAG, false)
}

/// `GET /openapi/v3`: the index of the served documents.
pub async fn v3_index(State(state): State<Arc<DiscoveryState>>) -> Response {
    let mut paths = Map::new();
    for doc in V3.iter().filter(|doc| served(&state, doc.path)) {
        paths.insert(
            doc.path.to_owned(),
            json!({"serverRelativeURL": format!("/openapi/v3/{}?hash={}", doc.path, doc.etag)}),
        );
    }
    json_response(
        Value::Object(Map::from_iter([("paths".to_owned(), Value::Object(paths))])).to_string(),
    )
}

/// `GET /openapi/v3/<path>`, optionally `?hash=<etag>` as the index links it.
pub async fn v3_document(
    State(state): State<Arc<DiscoveryState>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(doc) = v3(&path).filter(|doc| served(&state, doc.path)) else {
        return ApiError::not_found_path().into_response();
    };
    match query_param(query.as_deref(), "hash") {
        // A link to an older document moves to the current one, as upstream.
        Some(hash) if hash != doc.etag => {
            let location = format!("/openapi/v3/{}?hash={}", doc.path, doc.etag);
            let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Some(_) => document(&headers, doc.json, doc.etag, true),
        None => document(&headers, doc.json, doc.etag, false),
    }
}

/// Whether a v3 document belongs to a served group/version; documents of
/// groups and other paths are always served.
fn served(state: &DiscoveryState, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["api", version] => state.served.is_served("", version),
        ["apis", group, version] => state.served.is_served(group, version),
        _ => true,
    }
}

fn document(headers: &HeaderMap, json: &'static str, etag: &str, immutable: bool) -> Response {
    let quoted = format!("\"{etag}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == quoted)
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = json_response(json.to_owned());
    if let Ok(value) = HeaderValue::from_str(&quoted) {
        response.headers_mut().insert(header::ETAG, value);
    }
    let cache = if immutable {
        "public, immutable"
    } else {
        "no-cache, private"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn json_response(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
