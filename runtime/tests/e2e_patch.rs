//! Patching as kubectl and kube-rs do it: `kubectl patch` with every
//! `--type`, the client-side workflows built on strategic merge patch
//! (`apply`, `edit`, `label`, `annotate`, `set image`, `diff`), status
//! patches, `fieldValidation`, and kube-rs's `Patch::{Json, Merge, Strategic}`.

mod support;

use std::process::Output;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::TestServer;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn get_json(server: &TestServer, what: &str) -> Value {
    let out = server.kubectl_ok(&["get", what, "-o", "json"]);
    serde_json::from_str(&out).expect("kubectl prints JSON")
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: "nginx:1.27"
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
        ports: [{containerPort: 80}]
      - name: sidecar
        image: "busybox:1.36"
"#;

fn create_deployment(server: &TestServer) {
    let out = server.kubectl_with(&["create", "-f", "-"], &[], DEPLOYMENT);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn kubectl_patch_with_every_type() {
    let server = TestServer::start(&["--storage=memory"]);
    create_deployment(&server);

    server.kubectl_ok(&[
        "patch",
        "deployment",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":3},{"op":"copy","from":"/metadata/labels/tier","path":"/metadata/labels/copied"},{"op":"move","from":"/metadata/labels/copied","path":"/metadata/labels/moved"}]"#,
    ]);
    let deployment = get_json(&server, "deployment/web");
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(deployment["metadata"]["labels"]["moved"], "front");
    assert!(deployment["metadata"]["labels"].get("copied").is_none());

    let failed = server.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/spec/replicas","value":7}]"#,
    ]);
    assert!(!failed.status.success());
    assert!(
        stderr(&failed).contains("the server rejected our request due to an error in our request"),
        "{}",
        stderr(&failed)
    );
    let missing = server.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/nothing"}]"#,
    ]);
    assert!(!missing.status.success());
    assert_eq!(
        stderr(&missing).trim(),
        "The request is invalid: the server rejected our request due to an error in our request"
    );

    // A merge patch replaces the containers list whole.
    server.kubectl_ok(&[
        "patch",
        "deployment",
        "web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":null}},"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}"#,
    ]);
    let deployment = get_json(&server, "deployment/web");
    assert!(deployment["metadata"]["labels"].get("tier").is_none());
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert!(containers[0].get("env").is_none());

    // A strategic merge patch merges containers by name (the default --type).
    server.kubectl_ok(&[
        "patch",
        "deployment",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"busybox:1.36"},{"name":"web","env":[{"name":"C","value":"3"}]}]}}}}"#,
    ]);
    let deployment = get_json(&server, "deployment/web");
    let containers = &deployment["spec"]["template"]["spec"]["containers"];
    let names: Vec<&str> = containers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["extra", "web"]);
    assert_eq!(containers[1]["image"], "nginx:1.28");
    assert_eq!(containers[1]["env"], json!([{"name": "C", "value": "3"}]));

    // Status patches change status only.
    server.kubectl_ok(&[
        "patch",
        "deployment",
        "web",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"observedGeneration":9},"spec":{"replicas":9}}"#,
    ]);
    let deployment = get_json(&server, "deployment/web");
    assert_eq!(deployment["status"]["observedGeneration"], 9);
    assert_eq!(deployment["spec"]["replicas"], 3);
}

