//! The stages every request passes before a handler sees it, in upstream's
//! order: request info, authentication, authorization. Each stage is an
//! axum middleware; failures end the request with a `Status`.

pub mod authn;
pub mod authz;
pub mod request_info;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::status::ApiError;
use authn::{Authenticators, UserInfo};
use authz::Authorizers;
use request_info::RequestInfo;

/// Who may do what; shared by the pipeline stages.
pub struct Security {
    pub authenticators: Authenticators,
    pub authorizers: Authorizers,
}

/// Attaches the [`RequestInfo`], authenticates and authorizes.
pub async fn admit_request(
    State(security): State<Arc<Security>>,
    request: Request,
    next: Next,
) -> Response {
    let info = RequestInfo::parse(
        request.method(),
        request.uri().path(),
        request.uri().query(),
    );
    let (mut parts, body) = request.into_parts();
    let user = match security.authenticators.authenticate(&parts) {
        Ok(user) => user,
        Err(why) => {
            tracing::debug!(path = %info.path, %why, "unauthenticated request");
            return ApiError::unauthorized().into_response();
        }
    };
    if let Err(reason) = security.authorizers.authorize(&user, &info) {
        return ApiError::forbidden(authz::forbidden_message(&user, &info, &reason))
            .into_response();
    }
    parts.extensions.insert(info);
    parts.extensions.insert::<UserInfo>(user);
    // Review requests ask the same authorizers about other requests.
    parts.extensions.insert(security);
    next.run(Request::from_parts(parts, body)).await
}
