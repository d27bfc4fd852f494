//! Ages and durations as `kubectl get` shows them: apimachinery's
//! `duration.HumanDuration` and the printers' `translateTimestampSince`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

/// A `metav1.Time` read from JSON: `None` for Go's zero time, which is what
/// an absent, `null`, unparsable or `0001-01-01T00:00:00Z` timestamp
/// decodes to upstream (`IsZero`).
pub(crate) fn timestamp(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(value?.as_str()?).ok()?;
    let parsed = parsed.with_timezone(&Utc);
    (parsed != go_zero_time()).then_some(parsed)
}

/// Go's `time.Time{}`: January 1 of year 1, UTC.
fn go_zero_time() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or_default()
}

/// `translateTimestampSince`: how long ago `value` was, or "<unknown>"
/// for the zero time.
pub(crate) fn since(value: Option<&Value>, now: DateTime<Utc>) -> String {
    match timestamp(value) {
        Some(then) => ago(then, now),
        None => "<unknown>".to_owned(),
    }
}

/// How long before `now` the (non-zero) time `then` was.
pub(crate) fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    human_duration(now.signed_duration_since(then))
}

/// `duration.HumanDuration`: about two or three significant figures of a
/// duration ("45s", "3m20s", "10m", "5h3m", "2d3h", "3y45d"). Two seconds
/// of clock skew still read as "0s"; more is "<invalid>".
pub(crate) fn human_duration(duration: TimeDelta) -> String {
    // Go's time.Duration is int64 nanoseconds and saturates on overflow;
    // integer division truncates toward zero there as it does here.
    let nanos = duration
        .num_nanoseconds()
        .unwrap_or(if duration < TimeDelta::zero() {
            i64::MIN
        } else {
            i64::MAX
        });
    let seconds = nanos / SECOND;
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / MINUTE;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / HOUR;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return with_remainder(hours / 24, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return with_remainder(hours / 24 / 365, "y", (hours / 24) % 365, "d");
    }
    format!("{}y", hours / 24 / 365)
}

/// "3m20s", or "3m" when the remainder is zero.
fn with_remainder(whole: i64, unit: &str, rest: i64, rest_unit: &str) -> String {
    if rest == 0 {
        format!("{whole}{unit}")
    } else {
        format!("{whole}{unit}{rest}{rest_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn human_duration_matches_apimachinery() {
        let s = TimeDelta::seconds;
        let cases = [
            (TimeDelta::milliseconds(-2500), "<invalid>"),
            (s(-2), "<invalid>"),
            (TimeDelta::milliseconds(-1999), "0s"),
            (s(-1), "0s"),
            (s(0), "0s"),
            (TimeDelta::milliseconds(1999), "1s"),
            (s(5), "5s"),
            (s(119), "119s"),
            (s(120), "2m"),
            (s(200), "3m20s"),
            (s(599), "9m59s"),
            (s(600), "10m"),
            (s(3 * 3600 - 1), "179m"),
            (s(3 * 3600), "3h"),
            (s(5 * 3600 + 3 * 60 + 59), "5h3m"),
            (s(8 * 3600 - 1), "7h59m"),
            (s(8 * 3600), "8h"),
            (s(47 * 3600 + 3599), "47h"),
            (s(48 * 3600), "2d"),
            (s(51 * 3600), "2d3h"),
            (s(8 * 86400 - 1), "7d23h"),
            (s(8 * 86400), "8d"),
            (s(2 * 365 * 86400 - 1), "729d"),
            (s(2 * 365 * 86400), "2y"),
            (s((3 * 365 + 45) * 86400), "3y45d"),
            (s(8 * 365 * 86400 - 1), "7y364d"),
            (s(8 * 365 * 86400), "8y"),
            (TimeDelta::MAX, "292y"),
        ];
        for (duration, want) in cases {
            assert_eq!(human_duration(duration), want, "{duration:?}");
        }
    }

    #[test]
    fn zero_and_malformed_timestamps_are_unknown() {
        let now = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid time");
        assert_eq!(since(None, now), "<unknown>");
        assert_eq!(since(Some(&Value::Null), now), "<unknown>");
        assert_eq!(since(Some(&json!("yesterday")), now), "<unknown>");
        assert_eq!(since(Some(&json!(17)), now), "<unknown>");
        assert_eq!(
            since(Some(&json!("0001-01-01T00:00:00Z")), now),
            "<unknown>"
        );
        assert_eq!(since(Some(&json!("2024-05-01T11:56:40Z")), now), "3m20s");
        assert_eq!(
            since(Some(&json!("2024-05-01T11:59:59.5+00:00")), now),
            "0s"
        );
        assert_eq!(since(Some(&json!("2024-05-01T14:00:00+02:00")), now), "0s");
    }
}
