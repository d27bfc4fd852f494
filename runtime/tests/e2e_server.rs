//! The server as kubectl sees it: the admin kubeconfig works at once,
//! discovery lists every served resource, health endpoints answer in
//! upstream's format, and requests without accepted credentials get 401.

mod support;

use support::TestServer;

#[test]
fn kubectl_works_with_the_admin_kubeconfig() {
    let server = TestServer::start(&["--storage=memory"]);

    let version = server.kubectl_ok(&["version", "-o", "json"]);
    let version: serde_json::Value = serde_json::from_str(&version).unwrap();
    assert_eq!(version["serverVersion"]["major"], "1");
    assert_eq!(version["serverVersion"]["minor"], "36");

    let resources = server.kubectl_ok(&["api-resources", "--no-headers"]);
    for expected in [
        "pods ",
        "deployments ",
        "customresourcedefinitions ",
        "horizontalpodautoscalers ",
        "widgets ",
    ] {
        assert!(
            resources.lines().any(|l| l.starts_with(expected)),
            "{expected} missing from:\n{resources}"
        );
    }
    let pods = resources.lines().find(|l| l.starts_with("pods ")).unwrap();
    let columns: Vec<&str> = pods.split_whitespace().collect();
    assert_eq!(columns, ["pods", "po", "v1", "true", "Pod"]);
    // Beta and alpha versions are off by default, as upstream.
    assert!(
        !resources.contains("certificates.k8s.io/v1alpha1"),
        "{resources}"
    );

    let versions = server.kubectl_ok(&["api-versions"]);
    assert!(versions.lines().any(|l| l == "autoscaling/v2"));
    assert!(!versions.lines().any(|l| l == "certificates.k8s.io/v1beta1"));
}

#[test]
fn runtime_config_turns_on_beta_versions() {
    let server = TestServer::start(&["--storage=memory", "--runtime-config=api/beta=true"]);
    let versions = server.kubectl_ok(&["api-versions"]);
    assert!(
        versions.lines().any(|l| l == "certificates.k8s.io/v1beta1"),
        "{versions}"
    );
}

#[test]
fn health_endpoints_answer_like_upstream() {
    let server = TestServer::start(&["--storage=memory"]);
    assert_eq!(server.kubectl_ok(&["get", "--raw", "/healthz"]), "ok");
    let verbose = server.kubectl_ok(&["get", "--raw", "/readyz?verbose"]);
    assert!(verbose.contains("[+]ping ok\n[+]etcd ok\n"), "{verbose}");
    assert!(verbose.ends_with("readyz check passed\n"), "{verbose}");
    assert_eq!(server.kubectl_ok(&["get", "--raw", "/livez/etcd"]), "ok");
    let missing = server.kubectl(&["get", "--raw", "/livez/nonsense"]);
    assert!(!missing.status.success());
}

#[test]
fn metrics_count_requests_with_upstream_labels() {
    let server = TestServer::start(&["--storage=memory"]);
    server.kubectl_ok(&["get", "namespaces"]);
    let metrics = server.kubectl_ok(&["get", "--raw", "/metrics"]);
    assert!(
        metrics.contains("# TYPE apiserver_request counter"),
        "{metrics}"
    );
    let listed = metrics
        .lines()
        .find(|l| {
            l.starts_with("apiserver_request_total{")
                && l.contains(r#"verb="LIST""#)
                && l.contains(r#"resource="namespaces""#)
        })
        .unwrap_or_else(|| panic!("no LIST namespaces count in:\n{metrics}"));
    for label in [
        r#"code="200""#,
        r#"scope="cluster""#,
        r#"component="apiserver""#,
        r#"version="v1""#,
    ] {
        assert!(listed.contains(label), "{listed}");
    }
    assert!(
        metrics.contains("apiserver_request_duration_seconds_bucket{"),
        "{metrics}"
    );
}

#[test]
fn requests_without_accepted_credentials_are_unauthorized() {
    let server = TestServer::start(&["--storage=memory"]);
    let kubeconfig = server.data_dir.path().join("anonymous.kubeconfig");
    let admin = std::fs::read_to_string(&server.kubeconfig).unwrap();
    let ca = admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .unwrap();
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n\
             users:\n- name: u\n  user:\n    token: not-a-valid-token\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
             current-context: c\n",
            server.url
        ),
    )
    .unwrap();
    let out = std::process::Command::new("kubectl")
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", server.data_dir.path())
        .args(["get", "--raw", "/api/v1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Unauthorized"), "{stderr}");
}

#[test]
fn the_embedded_store_is_the_default_and_survives_a_restart() {
    let server = TestServer::start(&[]);
    server.kubectl_ok(&["create", "configmap", "kept", "--from-literal=a=b"]);
    let before = server.kubectl_ok(&[
        "get",
        "configmap",
        "kept",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    let data_dir = server.kill();

    let server = TestServer::start_in(data_dir, &[]);
    let after = server.kubectl_ok(&[
        "get",
        "configmap",
        "kept",
        "-o",
        "jsonpath={.metadata.resourceVersion} {.data.a}",
    ]);
    assert_eq!(after, format!("{before} b"));
    server.kubectl_ok(&["create", "configmap", "next"]);
    let next = server.kubectl_ok(&[
        "get",
        "configmap",
        "next",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    assert!(next.parse::<u64>().unwrap() > before.parse::<u64>().unwrap());
}
