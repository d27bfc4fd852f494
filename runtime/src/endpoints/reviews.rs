//! The review kinds: creates that are questions, never stored. A
//! `SelfSubjectReview` asks who the caller is (`kubectl auth whoami`); the
//! access reviews ask the server's authorizers whether a user may do
//! something (`kubectl auth can-i`); a rules review lists what the caller
//! may do (`kubectl auth can-i --list`); a `TokenReview` asks whether a
//! bearer token is valid. Each answer is the request with its `status`
//! filled in, as upstream's registry for these kinds answers.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::meta::ResourceDescriptor;
use serde_json::{Value, json};

use super::media::{json_body, json_response};
use crate::pipeline::Security;
use crate::pipeline::authn::UserInfo;
use crate::pipeline::authz::{Decision, MASTERS_GROUP};
use crate::pipeline::request_info::RequestInfo;
use crate::status::ApiError;

/// The kinds answered here, by (group, plural).
const REVIEWS: &[(&str, &str)] = &[
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authentication.k8s.io", "tokenreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "localsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
];

/// Whether the request is for a review kind (any verb: only `create` is
/// served, and the generic path must never store one).
pub fn handles(info: &RequestInfo) -> bool {
    info.is_resource_request
        && REVIEWS
            .iter()
            .any(|(group, plural)| info.api_group == *group && info.resource == *plural)
}

/// Answers a review for `user`.
pub fn serve(
    security: &Security,
    user: &UserInfo,
    info: &RequestInfo,
    served: &ResourceDescriptor,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let kind = served.kind;
    if info.verb != "create" || !info.subresource.is_empty() || !info.name.is_empty() {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let mut review = json_body(served, headers, body)?;
    if !review.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    let status = match info.resource.as_str() {
        "selfsubjectreviews" => json!({"userInfo": user_info(user)}),
        // No bearer-token authenticator is configured yet, so no token is valid.
        "tokenreviews" => json!({"user": {}, "authenticated": false}),
        "selfsubjectaccessreviews" => {
            let spec = &review["spec"];
            check_attributes(info.api_group.as_str(), kind, spec)?;
            access(security, user, spec)
        }
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let spec = &review["spec"];
            check_attributes(info.api_group.as_str(), kind, spec)?;
            check_subject(info, kind, spec)?;
            access(security, &subject(spec), spec)
        }
        "selfsubjectrulesreviews" => rules(user),
        _ => return Err(ApiError::not_found_path()),
    };
    review["status"] = status;
    review["apiVersion"] = json!(format!("{}/{}", info.api_group, info.api_version));
    review["kind"] = json!(kind);
    if let Some(metadata) = review.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.retain(|k, _| k == "name" || k == "namespace" || k == "labels");
    }
    Ok((StatusCode::CREATED, json_response(&review)).into_response())
}

/// `userInfo` as the authentication API writes it.
fn user_info(user: &UserInfo) -> Value {
    let mut info = json!({"username": user.name, "groups": user.groups});
    if !user.uid.is_empty() {
        info["uid"] = json!(user.uid);
    }
    if !user.extra.is_empty() {
        info["extra"] = json!(user.extra);
    }
    info
}

/// The user a SubjectAccessReview asks about.
fn subject(spec: &Value) -> UserInfo {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let extra: BTreeMap<String, Vec<String>> = spec["extra"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(v))).collect())
        .unwrap_or_default();
    UserInfo {
        name: spec["user"].as_str().unwrap_or_default().to_owned(),
        uid: spec["uid"].as_str().unwrap_or_default().to_owned(),
        groups: strings(&spec["groups"]),
        extra,
    }
}

/// Exactly one of resourceAttributes and nonResourceAttributes.
fn check_attributes(group: &str, kind: &str, spec: &Value) -> Result<(), ApiError> {
    let resource = spec.get("resourceAttributes").is_some_and(|v| !v.is_null());
    let non_resource = spec
        .get("nonResourceAttributes")
        .is_some_and(|v| !v.is_null());
    if resource == non_resource {
        let error = FieldError::invalid(
            &FieldPath::new("spec").child("resourceAttributes"),
            spec.get("resourceAttributes")
                .cloned()
                .unwrap_or(Value::Null),
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        );
        return Err(ApiError::invalid(group, kind, "", &[error]));
    }
    Ok(())
}

/// A SubjectAccessReview names a user or a group; a local one stays in the
/// namespace of its URL.
fn check_subject(info: &RequestInfo, kind: &str, spec: &Value) -> Result<(), ApiError> {
    let empty = |field: &str| match &spec[field] {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => true,
    };
    let mut errors = Vec::new();
    if empty("user") && empty("groups") {
        errors.push(FieldError::invalid(
            &FieldPath::new("spec").child("user"),
            "",
            "at least one of user or group must be specified",
        ));
    }
    if info.resource == "localsubjectaccessreviews" {
        let namespace = spec
            .pointer("/resourceAttributes/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !namespace.is_empty() && namespace != info.namespace {
            errors.push(FieldError::invalid(
                &FieldPath::new("spec")
                    .child("resourceAttributes")
                    .child("namespace"),
                namespace,
                "must match metadata.namespace",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&info.api_group, kind, "", &errors))
    }
}

/// Asks the authorizers about the attributes of `spec` for `user`.
fn access(security: &Security, user: &UserInfo, spec: &Value) -> Value {
    let text = |pointer: &str| {
        spec.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let request = if spec.get("resourceAttributes").is_some_and(|v| !v.is_null()) {
        RequestInfo {
            is_resource_request: true,
            verb: text("/resourceAttributes/verb"),
            api_group: text("/resourceAttributes/group"),
            api_version: text("/resourceAttributes/version"),
            namespace: text("/resourceAttributes/namespace"),
            resource: text("/resourceAttributes/resource"),
            subresource: text("/resourceAttributes/subresource"),
            name: text("/resourceAttributes/name"),
            ..RequestInfo::default()
        }
    } else {
        RequestInfo {
            is_resource_request: false,
            verb: text("/nonResourceAttributes/verb"),
            path: text("/nonResourceAttributes/path"),
            ..RequestInfo::default()
        }
    };
    match security.authorizers.decide(user, &request) {
        Decision::Allow => json!({"allowed": true}),
        Decision::Deny(reason) => json!({"allowed": false, "denied": true, "reason": reason}),
        Decision::NoOpinion => json!({"allowed": false}),
    }
}

/// What the caller may do: everything for `system:masters`, nothing else
/// until RBAC lands.
fn rules(user: &UserInfo) -> Value {
    if user.groups.iter().any(|g| g == MASTERS_GROUP) {
        json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        })
    } else {
        json!({"resourceRules": [], "nonResourceRules": [], "incomplete": true})
    }
}
