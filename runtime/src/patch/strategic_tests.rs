//! Strategic merge patch cases on the real schemas of pods and deployments.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

fn schema(group: &str, plural: &str) -> SchemaId {
    generated::RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural && r.version == "v1")
        .expect("the resource is served")
        .schema
}

fn pod() -> SchemaId {
    schema("", "pods")
}

fn pod_with(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

struct Case {
    name: &'static str,
    original: Value,
    patch: Value,
    expected: Value,
}

#[test]
fn merges_as_upstream_does() {
    let cases = [
        Case {
            name: "containers merge by name and keep their order",
            original: pod_with(json!({"containers": [
                {"name": "a", "image": "a:1"},
                {"name": "b", "image": "b:1", "args": ["x", "y"]}
            ]})),
            patch: json!({"spec": {"containers": [{"name": "b", "image": "b:2", "args": ["z"]}]}}),
            expected: pod_with(json!({"containers": [
                {"name": "a", "image": "a:1"},
                {"name": "b", "image": "b:2", "args": ["z"]}
            ]})),
        },
        Case {
            name: "ports merge by containerPort",
            original: pod_with(json!({"containers": [{"name": "a", "ports": [
                {"containerPort": 80, "name": "http"},
                {"containerPort": 443, "name": "https"}
            ]}]})),
            patch: json!({"spec": {"containers": [{"name": "a", "ports": [
                {"containerPort": 443, "name": "tls"},
                {"containerPort": 8080}
            ]}]}}),
            expected: pod_with(json!({"containers": [{"name": "a", "ports": [
                {"containerPort": 80, "name": "http"},
                {"containerPort": 443, "name": "tls"},
                {"containerPort": 8080}
            ]}]})),
        },
        Case {
            // New items go before server-only ones they cannot be placed by.
            name: "env items go with $patch: delete",
            original: pod_with(json!({"containers": [{"name": "a", "env": [
                {"name": "A", "value": "1"},
                {"name": "B", "value": "2"}
            ]}]})),
            patch: json!({"spec": {"containers": [{"name": "a", "env": [
                {"name": "A", "$patch": "delete"},
                {"name": "C", "value": "3"}
            ]}]}}),
            expected: pod_with(json!({"containers": [{"name": "a", "env": [
                {"name": "C", "value": "3"},
                {"name": "B", "value": "2"}
            ]}]})),
        },
        Case {
            name: "$setElementOrder orders merged and server-only items",
            original: pod_with(json!({"containers": [
                {"name": "a", "image": "a"},
                {"name": "b", "image": "b"},
                {"name": "c", "image": "c"}
            ]})),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
                "containers": [{"name": "a", "image": "a2"}]
            }}),
            expected: pod_with(json!({"containers": [
                {"name": "c", "image": "c"},
                {"name": "a", "image": "a2"},
                {"name": "b", "image": "b"}
            ]})),
        },
        Case {
            name: "new items follow their predecessor in the patch",
            original: pod_with(json!({"containers": [
                {"name": "a"}, {"name": "b"}, {"name": "c"}
            ]})),
            patch: json!({"spec": {"containers": [{"name": "a"}, {"name": "new"}]}}),
            expected: pod_with(json!({"containers": [
                {"name": "a"}, {"name": "new"}, {"name": "b"}, {"name": "c"}
            ]})),
        },
        Case {
            name: "volumes keep only $retainKeys",
            original: pod_with(json!({"volumes": [
                {"name": "v", "emptyDir": {}},
                {"name": "w", "emptyDir": {}}
            ]})),
            patch: json!({"spec": {"volumes": [
                {"name": "v", "hostPath": {"path": "/x"}, "$retainKeys": ["hostPath", "name"]}
            ]}}),
            expected: pod_with(json!({"volumes": [
                {"name": "v", "hostPath": {"path": "/x"}},
                {"name": "w", "emptyDir": {}}
            ]})),
        },
        Case {
            name: "lists without a merge strategy are replaced",
            original: pod_with(json!({"containers": [{"name": "a", "command": ["x", "y"]}]})),
            patch: json!({"spec": {"containers": [{"name": "a", "command": ["z"]}]}}),
            expected: pod_with(json!({"containers": [{"name": "a", "command": ["z"]}]})),
        },
        Case {
            name: "null deletes and maps merge",
            original: json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}}),
            patch: json!({"metadata": {"labels": {"a": null, "c": "3"}}}),
            expected: json!({"metadata": {"name": "p", "labels": {"b": "2", "c": "3"}}}),
        },
        Case {
            name: "$patch: replace on a map",
            original: json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}}),
            patch: json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
            expected: json!({"metadata": {"name": "p", "labels": {"c": "3"}}}),
        },
        Case {
            name: "$patch: replace in a list",
            original: pod_with(json!({"containers": [{"name": "a"}, {"name": "b"}]})),
            patch: json!({"spec": {"containers": [{"name": "c"}, {"$patch": "replace"}]}}),
            expected: pod_with(json!({"containers": [{"name": "c"}]})),
        },
        Case {
            name: "$patch: replace keeps the patch's order",
            original: pod_with(json!({"containers": [{"name": "a"}, {"name": "b"}]})),
            patch: json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "b"}, {"name": "a"}]}}),
            expected: pod_with(json!({"containers": [{"name": "b"}, {"name": "a"}]})),
        },
        Case {
            name: "$patch: delete on a map empties it",
            original: pod_with(json!({"securityContext": {"runAsUser": 1}, "containers": []})),
            patch: json!({"spec": {"securityContext": {"$patch": "delete"}}}),
            expected: pod_with(json!({"securityContext": {}, "containers": []})),
        },
        Case {
            name: "primitive merge lists are unions; $deleteFromPrimitiveList removes",
            original: json!({"metadata": {"name": "p", "finalizers": ["a", "b"]}}),
            patch: json!({"metadata": {
                "finalizers": ["c", "a"],
                "$deleteFromPrimitiveList/finalizers": ["b"]
            }}),
            // The patch's items keep the patch's order.
            expected: json!({"metadata": {"name": "p", "finalizers": ["c", "a"]}}),
        },
        Case {
            name: "kubectl apply's removal of a container",
            original: pod_with(json!({"containers": [
                {"name": "web", "image": "w"},
                {"name": "sidecar", "image": "s"}
            ]})),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "web"}],
                "containers": [{"$patch": "delete", "name": "sidecar"}]
            }}),
            expected: pod_with(json!({"containers": [{"name": "web", "image": "w"}]})),
        },
        Case {
            name: "$setElementOrder of a primitive list, with a deletion",
            original: json!({"metadata": {"name": "p", "finalizers": ["a", "b", "c"]}}),
            patch: json!({"metadata": {
                "$setElementOrder/finalizers": ["c", "a"],
                "$deleteFromPrimitiveList/finalizers": ["b"]
            }}),
            expected: json!({"metadata": {"name": "p", "finalizers": ["c", "a"]}}),
        },
        Case {
            name: "new values lose their nulls and directives",
            original: pod_with(json!({})),
            patch: json!({"spec": {"containers": [
                {"name": "a", "image": null},
                {"name": "b", "$patch": "delete"}
            ]}}),
            expected: pod_with(json!({"containers": [{"name": "a"}]})),
        },
    ];
    for case in cases {
        let patched = apply(case.original, &case.patch, pod())
            .unwrap_or_else(|e| panic!("{}: {}", case.name, e.message));
        assert_eq!(patched, case.expected, "{}", case.name);
    }
}

