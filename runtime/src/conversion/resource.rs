//! resource.k8s.io: v1beta1 against the v1 storage version (v1beta2 has
//! v1's JSON form and needs no hook).
//!
//! Two structures moved between v1beta1 and v1 (upstream
//! `pkg/apis/resource/v1beta1/conversion.go`):
//!
//! - A device request's single-device fields (`deviceClassName`,
//!   `selectors`, `allocationMode`, `count`, `adminAccess`, `tolerations`,
//!   `capacity`) sit on the request in v1beta1 and under `exactly` in v1.
//!   ResourceClaim has its requests at `spec.devices.requests`,
//!   ResourceClaimTemplate at `spec.spec.devices.requests`.
//! - A ResourceSlice device's fields sit under `basic` in v1beta1 and on the
//!   device itself in v1; `name` stays on the device.
//!
//! Upstream decides "set" by Go zero values (`count != 0`); on JSON a field
//! is set when present and not null, which keeps an explicit zero through a
//! round trip.

use serde_json::{Map, Value};

use super::{ConversionError, unsupported};

/// The request fields v1 moved under `exactly`.
const EXACT_FIELDS: &[&str] = &[
    "deviceClassName",
    "selectors",
    "allocationMode",
    "count",
    "adminAccess",
    "tolerations",
    "capacity",
];

/// Which way a hook converts.
#[derive(Clone, Copy)]
enum Direction {
    ToV1,
    FromV1,
}

fn direction(hook: &'static str, from: &str, to: &str) -> Result<Direction, ConversionError> {
    match (from, to) {
        ("v1beta1", "v1") => Ok(Direction::ToV1),
        ("v1", "v1beta1") => Ok(Direction::FromV1),
        _ => Err(unsupported(hook, from, to)),
    }
}

/// ResourceClaim: requests at `spec.devices.requests`.
pub fn resource_claim(object: Value, from: &str, to: &str) -> Result<Value, ConversionError> {
    let direction = direction("resource.k8s.io.ResourceClaim", from, to)?;
    Ok(map_requests(
        object,
        &["spec", "devices", "requests"],
        direction,
    ))
}

/// ResourceClaimTemplate: the claim spec is at `spec.spec`.
pub fn resource_claim_template(
    object: Value,
    from: &str,
    to: &str,
) -> Result<Value, ConversionError> {
    let direction = direction("resource.k8s.io.ResourceClaimTemplate", from, to)?;
    Ok(map_requests(
        object,
        &["spec", "spec", "devices", "requests"],
        direction,
    ))
}

/// ResourceSlice: devices at `spec.devices`.
pub fn resource_slice(object: Value, from: &str, to: &str) -> Result<Value, ConversionError> {
    let direction = direction("resource.k8s.io.ResourceSlice", from, to)?;
    let mut object = object;
    if let Some(devices) = array_at(&mut object, &["spec", "devices"]) {
        for device in devices.iter_mut().filter_map(Value::as_object_mut) {
            match direction {
                Direction::ToV1 => device_to_v1(device),
                Direction::FromV1 => device_from_v1(device),
            }
        }
    }
    Ok(object)
}

fn map_requests(mut object: Value, path: &[&str], direction: Direction) -> Value {
    if let Some(requests) = array_at(&mut object, path) {
        for request in requests.iter_mut().filter_map(Value::as_object_mut) {
            match direction {
                Direction::ToV1 => request_to_v1(request),
                Direction::FromV1 => request_from_v1(request),
            }
        }
    }
    object
}

/// The array at `path`, if every step is there.
fn array_at<'a>(object: &'a mut Value, path: &[&str]) -> Option<&'a mut Vec<Value>> {
    path.iter()
        .try_fold(object, |node, key| node.get_mut(*key))?
        .as_array_mut()
}

