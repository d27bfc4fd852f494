//! Upstream's defaulters that need code rather than a constant (the
//! constant ones are `[[definition]]` defaults in `specs/overlays` and
//! applied from the schema table). `specs/overlays/DEFAULTERS.md` lists
//! every such rule with its upstream function; this module implements the
//! ones clients meet every day, run before the schema defaults so that the
//! parents they create receive those too.

use serde_json::{Map, Value, json};

/// Applies the hand-written defaulters of a resource to a new or updated object.
pub fn apply(group: &str, plural: &str, object: &mut Value) {
    match (group, plural) {
        ("", "pods") => {
            if let Some(spec) = object.get_mut("spec") {
                pod_spec(spec);
                pod_only(spec);
            }
        }
        ("", "podtemplates") => template_at(object, &["template"]),
        ("", "replicationcontrollers") => {
            template_at(object, &["spec", "template"]);
            labels_from_template(object, true);
        }
        ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets") => {
            template_at(object, &["spec", "template"]);
            if plural == "deployments" {
                rolling_update(object, "/spec/strategy");
            }
            if plural == "daemonsets" {
                rolling_update(object, "/spec/updateStrategy");
            }
        }
        ("batch", "jobs") => {
            template_at(object, &["spec", "template"]);
            labels_from_template(object, false);
            if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                job_spec(spec);
            }
        }
        ("batch", "cronjobs") => template_at(object, &["spec", "jobTemplate", "spec", "template"]),
        ("", "services") => {
            if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                service_spec(spec);
            }
        }
        ("", "namespaces") => {
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if !name.is_empty() {
                let labels = entry_object(super::object::metadata_mut(object), "labels");
                labels.insert("kubernetes.io/metadata.name".to_owned(), json!(name));
            }
        }
        ("networking.k8s.io", "networkpolicies") => {
            if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                let empty = spec
                    .get("policyTypes")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty);
                if empty {
                    let egress = spec
                        .get("egress")
                        .and_then(Value::as_array)
                        .is_some_and(|e| !e.is_empty());
                    let types = if egress {
                        json!(["Ingress", "Egress"])
                    } else {
                        json!(["Ingress"])
                    };
                    spec.insert("policyTypes".to_owned(), types);
                }
            }
        }
        _ => {}
    }
}

/// Defaults of a pod template's pod spec at `path`.
fn template_at(object: &mut Value, path: &[&str]) {
    let mut node = object;
    for key in path {
        match node.get_mut(*key) {
            Some(next) => node = next,
            None => return,
        }
    }
    if let Some(spec) = node.get_mut("spec") {
        pod_spec(spec);
    }
}

/// What every pod spec gets, in pods and in templates alike.
fn pod_spec(spec: &mut Value) {
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) {
            for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                if container
                    .get("imagePullPolicy")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .is_empty()
                {
                    let image = container
                        .get("image")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    container.insert("imagePullPolicy".to_owned(), json!(pull_policy(image)));
                }
            }
        }
    }
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for volume in volumes.iter_mut().filter_map(Value::as_object_mut) {
            // A volume naming no source at all is an emptyDir.
            if volume.keys().all(|k| k == "name") {
                volume.insert("emptyDir".to_owned(), json!({}));
            }
        }
    }
}

/// What only pods get, not templates: service links, and requests for
/// what containers limit.
fn pod_only(spec: &mut Value) {
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    spec.entry("enableServiceLinks").or_insert(json!(true));
    for field in ["containers", "initContainers"] {
        let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let Some(limits) = container
                .get("resources")
                .and_then(|r| r.get("limits"))
                .and_then(Value::as_object)
                .cloned()
            else {
                continue;
            };
            let resources = entry_object(container, "resources");
            let requests = entry_object(resources, "requests");
            for (name, quantity) in limits {
                requests.entry(name).or_insert(quantity);
            }
        }
    }
}

/// `Always` for images without a tag or tagged `latest`, else `IfNotPresent`.
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    // A tag follows the last colon after the last slash (a registry port is not a tag).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// A rolling update strategy without parameters gets an empty parameter
/// object, which the schema defaults then fill.
fn rolling_update(object: &mut Value, pointer: &str) {
    let Some(strategy) = object.pointer_mut(pointer).and_then(Value::as_object_mut) else {
        return;
    };
    let rolling = strategy
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(|t| t == "RollingUpdate");
    if rolling {
        strategy.entry("rollingUpdate").or_insert(json!({}));
    }
}

