//! Field sets, merges, ownership and conflicts on real schemas
//! (Deployments and Pods from the generated table).

use generated::RESOURCES;
use serde_json::{Value, json};

use super::apply::{Applier, ApplyError, apply};
use super::managed::Managed;
use super::set::FieldSet;
use super::typed::{self, Node};
use super::update::{self, Writer};

fn root(group: &str, plural: &str) -> Node {
    let resource = RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == "v1" && r.plural == plural)
        .expect("the resource is generated");
    Some(resource.schema)
}

fn pods() -> Node {
    root("", "pods")
}

fn deployments() -> Node {
    root("apps", "deployments")
}

/// The `FieldsV1` form of a configuration's field set, for readable tables.
fn fields_of(node: Node, value: &Value) -> Value {
    typed::to_field_set(node, value)
        .expect("the value fits the schema")
        .to_fields_v1()
}

#[test]
fn field_sets_name_items_by_list_type() {
    let cases = [
        (
            "containers by name, ports by containerPort and the defaulted protocol",
            json!({"spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}),
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                ".": {}, "f:image": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
            }}}}),
        ),
        (
            "set lists of strings by value",
            json!({"metadata": {"finalizers": ["a/b", "c"]}}),
            json!({"f:metadata": {"f:finalizers": {"v:\"a/b\"": {}, "v:\"c\"": {}}}}),
        ),
        (
            "atomic lists whole",
            json!({"spec": {"containers": [{"name": "web", "command": ["sh", "-c"]}]}}),
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                ".": {}, "f:command": {}, "f:name": {}
            }}}}),
        ),
        (
            "map entries, empty structs and atomic maps (nodeSelector)",
            json!({"metadata": {"labels": {"app": "web"}}, "spec": {"securityContext": {}, "nodeSelector": {"disk": "ssd"}}}),
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:nodeSelector": {}, "f:securityContext": {}}
            }),
        ),
    ];
    for (name, value, expected) in cases {
        assert_eq!(fields_of(pods(), &value), expected, "{name}");
    }
}

#[test]
fn field_sets_refuse_undeclared_fields_and_keyless_items() {
    let undeclared = typed::to_field_set(pods(), &json!({"spec": {"bogus": 1}}));
    assert_eq!(
        undeclared,
        Err(".spec.bogus: field not declared in schema".to_owned())
    );
    let keyless = typed::to_field_set(pods(), &json!({"spec": {"containers": [{"image": "x"}]}}));
    assert!(keyless.unwrap_err().contains("omits key field \"name\""));
    let twice = json!({"spec": {"containers": [{"name": "a"}, {"name": "a"}]}});
    assert_eq!(
        typed::to_field_set(pods(), &twice),
        Err(".spec.containers: duplicate entries for key [name=\"a\"]".to_owned())
    );
}

fn applier<'a>(manager: &'a str, force: bool) -> Applier<'a> {
    Applier {
        manager,
        force,
        api_version: "v1",
        subresource: "",
        now: "2026-01-01T00:00:00Z",
    }
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

fn applied(live: Option<&Value>, config: &Value, manager: &str) -> Value {
    apply(pods(), live, config, &applier(manager, false)).expect("no conflicts")
}

fn managers(object: &Value) -> Vec<(String, FieldSet)> {
    Managed::of(object)
        .expect("valid managedFields")
        .entries
        .into_iter()
        .map(|e| (e.manager, e.fields))
        .collect()
}

#[test]
fn apply_merges_lists_by_their_type() {
    let live = pod(json!({
        "containers": [
            {"name": "a", "image": "a:1", "command": ["x", "y"], "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}]},
            {"name": "b", "image": "b:1"}
        ]
    }));
    let live = json!({"metadata": {"finalizers": ["keep"]}, "apiVersion": "v1", "kind": "Pod", "spec": live["spec"]});
    let config = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"finalizers": ["new"]},
        "spec": {"containers": [
            {"name": "a", "image": "a:2", "command": ["z"], "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 53, "protocol": "UDP"}]},
            {"name": "c", "image": "c:1"}
        ]}
    });
    let merged = applied(Some(&live), &config, "mgr");
    assert_eq!(merged["metadata"]["finalizers"], json!(["keep", "new"]));
    let containers = merged["spec"]["containers"].as_array().unwrap();
    let names: Vec<&str> = containers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(containers[0]["image"], "a:2");
    assert_eq!(
        containers[0]["command"],
        json!(["z"]),
        "atomic lists are replaced"
    );
    assert_eq!(
        containers[0]["ports"],
        json!([
            {"containerPort": 80, "protocol": "TCP", "name": "http", "hostPort": 8080},
            {"containerPort": 53, "protocol": "UDP"}
        ]),
        "ports merge by containerPort and protocol"
    );
    assert_eq!(containers[1], json!({"name": "b", "image": "b:1"}));
}

