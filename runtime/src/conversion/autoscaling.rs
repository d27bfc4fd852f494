//! autoscaling HorizontalPodAutoscaler: v1 against the v2 storage version,
//! after upstream's `pkg/apis/autoscaling/v1/conversion.go`.
//!
//! v1 knows one CPU utilization target and one current CPU utilization;
//! v2 has lists of metrics of five types, conditions and a scaling
//! behavior. Reading through v1 maps the first CPU utilization metric to
//! `targetCPUUtilizationPercentage` (and the last current one to
//! `currentCPUUtilizationPercentage`) and keeps the rest in annotations
//! (`pkg/apis/autoscaling/annotations.go`), which writing through v1 moves
//! back, so an old client's read-modify-write loses nothing:
//!
//! - `autoscaling.alpha.kubernetes.io/metrics`: the other metric specs,
//!   as a JSON list of v1 `MetricSpec`s (the v2beta1-style shapes
//!   `k8s.io/api/autoscaling/v1` still declares);
//! - `autoscaling.alpha.kubernetes.io/current-metrics`: every current
//!   metric, as v1 `MetricStatus`es;
//! - `autoscaling.alpha.kubernetes.io/conditions`: the conditions;
//! - `autoscaling.alpha.kubernetes.io/behavior`: the behavior, encoded as
//!   upstream's internal Go type (field names capitalised, unset ones null).
//!
//! Where upstream's mapping loses something, this one keeps it, in ways a
//! Go reader of the annotations ignores or reads as upstream would:
//!
//! - A non-pointer v1 field (`targetValue` of an object metric) is left
//!   out when v2 had no value, instead of written as "0".
//! - A metric whose v1 shape cannot say everything (a target type that
//!   differs from the one v1 infers, a utilization on an object metric)
//!   carries its exact v2 form under [`EXACT_KEY`] next to the v1 fields;
//!   it is used only while the v1 fields still match it.
//! - When the CPU metric is not the last one, or carries more than the
//!   percentage, its v1 form stays in the metrics annotation, marked with
//!   [`TARGET_CPU_KEY`], so it comes back at its place (upstream appends
//!   it last). Its percentage is always the field's.
//! - Current metrics that `currentCPUUtilizationPercentage` says in full
//!   need no annotation, so a v1 object round trips unchanged.
//! - An empty behavior comes back empty (upstream drops it).
//!
//! As upstream, a v1 object without any target gets the implicit default
//! of 80% CPU utilization in v2, and round-trip annotations on the way in
//! are dropped; malformed ones are ignored rather than failing the request.

use serde_json::{Map, Value, json};

use super::go_json::Layout;
use super::{ConversionError, unsupported};

const HOOK: &str = "autoscaling.HorizontalPodAutoscaler";

const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
const ROUND_TRIP_ANNOTATIONS: [&str; 4] = [
    METRICS_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
];

/// `autoscaling.DefaultCPUUtilization`: v1's implicit target.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// Inside an annotation entry: the exact v2 metric, when the v1 fields
/// cannot say all of it.
const EXACT_KEY: &str = "ferrokube.dev/autoscaling-v2";
/// Inside a metrics annotation entry: this is the metric
/// `targetCPUUtilizationPercentage` carries, kept here for its place.
const TARGET_CPU_KEY: &str = "ferrokube.dev/targetCPUUtilizationPercentage";

/// Field order of every Go struct written into the annotations
/// (`k8s.io/api/autoscaling/v1` metric types, the conditions, the internal
/// behavior types, `LabelSelector`); their orders agree, so one list works.
const LAYOUT: Layout = Layout {
    fields: &[
        "type",
        "status",
        "lastTransitionTime",
        "reason",
        "message",
        "object",
        "pods",
        "resource",
        "containerResource",
        "external",
        "target",
        "kind",
        "metricName",
        "name",
        "apiVersion",
        "targetAverageUtilization",
        "metricSelector",
        "targetValue",
        "targetAverageValue",
        "currentAverageUtilization",
        "currentValue",
        "currentAverageValue",
        "selector",
        "averageValue",
        "container",
        "matchLabels",
        "matchExpressions",
        "key",
        "operator",
        "values",
        "ScaleUp",
        "ScaleDown",
        "StabilizationWindowSeconds",
        "SelectPolicy",
        "Policies",
        "Tolerance",
        "Type",
        "Value",
        "PeriodSeconds",
    ],
    maps: &["matchLabels"],
};

