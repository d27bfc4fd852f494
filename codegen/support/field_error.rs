//! Field-level errors in the shape of upstream
//! `k8s.io/apimachinery/pkg/util/validation/field`: clients match on the
//! rendered paths, the `reason` strings and the message wording, so all three
//! follow upstream byte for byte.

use std::fmt::{self, Write as _};

use serde_json::Value;

/// A path to a field, rendered as upstream `field.Path.String()` does:
/// `spec.containers[0].ports[1].containerPort`, `metadata.labels[app]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(String);

impl FieldPath {
    /// The empty path, for a value validated on its own.
    pub fn root() -> Self {
        Self::default()
    }

    /// A path whose first element is the field `name`.
    pub fn new(name: &str) -> Self {
        Self::root().child(name)
    }

    /// The field `name` of the object at this path.
    pub fn child(&self, name: &str) -> Self {
        let sep = if self.0.is_empty() { "" } else { "." };
        Self(format!("{}{sep}{name}", self.0))
    }

    /// Element `index` of the list at this path.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    /// The value under `key` of the map at this path; upstream does not quote keys.
    pub fn key(&self, key: &str) -> Self {
        Self(format!("{}[{key}]", self.0))
    }

    /// The rendered path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root path.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Upstream `field.ErrorType`: why a field is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// A referenced value does not exist.
    NotFound,
    /// A value that must be set is missing.
    Required,
    /// A value that must be unique is repeated.
    Duplicate,
    /// A value is malformed or out of range.
    Invalid,
    /// A value is not one of an enumerated set.
    NotSupported,
    /// A well-formed value is not allowed in this context.
    Forbidden,
    /// A string or byte sequence is too long.
    TooLong,
    /// A list or map has too many entries.
    TooMany,
    /// The server failed for a reason unrelated to the input.
    Internal,
    /// A value has the wrong JSON type.
    TypeInvalid,
}

impl ErrorType {
    /// The machine-readable `reason` of a Status cause.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The phrase that opens the message (upstream `ErrorType.String()`).
    pub const fn message(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One field-level error (upstream `field.Error`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Why the field is invalid.
    pub kind: ErrorType,
    /// The rendered path of the field.
    pub field: String,
    /// The offending value; `None` where upstream leaves it out of the message.
    pub bad_value: Option<Value>,
    /// Explanation appended to the message; may be empty.
    pub detail: String,
}

/// Upstream `field.ErrorList`.
pub type ErrorList = Vec<FieldError>;

impl FieldError {
    fn new(
        kind: ErrorType,
        path: &FieldPath,
        bad_value: Option<Value>,
        detail: impl Into<String>,
    ) -> Self {
        let (field, detail) = (path.to_string(), detail.into());
        Self {
            kind,
            field,
            bad_value,
            detail,
        }
    }

    /// `Required value`: a mandatory field is missing.
    pub fn required(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, path, None, detail)
    }

    /// `Invalid value: <value>`: the value is malformed.
    pub fn invalid(path: &FieldPath, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Invalid, path, Some(value.into()), detail)
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported<S: AsRef<str>>(
        path: &FieldPath,
        value: impl Into<Value>,
        valid: &[S],
    ) -> Self {
        let quoted: Vec<String> = valid.iter().map(|v| quote(v.as_ref())).collect();
        let detail = if quoted.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, path, Some(value.into()), detail)
    }

    /// `Duplicate value: <value>`: a value that must be unique repeats.
    pub fn duplicate(path: &FieldPath, value: impl Into<Value>) -> Self {
        Self::new(ErrorType::Duplicate, path, Some(value.into()), "")
    }

    /// `Not found: <value>`: a referenced value does not exist.
    pub fn not_found(path: &FieldPath, value: impl Into<Value>) -> Self {
        Self::new(ErrorType::NotFound, path, Some(value.into()), "")
    }

    /// `Too long: may not be more than <max> bytes`; the value is never echoed.
    pub fn too_long(path: &FieldPath, max: usize) -> Self {
        let unit = if max == 1 { "byte" } else { "bytes" };
        let detail = format!("may not be more than {max} {unit}");
        Self::new(ErrorType::TooLong, path, None, detail)
    }

    /// `Too many: <actual>: must have at most <max> items`.
    pub fn too_many(path: &FieldPath, actual: usize, max: usize) -> Self {
        let unit = if max == 1 { "item" } else { "items" };
        let detail = format!("must have at most {max} {unit}");
        Self::new(ErrorType::TooMany, path, Some(actual.into()), detail)
    }

