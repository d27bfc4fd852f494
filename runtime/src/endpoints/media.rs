//! Media types: what a request body is decoded from, what an answer is
//! encoded as, and whether the client asked for a Table.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use generated::SCHEMAS;
use generated::support::meta::ResourceDescriptor;
use generated::support::schema::SchemaId;
use serde_json::Value;

use super::negotiate;
use crate::codec::protobuf;
use crate::field_validation::{
    FieldValidation, duplicate_fields, parse_with_duplicates, prune_unknown, undecodable,
};
use crate::pipeline::request_info::query_param;
use crate::printers::IncludeObject;
use crate::status::ApiError;

/// A JSON answer that keeps the value it was written from, so that
/// another negotiated encoding is made from the value rather than from
/// re-parsing the JSON.
pub fn ok(object: Value) -> Result<Response, ApiError> {
    let mut response = json_response(&object);
    response.extensions_mut().insert(Answer(Arc::new(object)));
    Ok(response)
}

/// The value a JSON answer was written from (see [`ok`]).
#[derive(Clone)]
pub struct Answer(pub Arc<Value>);

pub fn json_response(object: &Value) -> Response {
    // Straight into bytes: much cheaper than `to_string`, which goes
    // through the `Display` machinery. A `Value` always serializes.
    json_bytes_response(serde_json::to_vec(object).expect("a JSON value serializes"))
}

/// A 200 answer of JSON already encoded.
pub fn json_bytes_response(body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Adds one `Warning` header per distinct message, as upstream writes
/// them: `299 - "<message with \" and \\ escaped>"`.
pub fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    let mut sent: Vec<&String> = Vec::new();
    for warning in warnings {
        if sent.contains(&warning) {
            continue;
        }
        sent.push(warning);
        let escaped = warning.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(value) = HeaderValue::from_bytes(format!("299 - \"{escaped}\"").as_bytes()) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

/// The media type of a Table answer.
pub const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// Whether the client asks for a Table (`kubectl get` does), and what each
/// row should carry.
pub fn as_table(
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Option<IncludeObject>, ApiError> {
    let wants = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            params.first() == Some(&"application/json")
                && params.contains(&"as=Table")
                && params.contains(&"g=meta.k8s.io")
                && (params.contains(&"v=v1") || params.contains(&"v=v1beta1"))
        });
    if !wants {
        return Ok(None);
    }
    IncludeObject::from_query(query_param(query, "includeObject").as_deref())
        .map(Some)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// An answer holding a Table's JSON.
pub fn table_response(table: Vec<u8>) -> Response {
    let mut response = table.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TABLE));
    response
}

pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether the request body is JSON (also when it names no type), as
/// [`json_body`] decides.
fn is_json(headers: &HeaderMap) -> bool {
    matches!(
        content_type(headers).as_str(),
        "" | "application/json" | "*/*"
    )
}

fn undecodable_json(error: serde_json::Error) -> ApiError {
    ApiError::bad_request(format!(
        "the body of the request could not be decoded as JSON: {error}"
    ))
}

pub fn json_body(
    resource: &ResourceDescriptor,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    match content_type(headers).as_str() {
        "" | "application/json" | "*/*" => serde_json::from_slice(body).map_err(undecodable_json),
        negotiate::YAML => negotiate::decode_yaml(body),
        // client-go's typed clients (kubectl create deployment, ...) send protobuf.
        protobuf::MEDIA_TYPE => {
            let mut object = protobuf::decode(body)
                .map(|decoded| decoded.object)
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "the body of the request could not be decoded: {e}"
                    ))
                })?;
            drop_empty_strings(resource.schema, &mut object);
            Ok(object)
        }
        other => Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {other:?})"
        ))),
    }
}

/// Go writes every string field of a struct into protobuf, set or not, where
/// its JSON would omit the empty ones; an empty string in a declared
/// property of a protobuf body therefore means "unset" (so that defaulting
/// and enum validation see what a JSON client would have sent). Map values
/// and list items are data and stay.
fn drop_empty_strings(root: SchemaId, value: &mut Value) {
    let node = SCHEMAS.get(root);
    match value {
        Value::Object(object) if !node.properties.is_empty() => {
            object.retain(|name, v| !(v.as_str() == Some("") && node.property(name).is_some()));
            for (name, v) in object.iter_mut() {
                if let Some(child) = node.property(name) {
                    drop_empty_strings(child, v);
                }
            }
        }
        Value::Object(object) => {
            if let Some(values) = node.additional_properties {
                object
                    .values_mut()
                    .for_each(|v| drop_empty_strings(values, v));
            }
        }
        Value::Array(items) => {
            if let Some(item) = node.items {
                items.iter_mut().for_each(|v| drop_empty_strings(item, v));
            }
        }
        _ => {}
    }
}

/// Decodes a create or update body under a `fieldValidation` directive:
/// unknown fields are dropped, and they and duplicate fields become
/// warnings or (`Strict`) a 400.
pub fn decode_strictly(
    served: &ResourceDescriptor,
    headers: &HeaderMap,
    body: &[u8],
    validation: FieldValidation,
) -> Result<(Value, Vec<String>), ApiError> {
    let (mut object, mut errors) = match validation {
        FieldValidation::Ignore => (json_body(served, headers, body)?, Vec::new()),
        _ if is_json(headers) => parse_with_duplicates(body).map_err(undecodable_json)?,
        FieldValidation::Warn | FieldValidation::Strict => {
            (json_body(served, headers, body)?, duplicate_fields(body))
        }
    };
    errors.extend(prune_unknown(served.schema, &mut object));
    let warnings = validation.check(errors, |message| {
        undecodable(served.kind, served.version, message)
    })?;
    Ok((object, warnings))
}