/// v1 field -> v2 path pairs of one metric source or status.
type Fields = &'static [(&'static str, &'static [&'static str])];

/// How one metric source (or status) maps between v2 and v1: the v2 key
/// (`object`), v1 field -> v2 path pairs, and for sources the target type
/// v1 leaves implicit.
struct Source {
    key: &'static str,
    fields: Fields,
    target_type: Option<TargetType>,
}

/// The target type a v1 metric source leaves implicit, read from its fields.
type TargetType = fn(&Map<String, Value>) -> &'static str;

const RESOURCE_SOURCE: Fields = &[
    ("name", &["name"]),
    (
        "targetAverageUtilization",
        &["target", "averageUtilization"],
    ),
    ("targetAverageValue", &["target", "averageValue"]),
];
const CONTAINER_RESOURCE_SOURCE: Fields = &[
    ("name", &["name"]),
    (
        "targetAverageUtilization",
        &["target", "averageUtilization"],
    ),
    ("targetAverageValue", &["target", "averageValue"]),
    ("container", &["container"]),
];

/// Metric sources: `Convert_v1_*MetricSource_To_autoscaling_*` and back.
const SOURCES: &[Source] = &[
    Source {
        key: "object",
        fields: &[
            ("target", &["describedObject"]),
            ("metricName", &["metric", "name"]),
            ("targetValue", &["target", "value"]),
            ("selector", &["metric", "selector"]),
            ("averageValue", &["target", "averageValue"]),
        ],
        target_type: Some(|v1| value_unless(v1, "averageValue", "AverageValue")),
    },
    Source {
        key: "pods",
        fields: &[
            ("metricName", &["metric", "name"]),
            ("targetAverageValue", &["target", "averageValue"]),
            ("selector", &["metric", "selector"]),
        ],
        target_type: Some(|_| "AverageValue"),
    },
    Source {
        key: "resource",
        fields: RESOURCE_SOURCE,
        target_type: Some(utilization_or_average),
    },
    Source {
        key: "containerResource",
        fields: CONTAINER_RESOURCE_SOURCE,
        target_type: Some(utilization_or_average),
    },
    Source {
        key: "external",
        fields: &[
            ("metricName", &["metric", "name"]),
            ("metricSelector", &["metric", "selector"]),
            ("targetValue", &["target", "value"]),
            ("targetAverageValue", &["target", "averageValue"]),
        ],
        target_type: Some(|v1| {
            if is_set(v1.get("targetValue")) {
                "Value"
            } else {
                "AverageValue"
            }
        }),
    },
];

const RESOURCE_STATUS: Fields = &[
    ("name", &["name"]),
    (
        "currentAverageUtilization",
        &["current", "averageUtilization"],
    ),
    ("currentAverageValue", &["current", "averageValue"]),
];
const CONTAINER_RESOURCE_STATUS: Fields = &[
    ("name", &["name"]),
    (
        "currentAverageUtilization",
        &["current", "averageUtilization"],
    ),
    ("currentAverageValue", &["current", "averageValue"]),
    ("container", &["container"]),
];

/// Metric statuses: `Convert_v1_*MetricStatus_To_autoscaling_*` and back.
const STATUSES: &[Source] = &[
    Source {
        key: "object",
        fields: &[
            ("target", &["describedObject"]),
            ("metricName", &["metric", "name"]),
            ("currentValue", &["current", "value"]),
            ("selector", &["metric", "selector"]),
            ("averageValue", &["current", "averageValue"]),
        ],
        target_type: None,
    },
    Source {
        key: "pods",
        fields: &[
            ("metricName", &["metric", "name"]),
            ("currentAverageValue", &["current", "averageValue"]),
            ("selector", &["metric", "selector"]),
        ],
        target_type: None,
    },
    Source {
        key: "resource",
        fields: RESOURCE_STATUS,
        target_type: None,
    },
    Source {
        key: "containerResource",
        fields: CONTAINER_RESOURCE_STATUS,
        target_type: None,
    },
    Source {
        key: "external",
        fields: &[
            ("metricName", &["metric", "name"]),
            ("metricSelector", &["metric", "selector"]),
            ("currentValue", &["current", "value"]),
            ("currentAverageValue", &["current", "averageValue"]),
        ],
        target_type: None,
    },
];