fn labels_from_template(object: &mut Value, selector_too: bool) {
    let Some(template_labels) = object
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    if template_labels.is_empty() {
        return;
    }
    if selector_too
        && let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut)
        && spec
            .get("selector")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
    {
        spec.insert(
            "selector".to_owned(),
            Value::Object(template_labels.clone()),
        );
    }
    let metadata = super::object::metadata_mut(object);
    if metadata
        .get("labels")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty)
    {
        metadata.insert("labels".to_owned(), Value::Object(template_labels));
    }
}

fn job_spec(spec: &mut Map<String, Value>) {
    match (
        spec.contains_key("completions"),
        spec.contains_key("parallelism"),
    ) {
        (false, false) => {
            spec.insert("completions".to_owned(), json!(1));
            spec.insert("parallelism".to_owned(), json!(1));
        }
        (_, false) => {
            spec.insert("parallelism".to_owned(), json!(1));
        }
        _ => {}
    }
    let per_index = spec.contains_key("backoffLimitPerIndex");
    spec.entry("backoffLimit")
        .or_insert(json!(if per_index { i32::MAX } else { 6 }));
    spec.entry("completionMode").or_insert(json!("NonIndexed"));
    spec.entry("suspend").or_insert(json!(false));
    let failure_policy = spec.contains_key("podFailurePolicy");
    spec.entry("podReplacementPolicy")
        .or_insert(json!(if failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        }));
    spec.entry("manualSelector").or_insert(json!(false));
}

fn service_spec(spec: &mut Map<String, Value>) {
    let service_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_owned();
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            let unset = match port.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::String(s)) => s.is_empty(),
                Some(_) => false,
            };
            if unset && let Some(number) = port.get("port").cloned() {
                port.insert("targetPort".to_owned(), number);
            }
        }
    }
    let external = matches!(service_type.as_str(), "NodePort" | "LoadBalancer")
        || spec
            .get("externalIPs")
            .and_then(Value::as_array)
            .is_some_and(|ips| !ips.is_empty());
    if external {
        spec.entry("externalTrafficPolicy")
            .or_insert(json!("Cluster"));
    }
    if service_type != "ExternalName" {
        spec.entry("internalTrafficPolicy")
            .or_insert(json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        spec.entry("allocateLoadBalancerNodePorts")
            .or_insert(json!(true));
    }
    match spec.get("sessionAffinity").and_then(Value::as_str) {
        Some("ClientIP") => {
            let timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.pointer("/clientIP/timeoutSeconds"))
                .is_some();
            if !timeout {
                spec.insert(
                    "sessionAffinityConfig".to_owned(),
                    json!({"clientIP": {"timeoutSeconds": 10800}}),
                );
            }
        }
        _ => {
            spec.remove("sessionAffinityConfig");
        }
    }
}

/// `map[key]` as an object, replacing anything else there.
fn entry_object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key.to_owned()).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("made an object above")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pull_policy_follows_the_tag() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.27", "IfNotPresent"),
            ("registry:5000/team/app", "Always"),
            ("registry:5000/team/app:v2", "IfNotPresent"),
            ("nginx@sha256:abc", "IfNotPresent"),
        ] {
            assert_eq!(pull_policy(image), policy, "{image}");
        }
    }

    #[test]
    fn pods_and_templates_get_their_defaults() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "nginx", "resources": {"limits": {"cpu": "1"}}}], "volumes": [{"name": "scratch"}]}});
        apply("", "pods", &mut pod);
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "1"
        );
        assert_eq!(pod["spec"]["enableServiceLinks"], true);
        assert_eq!(pod["spec"]["volumes"][0]["emptyDir"], json!({}));

        let mut deployment = json!({"spec": {"strategy": {"type": "RollingUpdate"}, "template": {"spec": {"containers": [{"image": "app:v1"}]}}}});
        apply("apps", "deployments", &mut deployment);
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"], json!({}));
        assert!(
            deployment["spec"]["template"]["spec"]
                .get("enableServiceLinks")
                .is_none()
        );
    }

    #[test]
    fn services_jobs_and_namespaces() {
        let mut service = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}});
        apply("", "services", &mut service);
        assert_eq!(service["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(service["spec"]["ports"][1]["targetPort"], "https");
        assert_eq!(service["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(service["spec"]["internalTrafficPolicy"], "Cluster");

        let mut job =
            json!({"spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {}}}});
        apply("batch", "jobs", &mut job);
        assert_eq!(
            (
                job["spec"]["completions"].clone(),
                job["spec"]["parallelism"].clone()
            ),
            (json!(1), json!(1))
        );
        assert_eq!(job["spec"]["backoffLimit"], 6);
        assert_eq!(job["metadata"]["labels"], json!({"app": "x"}));

        let mut namespace = json!({"metadata": {"name": "team"}});
        apply("", "namespaces", &mut namespace);
        assert_eq!(
            namespace["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team"
        );
    }
}
