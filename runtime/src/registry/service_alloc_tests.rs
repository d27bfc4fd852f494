//! Tests of the Service allocator: concurrency, giving back, repair and
//! IP families.

use super::*;
use crate::storage::memory::MemoryStore;

fn allocator(cidr: &str) -> Arc<ServiceAllocator> {
    Arc::new(ServiceAllocator::new(
        Arc::new(MemoryStore::new()),
        IpRange::parse(cidr).unwrap(),
        PortRange::parse("30000-30010").unwrap(),
    ))
}

fn service(name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

/// Runs `reserve` for many services at once.
async fn reserve_all(
    allocator: &Arc<ServiceAllocator>,
    services: Vec<Value>,
) -> Vec<Result<Value, ApiError>> {
    let tasks: Vec<_> = services
        .into_iter()
        .map(|mut service| {
            let allocator = allocator.clone();
            tokio::spawn(async move {
                allocator
                    .reserve(&mut service, None, false)
                    .await
                    .map(|_| service)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("the task finishes"));
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_for_one_address_or_port_have_one_winner() {
    let allocator = allocator("10.0.0.0/24");
    let same_ip = (0..16)
        .map(|i| {
            service(
                &format!("s{i}"),
                json!({"clusterIP": "10.0.0.9", "clusterIPs": ["10.0.0.9"]}),
            )
        })
        .collect();
    let results = reserve_all(&allocator, same_ip).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        refused.message.contains("provided IP is already allocated"),
        "{}",
        refused.message
    );

    let same_port = (0..16)
        .map(|i| {
            service(
                &format!("p{i}"),
                json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30005}]}),
            )
        })
        .collect();
    let results = reserve_all(&allocator, same_port).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_allocations_are_distinct_until_the_range_is_full() {
    // A /27 has 30 addresses.
    let allocator = allocator("10.0.0.0/27");
    let services = (0..32)
        .map(|i| service(&format!("s{i}"), json!({"ports": [{"port": 80}]})))
        .collect();
    let results = reserve_all(&allocator, services).await;
    let mut ips: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|s| s["spec"]["clusterIP"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ips.len(), 30);
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 30);
    let full = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(full.code, 500);
    assert!(full.message.contains("range is full"));
}

#[tokio::test]
async fn failed_writes_and_deletes_give_claims_back() {
    let allocator = allocator("10.0.0.0/24");
    let mut web = service(
        "web",
        json!({"type": "NodePort", "ports": [{"port": 80}, {"port": 80, "protocol": "UDP"}]}),
    );
    let reservation = allocator.reserve(&mut web, None, false).await.unwrap();
    // Both ports of number 80 share one node port.
    assert_eq!(
        web["spec"]["ports"][0]["nodePort"],
        web["spec"]["ports"][1]["nodePort"]
    );
    assert_eq!(reservation.taken.len(), 2);
    let keys = reservation.taken.clone();
    allocator.settle(reservation, false).await;
    for claim in &keys {
        assert!(!allocator.is_claimed(&claim.0).await.unwrap(), "{claim:?}");
    }

    let mut web = service("web", json!({"type": "NodePort", "ports": [{"port": 80}]}));
    let reservation = allocator.reserve(&mut web, None, false).await.unwrap();
    allocator.settle(reservation, true).await;
    // Another service of the same name elsewhere does not free web's claims.
    let mut impostor = web.clone();
    impostor["metadata"]["namespace"] = json!("other");
    allocator.release(&impostor).await;
    let ip = web["spec"]["clusterIP"].as_str().unwrap();
    assert!(
        allocator
            .is_claimed(&ServiceAllocator::ip_key(ip))
            .await
            .unwrap()
    );
    allocator.release(&web).await;
    assert!(
        !allocator
            .is_claimed(&ServiceAllocator::ip_key(ip))
            .await
            .unwrap()
    );
    assert!(
        allocator
            .claimed(NODE_PORT_PREFIX)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn repair_gives_back_leftovers_and_reclaims_what_services_hold() {
    let allocator = allocator("10.0.0.0/24");
    let storage = allocator.storage.clone();
    let put = |key: String, value: Value| {
        let storage = storage.clone();
        async move {
            storage
                .create(&key, Bytes::from(value.to_string()))
                .await
                .unwrap();
        }
    };
    let ghost = Owner {
        namespace: "default".to_owned(),
        name: "gone".to_owned(),
    };
    let mut stale = allocator.ip_address("10.0.0.50", &ghost);
    stale["metadata"]["creationTimestamp"] = json!("2020-01-01T00:00:00Z");
    put(ServiceAllocator::ip_key("10.0.0.50"), stale).await;
    // A fresh claim may be a create under way: it stays.
    put(
        ServiceAllocator::ip_key("10.0.0.51"),
        allocator.ip_address("10.0.0.51", &ghost),
    )
    .await;
    put(
        ServiceAllocator::port_key(30001),
        json!({"namespace": "default", "name": "gone"}),
    )
    .await;
    let web = json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"type": "NodePort", "clusterIP": "10.0.0.60", "clusterIPs": ["10.0.0.60"],
                 "ports": [{"port": 80, "nodePort": 30002}]},
    });
    put("/registry/services/specs/default/web".to_owned(), web).await;

    allocator.repair().await.unwrap();
    let mut ips: Vec<String> = allocator
        .claimed("/registry/ipaddresses/")
        .await
        .unwrap()
        .into_iter()
        .collect();
    ips.sort();
    assert_eq!(ips, ["10.0.0.51", "10.0.0.60"]);
    let ports = allocator.claimed(NODE_PORT_PREFIX).await.unwrap();
    assert_eq!(ports, HashSet::from(["30002".to_owned()]));
}