#[test]
fn apply_removes_only_what_the_manager_stopped_applying_and_nobody_else_owns() {
    let first = pod(json!({"containers": [
        {"name": "a", "image": "a:1"},
        {"name": "b", "image": "b:1"}
    ]}));
    let mut first = first;
    first["metadata"]["labels"] = json!({"x": "1", "y": "2"});
    let live = applied(None, &first, "mgr");
    // Another manager co-owns label y.
    let shared = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"y": "2"}}});
    let live = applied(Some(&live), &shared, "other");

    let second = pod(json!({"containers": [{"name": "a", "image": "a:1"}]}));
    let merged = applied(Some(&live), &second, "mgr");
    assert_eq!(merged["metadata"]["labels"], json!({"y": "2"}));
    assert_eq!(
        merged["spec"]["containers"],
        json!([{"name": "a", "image": "a:1"}])
    );
    let owners = managers(&merged);
    let mgr = &owners.iter().find(|(m, _)| m == "mgr").unwrap().1;
    assert_eq!(
        mgr.to_fields_v1(),
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
    );

    // Fields the manager never applied stay, whoever set them.
    let mut updated = merged.clone();
    updated["spec"]["restartPolicy"] = json!("Never");
    let third = applied(Some(&updated), &second, "mgr");
    assert_eq!(third["spec"]["restartPolicy"], "Never");
}

#[test]
fn apply_conflicts_unless_forced_or_the_value_is_the_same() {
    let config = |image: &str| pod(json!({"containers": [{"name": "a", "image": image}]}));
    let live = applied(None, &config("a:1"), "one");

    // The same value: shared ownership, no conflict.
    let shared = applied(Some(&live), &config("a:1"), "two");
    assert_eq!(managers(&shared).len(), 2);

    let error = apply(
        pods(),
        Some(&shared),
        &config("a:2"),
        &applier("three", false),
    )
    .unwrap_err();
    let ApplyError::Conflicts(conflicts) = &error else {
        panic!("expected conflicts, got {error:?}");
    };
    let listed: Vec<(String, String)> = conflicts
        .iter()
        .map(|c| (c.manager.clone(), super::path::display(&c.path)))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "\"one\"".to_owned(),
                ".spec.containers[name=\"a\"].image".to_owned()
            ),
            (
                "\"two\"".to_owned(),
                ".spec.containers[name=\"a\"].image".to_owned()
            ),
        ]
    );
    let status = crate::status::ApiError::from(error);
    assert_eq!(status.code.as_u16(), 409);
    assert_eq!(
        status.message,
        "Apply failed with 2 conflicts: conflicts with \"one\":\n- .spec.containers[name=\"a\"].image\nconflicts with \"two\":\n- .spec.containers[name=\"a\"].image"
    );
    assert_eq!(
        status.details.unwrap()["causes"][0],
        json!({"reason": "FieldManagerConflict", "message": "conflict with \"one\"", "field": ".spec.containers[name=\"a\"].image"})
    );

    let forced = apply(
        pods(),
        Some(&shared),
        &config("a:2"),
        &applier("three", true),
    )
    .unwrap();
    assert_eq!(forced["spec"]["containers"][0]["image"], "a:2");
    let owners = managers(&forced);
    let image_owners: Vec<&str> = owners
        .iter()
        .filter(|(_, f)| {
            f.iter()
                .any(|p| super::path::display(p).ends_with(".image"))
        })
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(image_owners, ["three"]);
}