fn value_unless(v1: &Map<String, Value>, field: &str, then: &'static str) -> &'static str {
    if is_set(v1.get(field)) { then } else { "Value" }
}

fn utilization_or_average(v1: &Map<String, Value>) -> &'static str {
    if is_set(v1.get("targetAverageUtilization")) {
        "Utilization"
    } else {
        "AverageValue"
    }
}

/// The hook: v2 -> v1 for reads through v1, v1 -> v2 for writes.
pub fn horizontal_pod_autoscaler(
    object: Value,
    from: &str,
    to: &str,
) -> Result<Value, ConversionError> {
    let Value::Object(root) = object else {
        return Err(ConversionError::Malformed(
            "a HorizontalPodAutoscaler must be a JSON object".to_owned(),
        ));
    };
    match (from, to) {
        ("v2", "v1") => Ok(Value::Object(v2_to_v1(root))),
        ("v1", "v2") => Ok(Value::Object(v1_to_v2(root))),
        _ => Err(unsupported(HOOK, from, to)),
    }
}

fn v2_to_v1(mut root: Map<String, Value>) -> Map<String, Value> {
    let mut annotations = Annotations::take(&mut root);
    // Whatever a v1 client left in them is stale now; the fields are the truth.
    annotations.take_round_trip();
    if let Some(Value::Object(spec)) = root.get_mut("spec") {
        if let Some(Value::Array(metrics)) = spec.remove("metrics") {
            let (target, stash) = metrics_to_v1(&metrics);
            if let Some(target) = target {
                spec.insert("targetCPUUtilizationPercentage".to_owned(), target);
            }
            if let Some(stash) = stash {
                annotations.set(METRICS_ANNOTATION, stash);
            }
        }
        if let Some(behavior) = spec.remove("behavior") {
            annotations.set(
                BEHAVIOR_ANNOTATION,
                LAYOUT.to_string(&behavior_to_internal(&behavior)),
            );
        }
    }
    if let Some(Value::Object(status)) = root.get_mut("status") {
        if let Some(Value::Array(current)) = status.remove("currentMetrics") {
            // Upstream keeps the last CPU utilization it meets.
            let cpu = current
                .iter()
                .filter_map(current_cpu_utilization)
                .next_back();
            let implied: Vec<Value> = cpu.iter().map(cpu_status).collect();
            if let Some(cpu) = cpu {
                status.insert("currentCPUUtilizationPercentage".to_owned(), cpu);
            }
            if current.is_empty() || current != implied {
                let entries = current.iter().map(|m| stash_entry(m, STATUSES)).collect();
                annotations.set(
                    CURRENT_METRICS_ANNOTATION,
                    LAYOUT.to_string(&Value::Array(entries)),
                );
            }
        }
        if let Some(conditions) = status.remove("conditions") {
            annotations.set(CONDITIONS_ANNOTATION, LAYOUT.to_string(&conditions));
        }
    }
    annotations.put_back(&mut root);
    root
}

