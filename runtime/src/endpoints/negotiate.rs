//! Content negotiation of answers: handlers produce JSON, and this stage
//! turns a finished answer into what the `Accept` header asked for — YAML,
//! protobuf, or the metadata-only `PartialObjectMetadata` shapes — or
//! refuses with 406 before the handler runs. Tables are built by the
//! handlers themselves (they need the printers), so here they only count as
//! acceptable JSON.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::media::Answer;

use crate::codec::{CodecError, protobuf};
use crate::status::ApiError;

/// The serializations an answer can be written in, in upstream's order.
const ACCEPTED: &str = "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// The media type of YAML answers and request bodies.
pub const YAML: &str = "application/yaml";

/// How the body of an answer is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Yaml,
    Protobuf,
}

/// What an answer's object becomes before it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The object itself (or a Table, which the handler builds).
    Object,
    /// `as=PartialObjectMetadata`: only the metadata of one object.
    PartialObjectMetadata,
    /// `as=PartialObjectMetadataList`: only the metadata of each list item.
    PartialObjectMetadataList,
}

/// The outcome of negotiating an `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub encoding: Encoding,
    pub shape: Shape,
}

impl Negotiated {
    const JSON: Negotiated = Negotiated {
        encoding: Encoding::Json,
        shape: Shape::Object,
    };

    /// Whether the handler's JSON answer is written as it is.
    pub fn is_plain_json(self) -> bool {
        self == Negotiated::JSON
    }
}

/// Picks the first media range of `Accept` (by quality, then order) that
/// ferrokube can write; no `Accept` means JSON. None acceptable is 406.
pub fn negotiate(headers: &HeaderMap) -> Result<Negotiated, ApiError> {
    let mut ranges: Vec<(f32, usize, &str)> = Vec::new();
    for value in headers.get_all(header::ACCEPT) {
        let Ok(text) = value.to_str() else { continue };
        for range in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let quality = parameter(range, "q")
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 {
                ranges.push((quality, ranges.len(), range));
            }
        }
    }
    if ranges.is_empty() {
        return Ok(Negotiated::JSON);
    }
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges
        .iter()
        .find_map(|(_, _, range)| acceptable(range))
        .ok_or_else(|| {
            ApiError::not_acceptable(format!(
                "only the following media types are accepted: {ACCEPTED}"
            ))
        })
}

/// What one media range of `Accept` asks for, if ferrokube can write it.
fn acceptable(range: &str) -> Option<Negotiated> {
    let media = range.split(';').next().unwrap_or_default().trim();
    let encoding = match media.to_ascii_lowercase().as_str() {
        "application/json" | "application/*" | "*/*" => Encoding::Json,
        YAML => Encoding::Yaml,
        protobuf::MEDIA_TYPE => Encoding::Protobuf,
        _ => return None,
    };
    let shape = match parameter(range, "as") {
        None => Shape::Object,
        Some(kind) => {
            let meta_v1 = parameter(range, "g") == Some("meta.k8s.io")
                && matches!(parameter(range, "v"), Some("v1" | "v1beta1"));
            match kind {
                _ if !meta_v1 => return None,
                // Tables are JSON only, and the handler renders them.
                "Table" if encoding == Encoding::Json => Shape::Object,
                "PartialObjectMetadata" => Shape::PartialObjectMetadata,
                "PartialObjectMetadataList" => Shape::PartialObjectMetadataList,
                _ => return None,
            }
        }
    };
    Some(Negotiated { encoding, shape })
}

/// The value of `name=value` among a media range's parameters.
fn parameter<'a>(range: &'a str, name: &str) -> Option<&'a str> {
    range.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

/// Rewrites a finished JSON answer (object, list or Status) into the
/// negotiated form. Streams (watches) and Tables pass through untouched.
pub async fn transcode(mut response: Response, negotiated: Negotiated) -> Response {
    let answer = response.extensions_mut().remove::<Answer>();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json");
    if negotiated.is_plain_json() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut object = match answer {
        Some(Answer(object)) => Arc::unwrap_or_clone(object),
        None => match read_json(body).await {
            Ok(object) => object,
            Err(error) => return error.into_response(),
        },
    };
    let is_status = object.get("kind").and_then(Value::as_str) == Some("Status");
    if !is_status {
        object = match reshape(object, negotiated.shape) {
            Ok(object) => object,
            Err(error) => return error.into_response(),
        };
    }
    let (body, media) = match encode(&object, negotiated.encoding) {
        Ok(encoded) => encoded,
        Err(error) => return error.into_response(),
    };
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// The JSON body of an answer, as a value.
async fn read_json(body: Body) -> Result<Value, ApiError> {
    let bytes = to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(e.to_string()))
}

