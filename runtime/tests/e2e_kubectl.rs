//! The everyday kubectl commands the serving issue lists, each against the
//! real server: describe, explain, -A, -o wide/yaml/name, annotate,
//! metadata validation, and a read-modify-write race that loses nothing.

mod support;

use std::process::Output;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use support::TestServer;

fn create(server: &TestServer, manifest: &str) -> Output {
    server.kubectl_stdin(&["create", "-f", "-"], manifest)
}

/// `kubectl create -f <file>`, validated: for kinds without a patch verb
/// kubectl validates against `/openapi/v2` in protobuf.
fn create_from_file(server: &TestServer, manifest: &str) -> Output {
    let file = server.data_dir.path().join("manifest.json");
    std::fs::write(&file, manifest).unwrap();
    server.kubectl(&["create", "-f", file.to_str().unwrap()])
}

fn create_ok(server: &TestServer, manifest: &str) {
    let out = create(server, manifest);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team-a, labels: {app: web}}
spec:
  containers: [{name: nginx, image: "nginx:1.27", ports: [{containerPort: 80}]}]
"#;

#[test]
fn describe_explain_and_output_formats() {
    let server = TestServer::start(&["--storage=memory"]);
    server.kubectl_ok(&["create", "namespace", "team-a"]);
    create_ok(&server, POD);
    server.kubectl_ok(&["create", "configmap", "settings", "--from-literal=a=b"]);

    // -A lists across namespaces with a NAMESPACE column.
    let all = server.kubectl_ok(&["get", "pods,configmaps", "-A"]);
    assert!(
        all.lines().next().unwrap().starts_with("NAMESPACE"),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("team-a") && l.contains("pod/web")),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("default") && l.contains("configmap/settings")),
        "{all}"
    );

    // -o wide adds upstream's wide columns.
    let wide = server.kubectl_ok(&["get", "pods", "-n", "team-a", "-o", "wide"]);
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ]
    );
    assert!(wide.contains("Pending"), "{wide}");

    let yaml = server.kubectl_ok(&["get", "pod", "web", "-n", "team-a", "-o", "yaml"]);
    assert!(yaml.contains("image: nginx:1.27"), "{yaml}");
    let name = server.kubectl_ok(&["get", "pods", "-n", "team-a", "-o", "name"]);
    assert_eq!(name.trim(), "pod/web");

    // describe reads the object and prints its containers.
    let described = server.kubectl_ok(&["describe", "pod", "web", "-n", "team-a"]);
    assert!(described.contains("Name:"), "{described}");
    assert!(described.contains("nginx:1.27"), "{described}");
    assert!(described.contains("app=web"), "{described}");
    let described = server.kubectl_ok(&["describe", "configmap", "settings"]);
    assert!(described.contains("settings"), "{described}");

    // explain reads the OpenAPI documents.
    let explained = server.kubectl_ok(&["explain", "deployment.spec.replicas"]);
    assert!(explained.contains("KIND:"), "{explained}");
    assert!(explained.contains("Deployment"), "{explained}");
    assert!(explained.contains("replicas"), "{explained}");
    let explained = server.kubectl_ok(&["explain", "pods.spec.containers.image"]);
    assert!(explained.contains("FIELD: image"), "{explained}");

    let resources = server.kubectl_ok(&["api-resources", "--api-group=apps", "-o", "name"]);
    assert!(
        resources.lines().any(|l| l == "deployments.apps"),
        "{resources}"
    );
}

