//! Golden bytes written by protoc (see `tests/fixtures/protobuf/`), error
//! reporting, and hostile input.

use serde_json::{Value, json};

use super::*;
use crate::codec::wire::{put_len_field, put_varint_field};

const CONFIGMAP: &[u8] = include_bytes!("../../../tests/fixtures/protobuf/configmap.pb");
const DEPLOYMENT: &[u8] = include_bytes!("../../../tests/fixtures/protobuf/deployment.pb");
const LEASE: &[u8] = include_bytes!("../../../tests/fixtures/protobuf/lease.pb");

fn configmap() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "settings",
            "namespace": "default",
            "uid": "0d3a4c2e-5b7f-4e8a-9c1d-2f3e4a5b6c7d",
            "resourceVersion": "812",
            "creationTimestamp": "2023-11-14T22:13:20Z",
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {"note": "snowman \u{2603}"},
        },
        "data": {"a": "b", "empty": "", "multi": "line one\nline two\n"},
        "binaryData": {"blob": "AAH/"},
        "immutable": false,
    })
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "8b0e2c52-1111-4000-8000-000000000001",
            "resourceVersion": "42",
            "generation": 3,
            "creationTimestamp": "2023-11-14T22:13:20Z",
            "labels": {"app": "web"},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "frontend"}},
                "spec": {
                    "volumes": [{"name": "cfg", "configMap": {"name": "web-config", "defaultMode": 420}}],
                    "containers": [{
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "args": ["-g", "daemon off;"],
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [{"name": "MODE", "value": "prod"}],
                        "resources": {
                            "limits": {"cpu": "500m", "memory": "128Mi"},
                            "requests": {"cpu": "250m"},
                        },
                        "volumeMounts": [{"name": "cfg", "readOnly": true, "mountPath": "/etc/web"}],
                        "livenessProbe": {
                            "httpGet": {"path": "/healthz", "port": 80},
                            "initialDelaySeconds": 5,
                            "periodSeconds": 10,
                        },
                        "imagePullPolicy": "IfNotPresent",
                    }],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsUser": 1000,
                        "supplementalGroups": [1000, 2000],
                        "fsGroup": 2000,
                    },
                },
            },
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 2,
            "conditions": [{
                "type": "Available",
                "status": "True",
                "lastUpdateTime": "2023-11-14T22:15:00Z",
                "lastTransitionTime": "2023-11-14T22:15:00Z",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            }],
        },
    })
}

fn lease() -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "leader", "namespace": "kube-system"},
        "spec": {
            "holderIdentity": "node-a",
            "leaseDurationSeconds": -15,
            "acquireTime": "2023-11-14T22:13:20.123456Z",
            "renewTime": "2023-11-14T22:13:25.999999Z",
            "leaseTransitions": 4,
        },
    })
}

#[test]
fn golden_bytes_decode_and_encode_exactly() {
    for (bytes, object) in [
        (CONFIGMAP, configmap()),
        (DEPLOYMENT, deployment()),
        (LEASE, lease()),
    ] {
        let decoded = decode(bytes).expect("decodes");
        assert_eq!(decoded.object, object);
        assert_eq!(
            Some(decoded.api_version.as_str()),
            object["apiVersion"].as_str()
        );
        assert_eq!(Some(decoded.kind.as_str()), object["kind"].as_str());
        let encoded = encode(&object).expect("encodes");
        assert!(
            encoded == bytes,
            "{} differs from protoc's bytes",
            object["kind"]
        );
    }
}

#[test]
fn kubectl_create_configmap_body() {
    // What client-go writes for `kubectl create configmap x --from-literal=a=b`:
    // every value-typed ObjectMeta field, and the zero creationTimestamp as
    // an empty message. Go's JSON of that object has none of them.
    let mut meta = Vec::new();
    put_len_field(&mut meta, 1, b"x");
    for number in 2..=6 {
        put_len_field(&mut meta, number, b"");
    }
    put_varint_field(&mut meta, 7, 0);
    put_len_field(&mut meta, 8, b"");
    let mut entry = Vec::new();
    put_len_field(&mut entry, 1, b"a");
    put_len_field(&mut entry, 2, b"b");
    let mut raw = Vec::new();
    put_len_field(&mut raw, 1, &meta);
    put_len_field(&mut raw, 2, &entry);
    let decoded = decode_raw("v1", "ConfigMap", &raw).expect("decodes");
    assert_eq!(
        decoded,
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "x"},
            "data": {"a": "b"},
        })
    );
}

#[test]
fn envelope_matches_go() {
    let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}});
    let bytes = encode(&object).expect("encodes");
    let mut want = b"k8s\0".to_vec();
    // typeMeta {apiVersion "v1", kind "Namespace"}, raw {metadata {name "a"}}, "" , "".
    want.extend_from_slice(b"\x0a\x0f\x0a\x02v1\x12\x09Namespace");
    want.extend_from_slice(b"\x12\x05\x0a\x03\x0a\x01a\x1a\x00\x22\x00");
    assert_eq!(bytes, want);
    assert_eq!(encode_raw(&object).expect("encodes"), b"\x0a\x03\x0a\x01a");
}

