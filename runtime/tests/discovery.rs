//! The discovery documents ferrokube builds from its route table match the
//! ones upstream kube-apiserver v1.36 serves with every version enabled
//! (the snapshots in ../shared/specs/kubernetes/discovery), and the
//! documents for the default set of versions are pinned by snapshots.

use std::path::PathBuf;

use runtime::discovery;
use serde_json::Value;

fn upstream(file: &str) -> Value {
    let beside =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/kubernetes/discovery");
    let dir = match std::env::var_os("FERROKUBE_UPSTREAM") {
        Some(dir) => PathBuf::from(dir).join("discovery"),
        None if beside.is_dir() => beside,
        None => PathBuf::from("/work/shared/specs/kubernetes/discovery"),
    };
    let text = std::fs::read_to_string(dir.join(file)).expect("upstream discovery file");
    serde_json::from_str(&text).expect("upstream discovery parses")
}

fn everything(_: &str, _: &str) -> bool {
    true
}

#[test]
fn aggregated_discovery_matches_upstream() {
    let mut ours = discovery::aggregated(false, &everything);
    let items = ours["items"].as_array_mut().unwrap();
    // Our own example group is not upstream's.
    items.retain(|g| g["metadata"]["name"] != "example.ferrokube.dev");
    // Upstream's snapshot was taken just before this v1.36 alpha resource
    // landed (see the specs README); everything else must match exactly.
    for group in items
        .iter_mut()
        .filter(|g| g["metadata"]["name"] == "resource.k8s.io")
    {
        for version in group["versions"].as_array_mut().unwrap() {
            version["resources"]
                .as_array_mut()
                .unwrap()
                .retain(|r| r["resource"] != "resourcepoolstatusrequests");
        }
    }
    let theirs = upstream("aggregated_v2.json");
    let names = |doc: &Value| -> Vec<String> {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&ours), names(&theirs), "group order");
    for (a, b) in ours["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip(theirs["items"].as_array().unwrap())
    {
        assert_eq!(a, b, "group {}", b["metadata"]["name"]);
    }
    assert_eq!(ours, theirs);
}

#[test]
fn core_resource_list_matches_upstream() {
    let ours =
        serde_json::to_value(discovery::resource_list("", "v1", &everything).unwrap()).unwrap();
    let theirs = upstream("api__v1.json");
    let by_name = |doc: &Value| -> Vec<(String, Value)> {
        doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap().to_owned(), r.clone()))
            .collect()
    };
    for ((ours_name, ours), (theirs_name, theirs)) in
        by_name(&ours).into_iter().zip(by_name(&theirs))
    {
        assert_eq!(ours_name, theirs_name);
        assert_eq!(ours, theirs, "{theirs_name}");
    }
    assert_eq!(ours, theirs);
}

#[test]
fn group_documents_follow_upstream_preference() {
    let only_ga = |_: &str, v: &str| !v.contains("alpha") && !v.contains("beta");
    let autoscaling = discovery::group("autoscaling", &only_ga).unwrap();
    assert_eq!(
        autoscaling.preferred_version.unwrap().group_version,
        "autoscaling/v2"
    );
    assert!(
        discovery::group("storagemigration.k8s.io", &only_ga).is_none(),
        "a beta-only group is hidden"
    );
    assert!(discovery::resource_list("batch", "v2", &everything).is_none());
    let apps = discovery::resource_list("apps", "v1", &only_ga).unwrap();
    assert_eq!(apps.api_version.as_deref(), Some("v1"));
    assert!(
        apps.resources
            .iter()
            .any(|r| r.name == "deployments/scale" && r.group.as_deref() == Some("autoscaling"))
    );
    let core = discovery::core_versions(&only_ga, "127.0.0.1:6443");
    assert_eq!(core.versions, ["v1"]);
}

#[test]
fn group_list_snapshot() {
    let only_ga = |_: &str, v: &str| !v.contains("alpha") && !v.contains("beta");
    let list = discovery::group_list(&everything);
    let lines: Vec<String> = list
        .groups
        .iter()
        .map(|g| {
            let versions: Vec<&str> = g.versions.iter().map(|v| v.version.as_str()).collect();
            let ga =
                discovery::group(&g.name, &only_ga).map(|d| d.preferred_version.unwrap().version);
            format!(
                "{} [{}] preferred-ga={}",
                g.name,
                versions.join(","),
                ga.unwrap_or_else(|| "-".into())
            )
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}
