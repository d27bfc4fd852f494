//! HorizontalPodAutoscalers, read in the v2 shape (the storage version; a
//! v1 object is converted first, so its CPU target and the metrics it
//! keeps in annotations print as upstream prints the internal version);
//! and the Scale subresource's table.

use chrono::{DateTime, Utc};
use generated::support::meta::PrinterColumn;
use serde_json::{Value, json};

use super::format::quantity;
use super::value::{array_at, get_path, opt_int, str_at};
use super::{
    CREATION_TIMESTAMP_DESCRIPTION, Cells, Context, IncludeObject, NAME_DESCRIPTION, Printer,
    TableListMeta, TableWriter, column_json,
};

pub(super) const PRINTERS: &[Printer] = &[Printer {
    group: "autoscaling",
    plural: "horizontalpodautoscalers",
    print: horizontal_pod_autoscaler,
}];

fn horizontal_pod_autoscaler(object: &Value, _: &Context) -> Cells {
    let reference = format!(
        "{}/{}",
        str_at(object, &["spec", "scaleTargetRef", "kind"]),
        str_at(object, &["spec", "scaleTargetRef", "name"])
    );
    let min_pods = opt_int(object, &["spec", "minReplicas"])
        .map_or_else(|| "<unset>".to_owned(), |n| n.to_string());
    Cells::new()
        .cell("Reference", reference)
        .cell("Targets", targets(object))
        .cell("MinPods", min_pods)
}

/// `formatHPAMetrics`: "current/target" of the first two metrics, then how
/// many more. A missing quantity prints as Go prints a nil one, "<nil>";
/// a metric whose source is missing (upstream would dereference nil)
/// prints the same way instead of failing.
fn targets(object: &Value) -> String {
    const MAX: usize = 2;
    let specs = array_at(object, &["spec", "metrics"]);
    if specs.is_empty() {
        return "<none>".to_owned();
    }
    let statuses = array_at(object, &["status", "currentMetrics"]);
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| metric(spec, statuses.get(i)))
        .collect();
    let shown = list
        .iter()
        .take(MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > MAX {
        format!("{shown} + {} more...", list.len() - MAX)
    } else {
        shown
    }
}

/// One metric as "current/target": prefixed by the resource name for
/// (container) resource metrics, suffixed " (avg)" for averaged object and
/// external metrics, "<unknown>" for a current value the status at the
/// same index does not report.
fn metric(spec: &Value, status: Option<&Value>) -> String {
    let source = match str_at(spec, &["type"]) {
        "External" => "external",
        "Pods" => "pods",
        "Object" => "object",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        _ => return "<unknown type>".to_owned(),
    };
    let target = get_path(spec, &[source, "target"]).unwrap_or(&Value::Null);
    let reported = status.and_then(|s| get_path(s, &[source]));
    let current =
        |field: &str| reported.map_or_else(unknown, |r| quantity(r, &["current", field], "<nil>"));
    let averaged = get_path(target, &["averageValue"]).is_some();
    let target_of = |field: &str| quantity(target, &[field], "<nil>");
    match source {
        "pods" => format!("{}/{}", current("averageValue"), target_of("averageValue")),
        "external" | "object" if averaged => {
            let current = reported
                .filter(|r| get_path(r, &["current", "averageValue"]).is_some())
                .map_or_else(unknown, |r| {
                    quantity(r, &["current", "averageValue"], "<nil>")
                });
            format!("{current}/{} (avg)", target_of("averageValue"))
        }
        "external" | "object" => format!("{}/{}", current("value"), target_of("value")),
        _ => {
            let name = str_at(spec, &[source, "name"]);
            if averaged {
                return format!(
                    "{name}: {}/{}",
                    current("averageValue"),
                    target_of("averageValue")
                );
            }
            let current = reported
                .and_then(|r| opt_int(r, &["current", "averageUtilization"]))
                .map_or_else(unknown, |percent| format!("{percent}%"));
            let target = opt_int(target, &["averageUtilization"])
                .map_or_else(|| "<auto>".to_owned(), |percent| format!("{percent}%"));
            format!("{name}: {current}/{target}")
        }
    }
}

fn unknown() -> String {
    "<unknown>".to_owned()
}