#[test]
fn packed_and_unpacked_repeated_scalars_both_decode() {
    let mut context = Vec::new();
    // supplementalGroups (4) packed: 1, 300; then one more unpacked.
    put_len_field(&mut context, 4, &[0x01, 0xac, 0x02]);
    put_varint_field(&mut context, 4, 7);
    let mut spec = Vec::new();
    put_len_field(&mut spec, 14, &context);
    let mut pod = Vec::new();
    put_len_field(&mut pod, 2, &spec);
    let decoded = decode_raw("v1", "Pod", &pod).expect("decodes");
    assert_eq!(
        decoded["spec"]["securityContext"]["supplementalGroups"],
        json!([1, 300, 7])
    );
}

#[test]
fn unknown_fields_are_skipped_and_messages_merge() {
    let mut raw = Vec::new();
    let mut meta = Vec::new();
    put_len_field(&mut meta, 1, b"a");
    put_len_field(&mut raw, 1, &meta);
    put_varint_field(&mut raw, 999, 5);
    put_len_field(&mut raw, 1000, b"ignored");
    raw.extend_from_slice(&[0x0d, 1, 2, 3, 4]); // field 1000 would be fixed32; this is field 1 fixed32
    let err = decode_raw("v1", "Namespace", &raw).expect_err("metadata must be a message");
    assert!(err.to_string().contains("at metadata"), "{err}");
    raw.truncate(raw.len() - 5);
    let mut more = Vec::new();
    put_len_field(&mut more, 3, b"ns");
    put_len_field(&mut raw, 1, &more);
    let decoded = decode_raw("v1", "Namespace", &raw).expect("decodes");
    assert_eq!(decoded["metadata"], json!({"name": "a", "namespace": "ns"}));
}

#[test]
fn watch_events_nest_the_enveloped_object() {
    let object = lease();
    let frame = encode_watch_event("ADDED", &object).expect("encodes");
    let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    assert_eq!(len, frame.len() - 4);
    let (event_type, decoded) = decode_watch_event(&frame).expect("decodes");
    assert_eq!(event_type, "ADDED");
    assert_eq!(decoded.object, object);
    // The same frame read generically as a WatchEvent: the raw extension's
    // protobuf object comes back as JSON.
    let generic = decode_raw("v1", "WatchEvent", &frame[4..]).expect("decodes");
    assert_eq!(
        generic,
        json!({"apiVersion": "v1", "kind": "WatchEvent", "type": "ADDED", "object": object})
    );
}

#[test]
fn decode_errors_are_clear() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty body"),
        (b"k8s\0", "empty body"),
        (
            b"{\"kind\":\"Pod\"}",
            "does not appear to be a protobuf message",
        ),
        (b"k8s\0\x12\x00", "does not name its kind"),
        (
            b"k8s\0\x0a\x07\x12\x05Ghost",
            "does not name its apiVersion",
        ),
        (
            b"k8s\0\x0a\x0a\x0a\x02v1\x12\x04Gh0s",
            "Gh0s in v1 has no protobuf form",
        ),
        (
            b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x05\x0a\x09",
            "malformed protobuf",
        ),
    ];
    for (bytes, want) in cases {
        let err = decode(bytes).expect_err("fails").to_string();
        assert!(err.contains(want), "{bytes:?}: {err}");
    }
    // A string where spec.replicas (int32) should be.
    let mut spec = Vec::new();
    put_len_field(&mut spec, 1, b"2");
    let mut raw = Vec::new();
    put_len_field(&mut raw, 2, &spec);
    let err = decode_raw("apps/v1", "Deployment", &raw).expect_err("fails");
    assert_eq!(
        err,
        CodecError::Malformed {
            path: "spec.replicas".into(),
            reason: "unexpected wire type Len".into()
        }
    );
}

#[test]
fn encode_errors_name_the_field() {
    let cases = [
        (json!({"kind": "Pod"}), "does not name its apiVersion"),
        (
            json!({"apiVersion": "v1", "kind": "Table"}),
            "Table in v1 has no protobuf form",
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "2"}}),
            "at spec.replicas: expected an integer, found a string",
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 3_000_000_000u64}}),
            "at spec.replicas: 3000000000 is out of range",
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 1.5}}),
            "expected an integer",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "not base64!"}}),
            "at data[k]: invalid base64",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a"}, {"ports": {}}]}}),
            "at spec.containers[1].ports: expected an array",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"creationTimestamp": "yesterday"}}),
            "at metadata.creationTimestamp",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"targetPort": true}]}}),
            "at spec.ports[0].targetPort: expected an integer",
        ),
    ];
    for (object, want) in cases {
        let err = encode(&object).expect_err("fails").to_string();
        assert!(err.contains(want), "{object}: {err}");
    }
}

