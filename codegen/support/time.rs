//! `Time` and `MicroTime` model apimachinery's `metav1.Time` and
//! `metav1.MicroTime`: instants sent as RFC 3339 strings in UTC, `Time` with
//! whole seconds (`2006-01-02T15:04:05Z`) and `MicroTime` with exactly six
//! fractional digits (`2006-01-02T15:04:05.000000Z`). They are not plain
//! `String`s because the server orders and compares them, and because any
//! RFC 3339 input (offsets, any number of fractional digits) must come back
//! out in that one canonical form.
//!
//! Both hold their value already truncated to the wire precision, so a value
//! equals itself after a round trip. As in Go, the zero value is
//! `0001-01-01T00:00:00Z` and is sent as JSON `null`; `null` reads back as it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// Why a string is not an RFC 3339 timestamp as Go's `time.Parse` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimeError {}

/// Parses RFC 3339 as Go does: upper-case `T` and `Z` only, no leap second.
fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, TimeError> {
    let err = |why: &str| TimeError(format!("parsing time {s:?} as RFC 3339: {why}"));
    // chrono also takes `t`, ` ` and `z`, which Go's layout does not.
    if s.as_bytes().get(10).is_some_and(|&c| c != b'T') || s.ends_with('z') {
        return Err(err("invalid separator or zone"));
    }
    let dt = DateTime::parse_from_rfc3339(s).map_err(|e| err(&e.to_string()))?;
    if dt.nanosecond() >= 1_000_000_000 {
        return Err(err("second out of range"));
    }
    Ok(dt.with_timezone(&Utc))
}

/// Go's zero `time.Time`, `0001-01-01T00:00:00Z`.
fn go_zero() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or_default()
}

/// Drops the part of `dt` finer than `unit` nanoseconds (toward the past,
/// as Go's formatting does) and folds a leap second into the one before.
fn truncate(dt: DateTime<Utc>, unit: u32) -> DateTime<Utc> {
    let nanos = dt.nanosecond() % 1_000_000_000;
    dt.with_nanosecond(nanos - nanos % unit).unwrap_or(dt)
}

/// Writes `dt` in Go's RFC 3339 layout in UTC, with `.ffffff` if `micros`.
fn write_utc(f: &mut fmt::Formatter<'_>, dt: &DateTime<Utc>, micros: bool) -> fmt::Result {
    let (d, t) = (dt.date_naive(), dt.time());
    write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())?;
    write!(f, "T{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())?;
    if micros {
        write!(f, ".{:06}", t.nanosecond() / 1000)?;
    }
    f.write_str("Z")
}

macro_rules! wire_time {
    ($(#[$doc:meta])* $name:ident, unit = $unit:expr, micros = $micros:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(DateTime<Utc>);

        impl $name {
            /// Wraps `dt`, truncated to the wire precision.
            pub fn new(dt: DateTime<Utc>) -> Self {
                Self(truncate(dt, $unit))
            }

            /// The current time, truncated to the wire precision.
            pub fn now() -> Self {
                Self::new(Utc::now())
            }

            /// Go's zero time, `0001-01-01T00:00:00Z`, sent as `null`.
            pub fn zero() -> Self {
                Self(go_zero())
            }

            /// Whether this is Go's zero time (Go's `IsZero`).
            pub fn is_zero(&self) -> bool {
                self.0 == go_zero()
            }

            /// The instant.
            pub fn as_datetime(&self) -> &DateTime<Utc> {
                &self.0
            }

            /// Parses any RFC 3339 timestamp, converts it to UTC and
            /// truncates it to the wire precision.
            pub fn parse(s: &str) -> Result<Self, TimeError> {
                parse_rfc3339(s).map(Self::new)
            }
        }

        impl Default for $name {
            /// Go's zero time, [`Self::zero`].
            fn default() -> Self {
                Self::zero()
            }
        }

        impl From<DateTime<Utc>> for $name {
            fn from(dt: DateTime<Utc>) -> Self {
                Self::new(dt)
            }
        }

        impl From<$name> for DateTime<Utc> {
            fn from(t: $name) -> Self {
                t.0
            }
        }

        impl fmt::Display for $name {
            /// The wire form (also for the zero time, which the wire sends as `null`).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_utc(f, &self.0, $micros)
            }
        }

        impl FromStr for $name {
            type Err = TimeError;

            fn from_str(s: &str) -> Result<Self, TimeError> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if self.is_zero() {
                    serializer.serialize_none()
                } else {
                    serializer.collect_str(self)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                match Option::<String>::deserialize(deserializer)? {
                    None => Ok(Self::zero()),
                    Some(s) => Self::parse(&s).map_err(de::Error::custom),
                }
            }
        }
    };
}