    /// `Invalid value: <value>` with the `FieldValueTypeInvalid` reason.
    pub fn type_invalid(
        path: &FieldPath,
        value: impl Into<Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorType::TypeInvalid, path, Some(value.into()), detail)
    }

    /// `Forbidden`: the value is not allowed here.
    pub fn forbidden(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, path, None, detail)
    }

    /// `Internal error`: a server-side failure while validating.
    pub fn internal(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, path, None, detail)
    }

    /// The message without the field (upstream `ErrorBody()`), used as a Status cause's message.
    pub fn body(&self) -> String {
        let mut s = self.kind.message().to_string();
        // Upstream never prints the value for these kinds, whatever it holds.
        let echoes = !matches!(
            self.kind,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong | ErrorType::Internal
        );
        if let (true, Some(v)) = (echoes, &self.bad_value) {
            s.push_str(": ");
            s.push_str(&format_value(v));
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// The message of an `Invalid` Status for `errs` (upstream
/// `ErrorList.ToAggregate().Error()`): repeats dropped, brackets around more than one.
pub fn aggregate_message(errs: &[FieldError]) -> String {
    let mut msgs: Vec<String> = Vec::new();
    for msg in errs.iter().map(ToString::to_string) {
        if !msgs.contains(&msg) {
            msgs.push(msg);
        }
    }
    match msgs.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Renders a value as upstream's `ErrorBody` does: strings `%q`-quoted,
/// numbers and booleans with Go's `%v`, anything else as compact JSON.
pub fn format_value(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => go_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Go's `%v` of a float64 (always finite in JSON): shortest round-trip digits,
/// in exponent form when the decimal exponent is below -4 or at least 6, so
/// upstream's `1e+06` rather than `1000000`.
fn go_float(f: f64) -> String {
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{f}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Go's `strconv.Quote`: a double-quoted string with Go escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{7}' => "\\a",
            '\u{8}' => "\\b",
            '\u{b}' => "\\v",
            '\u{c}' => "\\f",
            c if c.is_control() || c == '\u{feff}' => {
                let n = c as u32;
                // Writing to a String cannot fail.
                let _ = match n {
                    0..0x80 => write!(out, "\\x{n:02x}"),
                    0x80..0x10000 => write!(out, "\\u{n:04x}"),
                    _ => write!(out, "\\U{n:08x}"),
                };
                continue;
            }
            c => {
                out.push(c);
                continue;
            }
        };
        out.push_str(escaped);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_render_like_upstream() {
        let p = FieldPath::new("spec")
            .child("containers")
            .index(0)
            .child("ports")
            .index(1)
            .child("containerPort");
        assert_eq!(p.to_string(), "spec.containers[0].ports[1].containerPort");
        assert_eq!(
            FieldPath::new("metadata")
                .child("labels")
                .key("app")
                .as_str(),
            "metadata.labels[app]"
        );
        assert_eq!(FieldPath::root().child("spec").as_str(), "spec");
        assert_eq!(FieldPath::root().index(2).child("x").as_str(), "[2].x");
        assert!(FieldPath::root().is_empty());
    }

    #[test]
    fn messages_match_upstream() {
        let p = FieldPath::new("spec");
        let cases = [
            (
                FieldError::required(&p.child("containers").index(0).child("name"), ""),
                "spec.containers[0].name: Required value",
            ),
            (
                FieldError::not_supported(
                    &p.child("restartPolicy"),
                    "Sometimes",
                    &["Always", "Never", "OnFailure"],
                ),
                r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure""#,
            ),
            (
                FieldError::invalid(&FieldPath::new("metadata").child("name"), "Foo_", "bad"),
                r#"metadata.name: Invalid value: "Foo_": bad"#,
            ),
            (
                FieldError::too_long(&p.child("x"), 63),
                "spec.x: Too long: may not be more than 63 bytes",
            ),
            (
                FieldError::too_long(&p.child("x"), 1),
                "spec.x: Too long: may not be more than 1 byte",
            ),
            (
                FieldError::too_many(&p.child("x"), 5, 3),
                "spec.x: Too many: 5: must have at most 3 items",
            ),
            (
                FieldError::too_many(&p.child("x"), 2, 1),
                "spec.x: Too many: 2: must have at most 1 item",
            ),
            (
                FieldError::duplicate(&p.child("x").index(1), json!({"a": 1, "b": "c"})),
                r#"spec.x[1]: Duplicate value: {"a":1,"b":"c"}"#,
            ),
            (
                FieldError::duplicate(&p.child("x").index(1), 80),
                "spec.x[1]: Duplicate value: 80",
            ),
            (
                FieldError::type_invalid(&p.child("r"), "string", "why"),
                r#"spec.r: Invalid value: "string": why"#,
            ),
            (
                FieldError::forbidden(&p.child("f"), "not allowed"),
                "spec.f: Forbidden: not allowed",
            ),
            (
                FieldError::not_found(&p.child("n"), "x"),
                r#"spec.n: Not found: "x""#,
            ),
            (
                FieldError::internal(&p, "boom"),
                "spec: Internal error: boom",
            ),
            (
                FieldError::not_supported::<&str>(&p, true, &[]),
                "spec: Unsupported value: true",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn reasons_are_upstream_cause_types() {
        assert_eq!(ErrorType::Required.reason(), "FieldValueRequired");
        assert_eq!(ErrorType::NotSupported.reason(), "FieldValueNotSupported");
        assert_eq!(ErrorType::TypeInvalid.reason(), "FieldValueTypeInvalid");
        assert_eq!(ErrorType::Internal.reason(), "InternalError");
        assert_eq!(
            FieldError::required(&FieldPath::new("a"), "").body(),
            "Required value"
        );
    }

    #[test]
    fn values_render_like_go() {
        let cases = [
            (json!("a\"b\n\u{1}é"), r#""a\"b\n\x01é""#),
            (json!(1.5), "1.5"),
            (json!(1e6), "1e+06"),
            (json!(123456.0), "123456"),
            (json!(0.00001), "1e-05"),
            (json!(0.0001), "0.0001"),
            (json!(-7), "-7"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(null), "null"),
            (json!([1, "a"]), r#"[1,"a"]"#),
        ];
        for (v, want) in cases {
            assert_eq!(format_value(&v), want);
        }
    }

    #[test]
    fn aggregate_dedupes_and_brackets() {
        let a = FieldError::required(&FieldPath::new("a"), "");
        let b = FieldError::required(&FieldPath::new("b"), "");
        assert_eq!(
            aggregate_message(std::slice::from_ref(&a)),
            "a: Required value"
        );
        assert_eq!(
            aggregate_message(&[a.clone(), a.clone()]),
            "a: Required value"
        );
        assert_eq!(
            aggregate_message(&[a, b]),
            "[a: Required value, b: Required value]"
        );
    }
}