#[test]
fn annotate_and_metadata_validation() {
    let server = TestServer::start(&["--storage=memory"]);
    server.kubectl_ok(&["create", "configmap", "settings", "--from-literal=a=b"]);
    server.kubectl_ok(&[
        "annotate",
        "configmap",
        "settings",
        "example.com/owner=team-a",
    ]);
    let annotations = server.kubectl_ok(&[
        "get",
        "configmap",
        "settings",
        "-o",
        "jsonpath={.metadata.annotations}",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&annotations).unwrap(),
        json!({"example.com/owner": "team-a"})
    );
    server.kubectl_ok(&["annotate", "configmap", "settings", "example.com/owner-"]);

    // A label value kube-apiserver refuses is a 422 naming the rule (kubectl
    // label checks values itself, so the object comes from a manifest).
    let out = create(
        &server,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-y, labels: {tier: \"-front\"}}\n",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"ConfigMap "cm-y" is invalid: metadata.labels: Invalid value: "-front": a valid label must be an empty string"#),
        "{stderr}"
    );
    let out = create(
        &server,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, annotations: {\"a/b/c\": d}}\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            r#"metadata.annotations: Invalid value: "a/b/c": a qualified name must consist of"#
        ),
        "{stderr}"
    );
}

/// Eight writers each add their own keys to one ConfigMap with
/// read-modify-write and retry on 409: every key must be there at the end.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_read_modify_write_loses_no_update() {
    let server = TestServer::start(&[]);
    let client = server.client().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let initial: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "counter"}, "data": {}})).unwrap();
    config_maps
        .create(&PostParams::default(), &initial)
        .await
        .unwrap();

    const WRITERS: usize = 8;
    const KEYS: usize = 10;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let config_maps = config_maps.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for key in 0..KEYS {
                loop {
                    let mut current = config_maps.get("counter").await.unwrap();
                    current
                        .data
                        .get_or_insert_with(Default::default)
                        .insert(format!("w{writer}-k{key}"), "1".to_owned());
                    match config_maps
                        .replace("counter", &PostParams::default(), &current)
                        .await
                    {
                        Ok(_) => break,
                        Err(kube::Error::Api(status)) if status.code == 409 => conflicts += 1,
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    let last = config_maps.get("counter").await.unwrap();
    assert_eq!(last.data.unwrap().len(), WRITERS * KEYS);
    // With eight writers on one object, some writes must have raced.
    assert!(conflicts > 0, "no write ever conflicted");
}

#[test]
fn auth_whoami_and_can_i_ask_the_server() {
    let server = TestServer::start(&["--storage=memory"]);
    let whoami = server.kubectl_ok(&["auth", "whoami", "-o", "json"]);
    let review: Value = serde_json::from_str(&whoami).unwrap();
    assert_eq!(review["kind"], "SelfSubjectReview");
    assert_eq!(review["status"]["userInfo"]["username"], "admin");
    assert!(
        review["status"]["userInfo"]["groups"]
            .as_array()
            .unwrap()
            .contains(&json!("system:masters"))
    );

    assert_eq!(
        server
            .kubectl_ok(&["auth", "can-i", "create", "pods"])
            .trim(),
        "yes"
    );
    let list = server.kubectl_ok(&["auth", "can-i", "--list"]);
    assert!(list.contains("*.*"), "{list}");

    // SubjectAccessReviews about other users: members of system:masters
    // are allowed, others are not (RBAC comes later); nothing is stored.
    let review = |groups: &str| -> Value {
        let file = server.data_dir.path().join("review.json");
        std::fs::write(
            &file,
            format!(
                r#"{{"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                    "spec": {{"user": "jane", "groups": {groups},
                             "resourceAttributes": {{"verb": "get", "resource": "pods", "namespace": "default"}}}}}}"#
            ),
        )
        .unwrap();
        let answer = server.kubectl_ok(&[
            "create",
            "--raw",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            "-f",
            file.to_str().unwrap(),
        ]);
        serde_json::from_str(&answer).unwrap()
    };
    assert_eq!(review(r#"["dev"]"#)["status"]["allowed"], false);
    assert_eq!(review(r#"["system:masters"]"#)["status"]["allowed"], true);
    let listed = server.kubectl(&[
        "get",
        "--raw",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    ]);
    assert!(!listed.status.success());

    // Neither a user nor a group: 422 as upstream, after kubectl's own
    // validation (against OpenAPI v2 protobuf, as the kind has no patch
    // verb) passed.
    let out = create_from_file(
        &server,
        r#"{"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}"#,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("at least one of user or group must be specified"),
        "{stderr}"
    );
    // That validation reads the schema: an unknown field stops kubectl.
    let out = create_from_file(
        &server,
        r#"{"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": "dev", "colour": "red"}}"#,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(r#"unknown field "colour""#)
            && stderr.contains("io.k8s.api.authorization.v1.SubjectAccessReviewSpec"),
        "{stderr}"
    );
}
