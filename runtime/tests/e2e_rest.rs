//! Everyday kubectl work against the generic REST store: create, get,
//! list in pages, label, watch, delete, and the errors upstream gives.

mod support;

use std::process::{Command, Stdio};

use serde_json::Value;
use support::TestServer;

const MANIFEST: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: web, labels: {app: web}}
data: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers: [{name: nginx, image: "nginx:1.27"}]
"#;

#[test]
fn create_get_label_delete() {
    let server = TestServer::start(&["--storage=memory"]);
    let out = server.kubectl_stdin(&["create", "-f", "-"], MANIFEST);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let cm: Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "configmap", "web", "-o", "json"]))
            .unwrap();
    assert_eq!(cm["data"]["a"], "b");
    assert_eq!(cm["metadata"]["namespace"], "default");
    assert!(cm["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(
        cm["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );

    // Declared defaults are applied and generation starts at 1.
    let deploy: Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "deploy", "nginx", "-o", "json"]))
            .unwrap();
    assert_eq!(deploy["metadata"]["generation"], 1);
    assert_eq!(
        deploy["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
        "25%"
    );
    assert_eq!(
        deploy["spec"]["template"]["spec"]["restartPolicy"],
        "Always"
    );
    assert_eq!(deploy["spec"]["revisionHistoryLimit"], 10);
    // Hand-written defaulters: the pull policy follows the image tag.
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );

    server.kubectl_ok(&["label", "configmap", "web", "tier=front"]);
    let labels = server.kubectl_ok(&[
        "get",
        "configmap",
        "web",
        "-o",
        "jsonpath={.metadata.labels}",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&labels).unwrap(),
        serde_json::json!({"app": "web", "tier": "front"})
    );

    // A spec change bumps generation; a label change does not.
    server.kubectl_ok(&["label", "deploy", "nginx", "x=y"]);
    server.kubectl_ok(&[
        "patch",
        "deploy",
        "nginx",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]);
    let generation = server.kubectl_ok(&[
        "get",
        "deploy",
        "nginx",
        "-o",
        "jsonpath={.metadata.generation}",
    ]);
    assert_eq!(generation, "2");

    server.kubectl_ok(&["delete", "configmap", "web"]);
    let out = server.kubectl(&["get", "configmap", "web"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(r#"configmaps "web" not found"#));
}

#[test]
fn errors_read_like_upstream() {
    let server = TestServer::start(&["--storage=memory"]);
    let out = server.kubectl_stdin(&["create", "-f", "-"], MANIFEST);
    assert!(out.status.success());

    let again = server.kubectl_stdin(&["create", "-f", "-"], MANIFEST);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(r#"configmaps "web" already exists"#),
        "{stderr}"
    );

    let missing = server.kubectl(&["get", "--raw", "/api/v1/namespaces/nowhere/configmaps/x"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains(r#"configmaps "x" not found"#));
    // kubectl itself then looks the namespace up, as against kube-apiserver.
    let missing_ns = server.kubectl(&["get", "configmap", "x", "-n", "nowhere"]);
    assert!(
        String::from_utf8_lossy(&missing_ns.stderr).contains(r#"namespaces "nowhere" not found"#)
    );
    let create_in_missing = server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: nowhere}\n",
    );
    let stderr = String::from_utf8_lossy(&create_in_missing.stderr);
    assert!(
        stderr.contains(r#"namespaces "nowhere" not found"#),
        "{stderr}"
    );

    let invalid = server.kubectl_stdin(&["create", "-f", "-"],
        "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{image: nginx}]}\n",
    );
    let stderr = String::from_utf8_lossy(&invalid.stderr);
    assert!(stderr.contains(r#"Pod "Bad_Name" is invalid"#), "{stderr}");
    assert!(
        stderr.contains("metadata.name: Invalid value: \"Bad_Name\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("spec.containers[0].name: Required value"),
        "{stderr}"
    );

    let raw = server.kubectl(&["get", "--raw", "/apis/apps/v1/namespaces/default/nothings"]);
    assert!(!raw.status.success());
}

#[test]
fn lists_come_in_pages_and_deleted_namespaces_terminate() {
    let server = TestServer::start(&["--storage=memory"]);
    for i in 0..7 {
        let out = server.kubectl_stdin(
            &["create", "-f", "-"],
            &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: team-{i}}}\n"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let page = server.kubectl_ok(&["get", "--raw", "/api/v1/namespaces?limit=3"]);
    let page: Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_eq!(page["metadata"]["remainingItemCount"], 8);
    let names = server.kubectl_ok(&["get", "namespaces", "--chunk-size=2", "-o", "name"]);
    assert_eq!(names.lines().count(), 11, "{names}");

    server.kubectl_ok(&["delete", "namespace", "team-3", "--wait=false"]);
    let phase = server.kubectl_ok(&[
        "get",
        "namespace",
        "team-3",
        "-o",
        "jsonpath={.status.phase}",
    ]);
    assert_eq!(phase, "Terminating");
    let refused = server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: team-3}\n",
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("because it is being terminated"),
        "{stderr}"
    );
}

#[test]
fn watch_sees_changes() {
    let server = TestServer::start(&["--storage=memory"]);
    let mut watch = Command::new("kubectl")
        .env("KUBECONFIG", &server.kubeconfig)
        .env("HOME", server.data_dir.path())
        .args([
            "get",
            "configmaps",
            "--watch",
            "-o",
            "json",
            "--request-timeout=5s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let out = server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\n",
    );
    assert!(out.status.success());
    server.kubectl_ok(&["delete", "configmap", "watched"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let _ = watch.kill();
    let out = watch.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.matches("\"name\": \"watched\"").count() >= 1,
        "{stdout}"
    );
}

#[test]
fn kubectl_get_prints_server_side_tables_and_filters_by_selectors() {
    let server = TestServer::start(&["--storage=memory"]);
    let pods = "apiVersion: v1\nkind: Pod\nmetadata: {name: front, labels: {tier: front}}\nspec: {containers: [{name: web, image: nginx}]}\n---\n\
                apiVersion: v1\nkind: Pod\nmetadata: {name: back, labels: {tier: back}}\nspec: {containers: [{name: db, image: postgres}]}\n";
    let out = server.kubectl_stdin(&["create", "-f", "-"], pods);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let table = server.kubectl_ok(&["get", "pods"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("front") && l.contains("0/1") && l.contains("Pending")),
        "{table}"
    );

    let front = server.kubectl_ok(&["get", "pods", "-l", "tier in (front)", "-o", "name"]);
    assert_eq!(front.trim(), "pod/front");
    let not_front = server.kubectl_ok(&["get", "pods", "-l", "tier!=front", "-o", "name"]);
    assert_eq!(not_front.trim(), "pod/back");
    let by_name = server.kubectl_ok(&[
        "get",
        "pods",
        "--field-selector",
        "metadata.name=back",
        "-o",
        "name",
    ]);
    assert_eq!(by_name.trim(), "pod/back");
    let pending = server.kubectl_ok(&[
        "get",
        "pods",
        "--field-selector",
        "status.phase=Pending",
        "-o",
        "name",
    ]);
    assert_eq!(pending.lines().count(), 2);

    let bad = server.kubectl(&["get", "pods", "--field-selector", "spec.bogus=x"]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("field label not supported: spec.bogus"),
        "{stderr}"
    );
    let bad = server.kubectl(&["get", "pods", "-l", "a in b"]);
    assert!(!bad.status.success());
}

#[test]
fn kubectl_imperative_creates_send_protobuf() {
    let server = TestServer::start(&["--storage=memory"]);
    server.kubectl_ok(&[
        "create",
        "configmap",
        "settings",
        "--from-literal=mode=fast",
    ]);
    server.kubectl_ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=2",
    ]);
    server.kubectl_ok(&["create", "namespace", "team"]);
    server.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "token",
        "--from-literal=key=value",
    ]);
    server.kubectl_ok(&["create", "service", "clusterip", "web", "--tcp=80:8080"]);
    server.kubectl_ok(&["create", "job", "once", "--image=busybox"]);

    let data = server.kubectl_ok(&[
        "get",
        "configmap",
        "settings",
        "-o",
        "jsonpath={.data.mode}",
    ]);
    assert_eq!(data, "fast");
    let deploy: Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "deploy", "web", "-o", "json"])).unwrap();
    assert_eq!(deploy["spec"]["replicas"], 2);
    // Empty strings Go writes into protobuf bodies count as unset, so defaults apply.
    assert_eq!(
        deploy["spec"]["template"]["spec"]["restartPolicy"],
        "Always"
    );
    assert_eq!(deploy["spec"]["strategy"]["type"], "RollingUpdate");
    let secret = server.kubectl_ok(&["get", "secret", "token", "-o", "jsonpath={.data.key}"]);
    assert_eq!(secret, "dmFsdWU=");
    let target = server.kubectl_ok(&[
        "get",
        "service",
        "web",
        "-o",
        "jsonpath={.spec.ports[0].targetPort}",
    ]);
    assert_eq!(target, "8080");
}

#[test]
fn get_honours_resource_version() {
    let server = TestServer::start(&["--storage=memory"]);
    server.kubectl_ok(&["create", "configmap", "settings", "--from-literal=a=b"]);
    let path = "/api/v1/namespaces/default/configmaps/settings";
    let latest: Value = serde_json::from_str(&server.kubectl_ok(&["get", "--raw", path])).unwrap();
    let rv = latest["metadata"]["resourceVersion"].as_str().unwrap();

    // "0" and "not older than rv" are served from the watch cache.
    for asked in ["0", rv] {
        let got: Value = serde_json::from_str(&server.kubectl_ok(&[
            "get",
            "--raw",
            &format!("{path}?resourceVersion={asked}"),
        ]))
        .unwrap();
        assert_eq!(got["data"]["a"], "b");
        assert_eq!(got["metadata"]["resourceVersion"], rv);
    }
    let missing = server.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps/nope?resourceVersion=0",
    ]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NotFound"));

    // A revision the server has not reached: 504 after waiting, as upstream.
    let future = server.kubectl(&["get", "--raw", &format!("{path}?resourceVersion=999999")]);
    let stderr = String::from_utf8_lossy(&future.stderr);
    assert!(
        stderr.contains("Too large resource version: 999999"),
        "{stderr}"
    );
    let bad = server.kubectl(&["get", "--raw", &format!("{path}?resourceVersion=abc")]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid resource version"));
}