/// The object in the asked shape; a shape that does not fit the answer (a
/// list asked for as one object's metadata) is 406, as upstream.
fn reshape(object: Value, shape: Shape) -> Result<Value, ApiError> {
    let is_list = object.get("items").is_some_and(Value::is_array);
    match shape {
        Shape::Object => Ok(object),
        Shape::PartialObjectMetadata if is_list => Err(ApiError::not_acceptable(
            "you requested PartialObjectMetadata, but the requested object is a list",
        )),
        Shape::PartialObjectMetadata => Ok(partial_metadata(&object)),
        Shape::PartialObjectMetadataList if !is_list => Err(ApiError::not_acceptable(
            "you requested PartialObjectMetadataList, but the requested object is not a list",
        )),
        Shape::PartialObjectMetadataList => {
            let items: Vec<Value> = object["items"]
                .as_array()
                .map(|items| items.iter().map(partial_metadata).collect())
                .unwrap_or_default();
            Ok(json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
                "items": items,
            }))
        }
    }
}

fn partial_metadata(object: &Value) -> Value {
    let metadata = object
        .get("metadata")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
    })
}

/// The bytes and media type of `object` in `encoding`.
fn encode(object: &Value, encoding: Encoding) -> Result<(Vec<u8>, &'static str), ApiError> {
    match encoding {
        Encoding::Json => serde_json::to_vec(object)
            .map(|b| (b, "application/json"))
            .map_err(|e| ApiError::internal(e.to_string())),
        Encoding::Yaml => serde_yaml_ng::to_string(object)
            .map(|text| (text.into_bytes(), YAML))
            .map_err(|e| ApiError::internal(e.to_string())),
        Encoding::Protobuf => protobuf::encode(object)
            .map(|b| (b, protobuf::MEDIA_TYPE))
            .map_err(unencodable),
    }
}

/// The 406 of an answer that cannot be written as protobuf.
pub fn unencodable(error: CodecError) -> ApiError {
    ApiError::not_acceptable(format!(
        "the object cannot be written as {}: {error}",
        protobuf::MEDIA_TYPE
    ))
}

/// A YAML request body as a JSON value.
pub fn decode_yaml(body: &[u8]) -> Result<Value, ApiError> {
    serde_yaml_ng::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request could not be decoded as YAML: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Result<Negotiated, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        negotiate(&headers)
    }

    #[test]
    fn picks_the_first_acceptable_range_by_quality() {
        assert_eq!(negotiate(&HeaderMap::new()).unwrap(), Negotiated::JSON);
        assert_eq!(accept("*/*").unwrap(), Negotiated::JSON);
        assert_eq!(accept("application/yaml").unwrap().encoding, Encoding::Yaml);
        assert_eq!(
            accept("application/vnd.kubernetes.protobuf, */*")
                .unwrap()
                .encoding,
            Encoding::Protobuf
        );
        assert_eq!(
            accept("application/yaml;q=0.5, application/json").unwrap(),
            Negotiated::JSON
        );
        assert_eq!(
            accept("text/html, application/yaml").unwrap().encoding,
            Encoding::Yaml
        );
    }

    #[test]
    fn tables_and_partial_metadata_need_meta_k8s_io() {
        assert_eq!(
            accept("application/json;as=Table;v=v1;g=meta.k8s.io").unwrap(),
            Negotiated::JSON
        );
        assert_eq!(
            accept("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
                .unwrap()
                .shape,
            Shape::PartialObjectMetadataList
        );
        let error = accept("application/json;as=Table;v=v1;g=example.com").unwrap_err();
        assert_eq!(error.code.as_u16(), 406);
        assert_eq!(
            error.message,
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"
        );
        assert_eq!(accept("text/html").unwrap_err().reason, "NotAcceptable");
    }

    #[test]
    fn partial_metadata_keeps_only_metadata() {
        let list = json!({
            "kind": "PodList", "apiVersion": "v1",
            "metadata": {"resourceVersion": "7"},
            "items": [{"metadata": {"name": "a"}, "spec": {"x": 1}}],
        });
        assert_eq!(
            reshape(list.clone(), Shape::PartialObjectMetadataList).unwrap(),
            json!({
                "kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": "7"},
                "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": {"name": "a"}}],
            })
        );
        assert_eq!(
            reshape(list, Shape::PartialObjectMetadata)
                .unwrap_err()
                .code
                .as_u16(),
            406
        );
    }
}
