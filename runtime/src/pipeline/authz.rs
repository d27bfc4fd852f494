//! Authorization: may this user do this. Authorizers are asked in order
//! and the first that allows or denies decides, as upstream's union
//! authorizer does; members of `system:masters` are allowed everything
//! first, as upstream's privileged-group authorizer does. RBAC plugs in
//! after it.

use super::authn::UserInfo;
use super::request_info::RequestInfo;

/// The group whose members may do anything.
pub const MASTERS_GROUP: &str = "system:masters";

/// What an authorizer thinks of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
    NoOpinion,
}

/// Decides whether a user may make a request.
pub trait Authorizer: Send + Sync {
    fn authorize(&self, user: &UserInfo, request: &RequestInfo) -> Decision;
}

/// Allows members of `system:masters`.
pub struct PrivilegedGroup;

impl Authorizer for PrivilegedGroup {
    fn authorize(&self, user: &UserInfo, _: &RequestInfo) -> Decision {
        if user.groups.iter().any(|g| g == MASTERS_GROUP) {
            Decision::Allow
        } else {
            Decision::NoOpinion
        }
    }
}

/// Asks each authorizer in turn; nobody allowing is a denial.
pub struct Authorizers(pub Vec<Box<dyn Authorizer>>);

impl Authorizers {
    /// The first decision that is not `NoOpinion`, else `NoOpinion`.
    pub fn decide(&self, user: &UserInfo, request: &RequestInfo) -> Decision {
        self.0
            .iter()
            .map(|authorizer| authorizer.authorize(user, request))
            .find(|decision| *decision != Decision::NoOpinion)
            .unwrap_or(Decision::NoOpinion)
    }

    /// `Ok` when allowed, else the reason to add to the 403 message.
    pub fn authorize(&self, user: &UserInfo, request: &RequestInfo) -> Result<(), String> {
        match self.decide(user, request) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(reason),
            Decision::NoOpinion => Err(String::new()),
        }
    }
}

/// Upstream's 403 message: `pods is forbidden: User "jane" cannot list
/// resource "pods" in API group "" in the namespace "default"`.
pub fn forbidden_message(user: &UserInfo, request: &RequestInfo, reason: &str) -> String {
    let mut message = if request.is_resource_request {
        let resource = if request.subresource.is_empty() {
            request.resource.clone()
        } else {
            format!("{}/{}", request.resource, request.subresource)
        };
        let subject = if request.name.is_empty() {
            crate::status::qualified_resource(&request.api_group, &request.resource)
        } else {
            format!(
                "{} \"{}\"",
                crate::status::qualified_resource(&request.api_group, &request.resource),
                request.name
            )
        };
        let mut text = format!(
            "{subject} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\"",
            user.name, request.verb, request.api_group
        );
        if !request.namespace.is_empty() {
            text.push_str(&format!(" in the namespace \"{}\"", request.namespace));
        } else {
            text.push_str(" at the cluster scope");
        }
        text
    } else {
        format!(
            "forbidden: User \"{}\" cannot {} path \"{}\"",
            user.name, request.verb, request.path
        )
    };
    if !reason.is_empty() {
        message.push_str(": ");
        message.push_str(reason);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn masters_may_do_anything_and_others_are_told_why_not() {
        let authorizers = Authorizers(vec![Box::new(PrivilegedGroup)]);
        let admin = UserInfo {
            name: "admin".into(),
            groups: vec![MASTERS_GROUP.into()],
            ..UserInfo::default()
        };
        let jane = UserInfo {
            name: "jane".into(),
            ..UserInfo::default()
        };
        let request = RequestInfo::parse(&Method::GET, "/api/v1/namespaces/default/pods", None);
        assert_eq!(authorizers.authorize(&admin, &request), Ok(()));
        let reason = authorizers.authorize(&jane, &request).unwrap_err();
        assert_eq!(
            forbidden_message(&jane, &request, &reason),
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        let healthz = RequestInfo::parse(&Method::GET, "/healthz", None);
        assert_eq!(
            forbidden_message(&jane, &healthz, ""),
            "forbidden: User \"jane\" cannot get path \"/healthz\""
        );
    }
}