/// Upstream's Scale columns: no resource describes a Scale, so they are
/// fixed here (the Name column has no `name` format, as upstream's).
const SCALE_COLUMNS: &[PrinterColumn] = &[
    PrinterColumn {
        name: "Name",
        ty: "string",
        format: "",
        description: NAME_DESCRIPTION,
        priority: 0,
        json_path: None,
    },
    PrinterColumn {
        name: "Desired",
        ty: "integer",
        format: "",
        description: "replicas is the desired number of instances for the scaled object.",
        priority: 0,
        json_path: None,
    },
    PrinterColumn {
        name: "Available",
        ty: "integer",
        format: "",
        description: "replicas is the actual number of observed instances of the scaled object.",
        priority: 0,
        json_path: None,
    },
    PrinterColumn {
        name: "Age",
        ty: "string",
        format: "",
        description: CREATION_TIMESTAMP_DESCRIPTION,
        priority: 0,
        json_path: None,
    },
];

/// The Table of an autoscaling/v1 Scale (`kubectl get deployment web
/// --subresource=scale`) as JSON, as upstream's `printScale`.
pub fn scale_table(scale: &Value, include: IncludeObject, now: DateTime<Utc>) -> Vec<u8> {
    let context = Context { now };
    let cells = [
        json!(str_at(scale, &["metadata", "name"])),
        json!(opt_int(scale, &["spec", "replicas"]).unwrap_or(0)),
        json!(opt_int(scale, &["status", "replicas"]).unwrap_or(0)),
        json!(context.age(get_path(scale, &["metadata", "creationTimestamp"]))),
    ];
    let columns: Vec<Value> = SCALE_COLUMNS.iter().map(column_json).collect();
    let mut writer = TableWriter::new(Some(&columns), &TableListMeta::of_object(scale), include);
    writer.row(&cells, &[], scale);
    writer.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::{cells_of, cells_of_version};

    #[test]
    fn v2_autoscaler_with_several_metrics() {
        let hpa = json!({
            "metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2, "maxReplicas": 10, "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
                ]},
            "status": {"currentReplicas": 3, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45, "averageValue": "450m"}}},
            ]},
        });
        assert_eq!(
            cells_of("autoscaling", "horizontalpodautoscalers", hpa),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 45%/80%, memory: <unknown>/500Mi + 1 more..."),
                json!("2"),
                json!(10),
                json!(3),
                json!("60m"),
            ]
        );
    }

    #[test]
    fn object_and_external_metrics() {
        let hpa = json!({"metadata": {"name": "q"}, "spec": {"maxReplicas": 4, "metrics": [
            {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "AverageValue", "averageValue": "30"}}},
            {"type": "Object", "object": {"metric": {"name": "rps"}, "target": {"type": "Value", "value": "2k"}}}]},
            "status": {"currentMetrics": [
                {"type": "External", "external": {"current": {"averageValue": "12"}}},
                {"type": "Object", "object": {"current": {"value": "1500"}}}]}});
        let row = cells_of("autoscaling", "horizontalpodautoscalers", hpa);
        assert_eq!(row[2..4], [json!("12/30 (avg), 1500/2k"), json!("<unset>")]);
    }

    #[test]
    fn v1_autoscaler_prints_its_cpu_target() {
        let hpa = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "old"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "old"}, "minReplicas": 1, "maxReplicas": 5,
                     "targetCPUUtilizationPercentage": 70},
            "status": {"currentReplicas": 1, "desiredReplicas": 1, "currentCPUUtilizationPercentage": 12}});
        let row = cells_of_version("autoscaling", "v1", "horizontalpodautoscalers", hpa);
        assert_eq!(
            row[1..6],
            [
                json!("Deployment/old"),
                json!("cpu: 12%/70%"),
                json!("1"),
                json!(5),
                json!(1)
            ]
        );
        let none = json!({"metadata": {"name": "n"}, "spec": {"metrics": []}});
        assert_eq!(
            cells_of("autoscaling", "horizontalpodautoscalers", none)[2],
            json!("<none>")
        );
    }

    #[test]
    fn scales_print_desired_and_available_replicas() {
        let scale = serde_json::json!({
            "metadata": {"name": "web", "resourceVersion": "5"},
            "spec": {"replicas": 3},
            "status": {"replicas": 2},
        });
        let table = super::scale_table(
            &scale,
            crate::printers::IncludeObject::None,
            chrono::Utc::now(),
        );
        let table: serde_json::Value = serde_json::from_slice(&table).unwrap();
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Name", "Desired", "Available", "Age"]);
        assert_eq!(
            table["rows"][0]["cells"],
            serde_json::json!(["web", 3, 2, "<unknown>"])
        );
        assert_eq!(table["metadata"]["resourceVersion"], "5");
    }
}
