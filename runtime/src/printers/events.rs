//! Events, of the core group and of `events.k8s.io`. Upstream serves both
//! from the core Event storage and prints both with `printEvent`; the
//! `events.k8s.io` form only renames fields, so one printer reads either
//! through a table of field names.

use serde_json::Value;

use super::age::timestamp;
use super::value::{get_path, int_at, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "",
        plural: "events",
        print: core_event,
    },
    Printer {
        group: "events.k8s.io",
        plural: "events",
        print: events_event,
    },
];

/// Where one form of Event keeps the fields the printer reads.
struct Fields {
    first_timestamp: &'static str,
    last_timestamp: &'static str,
    count: &'static str,
    regarding: &'static str,
    source: &'static str,
    reporting_controller: &'static str,
    message: &'static str,
}

const CORE: Fields = Fields {
    first_timestamp: "firstTimestamp",
    last_timestamp: "lastTimestamp",
    count: "count",
    regarding: "involvedObject",
    source: "source",
    reporting_controller: "reportingComponent",
    message: "message",
};

const EVENTS_V1: Fields = Fields {
    first_timestamp: "deprecatedFirstTimestamp",
    last_timestamp: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    regarding: "regarding",
    source: "deprecatedSource",
    reporting_controller: "reportingController",
    message: "note",
};

fn core_event(object: &Value, context: &Context) -> Cells {
    event(object, context, &CORE)
}

fn events_event(object: &Value, context: &Context) -> Cells {
    event(object, context, &EVENTS_V1)
}

fn event(object: &Value, context: &Context, fields: &Fields) -> Cells {
    let age_of = |field: &str| timestamp(get_path(object, &[field])).map(|t| context.ago(t));
    // Events written through events.k8s.io carry only `eventTime`.
    let first = age_of(fields.first_timestamp)
        .unwrap_or_else(|| context.age(get_path(object, &["eventTime"])));
    let mut last = age_of(fields.last_timestamp).unwrap_or_else(|| first.clone());
    let mut count = int_at(object, &[fields.count]);
    if let Some(series) = get_path(object, &["series"]) {
        last = context.age(get_path(series, &["lastObservedTime"]));
        count = int_at(series, &["count"]);
    } else if count == 0 {
        // Singleton events of the new API have no count.
        count = 1;
    }

    let kind = str_at(object, &[fields.regarding, "kind"]).to_lowercase();
    let target = match str_at(object, &[fields.regarding, "name"]) {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let component = first_non_empty(
        str_at(object, &[fields.source, "component"]),
        str_at(object, &[fields.reporting_controller]),
    );
    let instance = first_non_empty(
        str_at(object, &[fields.source, "host"]),
        str_at(object, &["reportingInstance"]),
    );
    let source = if instance.is_empty() {
        component.to_owned()
    } else {
        format!("{component}, {instance}")
    };

    Cells::new()
        .cell("Last Seen", last)
        .cell("Object", target)
        .cell("Source", source)
        .cell("Message", str_at(object, &[fields.message]).trim())
        .cell("First Seen", first)
        .cell("Count", count)
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn core_event_with_count_and_source() {
        let event = json!({
            "metadata": {"name": "web.17c", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
            "reason": "BackOff", "type": "Warning", "message": " Back-off restarting failed container \n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2024-05-01T11:00:00Z", "lastTimestamp": "2024-05-01T11:58:00Z", "count": 12,
        });
        assert_eq!(
            cells_of("", "events", event),
            vec![
                json!("2m"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web"),
                json!("spec.containers{app}"),
                json!("kubelet, node-1"),
                json!("Back-off restarting failed container"),
                json!("60m"),
                json!(12),
                json!("web.17c"),
            ]
        );
    }

    #[test]
    fn new_api_event_through_the_core_group() {
        let event = json!({
            "metadata": {"name": "n.1"},
            "involvedObject": {"kind": "Node"},
            "eventTime": "2024-05-01T11:59:30.123456Z", "reportingComponent": "scheduler",
            "reportingInstance": "scheduler-abc", "type": "Normal", "reason": "Scheduled", "message": "ok",
        });
        let row = cells_of("", "events", event);
        // 29.88 seconds: Go truncates.
        assert_eq!(row[0], json!("29s"));
        assert_eq!(row[3], json!("node"));
        assert_eq!(row[5], json!("scheduler, scheduler-abc"));
        assert_eq!(row[7..9], [json!("29s"), json!(1)]);
    }

    #[test]
    fn events_k8s_io_event_with_series() {
        let event = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.18a", "namespace": "default"},
            "regarding": {"kind": "Deployment", "name": "web", "fieldPath": ""},
            "eventTime": "2024-05-01T10:00:00.000000Z", "reportingController": "deployment-controller",
            "reason": "ScalingReplicaSet", "type": "Normal", "note": "Scaled up",
            "series": {"count": 4, "lastObservedTime": "2024-05-01T11:59:00.000000Z"},
        });
        assert_eq!(
            cells_of("events.k8s.io", "events", event),
            vec![
                json!("60s"),
                json!("Normal"),
                json!("ScalingReplicaSet"),
                json!("deployment/web"),
                json!(""),
                json!("deployment-controller"),
                json!("Scaled up"),
                json!("120m"),
                json!(4),
                json!("web.18a"),
            ]
        );
    }

    #[test]
    fn event_without_any_time() {
        let row = cells_of("", "events", json!({"metadata": {"name": "e"}}));
        assert_eq!(row[0], json!("<unknown>"));
        assert_eq!(row[7..9], [json!("<unknown>"), json!(1)]);
    }
}
