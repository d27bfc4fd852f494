//! Serves the discovery documents of [`crate::discovery`]: `/api`,
//! `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`, in the
//! aggregated form when the client asks for it (kubectl does). Each
//! document is encoded (and its ETag hashed) once and kept: they change
//! only when the set of served resources does, which then calls
//! [`DiscoveryState::invalidate`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
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
    /// The documents encoded so far.
    pub documents: Documents,
}

impl DiscoveryState {
    fn enabled(&self) -> impl Fn(&str, &str) -> bool + '_ {
        |group, version| self.served.is_served(group, version)
    }

    /// Forgets every encoded document, for when the served resources
    /// change.
    pub fn invalidate(&self) {
        self.documents
            .0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The document `key` names, encoded once by `build` (`None`: there is
    /// no such document, which is not kept).
    fn document(&self, key: Key, build: impl FnOnce() -> Option<Encoded>) -> Option<Arc<Encoded>> {
        let documents = &self.documents.0;
        if let Some(found) = documents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Some(found.clone());
        }
        let encoded = Arc::new(build()?);
        documents
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, encoded.clone());
        Some(encoded)
    }
}

/// Encoded discovery documents, by what they describe.
#[derive(Default)]
pub struct Documents(RwLock<HashMap<Key, Arc<Encoded>>>);

/// Which discovery document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// The aggregated document of the core group (`/api`) or of the others
    /// (`/apis`), in an aggregated discovery version.
    Aggregated { core: bool, version: &'static str },
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/<version>` (group "") and `/apis/<group>/<version>`.
    Resources(String, String),
}

/// A document's JSON, and the quoted ETag of aggregated ones.
struct Encoded {
    body: Bytes,
    etag: Option<String>,
}

impl Encoded {
    fn plain(document: &impl Serialize) -> Encoded {
        // Discovery documents always serialize.
        let body = serde_json::to_vec(document).unwrap_or_default();
        Encoded {
            body: Bytes::from(body),
            etag: None,
        }
    }

    /// The aggregated document in `version`, with upstream's ETag (the
    /// SHA-512 of the body).
    fn aggregated(mut document: Value, version: &str) -> Encoded {
        document["apiVersion"] = json!(format!("apidiscovery.k8s.io/{version}"));
        let body = document.to_string();
        let etag: String = Sha512::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        Encoded {
            body: Bytes::from(body),
            etag: Some(format!("\"{etag}\"")),
        }
    }

    fn json_response(&self) -> Response {
        let mut response = self.body.clone().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
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

/// The aggregated document in the asked version, answered 304 when the
/// client's `If-None-Match` names its ETag.
fn aggregated(
    state: &DiscoveryState,
    core: bool,
    version: &'static str,
    headers: &HeaderMap,
) -> Response {
    let key = Key::Aggregated { core, version };
    let Some(document) = state.document(key, || {
        let document = discovery::aggregated(core, &state.enabled());
        Some(Encoded::aggregated(document, version))
    }) else {
        return ApiError::not_found_path().into_response();
    };
    let quoted = document.etag.as_deref().unwrap_or_default();
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == quoted));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        document.body.clone().into_response()
    };
    let media =
        format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&media) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(quoted) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// A plain document, or 404 when `build` finds none.
fn plain<T: Serialize>(
    state: &DiscoveryState,
    key: Key,
    build: impl FnOnce() -> Option<T>,
) -> Response {
    match state.document(key, || build().map(|d| Encoded::plain(&d))) {
        Some(document) => document.json_response(),
        None => ApiError::not_found_path().into_response(),
    }
}

/// `GET /api`.
pub async fn core(State(state): State<Arc<DiscoveryState>>, headers: HeaderMap) -> Response {
    if let Some(version) = wants_aggregated(&headers) {
        return aggregated(&state, true, version, &headers);
    }
    plain(&state, Key::CoreVersions, || {
        Some(discovery::core_versions(
            &state.enabled(),
            &state.server_address,
        ))
    })
}

/// `GET /apis`.
pub async fn groups(State(state): State<Arc<DiscoveryState>>, headers: HeaderMap) -> Response {
    if let Some(version) = wants_aggregated(&headers) {
        return aggregated(&state, false, version, &headers);
    }
    plain(&state, Key::Groups, || {
        Some(discovery::group_list(&state.enabled()))
    })
}

/// `GET /apis/<group>`.
pub async fn group(
    State(state): State<Arc<DiscoveryState>>,
    Path(group): Path<String>,
) -> Response {
    let build = || discovery::group(&group, &state.enabled());
    plain(&state, Key::Group(group.clone()), build)
}

/// `GET /api/<version>`.
pub async fn core_resources(
    State(state): State<Arc<DiscoveryState>>,
    Path(version): Path<String>,
) -> Response {
    resources(&state, String::new(), version)
}

/// `GET /apis/<group>/<version>`.
pub async fn group_resources(
    State(state): State<Arc<DiscoveryState>>,
    Path((group, version)): Path<(String, String)>,
) -> Response {
    resources(&state, group, version)
}

fn resources(state: &DiscoveryState, group: String, version: String) -> Response {
    let build = || discovery::resource_list(&group, &version, &state.enabled());
    plain(state, Key::Resources(group.clone(), version.clone()), build)
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

    #[test]
    fn documents_are_built_once_until_invalidated() {
        let state = DiscoveryState {
            served: ServedVersions::from_flags(&[]).unwrap(),
            server_address: "127.0.0.1:6443".into(),
            documents: Documents::default(),
        };
        let builds = std::cell::Cell::new(0);
        let build = || {
            builds.set(builds.get() + 1);
            Some(Encoded::aggregated(json!({"items": []}), "v2"))
        };
        let key = Key::Aggregated {
            core: true,
            version: "v2",
        };
        let first = state.document(key.clone(), build).unwrap();
        let again = state.document(key.clone(), build).unwrap();
        assert_eq!(builds.get(), 1);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.etag.as_ref().map(String::len), Some(130));
        state.invalidate();
        state.document(key, build).unwrap();
        assert_eq!(builds.get(), 2);
        assert!(state.document(Key::Group("none".into()), || None).is_none());
        assert!(
            !state
                .documents
                .0
                .read()
                .unwrap()
                .contains_key(&Key::Group("none".into()))
        );
    }
}
