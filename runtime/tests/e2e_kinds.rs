//! Per-kind rules users meet every day, through kubectl: Service cluster
//! IPs and node ports (allocated, refused when taken, given back on
//! delete, kept across restarts), the `kubernetes` Service and its
//! endpoints, immutable fields, `kubectl scale`, pod binding and graceful
//! pod deletion.

mod support;

use serde_json::Value;
use support::TestServer;

/// A small range: six addresses, the first the `kubernetes` Service's.
const SMALL_RANGE: &str = "--service-cluster-ip-range=10.0.0.0/29";
const PORT_RANGE: &str = "--service-node-port-range=30000-30099";

fn json(server: &TestServer, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&server.kubectl_ok(&args)).expect("kubectl prints JSON")
}

/// Runs kubectl expecting failure; returns its stderr.
fn fails(server: &TestServer, args: &[&str]) -> String {
    let out = server.kubectl(args);
    assert!(
        !out.status.success(),
        "kubectl {} succeeded",
        args.join(" ")
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn cluster_ip(server: &TestServer, name: &str) -> String {
    server.kubectl_ok(&["get", "svc", name, "-o", "jsonpath={.spec.clusterIP}"])
}

fn server_port(server: &TestServer) -> u64 {
    server
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the URL ends in a port")
}

#[test]
fn services_get_cluster_ips_and_node_ports_from_their_ranges() {
    let server = TestServer::start(&[SMALL_RANGE, PORT_RANGE]);
    server.kubectl_ok(&["create", "service", "nodeport", "web", "--tcp=80:8080"]);
    let web = json(&server, &["get", "svc", "web"]);
    let ip = web["spec"]["clusterIP"].as_str().unwrap();
    let last: u8 = ip.strip_prefix("10.0.0.").unwrap().parse().unwrap();
    assert!(
        (2..=6).contains(&last),
        "{ip} is not a free address of 10.0.0.0/29"
    );
    assert_eq!(web["spec"]["clusterIPs"], serde_json::json!([ip]));
    assert_eq!(web["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    assert_eq!(web["spec"]["ipFamilyPolicy"], "SingleStack");
    let node_port = web["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    assert!((30000..=30099).contains(&node_port), "{node_port}");
    let address = json(&server, &["get", "ipaddress", ip]);
    assert_eq!(address["spec"]["parentRef"]["name"], "web");
    assert_eq!(address["spec"]["parentRef"]["resource"], "services");

    // A requested node port is honoured once, then refused. (Not the
    // port "web" was given at random.)
    let requested = if node_port == 30050 { 30051 } else { 30050 };
    let node_port_flag = format!("--node-port={requested}");
    server.kubectl_ok(&[
        "create",
        "service",
        "nodeport",
        "a",
        "--tcp=80:80",
        &node_port_flag,
    ]);
    let taken = fails(
        &server,
        &[
            "create",
            "service",
            "nodeport",
            "b",
            "--tcp=80:80",
            &node_port_flag,
        ],
    );
    assert!(
        taken.contains(&format!(
            "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: {requested}: provided port is already allocated"
        )),
        "{taken}"
    );
    let outside = fails(
        &server,
        &[
            "create",
            "service",
            "nodeport",
            "b",
            "--tcp=80:80",
            "--node-port=80",
        ],
    );
    assert!(
        outside.contains(
            "provided port is not in the valid range. The range of valid ports is 30000-30099"
        ),
        "{outside}"
    );
    let owned = fails(
        &server,
        &[
            "create",
            "service",
            "clusterip",
            "b",
            "--tcp=80:80",
            "--clusterip=10.0.0.1",
        ],
    );
    assert!(
        owned.contains(
            r#"spec.clusterIPs: Invalid value: ["10.0.0.1"]: failed to allocate IP 10.0.0.1: provided IP is already allocated"#
        ),
        "{owned}"
    );

    // Headless services hold no address; the rest fill the range.
    server.kubectl_ok(&["create", "service", "clusterip", "h", "--clusterip=None"]);
    assert_eq!(cluster_ip(&server, "h"), "None");
    for name in ["c", "d", "e"] {
        server.kubectl_ok(&["create", "service", "clusterip", name, "--tcp=80:80"]);
    }
    let full = fails(
        &server,
        &["create", "service", "clusterip", "f", "--tcp=80:80"],
    );
    assert!(
        full.contains("failed to allocate a serviceIP: range is full"),
        "{full}"
    );

    // Deleting gives the address and the node port back.
    let freed = cluster_ip(&server, "d");
    server.kubectl_ok(&["delete", "svc", "d"]);
    server.kubectl_ok(&["create", "service", "clusterip", "f", "--tcp=80:80"]);
    assert_eq!(cluster_ip(&server, "f"), freed);
    server.kubectl_ok(&["delete", "svc", "a"]);
    server.kubectl_ok(&[
        "create",
        "service",
        "nodeport",
        "b",
        "--tcp=80:80",
        "--node-port=30050",
    ]);
    let addresses = server.kubectl_ok(&["get", "ipaddresses", "-o", "name"]);
    assert_eq!(addresses.lines().count(), 6, "{addresses}");

    // Changing a NodePort service to ClusterIP gives its node port back.
    server.kubectl_ok(&["delete", "svc", "c"]);
    server.kubectl_ok(&[
        "patch",
        "svc",
        "b",
        "--type=merge",
        "-p",
        r#"{"spec":{"type":"ClusterIP"}}"#,
    ]);
    let b = json(&server, &["get", "svc", "b"]);
    assert!(b["spec"]["ports"][0].get("nodePort").is_none(), "{b}");
    server.kubectl_ok(&[
        "create",
        "service",
        "nodeport",
        "g",
        "--tcp=80:80",
        "--node-port=30050",
    ]);
}

#[test]
fn the_kubernetes_service_points_at_the_server() {
    let server = TestServer::start(&[]);
    let service = json(&server, &["get", "svc", "kubernetes"]);
    assert_eq!(service["spec"]["clusterIP"], "10.0.0.1");
    assert_eq!(service["metadata"]["labels"]["component"], "apiserver");
    assert_eq!(service["metadata"]["labels"]["provider"], "kubernetes");
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["name"], "https");
    assert_eq!(port["port"], 443);
    assert_eq!(port["targetPort"].as_u64(), Some(server_port(&server)));

    let slices = server.kubectl_ok(&["get", "endpointslices"]);
    assert!(
        slices.contains("kubernetes") && slices.contains("127.0.0.1"),
        "{slices}"
    );
    let slice = json(&server, &["get", "endpointslice", "kubernetes"]);
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "kubernetes"
    );
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(slice["endpoints"][0]["addresses"][0], "127.0.0.1");
    assert_eq!(
        slice["ports"][0]["port"].as_u64(),
        Some(server_port(&server))
    );
    let endpoints = json(&server, &["get", "endpoints", "kubernetes"]);
    assert_eq!(endpoints["subsets"][0]["addresses"][0]["ip"], "127.0.0.1");
    let cidr = json(&server, &["get", "servicecidr", "kubernetes"]);
    assert_eq!(cidr["spec"]["cidrs"], serde_json::json!(["10.0.0.0/24"]));

    // Deleted, the service comes back with its address.
    server.kubectl_ok(&["delete", "svc", "kubernetes"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let out = server.kubectl(&[
            "get",
            "svc",
            "kubernetes",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ]);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout), "10.0.0.1");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the kubernetes service never came back"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn allocations_survive_a_restart() {
    let server = TestServer::start(&[PORT_RANGE]);
    server.kubectl_ok(&[
        "create",
        "service",
        "nodeport",
        "web",
        "--tcp=80:80",
        "--node-port=30007",
    ]);
    let ip = cluster_ip(&server, "web");
    let data = server.kill();
    let server = TestServer::start_in(data, &[PORT_RANGE]);
    let taken = fails(
        &server,
        &[
            "create",
            "service",
            "nodeport",
            "b",
            "--tcp=80:80",
            "--node-port=30007",
        ],
    );
    assert!(
        taken.contains("provided port is already allocated"),
        "{taken}"
    );
    let again = fails(
        &server,
        &[
            "create",
            "service",
            "clusterip",
            "b",
            "--tcp=80:80",
            &format!("--clusterip={ip}"),
        ],
    );
    assert!(
        again.contains("provided IP is already allocated"),
        "{again}"
    );
    // The endpoints follow the server to its new port.
    let slice = json(&server, &["get", "endpointslice", "kubernetes"]);
    assert_eq!(
        slice["ports"][0]["port"].as_u64(),
        Some(server_port(&server))
    );
}

#[test]
fn immutable_fields_are_refused() {
    let server = TestServer::start(&[]);
    let created = server.kubectl_stdin(
        &["create", "-f", "-"],
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen}
immutable: true
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
type: Opaque
stringData: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: p, image: "nginx:1"}]}
"#,
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let merge = |args: &[&str], patch: &str| {
        let mut all = vec!["patch"];
        all.extend(args);
        all.extend(["--type=merge", "-p", patch]);
        fails(&server, &all)
    };
    let frozen = merge(&["cm", "frozen"], r#"{"data":{"a":"2"}}"#);
    assert!(
        frozen.contains("The ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set"),
        "{frozen}"
    );
    let retyped = merge(&["secret", "creds"], r#"{"type":"kubernetes.io/tls"}"#);
    assert!(
        retyped.contains(r#"type: Invalid value: "kubernetes.io/tls": field is immutable"#),
        "{retyped}"
    );
    let selector = merge(
        &["deployment", "web"],
        r#"{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}"#,
    );
    assert!(
        selector.contains(
            r#"spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: field is immutable"#
        ),
        "{selector}"
    );
    let moved = merge(&["pod", "p"], r#"{"spec":{"nodeName":"elsewhere"}}"#);
    assert!(
        moved.contains("The Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"),
        "{moved}"
    );
    server.kubectl_ok(&["create", "service", "clusterip", "svc", "--tcp=80:80"]);
    let readdressed = merge(&["svc", "svc"], r#"{"spec":{"clusterIP":"10.0.0.200"}}"#);
    assert!(
        readdressed.contains(
            r#"spec.clusterIPs[0]: Invalid value: ["10.0.0.200"]: may not change once set"#
        ),
        "{readdressed}"
    );

    // What may change still does: a pod's image.
    let mut pod = json(&server, &["get", "pod", "p"]);
    pod["spec"]["containers"][0]["image"] = Value::from("nginx:2");
    let replaced = server.kubectl_stdin(&["replace", "-f", "-"], &pod.to_string());
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    let image = server.kubectl_ok(&[
        "get",
        "pod",
        "p",
        "-o",
        "jsonpath={.spec.containers[0].image}",
    ]);
    assert_eq!(image, "nginx:2");
}

#[test]
fn kubectl_scale_goes_through_the_scale_subresource() {
    let server = TestServer::start(&[]);
    server.kubectl_ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=1",
    ]);
    let out = server.kubectl_ok(&["scale", "deployment", "web", "--replicas=3"]);
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    let replicas = server.kubectl_ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(replicas, "3");
    let scale: Value = serde_json::from_str(&server.kubectl_ok(&[
        "get",
        "--raw",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
    ]))
    .unwrap();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["selector"], "app=web");
    let printed = server.kubectl_ok(&["get", "deployment", "web", "--subresource=scale"]);
    let header: Vec<&str> = printed.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DESIRED", "AVAILABLE", "AGE"], "{printed}");
    assert!(
        printed.lines().nth(1).unwrap().starts_with("web"),
        "{printed}"
    );
    // A Scale written with a stale resourceVersion is a conflict.
    let mut stale = scale.clone();
    stale["metadata"]["resourceVersion"] = Value::from("1");
    stale["spec"]["replicas"] = Value::from(5);
    let file = server.data_dir.path().join("scale.json");
    std::fs::write(&file, stale.to_string()).unwrap();
    let path = "/apis/apps/v1/namespaces/default/deployments/web/scale";
    let conflict = fails(
        &server,
        &["replace", "--raw", path, "-f", file.to_str().unwrap()],
    );
    assert!(
        conflict.contains("the object has been modified"),
        "{conflict}"
    );
    stale["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    std::fs::write(&file, stale.to_string()).unwrap();
    let written = server.kubectl_ok(&["replace", "--raw", path, "-f", file.to_str().unwrap()]);
    let written: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(written["spec"]["replicas"], 5);
}

#[test]
fn binding_assigns_pods_and_bound_pods_delete_gracefully() {
    let server = TestServer::start(&[]);
    server.kubectl_ok(&["run", "p1", "--image=nginx"]);
    server.kubectl_ok(&["run", "p2", "--image=nginx"]);
    let binding = |pod: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Binding","metadata":{{"name":"{pod}"}},"target":{{"kind":"Node","name":"node-1"}}}}"#
        )
    };
    let file = server.data_dir.path().join("binding.json");
    std::fs::write(&file, binding("p1")).unwrap();
    let file = file.to_str().unwrap();
    let status = server.kubectl_ok(&[
        "create",
        "--raw",
        "/api/v1/namespaces/default/pods/p1/binding",
        "-f",
        file,
    ]);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["status"], "Success");
    let node = server.kubectl_ok(&["get", "pod", "p1", "-o", "jsonpath={.spec.nodeName}"]);
    assert_eq!(node, "node-1");
    let again = fails(
        &server,
        &[
            "create",
            "--raw",
            "/api/v1/namespaces/default/pods/p1/binding",
            "-f",
            file,
        ],
    );
    assert!(
        again.contains(r#"Operation cannot be fulfilled on pods/binding "p1": pod p1 is already assigned to node "node-1""#),
        "{again}"
    );
    let collection = server.data_dir.path().join("binding2.json");
    std::fs::write(&collection, binding("p2")).unwrap();
    server.kubectl_ok(&[
        "create",
        "--raw",
        "/api/v1/namespaces/default/bindings",
        "-f",
        collection.to_str().unwrap(),
    ]);
    let node = server.kubectl_ok(&["get", "pod", "p2", "-o", "jsonpath={.spec.nodeName}"]);
    assert_eq!(node, "node-1");

    // A bound pod waits out its grace period; a forced delete removes it.
    server.kubectl_ok(&["delete", "pod", "p1", "--wait=false"]);
    let pod = json(&server, &["get", "pod", "p1"]);
    assert_eq!(pod["metadata"]["deletionGracePeriodSeconds"], 30);
    assert!(pod["metadata"]["deletionTimestamp"].is_string(), "{pod}");
    let listed = server.kubectl_ok(&["get", "pod", "p1"]);
    assert!(listed.contains("Terminating"), "{listed}");
    // Updates during the grace period leave the pod in place.
    server.kubectl_ok(&["label", "pod", "p1", "draining=yes"]);
    server.kubectl_ok(&["get", "pod", "p1"]);
    server.kubectl_ok(&["delete", "pod", "p1", "--grace-period=0", "--force"]);
    let gone = fails(&server, &["get", "pod", "p1"]);
    assert!(gone.contains(r#"pods "p1" not found"#), "{gone}");

    // An unbound pod goes at once.
    server.kubectl_ok(&["run", "p3", "--image=nginx"]);
    server.kubectl_ok(&["delete", "pod", "p3", "--wait=false"]);
    fails(&server, &["get", "pod", "p3"]);

    let bad = fails(
        &server,
        &[
            "delete",
            "--raw",
            "/api/v1/namespaces/default/pods/p2?propagationPolicy=Sideways",
        ],
    );
    assert!(
        bad.contains(r#"propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil""#),
        "{bad}"
    );
}

#[test]
fn eviction_respects_disruption_budgets() {
    let server = TestServer::start(&[]);
    server.kubectl_ok(&["run", "db-0", "--image=postgres", "--labels=app=db"]);
    server.kubectl_ok(&[
        "patch",
        "pod",
        "db-0",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running"}}"#,
    ]);
    server.kubectl_ok(&[
        "create",
        "pdb",
        "db",
        "--selector=app=db",
        "--min-available=1",
    ]);
    let eviction = server.data_dir.path().join("eviction.json");
    std::fs::write(
        &eviction,
        r#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"db-0","namespace":"default"}}"#,
    )
    .unwrap();
    let evict = [
        "create",
        "--raw",
        "/api/v1/namespaces/default/pods/db-0/eviction",
        "-f",
        eviction.to_str().unwrap(),
    ];
    // No disruption controller has looked at the budget yet.
    let refused = fails(&server, &evict);
    assert!(
        refused.contains(
            "(TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget."
        ),
        "{refused}"
    );
    server.kubectl_ok(&["get", "pod", "db-0"]);
    server.kubectl_ok(&[
        "patch",
        "pdb",
        "db",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"observedGeneration":1,"disruptionsAllowed":1,"currentHealthy":1,"desiredHealthy":1,"expectedPods":1}}"#,
    ]);
    let status: Value = serde_json::from_str(&server.kubectl_ok(&evict)).unwrap();
    assert_eq!(status["status"], "Success");
    fails(&server, &["get", "pod", "db-0"]);
    let budget = json(&server, &["get", "pdb", "db"]);
    assert_eq!(budget["status"]["disruptionsAllowed"], 0);
    assert!(
        budget["status"]["disruptedPods"]["db-0"].is_string(),
        "{budget}"
    );
}