#[test]
fn deployment_strategy_retains_keys() {
    let deployment = schema("apps", "deployments");
    let original = json!({"spec": {"strategy": {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1}
    }}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    assert_eq!(
        apply(original, &patch, deployment).unwrap(),
        json!({"spec": {"strategy": {"type": "Recreate"}}})
    );
}

#[test]
fn malformed_patches_are_client_errors() {
    let original = pod_with(json!({"containers": [{"name": "a"}]}));
    let cases = [
        (
            json!({"spec": {"containers": [{"image": "x"}]}}),
            StatusCode::BAD_REQUEST,
            "map: map[image:x] does not contain declared merge key: name",
        ),
        (
            json!({"spec": {"$patch": "explode"}}),
            StatusCode::BAD_REQUEST,
            "unknown patch type: explode in map: map[$patch:explode]",
        ),
        (
            json!({"spec": {"containers": [[1]]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "the server rejected our request due to an error in our request",
        ),
        (
            json!({"spec": {"$retainKeys": "containers"}}),
            StatusCode::BAD_REQUEST,
            "invalid patch format of retainKeys",
        ),
        (
            json!({"spec": {"$retainKeys": ["volumes"], "containers": []}}),
            StatusCode::BAD_REQUEST,
            "invalid patch format of retainKeys",
        ),
        (
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}],
                "containers": [{"name": "b"}]
            }}),
            StatusCode::BAD_REQUEST,
            "the order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]",
        ),
        (
            json!([1]),
            StatusCode::BAD_REQUEST,
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
    ];
    for (patch, code, message) in cases {
        let error = apply(original.clone(), &patch, pod()).unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str()),
            (code, message),
            "{patch}"
        );
    }
}
