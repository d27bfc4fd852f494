//! HorizontalPodAutoscaler v1 <-> v2: round trips are lossless and the
//! annotations read and write as upstream's.

use generated::support::meta::GroupVersionKind;
use serde_json::{Value, json};

use super::super::convert;
use super::*;

const V1: GroupVersionKind = GroupVersionKind {
    group: "autoscaling",
    version: "v1",
    kind: "HorizontalPodAutoscaler",
};
const V2: GroupVersionKind = GroupVersionKind {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
};

fn to(object: Value, version: &GroupVersionKind) -> Value {
    convert(object, version).expect("converts")
}

/// An HPA as the controller leaves it: a metric of every type (CPU first,
/// which upstream's v1 mapping would move last), a full behavior and the
/// status the controller writes.
fn realistic_v2() -> Value {
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "3c1e7b0a-55d2-4f0e-9c61-0d5a3c7c2a11",
            "resourceVersion": "81237",
            "generation": 4,
            "creationTimestamp": "2026-11-20T09:12:44Z",
            "labels": {"app": "web"},
            "annotations": {"team": "storefront"}
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 3,
            "maxReplicas": 30,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "512Mi"}}},
                {"type": "ContainerResource", "containerResource": {
                    "name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 70}}},
                {"type": "Pods", "pods": {
                    "metric": {"name": "http_requests_per_second"},
                    "target": {"type": "AverageValue", "averageValue": "120"}}},
                {"type": "Object", "object": {
                    "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "web"},
                    "metric": {"name": "requests_per_second", "selector": {"matchLabels": {"path": "/checkout"}}},
                    "target": {"type": "Value", "value": "2k"}}},
                {"type": "Object", "object": {
                    "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                    "metric": {"name": "connections"},
                    "target": {"type": "AverageValue", "averageValue": "250"}}},
                {"type": "External", "external": {
                    "metric": {"name": "queue_messages_ready", "selector": {
                        "matchLabels": {"queue": "orders"},
                        "matchExpressions": [{"key": "region", "operator": "In", "values": ["eu-west-1", "eu-central-1"]}]}},
                    "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "External", "external": {
                    "metric": {"name": "sqs_backlog"},
                    "target": {"type": "Value", "value": "1500"}}}
            ],
            "behavior": {
                "scaleUp": {
                    "stabilizationWindowSeconds": 0,
                    "selectPolicy": "Max",
                    "policies": [
                        {"type": "Percent", "value": 100, "periodSeconds": 15},
                        {"type": "Pods", "value": 4, "periodSeconds": 15}
                    ],
                    "tolerance": "50m"
                },
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "selectPolicy": "Min",
                    "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]
                }
            }
        },
        "status": {
            "observedGeneration": 4,
            "lastScaleTime": "2026-11-26T06:58:10Z",
            "currentReplicas": 7,
            "desiredReplicas": 8,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 78, "averageValue": "390m"}}},
                {"type": "Resource", "resource": {"name": "memory", "current": {"averageUtilization": 41, "averageValue": "410Mi"}}},
                {"type": "ContainerResource", "containerResource": {
                    "name": "cpu", "container": "app", "current": {"averageUtilization": 81, "averageValue": "405m"}}},
                {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"}, "current": {"averageValue": "133"}}},
                {"type": "Object", "object": {
                    "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "web"},
                    "metric": {"name": "requests_per_second", "selector": {"matchLabels": {"path": "/checkout"}}},
                    "current": {"value": "2300"}}},
                {"type": "Object", "object": {
                    "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                    "metric": {"name": "connections"},
                    "current": {"averageValue": "212"}}},
                {"type": "External", "external": {
                    "metric": {"name": "queue_messages_ready", "selector": {"matchLabels": {"queue": "orders"}}},
                    "current": {"averageValue": "27"}}},
                {"type": "External", "external": {"metric": {"name": "sqs_backlog"}, "current": {"value": "1320"}}}
            ],
            "conditions": [
                {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2026-11-26T06:58:10Z",
                 "reason": "ScaleDownStabilized", "message": "recent recommendations were higher than current one, applying the highest recent recommendation"},
                {"type": "ScalingActive", "status": "True", "lastTransitionTime": "2026-11-20T09:13:00Z",
                 "reason": "ValidMetricFound", "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
                {"type": "ScalingLimited", "status": "False", "lastTransitionTime": "2026-11-25T21:40:02Z",
                 "reason": "DesiredWithinRange", "message": "the desired count is within the acceptable range"}
            ]
        }
    })
}