/// A tiny deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn hostile_bytes_never_panic() {
    for fixture in [CONFIGMAP, DEPLOYMENT, LEASE] {
        // Every truncation.
        for len in 0..fixture.len() {
            let _ = decode(&fixture[..len]);
        }
        // Flipped bits.
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let mut bytes = fixture.to_vec();
            for _ in 0..=(rng.next() % 4) {
                let i = (rng.next() % bytes.len() as u64) as usize;
                bytes[i] ^= 1 << (rng.next() % 8);
            }
            let _ = decode(&bytes);
        }
    }
    // Random message bodies for a few kinds.
    let mut rng = XorShift(42);
    for round in 0..3000 {
        let len = (rng.next() % 64) as usize;
        let raw: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let kind = ["Pod", "ConfigMap", "Service", "Namespace"][round % 4];
        let _ = decode_raw("v1", kind, &raw);
    }
}

#[test]
fn nesting_is_bounded() {
    // ControllerRevision.data (a raw extension) holding an enveloped
    // ControllerRevision, 1000 deep.
    let mut raw = Vec::new();
    for _ in 0..1000 {
        let mut extension = Vec::new();
        let mut envelope = b"k8s\0".to_vec();
        put_len_field(
            &mut envelope,
            1,
            b"\x0a\x07apps/v1\x12\x12ControllerRevision",
        );
        put_len_field(&mut envelope, 2, &raw);
        put_len_field(&mut extension, 1, &envelope);
        raw.clear();
        put_len_field(&mut raw, 2, &extension);
    }
    let err = decode_raw("apps/v1", "ControllerRevision", &raw).expect_err("too deep");
    assert!(err.to_string().contains("nested deeper than"), "{err}");
    // And a CRD schema nested 1000 deep through `not` (28): spec (2),
    // versions (7), schema (4), openAPIV3Schema (1).
    let mut schema = Vec::new();
    for _ in 0..1000 {
        let mut outer = Vec::new();
        put_len_field(&mut outer, 28, &schema);
        schema = outer;
    }
    for number in [1, 4, 7, 2] {
        let mut outer = Vec::new();
        put_len_field(&mut outer, number, &schema);
        schema = outer;
    }
    let err = decode_raw(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &schema,
    );
    let err = err.expect_err("too deep").to_string();
    assert!(
        err.contains("spec.versions[0].schema.openAPIV3Schema.not.not."),
        "{err}"
    );
}

#[test]
fn timestamps_read_as_go_reads_them() {
    fn timestamp(seconds: i64, nanos: i32) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, seconds as u64);
        put_varint_field(&mut out, 2, nanos as i64 as u64);
        out
    }
    /// A Lease whose spec.renewTime (MicroTime) and metadata.creationTimestamp
    /// (Time) are both `stamp`.
    fn lease_with(stamp: &[u8]) -> Result<Value, CodecError> {
        let (mut meta, mut spec, mut raw) = (Vec::new(), Vec::new(), Vec::new());
        put_len_field(&mut meta, 8, stamp);
        put_len_field(&mut spec, 4, stamp);
        put_len_field(&mut raw, 1, &meta);
        put_len_field(&mut raw, 2, &spec);
        decode_raw("coordination.k8s.io/v1", "Lease", &raw)
    }
    let times = |stamp: &[u8]| {
        let lease = lease_with(stamp).expect("decodes");
        (
            lease["metadata"]["creationTimestamp"].clone(),
            lease["spec"]["renewTime"].clone(),
        )
    };
    // Time drops the nanoseconds; MicroTime keeps whole microseconds.
    assert_eq!(
        times(&timestamp(1_700_000_000, 123_456_789)),
        (
            json!("2023-11-14T22:13:20Z"),
            json!("2023-11-14T22:13:20.123456Z")
        )
    );
    // An empty message and Go's zero instant are the zero time: absent.
    assert_eq!(times(&[]), (Value::Null, Value::Null));
    assert_eq!(
        times(&timestamp(-62_135_596_800, 0)),
        (Value::Null, Value::Null)
    );
    // Nanoseconds out of range carry into the seconds, as time.Unix does.
    assert_eq!(
        times(&timestamp(10, -1)).1,
        json!("1970-01-01T00:00:09.999999Z")
    );
    let err = lease_with(&timestamp(i64::MAX, 0)).expect_err("out of range");
    assert!(err.to_string().contains("outside years 0 to 9999"), "{err}");
}

#[test]
fn lists_of_encoded_items_are_the_lists_encoded_whole() {
    let pod = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "labels": {"a": "b"}},
               "spec": {"containers": [{"name": "c", "image": "i"}]}})
    };
    let items = [pod("a"), pod("b")];
    let head = json!({"apiVersion": "v1", "kind": "PodList",
                      "metadata": {"resourceVersion": "7", "continue": "x"}});
    let mut whole = head.clone();
    whole["items"] = json!(items);
    let encoded: Vec<Vec<u8>> = items.iter().map(|i| encode_raw(i).unwrap()).collect();
    assert_eq!(
        encode_list(&head, &encoded).unwrap(),
        encode(&whole).unwrap()
    );
    let empty: [Vec<u8>; 0] = [];
    let mut none = head.clone();
    none["items"] = json!([]);
    assert_eq!(encode_list(&head, &empty).unwrap(), encode(&none).unwrap());
    let pod_head = json!({"apiVersion": "v1", "kind": "Pod"});
    assert!(encode_list(&pod_head, &encoded).is_err());
}
