//! Serves the discovery documents of [`crate::discovery`]: `/api`,
//! `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`, in the
//! aggregated form when the client asks for it (kubectl does).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::discovery;
use crate::runtime_config::ServedVersions;
use crate::status::ApiError;

/// The media type of the aggregated discovery document.
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

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

/// Whether the client accepts the aggregated v2 form.
fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            params.first() == Some(&"application/json")
                && params.contains(&"g=apidiscovery.k8s.io")
                && params.contains(&"v=v2")
                && params.contains(&"as=APIGroupDiscoveryList")
        })
}

fn aggregated(document: serde_json::Value) -> Response {
    let mut response = Json(document).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(AGGREGATED));
    response
}

/// `GET /api`.
pub async fn core(State(state): State<Arc<DiscoveryState>>, headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(discovery::aggregated(true, &state.enabled()));
    }
    Json(discovery::core_versions(
        &state.enabled(),
        &state.server_address,
    ))
    .into_response()
}

/// `GET /apis`.
pub async fn groups(State(state): State<Arc<DiscoveryState>>, headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(discovery::aggregated(false, &state.enabled()));
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
        assert!(wants_aggregated(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, */*"),
        );
        assert!(!wants_aggregated(&headers));
    }
}
