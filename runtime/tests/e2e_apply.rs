//! Server-side apply and managedFields as clients see them: `kubectl apply
//! --server-side` (create, re-apply, conflicts, forcing, dry run, the
//! upgrade from client-side apply), `kubectl get --show-managed-fields`,
//! and kube-rs `Patch::Apply`.

mod support;

use std::path::PathBuf;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::TestServer;

/// A Deployment manifest with `replicas` and the given labels.
fn deployment(name: &str, replicas: u32, labels: &[(&str, &str)]) -> String {
    let labels: String = labels
        .iter()
        .map(|(k, v)| format!("    {k}: {v}\n"))
        .collect();
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
{labels}spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
"
    )
}

fn write(server: &TestServer, file: &str, text: &str) -> PathBuf {
    let path = server.data_dir.path().join(file);
    std::fs::write(&path, text).expect("the manifest is written");
    path
}

fn get_json(server: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json", "--show-managed-fields"]);
    serde_json::from_str(&server.kubectl_ok(&all)).expect("kubectl prints JSON")
}

/// The managers of an object and the operation each wrote with.
fn managers(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default().to_owned(),
                e["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn fields_of<'a>(object: &'a Value, manager: &str) -> &'a Value {
    object["metadata"]["managedFields"]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["manager"] == manager))
        .map(|e| &e["fieldsV1"])
        .unwrap_or_else(|| panic!("{manager} has no managedFields entry in {object}"))
}

