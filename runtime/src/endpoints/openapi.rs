//! `/openapi/v2` and `/openapi/v3`: the documents generated at build time,
//! served byte for byte with upstream's ETags, the v3 index listing only
//! what this server serves (its `--runtime-config`). `/openapi/v2` is also
//! served as gnostic protobuf ([`crate::openapi_proto`]) to clients that ask
//! for it, as kubectl does.

use std::io::Write;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::SystemTime;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use generated::openapi::{V2, V2_ETAG, V3, v3};
use serde_json::{Map, Value, json};

use crate::endpoints::discovery::DiscoveryState;
use crate::openapi_proto;
use crate::pipeline::request_info::query_param;
use crate::status::ApiError;

/// The media type `/openapi/v2` answers protobuf with.
pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The `Accept` subtypes `/openapi/v2` can answer (all under
/// `application/`): JSON, and protobuf by its current and its older name
/// (which kubectl v1.32 still sends); both protobuf names get
/// [`V2_PROTOBUF`] back.
const V2_FORMATS: [(&str, V2Format); 3] = [
    ("json", V2Format::Json),
    (
        "com.github.proto-openapi.spec.v2@v1.0+protobuf",
        V2Format::Protobuf,
    ),
    (
        "com.github.proto-openapi.spec.v2.v1.0+protobuf",
        V2Format::Protobuf,
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V2Format {
    Json,
    Protobuf,
}

/// When the served documents last changed: they are built into the binary,
/// so the first time this process served one.
static LAST_MODIFIED: LazyLock<SystemTime> = LazyLock::new(SystemTime::now);

/// `GET /openapi/v2`: JSON or protobuf by `Accept`, 406 (with no body, as
/// upstream) when neither is acceptable. Both forms share the JSON's ETag,
/// and the answer varies by `Accept` and, as it is gzipped for clients that
/// accept that, by `Accept-Encoding`.
pub async fn v2(headers: HeaderMap) -> Response {
    let gzip = accepts_gzip(&headers);
    let mut response = match v2_format(&headers) {
        None => StatusCode::NOT_ACCEPTABLE.into_response(),
        Some(format) => match v2_body(format, gzip) {
            Ok(body) => {
                let content_type = match format {
                    V2Format::Json => JSON,
                    V2Format::Protobuf => V2_PROTOBUF,
                };
                document(&headers, body, V2_ETAG, false, content_type)
            }
            Err(error) => {
                tracing::error!("cannot encode /openapi/v2 as protobuf: {error}");
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            }
        },
    };
    let headers = response.headers_mut();
    if gzip && headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.append(header::VARY, HeaderValue::from_static("Accept"));
    headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

/// The bytes of one form of the v2 document, gzipped or not; each is made
/// once, at the first request that needs it.
fn v2_body(format: V2Format, gzip: bool) -> Result<&'static [u8], &'static str> {
    static JSON_GZIP: OnceLock<Vec<u8>> = OnceLock::new();
    static PROTOBUF_GZIP: OnceLock<Vec<u8>> = OnceLock::new();
    let (plain, cache) = match format {
        V2Format::Json => (V2.as_bytes(), &JSON_GZIP),
        V2Format::Protobuf => (openapi_proto::v2()?, &PROTOBUF_GZIP),
    };
    if !gzip {
        return Ok(plain);
    }
    Ok(cache.get_or_init(|| {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(plain);
        encoder.finish().unwrap_or_default()
    }))
}

/// Whether `Accept-Encoding` takes gzip (with a quality above zero).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let quality = parts
                .filter_map(|p| p.split_once('='))
                .find(|(key, _)| key.trim() == "q")
                .map_or(1.0, |(_, q)| q.trim().parse().unwrap_or(0.0));
            name.eq_ignore_ascii_case("gzip") && quality > 0.0
        })
}

/// The first `Accept` media range (by quality, then by how specific it is)
/// that names a form of the v2 document; no `Accept` takes any.
fn v2_format(headers: &HeaderMap) -> Option<V2Format> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .unwrap_or("*/*");
    let mut ranges: Vec<(f32, &str, &str)> = Vec::new();
    for range in accept.split(',') {
        let mut params = range.split(';');
        let media = params.next().unwrap_or_default().trim();
        let (kind, subtype) = match media.split_once('/') {
            Some((kind, subtype)) if !subtype.contains('/') => (kind.trim(), subtype.trim()),
            None if media == "*" => ("*", "*"),
            _ => continue,
        };
        let quality = params
            .filter_map(|p| p.split_once('='))
            .find(|(key, _)| key.trim() == "q")
            .map_or(1.0, |(_, q)| q.trim().parse().unwrap_or(0.0));
        ranges.push((quality, kind, subtype));
    }
    // Higher quality first, then concrete types before wildcards.
    ranges.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then((a.1 == "*").cmp(&(b.1 == "*")))
            .then((a.2 == "*").cmp(&(b.2 == "*")))
    });
    ranges.iter().find_map(|&(_, kind, subtype)| {
        if kind != "application" && kind != "*" {
            return None;
        }
        V2_FORMATS
            .iter()
            .find(|(name, _)| subtype == "*" || subtype == *name)
            .map(|&(_, format)| format)
    })
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
        Some(_) => document(&headers, doc.json.as_bytes(), doc.etag, true, JSON),
        None => document(&headers, doc.json.as_bytes(), doc.etag, false, JSON),
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

const JSON: &str = "application/json";

/// One document with its ETag and Last-Modified; 304 (with the ETag) when
/// `If-None-Match` names it, or, without that header, when
/// `If-Modified-Since` is not older than the document.
fn document(
    headers: &HeaderMap,
    body: &'static [u8],
    etag: &str,
    immutable: bool,
    content_type: &'static str,
) -> Response {
    let quoted = format!("\"{etag}\"");
    let last_modified = httpdate::fmt_http_date(*LAST_MODIFIED);
    let mut response = if not_modified(headers, &quoted) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(value) = HeaderValue::from_str(&last_modified) {
            response.headers_mut().insert(header::LAST_MODIFIED, value);
        }
        response
    };
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

/// Whether the client's copy is current: `If-None-Match` lists the ETag
/// (weakly compared) or is `*`; without it, `If-Modified-Since` is at or
/// after Last-Modified (whole seconds, as HTTP dates are).
fn not_modified(headers: &HeaderMap, quoted_etag: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(tags) = text(header::IF_NONE_MATCH) {
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == quoted_etag);
    }
    let Some(since) =
        text(header::IF_MODIFIED_SINCE).and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return false;
    };
    let seconds = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    seconds(*LAST_MODIFIED) <= seconds(since)
}

fn json_response(body: String) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}