/// An HPA written through v1 by an old client.
fn plain_v1() -> Value {
    json!({
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api", "namespace": "shop", "annotations": {}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "targetCPUUtilizationPercentage": 75
        },
        "status": {
            "observedGeneration": 1,
            "currentReplicas": 2,
            "desiredReplicas": 2,
            "currentCPUUtilizationPercentage": 31
        }
    })
}

#[test]
fn v2_round_trips_through_v1() {
    let v1 = to(realistic_v2(), &V1);
    assert_eq!(to(v1, &V2), realistic_v2());
}

#[test]
fn v1_round_trips_through_v2() {
    let v1_from_v2 = to(realistic_v2(), &V1);
    for v1 in [plain_v1(), v1_from_v2] {
        let v2 = to(v1.clone(), &V2);
        assert_eq!(to(v2, &V1), v1);
    }
}

#[test]
fn v1_form_has_the_cpu_fields_and_the_annotations() {
    let v1 = to(realistic_v2(), &V1);
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 65);
    assert!(v1["spec"].get("metrics").is_none() && v1["spec"].get("behavior").is_none());
    assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 78);
    assert!(
        v1["status"].get("currentMetrics").is_none() && v1["status"].get("conditions").is_none()
    );
    let annotations = v1["metadata"]["annotations"]
        .as_object()
        .expect("annotations");
    assert_eq!(annotations["team"], "storefront");
    for key in ROUND_TRIP_ANNOTATIONS {
        let text = annotations[key].as_str().expect("a string");
        assert!(
            serde_json::from_str::<Value>(text).is_ok(),
            "{key} holds JSON"
        );
    }
    // Every metric here has a v1 form that says it all: no exact copies.
    assert!(
        !annotations[METRICS_ANNOTATION]
            .as_str()
            .unwrap_or_default()
            .contains(EXACT_KEY)
    );
    assert!(
        !annotations[CURRENT_METRICS_ANNOTATION]
            .as_str()
            .unwrap_or_default()
            .contains(EXACT_KEY)
    );
}

#[test]
fn annotations_are_written_as_upstream_writes_them() {
    let mut hpa = realistic_v2();
    hpa["spec"]["metrics"] = json!([
        {"type": "External", "external": {
            "metric": {"name": "queue_messages_ready", "selector": {"matchLabels": {"queue": "orders"}}},
            "target": {"type": "AverageValue", "averageValue": "30"}}},
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}}
    ]);
    hpa["spec"]["behavior"] =
        json!({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}});
    hpa["status"]["currentMetrics"] = json!([
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 78, "averageValue": "390m"}}}
    ]);
    hpa["status"]["conditions"] = json!([{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
        "lastTransitionTime": "2026-11-26T06:58:10Z", "message": "recommended size matches current size"}]);
    let v1 = to(hpa.clone(), &V1);
    let annotations = &v1["metadata"]["annotations"];
    // The CPU metric is last and plain: only the field carries it.
    assert_eq!(
        annotations[METRICS_ANNOTATION],
        r#"[{"type":"External","external":{"metricName":"queue_messages_ready","metricSelector":{"matchLabels":{"queue":"orders"}},"targetAverageValue":"30"}}]"#
    );
    assert_eq!(
        annotations[BEHAVIOR_ANNOTATION],
        r#"{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":null,"SelectPolicy":null,"Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":60}],"Tolerance":null}}"#
    );
    assert_eq!(
        annotations[CURRENT_METRICS_ANNOTATION],
        r#"[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":78,"currentAverageValue":"390m"}}]"#
    );
    assert_eq!(
        annotations[CONDITIONS_ANNOTATION],
        r#"[{"type":"AbleToScale","status":"True","lastTransitionTime":"2026-11-26T06:58:10Z","reason":"ReadyForNewScale","message":"recommended size matches current size"}]"#
    );
    assert_eq!(to(v1, &V2), hpa);
}

#[test]
fn annotations_written_by_upstream_are_read() {
    // As a Go API server writes them: zero values for non-pointer fields,
    // null for an unset condition time, Go field names in the behavior.
    let v1 = json!({
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "annotations": {
            METRICS_ANNOTATION: r#"[{"type":"Object","object":{"target":{"kind":"Service","name":"web","apiVersion":"v1"},"metricName":"connections","targetValue":"0","averageValue":"250"}},{"type":"Pods","pods":{"metricName":"rps","targetAverageValue":"120"}}]"#,
            BEHAVIOR_ANNOTATION: r#"{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":null,"Tolerance":null},"ScaleDown":null}"#,
            CONDITIONS_ANNOTATION: r#"[{"type":"ScalingActive","status":"False","lastTransitionTime":null,"reason":"FailedGetResourceMetric"}]"#
        }},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50},
        "status": {"currentReplicas": 1, "desiredReplicas": 1}
    });
    let v2 = to(v1, &V2);
    assert_eq!(
        v2,
        json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "maxReplicas": 5,
                "metrics": [
                    {"type": "Object", "object": {
                        "describedObject": {"kind": "Service", "name": "web", "apiVersion": "v1"},
                        "metric": {"name": "connections"},
                        "target": {"type": "AverageValue", "value": "0", "averageValue": "250"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "120"}}},
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
                ],
                "behavior": {"scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max"}}
            },
            "status": {
                "currentReplicas": 1,
                "desiredReplicas": 1,
                "conditions": [{"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric"}]
            }
        })
    );
}