#[test]
fn kubectl_server_side_apply_creates_reapplies_and_conflicts() {
    let server = TestServer::start(&["--storage=memory"]);
    let first = write(
        &server,
        "web.yaml",
        &deployment("web", 2, &[("app", "web"), ("tier", "front")]),
    );
    let out = server.kubectl_ok(&["apply", "--server-side", "-f", first.to_str().unwrap()]);
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let live = get_json(&server, &["deployment", "web"]);
    assert_eq!(live["spec"]["replicas"], 2);
    assert_eq!(
        live["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
    assert_eq!(
        managers(&live),
        [("kubectl".to_owned(), "Apply".to_owned())]
    );

    let yaml = server.kubectl_ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    for expected in [
        "  - apiVersion: apps/v1\n    fieldsType: FieldsV1\n    fieldsV1:\n",
        "      f:metadata:\n        f:labels:\n          f:app: {}\n          f:tier: {}\n",
        "        f:replicas: {}\n",
        "              k:{\"name\":\"nginx\"}:\n                .: {}\n                f:image: {}\n",
        "                  k:{\"containerPort\":80,\"protocol\":\"TCP\"}:\n",
        "    manager: kubectl\n    operation: Apply\n    time: ",
    ] {
        assert!(yaml.contains(expected), "missing {expected:?} in\n{yaml}");
    }
    let plain = server.kubectl_ok(&["get", "deployment", "web", "-o", "yaml"]);
    assert!(!plain.contains("managedFields"), "{plain}");

    // Re-apply: a changed field changes, a field no longer applied goes.
    let second = write(
        &server,
        "web2.yaml",
        &deployment("web", 3, &[("app", "web")]),
    );
    server.kubectl_ok(&["apply", "--server-side", "-f", second.to_str().unwrap()]);
    let live = get_json(&server, &["deployment", "web"]);
    assert_eq!(live["spec"]["replicas"], 3);
    assert_eq!(live["metadata"]["labels"], json!({"app": "web"}));

    // Applying the same configuration again writes nothing, even a second
    // later, when the entry's time would differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    server.kubectl_ok(&["apply", "--server-side", "-f", second.to_str().unwrap()]);
    let again = get_json(&server, &["deployment", "web"]);
    assert_eq!(
        again["metadata"]["resourceVersion"],
        live["metadata"]["resourceVersion"]
    );

    // Another manager changing an owned field conflicts.
    let other = write(
        &server,
        "web3.yaml",
        &deployment("web", 5, &[("app", "web")]),
    );
    let path = other.to_str().unwrap();
    let out = server.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        path,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"),
        "{stderr}"
    );
    assert_eq!(
        get_json(&server, &["deployment", "web"])["spec"]["replicas"],
        3
    );

    // A dry run changes nothing.
    let args = [
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
    ];
    let mut dry = args.to_vec();
    dry.extend_from_slice(&["--dry-run=server", "-f", path]);
    server.kubectl_ok(&dry);
    assert_eq!(
        get_json(&server, &["deployment", "web"])["spec"]["replicas"],
        3
    );

    // Forcing takes the field over.
    let mut forced = args.to_vec();
    forced.extend_from_slice(&["-f", path]);
    server.kubectl_ok(&forced);
    let live = get_json(&server, &["deployment", "web"]);
    assert_eq!(live["spec"]["replicas"], 5);
    assert!(
        fields_of(&live, "other")["f:spec"]
            .get("f:replicas")
            .is_some()
    );
    assert!(
        fields_of(&live, "kubectl")["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    assert!(
        fields_of(&live, "kubectl")["f:spec"]
            .get("f:template")
            .is_some()
    );
}

#[test]
fn kubectl_create_and_edit_record_update_managers() {
    let server = TestServer::start(&["--storage=memory"]);
    server.kubectl_ok(&["create", "configmap", "cfg", "--from-literal=a=1"]);
    server.kubectl_ok(&["label", "configmap", "cfg", "team=blue"]);
    let live = get_json(&server, &["configmap", "cfg"]);
    assert_eq!(
        managers(&live),
        [
            ("kubectl-create".to_owned(), "Update".to_owned()),
            ("kubectl-label".to_owned(), "Update".to_owned()),
        ]
    );
    assert_eq!(
        fields_of(&live, "kubectl-create"),
        &json!({"f:data": {".": {}, "f:a": {}}})
    );
    assert_eq!(
        fields_of(&live, "kubectl-label"),
        &json!({"f:metadata": {"f:labels": {".": {}, "f:team": {}}}})
    );
    let entry = &live["metadata"]["managedFields"][0];
    assert_eq!(entry["apiVersion"], "v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert!(entry["time"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[test]
fn kubectl_server_side_apply_takes_over_from_client_side_apply() {
    let server = TestServer::start(&["--storage=memory"]);
    let first = write(
        &server,
        "csa.yaml",
        &deployment("csa", 2, &[("app", "csa")]),
    );
    server.kubectl_ok(&["apply", "-f", first.to_str().unwrap()]);
    let live = get_json(&server, &["deployment", "csa"]);
    assert_eq!(
        managers(&live),
        [("kubectl-client-side-apply".to_owned(), "Update".to_owned())]
    );

    // Changing a field client-side apply set, with the same value still in
    // its last-applied annotation, is no conflict for `kubectl`.
    let second = write(
        &server,
        "csa2.yaml",
        &deployment("csa", 4, &[("app", "csa")]),
    );
    server.kubectl_ok(&["apply", "--server-side", "-f", second.to_str().unwrap()]);
    let live = get_json(&server, &["deployment", "csa"]);
    assert_eq!(live["spec"]["replicas"], 4);
    let annotation =
        live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .expect("the annotation is kept");
    let last: Value = serde_json::from_str(annotation).expect("the annotation is JSON");
    assert_eq!(
        last["spec"]["replicas"], 4,
        "the annotation follows the applied configuration"
    );

    // Another manager gets no such pass.
    let third = write(
        &server,
        "csa3.yaml",
        &deployment("csa", 6, &[("app", "csa")]),
    );
    let out = server.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=someone",
        "-f",
        third.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Apply failed with"));
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_apply_conflicts_and_force() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let config = |mode: &str| {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"mode": mode}
        })
    };

    let created = config_maps
        .patch(
            "settings",
            &PatchParams::apply("mgr"),
            &Patch::Apply(config("fast")),
        )
        .await
        .expect("apply creates the object");
    assert_eq!(created.data.unwrap()["mode"], "fast");

    let error = config_maps
        .patch(
            "settings",
            &PatchParams::apply("other"),
            &Patch::Apply(config("slow")),
        )
        .await
        .expect_err("another manager conflicts");
    let kube::Error::Api(status) = error else {
        panic!("expected a Status, got {error:?}");
    };
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"mgr\": .data.mode"
    );

    let forced = config_maps
        .patch(
            "settings",
            &PatchParams::apply("other").force(),
            &Patch::Apply(config("slow")),
        )
        .await
        .expect("forcing wins");
    assert_eq!(forced.data.unwrap()["mode"], "slow");
    let entries = forced.metadata.managed_fields.expect("managedFields");
    let owners: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.manager.as_deref())
        .collect();
    assert_eq!(owners, ["other"], "mgr lost its only field");
    assert_eq!(entries[0].operation.as_deref(), Some("Apply"));

    // A resourceVersion in the configuration is a precondition.
    let mut stale = config("stale");
    stale["metadata"]["resourceVersion"] = json!("1");
    let error = config_maps
        .patch(
            "settings",
            &PatchParams::apply("other"),
            &Patch::Apply(stale),
        )
        .await
        .expect_err("a stale resourceVersion");
    let kube::Error::Api(status) = error else {
        panic!("expected a Status, got {error:?}");
    };
    assert_eq!(status.code, 409);
    assert!(
        status.message.ends_with("the object has been modified; please apply your changes to the latest version and try again"),
        "{}",
        status.message
    );

    // The manager is required, and at most 128 bytes long.
    let request = |query: &str, content_type: &str, body: &Value| {
        hyper::Request::builder()
            .method("PATCH")
            .uri(format!(
                "/api/v1/namespaces/default/configmaps/settings{query}"
            ))
            .header("Content-Type", content_type)
            .body(body.to_string().into_bytes())
            .expect("a request")
    };
    let missing = client
        .request::<Value>(request("", "application/apply-patch+yaml", &config("x")))
        .await
        .expect_err("fieldManager is required");
    let kube::Error::Api(status) = missing else {
        panic!("expected a Status, got {missing:?}");
    };
    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let long = format!("?fieldManager={}", "m".repeat(129));
    let too_long = client
        .request::<Value>(request(&long, "application/merge-patch+json", &json!({})))
        .await
        .expect_err("a long manager is refused");
    let kube::Error::Api(status) = too_long else {
        panic!("expected a Status, got {too_long:?}");
    };
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("fieldManager: Too long"),
        "{}",
        status.message
    );
    let yaml = hyper::Request::builder()
        .method("PATCH")
        .uri("/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=yaml")
        .header("Content-Type", "application/apply-patch+yaml")
        .body(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n"
                .to_vec(),
        )
        .expect("a request");
    let created: Value = client.request(yaml).await.expect("a YAML apply creates");
    assert_eq!(created["data"], json!({"k": "v"}));
    let broken = hyper::Request::builder()
        .method("PATCH")
        .uri("/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=yaml")
        .header("Content-Type", "application/apply-patch+yaml")
        .body(b"data: [unclosed".to_vec())
        .expect("a request");
    let error = client.request::<Value>(broken).await.expect_err("bad YAML");
    let kube::Error::Api(status) = error else {
        panic!("expected a Status, got {error:?}");
    };
    assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));
    assert!(
        status.message.starts_with("error decoding patch: "),
        "{}",
        status.message
    );
    let forced_merge = client
        .request::<Value>(request(
            "?force=true",
            "application/merge-patch+json",
            &json!({}),
        ))
        .await
        .expect_err("force is only for apply");
    let kube::Error::Api(status) = forced_merge else {
        panic!("expected a Status, got {forced_merge:?}");
    };
    assert_eq!(
        status.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_apply_on_status_records_the_subresource() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client, "default");
    let object: Deployment = serde_yaml_ng::from_str(&deployment("api", 1, &[("app", "api")]))
        .expect("the manifest parses");
    deployments
        .create(&PostParams::default(), &object)
        .await
        .expect("created");
    let status = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {"replicas": 9},
        "status": {"observedGeneration": 1, "replicas": 1}
    });
    let applied = deployments
        .patch_status(
            "api",
            &PatchParams::apply("controller"),
            &Patch::Apply(status),
        )
        .await
        .expect("status apply");
    assert_eq!(applied.status.unwrap().replicas, Some(1));
    assert_eq!(
        applied.spec.unwrap().replicas,
        Some(1),
        "/status ignores spec"
    );
    let entries = applied.metadata.managed_fields.expect("managedFields");
    let controller = entries
        .iter()
        .find(|e| e.manager.as_deref() == Some("controller"))
        .expect("the controller's entry");
    assert_eq!(controller.subresource.as_deref(), Some("status"));
    assert_eq!(controller.operation.as_deref(), Some("Apply"));
    let fields = serde_json::to_value(controller.fields_v1.as_ref().unwrap()).unwrap();
    assert_eq!(
        fields,
        json!({"f:status": {"f:observedGeneration": {}, "f:replicas": {}}})
    );
}