/// Moves the single-device fields under `exactly`, when any is set.
fn request_to_v1(request: &mut Map<String, Value>) {
    let mut exactly = Map::new();
    for field in EXACT_FIELDS {
        match request.remove(*field) {
            Some(Value::Null) | None => {}
            Some(value) => {
                exactly.insert((*field).to_owned(), value);
            }
        }
    }
    if !exactly.is_empty() {
        request.insert("exactly".to_owned(), Value::Object(exactly));
    }
}

/// Lifts the fields of `exactly` onto the request.
fn request_from_v1(request: &mut Map<String, Value>) {
    if let Some(Value::Object(exactly)) = request.remove("exactly") {
        request.extend(exactly);
    }
}

/// Flattens `basic` into the device.
fn device_to_v1(device: &mut Map<String, Value>) {
    if let Some(Value::Object(basic)) = device.remove("basic") {
        device.extend(basic.into_iter().filter(|(key, _)| key != "name"));
    }
}

/// Moves everything but `name` under `basic`; upstream always sets
/// `basic`, even for a device with nothing else.
fn device_from_v1(device: &mut Map<String, Value>) {
    let name = device.remove("name");
    let basic = std::mem::take(device);
    if let Some(name) = name {
        device.insert("name".to_owned(), name);
    }
    device.insert("basic".to_owned(), Value::Object(basic));
}

#[cfg(test)]
mod tests {
    use generated::support::meta::GroupVersionKind;
    use serde_json::{Value, json};

    use super::super::convert;

    fn to(version: &'static str, kind: &'static str) -> GroupVersionKind {
        GroupVersionKind {
            group: "resource.k8s.io",
            version,
            kind,
        }
    }

    fn claim_v1beta1() -> Value {
        json!({
            "apiVersion": "resource.k8s.io/v1beta1",
            "kind": "ResourceClaim",
            "metadata": {"name": "gpu-claim", "namespace": "ml"},
            "spec": {"devices": {
                "requests": [
                    {
                        "name": "gpu",
                        "deviceClassName": "gpu.example.com",
                        "selectors": [{"cel": {"expression": "device.attributes[\"gpu.example.com\"].model == \"a100\""}}],
                        "allocationMode": "ExactCount",
                        "count": 2,
                        "adminAccess": false,
                        "tolerations": [{"key": "maintenance", "operator": "Exists", "effect": "NoSchedule"}],
                        "capacity": {"requests": {"memory": "40Gi"}}
                    },
                    {
                        "name": "nic",
                        "firstAvailable": [
                            {"name": "fast", "deviceClassName": "nic.example.com", "allocationMode": "ExactCount", "count": 1},
                            {"name": "any", "deviceClassName": "nic.example.com"}
                        ]
                    }
                ],
                "constraints": [{"requests": ["gpu"], "matchAttribute": "gpu.example.com/numa"}],
                "config": [{"requests": ["gpu"], "opaque": {"driver": "gpu.example.com", "parameters": {"sharing": "timeSlicing"}}}]
            }},
            "status": {"allocation": {"devices": {"results": [
                {"request": "gpu", "driver": "gpu.example.com", "pool": "node-1", "device": "gpu-0"}
            ]}}}
        })
    }

    #[test]
    fn claim_requests_move_under_exactly() {
        let v1 = convert(claim_v1beta1(), &to("v1", "ResourceClaim")).expect("converts");
        assert_eq!(v1["apiVersion"], "resource.k8s.io/v1");
        assert_eq!(
            v1["spec"]["devices"]["requests"][0],
            json!({
                "name": "gpu",
                "exactly": {
                    "deviceClassName": "gpu.example.com",
                    "selectors": [{"cel": {"expression": "device.attributes[\"gpu.example.com\"].model == \"a100\""}}],
                    "allocationMode": "ExactCount",
                    "count": 2,
                    "adminAccess": false,
                    "tolerations": [{"key": "maintenance", "operator": "Exists", "effect": "NoSchedule"}],
                    "capacity": {"requests": {"memory": "40Gi"}}
                }
            })
        );
        // A request of sub-requests has nothing to move.
        assert!(
            v1["spec"]["devices"]["requests"][1]
                .get("exactly")
                .is_none()
        );
        let back = convert(v1, &to("v1beta1", "ResourceClaim")).expect("converts back");
        assert_eq!(back, claim_v1beta1());
    }