#[test]
fn v1_without_a_target_gets_the_implicit_default() {
    let mut v1 = plain_v1();
    v1["spec"]
        .as_object_mut()
        .map(|s| s.remove("targetCPUUtilizationPercentage"));
    let v2 = to(v1, &V2);
    assert_eq!(v2["spec"]["metrics"], json!([cpu_metric(&json!(80))]));
}

#[test]
fn changing_the_cpu_target_through_v1_keeps_its_place() {
    let mut v1 = to(realistic_v2(), &V1);
    v1["spec"]["targetCPUUtilizationPercentage"] = json!(50);
    let v2 = to(v1.clone(), &V2);
    let mut expected = realistic_v2();
    expected["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] = json!(50);
    assert_eq!(v2["spec"], expected["spec"]);

    // Clearing the target drops its metric.
    v1["spec"]
        .as_object_mut()
        .map(|s| s.remove("targetCPUUtilizationPercentage"));
    let v2 = to(v1, &V2);
    let metrics = v2["spec"]["metrics"].as_array().expect("metrics");
    assert_eq!(metrics.len(), 7);
    assert!(metrics.iter().all(|m| cpu_utilization(m).is_none()));
}

#[test]
fn shapes_v1_cannot_say_round_trip_exactly() {
    let mut hpa = realistic_v2();
    hpa["spec"]["metrics"] = json!([
        // v1 infers AverageValue from averageValue being set.
        {"type": "Object", "object": {
            "describedObject": {"kind": "Service", "name": "web"},
            "metric": {"name": "connections"},
            "target": {"type": "Value", "value": "10", "averageValue": "3"}}},
        // Not last, and more than a percentage.
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60, "averageValue": "200m"}}},
        {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "1", "averageUtilization": 5}}}
    ]);
    hpa["status"]["currentMetrics"] = json!([
        {"type": "External", "external": {"metric": {"name": "lag"}, "current": {"averageUtilization": 7}}}
    ]);
    hpa["spec"]["behavior"] = json!({});
    let v1 = to(hpa.clone(), &V1);
    assert!(
        v1["metadata"]["annotations"][METRICS_ANNOTATION]
            .as_str()
            .unwrap_or_default()
            .contains(EXACT_KEY)
    );
    assert_eq!(to(v1.clone(), &V2), hpa);
    assert_eq!(to(to(v1.clone(), &V2), &V1), v1);
}

#[test]
fn stale_and_malformed_annotations_are_dropped() {
    let mut v2 = realistic_v2();
    v2["metadata"]["annotations"][CONDITIONS_ANNOTATION] = json!("[]");
    let v1 = to(v2, &V1);
    assert_eq!(to(v1, &V2), realistic_v2());

    let mut v1 = plain_v1();
    v1["metadata"]["annotations"] =
        json!({METRICS_ANNOTATION: "not json", BEHAVIOR_ANNOTATION: "{"});
    let v2 = to(v1, &V2);
    assert_eq!(v2["spec"]["metrics"], json!([cpu_metric(&json!(75))]));
    assert!(v2["spec"].get("behavior").is_none());
    assert!(v2["metadata"].get("annotations").is_none());
}

#[test]
fn lists_convert_their_items() {
    let list = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscalerList",
        "metadata": {"resourceVersion": "81240"},
        "items": [realistic_v2()]
    });
    let list_kind = GroupVersionKind {
        kind: "HorizontalPodAutoscalerList",
        ..V1
    };
    let v1 = to(list, &list_kind);
    assert_eq!(v1["items"][0], to(realistic_v2(), &V1));
}

#[test]
fn other_version_pairs_are_refused() {
    assert!(matches!(
        horizontal_pod_autoscaler(realistic_v2(), "v2", "v2beta2"),
        Err(ConversionError::UnsupportedVersions { .. })
    ));
    assert!(matches!(
        horizontal_pod_autoscaler(json!([]), "v2", "v1"),
        Err(ConversionError::Malformed(_))
    ));
}