#[test]
fn updates_take_changed_fields_from_other_managers() {
    let live = applied(
        None,
        &pod(json!({"containers": [{"name": "a", "image": "a:1"}], "restartPolicy": "Always"})),
        "applier",
    );
    let mut edited = live.clone();
    edited["spec"]["containers"][0]["image"] = json!("a:2");
    edited["spec"]["dnsPolicy"] = json!("None");
    let writer = Writer {
        manager: "editor",
        api_version: "v1",
        subresource: "",
        now: "2026-01-02T00:00:00Z",
    };
    update::track(pods(), Some(&live), &mut edited, &writer).unwrap();
    let owners = managers(&edited);
    assert_eq!(
        owners
            .iter()
            .find(|(m, _)| m == "editor")
            .unwrap()
            .1
            .to_fields_v1(),
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {"f:image": {}}}, "f:dnsPolicy": {}}})
    );
    assert_eq!(
        owners
            .iter()
            .find(|(m, _)| m == "applier")
            .unwrap()
            .1
            .to_fields_v1(),
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:name": {}}}, "f:restartPolicy": {}}})
    );
    let entries = edited["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries[0]["operation"], "Apply");
    assert_eq!(entries[1]["operation"], "Update");
    assert_eq!(entries[1]["time"], "2026-01-02T00:00:00Z");

    // An update that changes nothing leaves the entries as they were.
    let mut again = edited.clone();
    update::track(
        pods(),
        Some(&edited),
        &mut again,
        &Writer {
            now: "2027-01-01T00:00:00Z",
            ..writer
        },
    )
    .unwrap();
    assert_eq!(again, edited);

    // An empty list clears them.
    let mut cleared = edited.clone();
    cleared["metadata"]["managedFields"] = json!([]);
    update::track(
        pods(),
        Some(&edited),
        &mut cleared,
        &Writer {
            now: "2027-01-01T00:00:00Z",
            ..writer
        },
    )
    .unwrap();
    assert!(cleared["metadata"].get("managedFields").is_none());
}

#[test]
fn creates_mark_optional_nodes_they_add_but_not_go_zero_values() {
    let mut created = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"app": "d"}},
        "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}
        }
    });
    let writer = Writer {
        manager: "kubectl-create",
        api_version: "apps/v1",
        subresource: "",
        now: "2026-01-01T00:00:00Z",
    };
    update::track(deployments(), None, &mut created, &writer).unwrap();
    assert_eq!(
        created["metadata"]["managedFields"][0]["fieldsV1"],
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:selector": {},
                "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}, "f:type": {}},
                "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}
            }
        })
    );
}

#[test]
fn old_update_entries_fold_into_ancient_changes() {
    let mut object = pod(json!({"containers": [{"name": "a", "image": "a:0"}]}));
    // m01 creates the pod; m02 to m12 update it.
    for n in 1..=12 {
        let old = object.clone();
        object["spec"]["containers"][0]["image"] = json!(format!("a:{n}"));
        object["metadata"]["labels"][format!("l{n}")] = json!("x");
        let now = format!("2026-01-01T00:00:{n:02}Z");
        let manager = format!("m{n:02}");
        let writer = Writer {
            manager: &manager,
            api_version: "v1",
            subresource: "",
            now: &now,
        };
        let old = (n > 1).then_some(&old);
        update::track(pods(), old, &mut object, &writer).unwrap();
    }
    let names: Vec<String> = managers(&object).into_iter().map(|(m, _)| m).collect();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "ancient-changes");
    assert_eq!(
        names[1..],
        [
            "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12"
        ]
    );
    let ancient = &managers(&object)[0].1;
    assert_eq!(
        ancient.to_fields_v1(),
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:l1": {}, "f:l2": {}, "f:l3": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:name": {}}}}
        }),
        "the three oldest entries (m01 created the pod) are folded together"
    );
}

#[test]
fn updates_refuse_malformed_entries_and_leave_untracked_objects_alone() {
    let writer = Writer {
        manager: "w",
        api_version: "v1",
        subresource: "",
        now: "2026-01-01T00:00:00Z",
    };
    let mut bad = pod(json!({}));
    bad["metadata"]["managedFields"] =
        json!([{"manager": "x", "operation": "Patch", "fieldsType": "FieldsV2"}]);
    let errors = update::track(pods(), None, &mut bad, &writer).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "metadata.managedFields[0].operation",
            "metadata.managedFields[0].fieldsType"
        ]
    );

    let untracked = pod(json!({"restartPolicy": "Always"}));
    let mut changed = untracked.clone();
    changed["spec"]["restartPolicy"] = json!("Never");
    update::track(pods(), Some(&untracked), &mut changed, &writer).unwrap();
    assert!(changed["metadata"].get("managedFields").is_none());
}