#[test]
fn client_side_workflows() {
    let server = TestServer::start(&["--storage=memory"]);
    let applied = server.kubectl_with(&["apply", "-f", "-"], &[], DEPLOYMENT);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let deployment = get_json(&server, "deployment/web");
    assert!(
        deployment["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_some()
    );

    // Re-applying without a label, an env var and the sidecar removes them.
    let trimmed = DEPLOYMENT
        .replace(", tier: front", "")
        .replace(", {name: B, value: \"2\"}", "")
        .replace(
            "      - name: sidecar\n        image: \"busybox:1.36\"\n",
            "",
        );
    let reapplied = server.kubectl_with(&["apply", "-f", "-"], &[], &trimmed);
    assert!(reapplied.status.success(), "{}", stderr(&reapplied));
    let deployment = get_json(&server, "deployment/web");
    assert!(deployment["metadata"]["labels"].get("tier").is_none());
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(containers[0]["env"], json!([{"name": "A", "value": "1"}]));

    // kubectl edit sends a strategic merge patch of what the editor changed.
    let edited = server.kubectl_with(
        &["edit", "deployment/web"],
        &[("EDITOR", "sed -i s/nginx:1.27/nginx:1.28/")],
        "",
    );
    assert!(edited.status.success(), "{}", stderr(&edited));
    let deployment = get_json(&server, "deployment/web");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );

    server.kubectl_ok(&["label", "deployment", "web", "stage=dev"]);
    let clash = server.kubectl(&["label", "deployment", "web", "stage=prod"]);
    assert!(!clash.status.success());
    assert!(
        stderr(&clash).contains("already has a value (dev)"),
        "{}",
        stderr(&clash)
    );
    server.kubectl_ok(&["label", "--overwrite", "deployment", "web", "stage=prod"]);
    server.kubectl_ok(&["annotate", "deployment", "web", "note=hello"]);
    server.kubectl_ok(&["set", "image", "deployment/web", "web=nginx:1.29"]);
    let deployment = get_json(&server, "deployment/web");
    assert_eq!(deployment["metadata"]["labels"]["stage"], "prod");
    assert_eq!(deployment["metadata"]["annotations"]["note"], "hello");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.29"
    );
    let generation = deployment["metadata"]["generation"].clone();

    // kubectl diff shows the change a dry-run patch would make, and makes none.
    let changed = trimmed.replace("replicas: 2", "replicas: 5");
    let diff = server.kubectl_with(&["diff", "-f", "-"], &[], &changed);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let shown = String::from_utf8_lossy(&diff.stdout);
    assert!(shown.contains("-  replicas: 2"), "{shown}");
    assert!(shown.contains("+  replicas: 5"), "{shown}");
    let deployment = get_json(&server, "deployment/web");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["metadata"]["generation"], generation);
}

const UNKNOWN_FIELD: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: strict}
data: {a: b}
spec: {foo: 1}
"#;

