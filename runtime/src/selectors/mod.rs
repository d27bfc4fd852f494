//! Label and field selectors for list, watch and deletecollection, after
//! upstream `k8s.io/apimachinery/pkg/labels` and `pkg/fields`.
//!
//! Clients see these through error messages and through which objects a
//! list returns, so both follow upstream to the byte:
//!
//! - [`LabelSelector::parse`] reads `?labelSelector=` (`a=b,c in (d),!e`)
//!   and [`LabelSelector::from_api`] converts a `metav1.LabelSelector`
//!   (`matchLabels`/`matchExpressions`), as `metav1.LabelSelectorAsSelector`.
//! - [`FieldSelector::parse`] reads `?fieldSelector=`; [`FieldLabels`] then
//!   checks its fields against what the resource supports (upstream's
//!   per-kind `ConvertFieldLabel`) and extracts an object's selectable
//!   field values (upstream's per-kind `GetAttrs`).
//!
//! Every [`SelectorError`] becomes a `400 BadRequest` Status whose message
//! is [`SelectorError::message`] unchanged: upstream's list handler wraps
//! both parse and field-label errors with `errors.NewBadRequest(err.Error())`.

mod fields;
mod labels;

pub use fields::{FieldLabels, FieldOp, FieldSelector, FieldTerm, field_values};
pub use labels::{
    LabelSelector, Operator, Requirement, validate_label_key, validate_label_value,
};

use std::fmt;

/// A selector that could not be parsed or is not supported by a resource.
///
/// The message is upstream's error text; a server answers it as a
/// `400 BadRequest` Status with this message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    message: String,
}

impl SelectorError {
    /// An error with upstream's text `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message for the BadRequest Status.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}