fn v1_to_v2(mut root: Map<String, Value>) -> Map<String, Value> {
    let mut annotations = Annotations::take(&mut root);
    let [metrics, current_metrics, conditions, behavior] = annotations.take_round_trip();
    if let Some(Value::Object(spec)) = root.get_mut("spec") {
        let target = spec
            .remove("targetCPUUtilizationPercentage")
            .filter(|t| !t.is_null());
        spec.insert(
            "metrics".to_owned(),
            Value::Array(metrics_from_v1(metrics, target)),
        );
        if let Some(Value::Object(behavior)) = behavior {
            spec.insert("behavior".to_owned(), behavior_from_internal(&behavior));
        }
    }
    let current_cpu = match root.get_mut("status") {
        Some(Value::Object(status)) => status
            .remove("currentCPUUtilizationPercentage")
            .filter(|c| !c.is_null()),
        _ => None,
    };
    // The annotation has more to say than the field, so it wins.
    let current = match current_metrics {
        Some(Value::Array(entries)) => Some(
            entries
                .into_iter()
                .filter_map(|e| match e {
                    Value::Object(entry) => Some(unstash(entry, STATUSES)),
                    _ => None,
                })
                .collect(),
        ),
        _ => current_cpu.map(|cpu| vec![cpu_status(&cpu)]),
    };
    let conditions = match conditions {
        Some(Value::Array(conditions)) => Some(conditions.into_iter().map(drop_nulls).collect()),
        _ => None,
    };
    if current.is_some() || conditions.is_some() {
        let status = root
            .entry("status")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(status) = status {
            if let Some(current) = current {
                status.insert("currentMetrics".to_owned(), Value::Array(current));
            }
            if let Some(conditions) = conditions {
                status.insert("conditions".to_owned(), Value::Array(conditions));
            }
        }
    }
    annotations.put_back(&mut root);
    root
}

/// `targetCPUUtilizationPercentage` and the metrics annotation for v2's
/// metric list.
fn metrics_to_v1(metrics: &[Value]) -> (Option<Value>, Option<String>) {
    let cpu = metrics.iter().position(|m| cpu_utilization(m).is_some());
    let target = cpu.and_then(|i| cpu_utilization(&metrics[i]));
    let keep_cpu_entry = match (cpu, &target) {
        (Some(i), Some(t)) => i + 1 != metrics.len() || metrics[i] != cpu_metric(t),
        _ => false,
    };
    let entries: Vec<Value> = metrics
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != cpu || keep_cpu_entry)
        .map(|(i, metric)| {
            let mut entry = stash_entry_map(metric, SOURCES);
            if Some(i) == cpu {
                entry.insert(TARGET_CPU_KEY.to_owned(), Value::Bool(true));
            }
            Value::Object(entry)
        })
        .collect();
    let stash = (!entries.is_empty()).then(|| LAYOUT.to_string(&Value::Array(entries)));
    (target, stash)
}

/// v2's metric list from the metrics annotation and the CPU target.
fn metrics_from_v1(stash: Option<Value>, target: Option<Value>) -> Vec<Value> {
    let mut metrics = Vec::new();
    let mut placed = false;
    if let Some(Value::Array(entries)) = stash {
        for entry in entries {
            let Value::Object(mut entry) = entry else {
                continue;
            };
            if entry.remove(TARGET_CPU_KEY).is_none() {
                metrics.push(unstash(entry, SOURCES));
                continue;
            }
            // A cleared target takes its metric along; only one entry is the field's.
            let Some(target) = target.as_ref().filter(|_| !placed) else {
                continue;
            };
            let mut metric = unstash(entry, SOURCES);
            match metric.pointer_mut("/resource/target") {
                Some(Value::Object(t)) => {
                    t.insert("averageUtilization".to_owned(), target.clone());
                }
                _ => metric = cpu_metric(target),
            }
            metrics.push(metric);
            placed = true;
        }
    }
    if let (Some(target), false) = (&target, placed) {
        metrics.push(cpu_metric(target));
    }
    if metrics.is_empty() {
        metrics.push(cpu_metric(&json!(DEFAULT_CPU_UTILIZATION)));
    }
    metrics
}

/// The percentage of a CPU utilization resource metric, the kind v1's
/// field holds.
fn cpu_utilization(metric: &Value) -> Option<Value> {
    let resource = metric.get("resource")?;
    let is_cpu = metric.get("type") == Some(&json!("Resource"))
        && resource.get("name") == Some(&json!("cpu"));
    let utilization = resource.pointer("/target/averageUtilization")?;
    (is_cpu && !utilization.is_null()).then(|| utilization.clone())
}