/// Applying a Scale owns the parent's `spec.replicas` through the scale
/// subresource, and conflicts with the manager that applied the replicas
/// on the parent until forced.
#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_apply_on_scale_owns_replicas() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client, "default");
    let manifest: Value = serde_yaml_ng::from_str(&deployment("web", 2, &[("app", "web")]))
        .expect("the manifest parses");
    deployments
        .patch(
            "web",
            &PatchParams::apply("deployer"),
            &Patch::Apply(manifest),
        )
        .await
        .expect("applied");
    let scale = json!({
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "web"},
        "spec": {"replicas": 5},
    });
    let conflict = deployments
        .patch_scale(
            "web",
            &PatchParams::apply("autoscaler"),
            &Patch::Apply(scale.clone()),
        )
        .await
        .unwrap_err();
    match conflict {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert!(
                status.message.contains(".spec.replicas"),
                "{}",
                status.message
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let scaled = deployments
        .patch_scale(
            "web",
            &PatchParams::apply("autoscaler").force(),
            &Patch::Apply(scale),
        )
        .await
        .expect("forced scale apply");
    assert_eq!(scaled.spec.unwrap().replicas, Some(5));
    let live = deployments.get("web").await.unwrap();
    assert_eq!(live.spec.unwrap().replicas, Some(5));
    let autoscaler = live
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|e| e.manager.as_deref() == Some("autoscaler"))
        .expect("the autoscaler's entry");
    assert_eq!(autoscaler.subresource.as_deref(), Some("scale"));
    assert_eq!(autoscaler.operation.as_deref(), Some("Apply"));
    let fields = serde_json::to_value(autoscaler.fields_v1.unwrap()).unwrap();
    assert_eq!(fields, json!({"f:spec": {"f:replicas": {}}}));
}