#[test]
fn field_validation_directives() {
    let server = TestServer::start(&["--storage=memory"]);
    let strict = server.kubectl_with(
        &["create", "--validate=strict", "-f", "-"],
        &[],
        UNKNOWN_FIELD,
    );
    assert!(!strict.status.success());
    assert_eq!(
        stderr(&strict).trim(),
        r#"Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec""#
    );

    let warned = server.kubectl_with(
        &["create", "--validate=warn", "-f", "-"],
        &[],
        UNKNOWN_FIELD,
    );
    assert!(warned.status.success(), "{}", stderr(&warned));
    assert!(
        stderr(&warned).contains(r#"Warning: unknown field "spec""#),
        "{}",
        stderr(&warned)
    );
    let stored = get_json(&server, "configmap/strict");
    assert!(stored.get("spec").is_none(), "unknown fields are dropped");

    // kubectl patch sends no directive: upstream's default is Warn.
    let warned_patch =
        server.kubectl(&["patch", "configmap", "strict", "-p", r#"{"foo":{"bar":1}}"#]);
    assert!(warned_patch.status.success(), "{}", stderr(&warned_patch));
    assert_eq!(
        stderr(&warned_patch).trim(),
        r#"Warning: unknown field "foo""#
    );

    // An update (kubectl replace) is decoded as strictly as a create.
    let replaced = server.kubectl_with(
        &["replace", "--validate=strict", "-f", "-"],
        &[],
        &UNKNOWN_FIELD.replace("spec: {foo: 1}", "extra: true"),
    );
    assert!(!replaced.status.success());
    assert!(
        stderr(&replaced).contains(
            r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra""#
        ),
        "{}",
        stderr(&replaced)
    );

    let ignored = server.kubectl_with(
        &["apply", "--validate=false", "-f", "-"],
        &[],
        &UNKNOWN_FIELD.replace("name: strict", "name: quiet"),
    );
    assert!(ignored.status.success(), "{}", stderr(&ignored));
    assert!(
        !stderr(&ignored).contains("Warning"),
        "{}",
        stderr(&ignored)
    );

    // Client-side apply patches an existing object under the same directive.
    let patched = server.kubectl_with(
        &["apply", "--validate=strict", "-f", "-"],
        &[],
        &UNKNOWN_FIELD
            .replace("name: strict", "name: quiet")
            .replace("spec: {foo: 1}", "data2: {x: y}"),
    );
    assert!(!patched.status.success());
    assert!(
        stderr(&patched).contains(r#"strict decoding error: unknown field "data2""#),
        "{}",
        stderr(&patched)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_patches() {
    let server = TestServer::start(&["--storage=memory"]);
    let client = server.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let deployment: Deployment = serde_json::from_value(deployment_json()).unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();

    let params = PatchParams::default();
    let json_patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels/patched", "value": "json"}
    ]))
    .unwrap();
    let patched = deployments
        .patch("web", &params, &Patch::Json::<()>(json_patch))
        .await
        .unwrap();
    assert_eq!(patched.spec.as_ref().unwrap().replicas, Some(4));
    assert_eq!(patched.metadata.labels.as_ref().unwrap()["patched"], "json");

    let patched = deployments
        .patch(
            "web",
            &params,
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "busybox:1.37"}
            ]}}}})),
        )
        .await
        .unwrap();
    let containers = &patched.spec.unwrap().template.spec.unwrap().containers;
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[1].image.as_deref(), Some("busybox:1.37"));

    let patched = deployments
        .patch(
            "web",
            &params,
            &Patch::Merge(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "only", "image": "busybox:1.37"}
            ]}}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched
            .spec
            .unwrap()
            .template
            .spec
            .unwrap()
            .containers
            .len(),
        1
    );

    let status = deployments
        .patch_status(
            "web",
            &params,
            &Patch::Merge(json!({"status": {"replicas": 4}, "spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(status.status.unwrap().replicas, Some(4));
    assert_eq!(status.spec.unwrap().replicas, Some(4));

    let failed = deployments
        .patch(
            "web",
            &params,
            &Patch::Json::<()>(
                serde_json::from_value(
                    json!([{"op": "test", "path": "/spec/replicas", "value": 1}]),
                )
                .unwrap(),
            ),
        )
        .await
        .unwrap_err();
    match failed {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"))
        }
        other => panic!("expected a 422, got {other:?}"),
    }

    let strict = deployments
        .patch(
            "web",
            &PatchParams {
                field_validation: Some(kube::api::ValidationDirective::Strict),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"bogus": 1}})),
        )
        .await
        .unwrap_err();
    match strict {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 422);
            assert!(
                status
                    .message
                    .contains(r#"": strict decoding error: unknown field "spec.bogus""#),
                "{}",
                status.message
            );
        }
        other => panic!("expected a 422, got {other:?}"),
    }

    // Other media types get a 415 naming the accepted ones.
    let request = axum::http::Request::patch("/apis/apps/v1/namespaces/default/deployments/web")
        .header("Content-Type", "application/json")
        .body(b"{}".to_vec())
        .unwrap();
    let answer = client.request_text(request).await;
    match answer {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 415);
            assert_eq!(
                status.message,
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
            );
        }
        other => panic!("expected a 415, got {other:?}"),
    }
}

/// A deployment with two containers, as kube-rs sends it.
fn deployment_json() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.27"},
                    {"name": "sidecar", "image": "busybox:1.36"}
                ]}
            }
        }
    })
}
