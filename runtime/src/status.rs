//! Errors as clients see them: every failure becomes a `metav1.Status`
//! with upstream's code and reason, so kubectl and client-go print and
//! classify it as they would for kube-apiserver.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use generated::support::field_error::{FieldError, aggregate_message};
use serde_json::{Value, json};

/// A failed request, ready to be written as a `Status`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: StatusCode,
    /// Upstream's `StatusReason`, such as `NotFound` or `Invalid`.
    pub reason: &'static str,
    pub message: String,
    /// `details` of the Status (name, group, kind, causes), if any.
    pub details: Option<Value>,
    /// The Status's list metadata, if any (a fresh continue token).
    pub metadata: Option<Value>,
}

impl ApiError {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            metadata: None,
        }
    }

    /// 401: the request carried no credentials ferrokube accepts.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    /// 403 for `user` doing `verb` on what `target` describes.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    /// 404 for a path that names no API (upstream answers these with a
    /// plain "the server could not find the requested resource").
    pub fn not_found_path() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 404 for a named object: `pods "web" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> ApiError {
        let qualified = qualified_resource(group, resource);
        ApiError {
            details: Some(json!({"name": name, "group": group, "kind": resource})),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{qualified} \"{name}\" not found"),
            )
        }
    }

    /// 409 for a create whose name is taken: `pods "web" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> ApiError {
        ApiError {
            details: Some(json!({"name": name, "group": group, "kind": resource})),
            ..ApiError::new(
                StatusCode::CONFLICT,
                "AlreadyExists",
                format!(
                    "{} \"{name}\" already exists",
                    qualified_resource(group, resource)
                ),
            )
        }
    }

    /// 409 for a write based on a stale resourceVersion.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> ApiError {
        ApiError {
            details: Some(json!({"name": name, "group": group, "kind": resource})),
            ..ApiError::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    qualified_resource(group, resource)
                ),
            )
        }
    }

    /// 422 with one cause per field error: `Pod "web" is invalid: [...]`.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> ApiError {
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.kind.reason(), "message": e.body(), "field": e.field}))
            .collect();
        let qualified = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        ApiError {
            details: Some(json!({"name": name, "group": group, "kind": kind, "causes": causes})),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                format!(
                    "{qualified} \"{name}\" is invalid: {}",
                    aggregate_message(errors)
                ),
            )
        }
    }

    /// 429: the request would break a limit now; `causes` say which.
    pub fn too_many_requests(message: impl Into<String>, causes: Vec<Value>) -> ApiError {
        ApiError {
            details: Some(json!({"causes": causes})),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message)
        }
    }

    /// 410: the requested resourceVersion is older than the kept history.
    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::GONE, "Expired", message)
    }

    /// 504: the server could not finish in time (or the revision asked for
    /// is not there yet).
    pub fn timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::GATEWAY_TIMEOUT, "Timeout", message)
    }

    /// 415: a body in a media type the endpoint does not take.
    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            message,
        )
    }

    /// 406: the `Accept` header names nothing ferrokube can write.
    pub fn not_acceptable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_ACCEPTABLE, "NotAcceptable", message)
    }

    /// 405: the resource exists but does not support the verb.
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
    }

    /// 400 with upstream's `BadRequest` reason.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 500: something went wrong inside the server.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// 503: the server cannot serve the request now.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            message,
        )
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        if let Some(metadata) = &self.metadata {
            status["metadata"] = metadata.clone();
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_status().to_string();
        let mut response = (self.code, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// The `Status` of a request that succeeded without an object to show
/// (a binding, an eviction), with its HTTP code.
pub fn success(code: StatusCode) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": code.as_u16(),
    })
}

/// `pods` or `deployments.apps`, as upstream names a resource in messages.
pub fn qualified_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_reads_like_upstream() {
        let status = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(status["message"], "deployments.apps \"web\" not found");
        assert_eq!(status["reason"], "NotFound");
        assert_eq!(status["code"], 404);
        assert_eq!(
            status["details"],
            json!({"name": "web", "group": "apps", "kind": "deployments"})
        );
    }
}
