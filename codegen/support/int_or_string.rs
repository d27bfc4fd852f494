//! `IntOrString` models apimachinery's `intstr.IntOrString`, the wire type of
//! fields marked `x-kubernetes-int-or-string` (ports, `maxSurge`,
//! `maxUnavailable`, ...). It is not a plain `String` because the JSON value is
//! either a bare number (`8080`) or a string (`"http"`, `"25%"`), and which of
//! the two a client sent must survive a round trip unchanged.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An `int32` or a string; serialized as a JSON number or a JSON string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// A JSON number in the `int32` range.
    Int(i32),
    /// A JSON string, e.g. a named port or a percentage such as `"25%"`.
    String(String),
}

/// Why an [`IntOrString`] could not be resolved to a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOrStringError {
    /// The value is a string that does not end in `%`.
    NotPercent(String),
    /// The value ends in `%` but the rest is not a base-10 integer.
    InvalidPercent(String),
    /// The scaled result does not fit in an `i64`.
    Overflow,
}

impl fmt::Display for IntOrStringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPercent(s) => write!(f, "invalid type: string {s:?} is not a percentage"),
            Self::InvalidPercent(s) => write!(f, "invalid value {s:?}: not an integer percentage"),
            Self::Overflow => f.write_str("scaled value out of range"),
        }
    }
}

impl std::error::Error for IntOrStringError {}

impl Default for IntOrString {
    /// `Int(0)`, the Go zero value.
    fn default() -> Self {
        Self::Int(0)
    }
}

impl From<i32> for IntOrString {
    fn from(v: i32) -> Self {
        Self::Int(v)
    }
}

impl From<String> for IntOrString {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

impl From<&str> for IntOrString {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl fmt::Display for IntOrString {
    /// The number, or the string without quotes (Go's `String()`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::String(s) => f.write_str(s),
        }
    }
}

impl IntOrString {
    /// The integer if this is `Int`.
    pub fn as_int(&self) -> Option<i32> {
        match self {
            Self::Int(i) => Some(*i),
            Self::String(_) => None,
        }
    }

    /// The string if this is `String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Int(_) => None,
            Self::String(s) => Some(s),
        }
    }

    /// Go's `IntValue()`: the integer, or the string parsed as an integer,
    /// or 0 when the string is not one.
    pub fn int_value(&self) -> i32 {
        match self {
            Self::Int(i) => *i,
            Self::String(s) => s.parse().unwrap_or(0),
        }
    }

    /// The percentage if this is a string of the form `<integer>%`
    /// (sign allowed, as Go's `strconv.Atoi`), `None` otherwise.
    pub fn percent(&self) -> Option<i64> {
        self.as_str()?.strip_suffix('%')?.parse().ok()
    }

    /// Go's `intstr.GetScaledValueFromIntOrPercent`: an `Int` is returned as
    /// is; a percentage is applied to `total` and rounded up (`round_up`) or
    /// down, computed exactly; any other string is an error.
    pub fn scaled_value(&self, total: i64, round_up: bool) -> Result<i64, IntOrStringError> {
        let s = match self {
            Self::Int(i) => return Ok(i64::from(*i)),
            Self::String(s) => s,
        };
        let digits = s
            .strip_suffix('%')
            .ok_or_else(|| IntOrStringError::NotPercent(s.clone()))?;
        let pct: i64 = digits
            .parse()
            .map_err(|_| IntOrStringError::InvalidPercent(s.clone()))?;
        let product = i128::from(pct) * i128::from(total);
        let (q, r) = (product.div_euclid(100), product.rem_euclid(100));
        let scaled = if round_up && r != 0 { q + 1 } else { q };
        i64::try_from(scaled).map_err(|_| IntOrStringError::Overflow)
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(i) => serializer.serialize_i32(*i),
            Self::String(s) => serializer.serialize_str(s),
        }
    }
}

struct IntOrStringVisitor;

impl Visitor<'_> for IntOrStringVisitor {
    type Value = IntOrString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an int32 or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v))
    }

    /// Go decodes `null` into a non-pointer IntOrString as `Int(0)`.
    fn visit_unit<E: de::Error>(self) -> Result<IntOrString, E> {
        Ok(IntOrString::Int(0))
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntOrStringVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn s(v: &str) -> IntOrString {
        IntOrString::from(v)
    }

    #[test]
    fn wire_round_trip() {
        for (json, v) in [("8080", IntOrString::Int(8080)), ("\"http\"", s("http"))] {
            assert_eq!(serde_json::from_str::<IntOrString>(json).unwrap(), v);
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
        assert_eq!(
            serde_json::from_str::<IntOrString>("-5").unwrap(),
            IntOrString::Int(-5)
        );
        // A numeric string stays a string.
        assert_eq!(
            serde_json::from_str::<IntOrString>("\"5\"").unwrap(),
            s("5")
        );
        assert_eq!(
            serde_json::from_str::<IntOrString>("null").unwrap(),
            IntOrString::Int(0)
        );
        assert_eq!(
            serde_json::from_str::<Option<IntOrString>>("null").unwrap(),
            None
        );
        let m: BTreeMap<String, IntOrString> = serde_json::from_str(r#"{"a":1,"b":"2%"}"#).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":1,"b":"2%"}"#);
    }

    #[test]
    fn rejects_non_int32() {
        for json in ["2147483648", "-2147483649", "1.5", "true", "[]", "{}"] {
            assert!(serde_json::from_str::<IntOrString>(json).is_err(), "{json}");
        }
        assert!(serde_json::from_str::<IntOrString>("2147483647").is_ok());
    }

    #[test]
    fn scaled_values() {
        assert_eq!(s("25%").scaled_value(10, true), Ok(3));
        assert_eq!(s("25%").scaled_value(10, false), Ok(2));
        assert_eq!(s("100%").scaled_value(7, false), Ok(7));
        assert_eq!(s("0%").scaled_value(7, true), Ok(0));
        assert_eq!(s("150%").scaled_value(3, false), Ok(4));
        assert_eq!(s("-25%").scaled_value(10, true), Ok(-2));
        assert_eq!(s("-25%").scaled_value(10, false), Ok(-3));
        assert_eq!(s("+10%").scaled_value(10, false), Ok(1));
        assert_eq!(IntOrString::Int(5).scaled_value(100, true), Ok(5));
        assert!(matches!(
            s("5").scaled_value(10, true),
            Err(IntOrStringError::NotPercent(_))
        ));
        for bad in ["%", "a%", "1.5%", " 5%"] {
            assert!(matches!(
                s(bad).scaled_value(10, true),
                Err(IntOrStringError::InvalidPercent(_))
            ));
        }
        let huge = format!("{}%", i64::MAX);
        assert_eq!(
            s(&huge).scaled_value(1000, true),
            Err(IntOrStringError::Overflow)
        );
    }

    #[test]
    fn accessors() {
        assert_eq!(IntOrString::default(), IntOrString::Int(0));
        assert_eq!(s("42").int_value(), 42);
        assert_eq!(s("x").int_value(), 0);
        assert_eq!(s("30%").percent(), Some(30));
        assert_eq!(s("30").percent(), None);
        assert_eq!(IntOrString::Int(3).to_string(), "3");
        assert_eq!(s("a").as_str(), Some("a"));
        assert_eq!(IntOrString::Int(3).as_int(), Some(3));
    }
}