#[tokio::test]
async fn ip_families_are_defaulted_and_checked_for_a_single_stack_cluster() {
    let allocator = allocator("10.0.0.0/24");
    let mut plain = service("plain", json!({"selector": {"app": "x"}}));
    allocator.reserve(&mut plain, None, true).await.unwrap();
    assert_eq!(plain["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(plain["spec"]["ipFamilyPolicy"], "SingleStack");

    let mut headless = service(
        "headless",
        json!({"clusterIP": "None", "clusterIPs": ["None"]}),
    );
    allocator.reserve(&mut headless, None, false).await.unwrap();
    assert_eq!(headless["spec"]["ipFamilyPolicy"], "RequireDualStack");
    assert_eq!(headless["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));

    let mut v6 = service(
        "v6",
        json!({"clusterIP": "fd00::1", "clusterIPs": ["fd00::1"]}),
    );
    let error = allocator.reserve(&mut v6, None, false).await.unwrap_err();
    assert!(
        error.message.contains(r#"spec.clusterIPs[0]: Invalid value: ["fd00::1"]: IPv6 is not configured on this cluster"#),
        "{}",
        error.message
    );
    let mut dual = service(
        "dual",
        json!({"ipFamilyPolicy": "RequireDualStack", "selector": {"a": "b"}}),
    );
    let error = allocator.reserve(&mut dual, None, false).await.unwrap_err();
    assert!(
        error
            .message
            .contains("this cluster is not configured for dual-stack services"),
        "{}",
        error.message
    );
    // Nothing was held by the refused or dry-run services.
    let held = allocator.claimed("/registry/ipaddresses/").await.unwrap();
    assert!(held.is_empty(), "{held:?}");
}

#[tokio::test]
async fn local_load_balancers_get_a_health_check_port_and_type_changes_free_ports() {
    let allocator = allocator("10.0.0.0/24");
    let mut lb = service(
        "lb",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 443}]}),
    );
    let reservation = allocator.reserve(&mut lb, None, false).await.unwrap();
    allocator.settle(reservation, true).await;
    let health = lb["spec"]["healthCheckNodePort"].as_u64().unwrap();
    let node_port = lb["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    assert!((30000..=30010).contains(&health) && health != node_port);
    assert_eq!(allocator.claimed(NODE_PORT_PREFIX).await.unwrap().len(), 2);

    // Down to ClusterIP: both node ports are given back once the write succeeds.
    let mut cluster_ip = lb.clone();
    cluster_ip["spec"] = json!({
        "type": "ClusterIP",
        "clusterIP": lb["spec"]["clusterIP"],
        "clusterIPs": lb["spec"]["clusterIPs"],
        "ports": [{"port": 443}],
    });
    let reservation = allocator
        .reserve(&mut cluster_ip, Some(&lb), false)
        .await
        .unwrap();
    assert!(reservation.taken.is_empty());
    assert_eq!(reservation.freed.len(), 2);
    allocator.settle(reservation, true).await;
    assert!(
        allocator
            .claimed(NODE_PORT_PREFIX)
            .await
            .unwrap()
            .is_empty()
    );
}
