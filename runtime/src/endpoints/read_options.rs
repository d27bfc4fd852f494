//! The query parameters of lists and watches that say which state to read
//! (`resourceVersion`, `resourceVersionMatch`, `sendInitialEvents`,
//! `limit`, `continue`, `allowWatchBookmarks`), checked as upstream's
//! ListOptions validation does: invalid combinations are 422s.

use std::time::Duration;

use generated::support::field_error::{FieldError, FieldPath};

use crate::pipeline::request_info::{parse_bool, query_param};
use crate::status::ApiError;
use crate::storage::Revision;

/// `resourceVersionMatch` values.
pub const EXACT: &str = "Exact";
pub const NOT_OLDER_THAN: &str = "NotOlderThan";

/// How long a read waits for the watch cache to catch up with a revision
/// (upstream waits 3 seconds too).
pub const CATCH_UP: Duration = Duration::from_secs(3);

/// The read parameters of a list or watch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// `resourceVersion`, empty when not given.
    pub resource_version: String,
    /// `resourceVersionMatch`, empty when not given.
    pub matching: String,
    pub send_initial_events: Option<bool>,
    pub allow_bookmarks: bool,
    pub limit: Option<usize>,
    /// `continue`, empty when not given.
    pub continue_token: String,
}

/// Which state a resourceVersion asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// `""`: the latest state (a consistent read).
    Latest,
    /// `"0"`: any state the server has.
    Any,
    /// A revision: that one or a later one, or exactly it for `Exact`.
    At(Revision),
}

impl ReadOptions {
    pub fn from_query(query: Option<&str>) -> ReadOptions {
        let text = |key: &str| query_param(query, key).unwrap_or_default();
        ReadOptions {
            resource_version: text("resourceVersion"),
            matching: text("resourceVersionMatch"),
            send_initial_events: query_param(query, "sendInitialEvents").map(|v| parse_bool(&v)),
            allow_bookmarks: query_param(query, "allowWatchBookmarks")
                .is_some_and(|v| parse_bool(&v)),
            limit: query_param(query, "limit").and_then(|l| l.parse().ok()),
            continue_token: text("continue"),
        }
    }

    /// The state `resourceVersion` names; a 400 for one that is no number.
    pub fn wanted(&self) -> Result<Wanted, ApiError> {
        match self.resource_version.as_str() {
            "" => Ok(Wanted::Latest),
            "0" => Ok(Wanted::Any),
            text => text
                .parse::<u64>()
                .map(|r| Wanted::At(Revision(r)))
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {text}"))),
        }
    }

    /// Upstream's checks of a list's options.
    pub fn validate_list(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let path = FieldPath::new("resourceVersionMatch");
        if !self.matching.is_empty() {
            if self.resource_version.is_empty() {
                errors.push(FieldError::forbidden(
                    &path,
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if !self.continue_token.is_empty() {
                errors.push(FieldError::forbidden(
                    &path,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if self.matching != EXACT && self.matching != NOT_OLDER_THAN {
                errors.push(FieldError::not_supported(
                    &path,
                    self.matching.as_str(),
                    &[EXACT, NOT_OLDER_THAN, ""],
                ));
            }
            if self.matching == EXACT && self.resource_version == "0" {
                errors.push(FieldError::forbidden(
                    &path,
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if self.send_initial_events.is_some() {
            errors.push(FieldError::forbidden(
                &FieldPath::new("sendInitialEvents"),
                "sendInitialEvents is forbidden for list",
            ));
        }
        invalid(&errors)
    }

    /// Upstream's checks of a watch's options.
    pub fn validate_watch(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let path = FieldPath::new("resourceVersionMatch");
        if self.send_initial_events.is_some() && self.matching != NOT_OLDER_THAN {
            errors.push(FieldError::forbidden(
                &path,
                format!(
                    "sendInitialEvents requires setting resourceVersionMatch to {NOT_OLDER_THAN}"
                ),
            ));
        }
        if !self.matching.is_empty() {
            if self.send_initial_events.is_none() {
                errors.push(FieldError::forbidden(
                    &path,
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            if self.matching != NOT_OLDER_THAN {
                errors.push(FieldError::not_supported(
                    &path,
                    self.matching.as_str(),
                    &[NOT_OLDER_THAN],
                ));
            }
            if !self.continue_token.is_empty() {
                errors.push(FieldError::forbidden(
                    &path,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
        }
        invalid(&errors)
    }
}

fn invalid(errors: &[FieldError]) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(query: &str) -> ReadOptions {
        ReadOptions::from_query(Some(query))
    }

    #[test]
    fn watch_lists_need_not_older_than() {
        assert!(
            options("sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
                .validate_watch()
                .is_ok()
        );
        let error = options("sendInitialEvents=true")
            .validate_watch()
            .unwrap_err();
        assert_eq!(error.code, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            error.message.contains(
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
            ),
            "{}",
            error.message
        );
        let error = options("resourceVersionMatch=NotOlderThan")
            .validate_watch()
            .unwrap_err();
        assert!(
            error
                .message
                .contains("forbidden for watch unless sendInitialEvents")
        );
    }

    #[test]
    fn list_matches_need_a_resource_version() {
        assert!(
            options("resourceVersion=5&resourceVersionMatch=Exact")
                .validate_list()
                .is_ok()
        );
        assert!(
            options("resourceVersionMatch=Exact")
                .validate_list()
                .is_err()
        );
        assert!(
            options("resourceVersion=0&resourceVersionMatch=Exact")
                .validate_list()
                .is_err()
        );
        assert!(
            options("resourceVersion=5&resourceVersionMatch=Newest")
                .validate_list()
                .is_err()
        );
        assert!(options("sendInitialEvents=true").validate_list().is_err());
    }

    #[test]
    fn resource_versions_are_numbers() {
        assert_eq!(options("").wanted().unwrap(), Wanted::Latest);
        assert_eq!(options("resourceVersion=0").wanted().unwrap(), Wanted::Any);
        assert_eq!(
            options("resourceVersion=7").wanted().unwrap(),
            Wanted::At(Revision(7))
        );
        assert!(options("resourceVersion=x").wanted().is_err());
    }
}