wire_time!(
    /// `metav1.Time`: an instant with second precision, sent as
    /// `"2006-01-02T15:04:05Z"`.
    Time,
    unit = 1_000_000_000,
    micros = false
);

wire_time!(
    /// `metav1.MicroTime`: an instant with microsecond precision, sent as
    /// `"2006-01-02T15:04:05.000000Z"`.
    MicroTime,
    unit = 1_000,
    micros = true
);

#[cfg(test)]
mod tests {
    use super::*;

    fn time(json: &str) -> String {
        let t: Time = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        serde_json::to_string(&t).unwrap()
    }

    fn micro(json: &str) -> String {
        let t: MicroTime = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        serde_json::to_string(&t).unwrap()
    }

    #[test]
    fn time_wire() {
        assert_eq!(
            time(r#""2006-01-02T15:04:05Z""#),
            r#""2006-01-02T15:04:05Z""#
        );
        assert_eq!(
            time(r#""2006-01-02T15:04:05.999999999Z""#),
            r#""2006-01-02T15:04:05Z""#
        );
        assert_eq!(
            time(r#""2006-01-02T15:04:05.5+07:00""#),
            r#""2006-01-02T08:04:05Z""#
        );
        assert_eq!(
            time(r#""2006-01-02T23:59:59-00:30""#),
            r#""2006-01-03T00:29:59Z""#
        );
        assert_eq!(
            time(r#""1969-12-31T23:59:59.5Z""#),
            r#""1969-12-31T23:59:59Z""#
        );
        assert_eq!(time(r#""0001-01-01T00:00:00Z""#), "null");
        assert_eq!(time("null"), "null");
        assert_eq!(serde_json::from_str::<Option<Time>>("null").unwrap(), None);
        assert!(serde_json::from_str::<Time>("null").unwrap().is_zero());
    }

    #[test]
    fn micro_wire() {
        assert_eq!(
            micro(r#""2006-01-02T15:04:05Z""#),
            r#""2006-01-02T15:04:05.000000Z""#
        );
        assert_eq!(
            micro(r#""2006-01-02T15:04:05.1Z""#),
            r#""2006-01-02T15:04:05.100000Z""#
        );
        assert_eq!(
            micro(r#""2006-01-02T15:04:05.1234569Z""#),
            r#""2006-01-02T15:04:05.123456Z""#
        );
        assert_eq!(
            micro(r#""2006-01-02T15:04:05.000001+01:00""#),
            r#""2006-01-02T14:04:05.000001Z""#
        );
        assert_eq!(micro("null"), "null");
    }

    #[test]
    fn rejects() {
        for bad in [
            r#""2006-01-02 15:04:05Z""#,
            r#""2006-01-02t15:04:05Z""#,
            r#""2006-01-02T15:04:05z""#,
            r#""2006-01-02T15:04:60Z""#,
            r#""2006-01-02T15:04:05""#,
            r#""2006-13-02T15:04:05Z""#,
            r#""2006-01-02""#,
            r#""""#,
            "1136214245",
        ] {
            assert!(serde_json::from_str::<Time>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<MicroTime>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values() {
        let dt = DateTime::parse_from_rfc3339("2024-05-06T07:08:09.123456789Z")
            .unwrap()
            .to_utc();
        assert_eq!(Time::from(dt).to_string(), "2024-05-06T07:08:09Z");
        assert_eq!(
            MicroTime::from(dt).to_string(),
            "2024-05-06T07:08:09.123456Z"
        );
        assert_eq!(Time::from(dt), "2024-05-06T07:08:09.9Z".parse().unwrap());
        assert!(Time::parse("2024-05-06T07:08:10Z").unwrap() > Time::from(dt));
        assert_eq!(Time::now().as_datetime().nanosecond(), 0);
        assert_eq!(MicroTime::now().as_datetime().nanosecond() % 1000, 0);
        assert_eq!(Time::default().to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(
            DateTime::<Utc>::from(Time::from(dt)).timestamp(),
            dt.timestamp()
        );
        let m: std::collections::BTreeMap<String, MicroTime> =
            serde_json::from_str(r#"{"a":"2024-05-06T07:08:09Z"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"a":"2024-05-06T07:08:09.000000Z"}"#
        );
    }
}