fn current_cpu_utilization(metric: &Value) -> Option<Value> {
    let resource = metric.get("resource")?;
    let is_cpu = metric.get("type") == Some(&json!("Resource"))
        && resource.get("name") == Some(&json!("cpu"));
    let utilization = resource.pointer("/current/averageUtilization")?;
    (is_cpu && !utilization.is_null()).then(|| utilization.clone())
}

/// The metric v1's `targetCPUUtilizationPercentage` stands for.
fn cpu_metric(utilization: &Value) -> Value {
    json!({"type": "Resource", "resource": {
        "name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": utilization}
    }})
}

/// The current metric v1's `currentCPUUtilizationPercentage` stands for.
fn cpu_status(utilization: &Value) -> Value {
    json!({"type": "Resource", "resource": {
        "name": "cpu",
        "current": {"averageUtilization": utilization}
    }})
}

/// A v2 metric (spec or status) as a v1 annotation entry, with the exact
/// v2 form beside it when the v1 fields lose something.
fn stash_entry_map(metric: &Value, table: &[Source]) -> Map<String, Value> {
    let mut entry = metric_to_v1(metric, table);
    if metric_from_v1(&entry, table) != *metric {
        entry.insert(EXACT_KEY.to_owned(), metric.clone());
    }
    entry
}

fn stash_entry(metric: &Value, table: &[Source]) -> Value {
    Value::Object(stash_entry_map(metric, table))
}

/// The v2 metric of an annotation entry: its exact form while the v1
/// fields still say the same, else what the v1 fields say.
fn unstash(mut entry: Map<String, Value>, table: &[Source]) -> Value {
    if let Some(exact) = entry.remove(EXACT_KEY)
        && metric_to_v1(&exact, table) == entry
    {
        return exact;
    }
    metric_from_v1(&entry, table)
}

fn metric_to_v1(metric: &Value, table: &[Source]) -> Map<String, Value> {
    let mut out = Map::new();
    put(&mut out, "type", metric.get("type"));
    for source in table {
        if let Some(v2) = metric.get(source.key) {
            let mut v1 = Map::new();
            for (field, path) in source.fields {
                put(&mut v1, field, at_path(v2, path));
            }
            out.insert(source.key.to_owned(), Value::Object(v1));
        }
    }
    out
}

fn metric_from_v1(entry: &Map<String, Value>, table: &[Source]) -> Value {
    let mut out = Map::new();
    put(&mut out, "type", entry.get("type"));
    for source in table {
        let Some(Value::Object(v1)) = entry.get(source.key) else {
            continue;
        };
        let mut v2 = Map::new();
        for (field, path) in source.fields {
            if let Some(value) = v1.get(*field).filter(|v| !v.is_null()) {
                set_path(&mut v2, path, value.clone());
            }
        }
        if let Some(target_type) = source.target_type {
            set_path(&mut v2, &["target", "type"], json!(target_type(v1)));
        }
        out.insert(source.key.to_owned(), Value::Object(v2));
    }
    Value::Object(out)
}

/// v2's behavior as upstream's internal Go type encodes it.
fn behavior_to_internal(behavior: &Value) -> Value {
    fn rules(rules: Option<&Value>) -> Value {
        let Some(Value::Object(rules)) = rules else {
            return Value::Null;
        };
        let field = |name: &str| rules.get(name).cloned().unwrap_or(Value::Null);
        let policies = match rules.get("policies") {
            Some(Value::Array(policies)) => Value::Array(
                policies
                    .iter()
                    .map(|p| {
                        let mut out = Map::new();
                        put(&mut out, "Type", p.get("type"));
                        put(&mut out, "Value", p.get("value"));
                        put(&mut out, "PeriodSeconds", p.get("periodSeconds"));
                        Value::Object(out)
                    })
                    .collect(),
            ),
            _ => Value::Null,
        };
        json!({
            "StabilizationWindowSeconds": field("stabilizationWindowSeconds"),
            "SelectPolicy": field("selectPolicy"),
            "Policies": policies,
            "Tolerance": field("tolerance"),
        })
    }
    json!({
        "ScaleUp": rules(behavior.get("scaleUp")),
        "ScaleDown": rules(behavior.get("scaleDown")),
    })
}

