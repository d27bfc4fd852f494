//! Serves the discovery documents of [`crate::discovery`]: `/api`,
//! `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`, in the
//! aggregated form when the client asks for it (kubectl does).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use crate::discovery;
use crate::runtime_config::ServedVersions;
use crate::status::ApiError;

/// The aggregated discovery versions a client may ask for, preferred first.
const AGGREGATED_VERSIONS: [&str; 2] = ["v2", "v2beta1"];

/// What discovery needs to know about the running server.
pub struct DiscoveryState {
    pub served: ServedVersions,
    /// `host:port` clients reach the server at.
    pub server_address: String,
}

impl DiscoveryState {
    fn enabled(&self) -> impl Fn(&str, &str) -> bool + '_ {
        |group, version| self.served.is_served(group, version)
    }
}

/// The aggregated discovery version the client accepts first (kubectl asks
/// for v2, then v2beta1, then the plain documents), if any.
fn wants_aggregated(headers: &HeaderMap) -> Option<&'static str> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            let aggregated = params.first() == Some(&"application/json")
                && params.contains(&"g=apidiscovery.k8s.io")
                && params.contains(&"as=APIGroupDiscoveryList");
            AGGREGATED_VERSIONS
                .into_iter()
                .find(|v| aggregated && params.contains(&format!("v={v}").as_str()))
        })
}

/// The aggregated document in the asked version, with upstream's ETag (the
/// SHA-512 of the body) so that clients revalidate with `If-None-Match`.
fn aggregated(mut document: Value, version: &str, headers: &HeaderMap) -> Response {
    document["apiVersion"] = json!(format!("apidiscovery.k8s.io/{version}"));
    let body = document.to_string();
    let etag: String = Sha512::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let quoted = format!("\"{etag}\"");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == quoted));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    let media =
        format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&media) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&quoted) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// `GET /api`.
pub async fn core(State(state): State<Arc<DiscoveryState>>, headers: HeaderMap) -> Response {
    if let Some(version) = wants_aggregated(&headers) {
        return aggregated(
            discovery::aggregated(true, &state.enabled()),
            version,
            &headers,
        );
    }
    Json(discovery::core_versions(
        &state.enabled(),
        &state.server_address,
    ))
    .into_response()
}

/// `GET /apis`.
pub async fn groups(State(state): State<Arc<DiscoveryState>>, headers: HeaderMap) -> Response {
    if let Some(version) = wants_aggregated(&headers) {
        return aggregated(
            discovery::aggregated(false, &state.enabled()),
            version,
            &headers,
        );
    }
    Json(discovery::group_list(&state.enabled())).into_response()
}

/// `GET /apis/<group>`.
pub async fn group(
    State(state): State<Arc<DiscoveryState>>,
    Path(group): Path<String>,
) -> Response {
    match discovery::group(&group, &state.enabled()) {
        Some(document) => Json(document).into_response(),
        None => ApiError::not_found_path().into_response(),
    }
}

/// `GET /api/<version>`.
pub async fn core_resources(
    State(state): State<Arc<DiscoveryState>>,
    Path(version): Path<String>,
) -> Response {
    resources(&state, "", &version)
}

/// `GET /apis/<group>/<version>`.
pub async fn group_resources(
    State(state): State<Arc<DiscoveryState>>,
    Path((group, version)): Path<(String, String)>,
) -> Response {
    resources(&state, &group, &version)
}

fn resources(state: &DiscoveryState, group: &str, version: &str) -> Response {
    match discovery::resource_list(group, version, &state.enabled()) {
        Some(document) => Json(document).into_response(),
        None => ApiError::not_found_path().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_header_selects_aggregated() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
            ),
        );
        assert_eq!(wants_aggregated(&headers), Some("v2"));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
            ),
        );
        assert_eq!(wants_aggregated(&headers), Some("v2beta1"));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, */*"),
        );
        assert_eq!(wants_aggregated(&headers), None);
    }
}