    #[test]
    fn claims_round_trip_through_every_version() {
        let v1 = convert(claim_v1beta1(), &to("v1", "ResourceClaim")).expect("converts");
        for version in ["v1beta1", "v1beta2"] {
            let there = convert(v1.clone(), &to(version, "ResourceClaim")).expect("converts");
            assert_eq!(convert(there, &to("v1", "ResourceClaim")), Ok(v1.clone()));
        }
        // v1beta2 has v1's form: only apiVersion changes.
        let v1beta2 = convert(v1.clone(), &to("v1beta2", "ResourceClaim")).expect("converts");
        assert_eq!(v1beta2["spec"], v1["spec"]);
    }

    #[test]
    fn templates_convert_the_claim_spec_inside() {
        let template = json!({
            "apiVersion": "resource.k8s.io/v1beta1",
            "kind": "ResourceClaimTemplate",
            "metadata": {"name": "gpu-template", "namespace": "ml"},
            "spec": {
                "metadata": {"labels": {"app": "trainer"}},
                "spec": {"devices": {"requests": [{"name": "gpu", "deviceClassName": "gpu.example.com"}]}}
            }
        });
        let v1 = convert(template.clone(), &to("v1", "ResourceClaimTemplate")).expect("converts");
        assert_eq!(
            v1["spec"]["spec"]["devices"]["requests"][0],
            json!({"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}})
        );
        assert_eq!(
            convert(v1, &to("v1beta1", "ResourceClaimTemplate")),
            Ok(template)
        );
    }

    fn slice_v1() -> Value {
        json!({
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceSlice",
            "metadata": {"name": "node-1-gpu.example.com-x7k2p"},
            "spec": {
                "driver": "gpu.example.com",
                "nodeName": "node-1",
                "pool": {"name": "node-1", "generation": 3, "resourceSliceCount": 1},
                "sharedCounters": [{"name": "gpu-0-counters", "counters": {"memory": {"value": "80Gi"}}}],
                "devices": [
                    {
                        "name": "gpu-0",
                        "attributes": {
                            "gpu.example.com/model": {"string": "a100"},
                            "gpu.example.com/numa": {"int": 0},
                            "gpu.example.com/mig": {"bool": false},
                            "gpu.example.com/driverVersion": {"version": "550.54.15"}
                        },
                        "capacity": {"gpu.example.com/memory": {"value": "80Gi"}},
                        "consumesCounters": [{"counterSet": "gpu-0-counters", "counters": {"memory": {"value": "80Gi"}}}],
                        "taints": [{"key": "degraded", "value": "ecc", "effect": "NoSchedule"}],
                        "allowMultipleAllocations": false
                    },
                    {"name": "gpu-1"}
                ]
            }
        })
    }

    #[test]
    fn slice_devices_move_under_basic() {
        let v1beta1 = convert(slice_v1(), &to("v1beta1", "ResourceSlice")).expect("converts");
        let devices = &v1beta1["spec"]["devices"];
        assert_eq!(devices[0]["name"], "gpu-0");
        assert_eq!(
            devices[0]["basic"]["capacity"],
            json!({"gpu.example.com/memory": {"value": "80Gi"}})
        );
        assert!(devices[0].get("attributes").is_none());
        // Upstream always sets basic, even when empty.
        assert_eq!(devices[1], json!({"name": "gpu-1", "basic": {}}));
        assert_eq!(convert(v1beta1, &to("v1", "ResourceSlice")), Ok(slice_v1()));
    }
}