/// v2's behavior from the internal Go encoding, whose field names Go
/// matches case-insensitively.
fn behavior_from_internal(internal: &Map<String, Value>) -> Value {
    fn rules(rules: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        put(
            &mut out,
            "stabilizationWindowSeconds",
            go_field(rules, "StabilizationWindowSeconds"),
        );
        put(&mut out, "selectPolicy", go_field(rules, "SelectPolicy"));
        if let Some(Value::Array(policies)) = go_field(rules, "Policies") {
            let policies = policies
                .iter()
                .filter_map(Value::as_object)
                .map(|p| {
                    let mut policy = Map::new();
                    put(&mut policy, "type", go_field(p, "Type"));
                    put(&mut policy, "value", go_field(p, "Value"));
                    put(&mut policy, "periodSeconds", go_field(p, "PeriodSeconds"));
                    Value::Object(policy)
                })
                .collect();
            out.insert("policies".to_owned(), Value::Array(policies));
        }
        put(&mut out, "tolerance", go_field(rules, "Tolerance"));
        Value::Object(out)
    }
    let mut out = Map::new();
    for (go, json) in [("ScaleUp", "scaleUp"), ("ScaleDown", "scaleDown")] {
        if let Some(Value::Object(r)) = go_field(internal, go) {
            out.insert(json.to_owned(), rules(r));
        }
    }
    Value::Object(out)
}

/// A field of a Go-encoded struct: the exact name, else any spelling that
/// differs only in case, as `encoding/json` decodes.
fn go_field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The object's annotations, taken out of `metadata` for editing.
struct Annotations {
    map: Map<String, Value>,
    /// Whether the object had an `annotations` field at all.
    had: bool,
    /// Whether a round-trip annotation was removed.
    removed: bool,
}

impl Annotations {
    fn take(root: &mut Map<String, Value>) -> Annotations {
        let taken = match root.get_mut("metadata") {
            Some(Value::Object(metadata)) => metadata.remove("annotations"),
            _ => None,
        };
        match taken {
            Some(Value::Object(map)) => Annotations {
                map,
                had: true,
                removed: false,
            },
            _ => Annotations {
                map: Map::new(),
                had: false,
                removed: false,
            },
        }
    }

    /// Removes the four round-trip annotations, returning each one's JSON
    /// (None when absent or malformed, as upstream ignores malformed ones).
    fn take_round_trip(&mut self) -> [Option<Value>; 4] {
        ROUND_TRIP_ANNOTATIONS.map(|key| {
            let text = self.map.remove(key)?;
            self.removed = true;
            serde_json::from_str(text.as_str()?).ok()
        })
    }

    fn set(&mut self, key: &str, text: String) {
        self.map.insert(key.to_owned(), Value::String(text));
    }

    /// Puts the annotations back; an empty map goes back only if it was
    /// there empty to begin with (Go omits empty maps, as upstream does).
    fn put_back(self, root: &mut Map<String, Value>) {
        if self.map.is_empty() && (!self.had || self.removed) {
            return;
        }
        let metadata = root
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(metadata) = metadata {
            metadata.insert("annotations".to_owned(), Value::Object(self.map));
        }
    }
}

fn is_set(value: Option<&Value>) -> bool {
    value.is_some_and(|v| !v.is_null())
}

fn put(out: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    if let Some(value) = value.filter(|v| !v.is_null()) {
        out.insert(key.to_owned(), value.clone());
    }
}

fn at_path<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, key| node.get(*key))
}

fn set_path(out: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = out;
    for key in parents {
        let child = node
            .entry(*key)
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(child) = child else {
            return;
        };
        node = child;
    }
    node.insert((*last).to_owned(), value);
}

/// Go writes a zero `metav1.Time` as null; null means absent.
fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

#[cfg(test)]
#[path = "autoscaling_tests.rs"]
mod tests;
