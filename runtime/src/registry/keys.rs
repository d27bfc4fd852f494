//! Where objects live in the store: upstream kube-apiserver's etcd layout,
//! `/registry/<prefix>/<namespace>/<name>` (or `/registry/<prefix>/<name>`
//! for cluster-scoped resources), so that one day ferrokube and
//! kube-apiserver could read each other's data in a shared etcd.

use generated::support::meta::ResourceDescriptor;

/// Resources upstream stores under another prefix than their plural name.
const PREFIX_EXCEPTIONS: &[(&str, &str, &str)] = &[
    ("", "services", "services/specs"),
    ("", "endpoints", "services/endpoints"),
    ("", "nodes", "minions"),
    ("", "replicationcontrollers", "controllers"),
    ("networking.k8s.io", "ingresses", "ingress"),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "apiextensions.k8s.io/customresourcedefinitions",
    ),
    (
        "apiregistration.k8s.io",
        "apiservices",
        "apiregistration.k8s.io/apiservices",
    ),
    // events.k8s.io Events are a view of the core Events.
    ("events.k8s.io", "events", "events"),
];

/// The root every key starts with.
pub const ROOT: &str = "/registry";

/// The key prefix of a resource, without a trailing slash:
/// `/registry/pods`, `/registry/services/specs`.
pub fn resource_prefix(resource: &ResourceDescriptor) -> String {
    let prefix = PREFIX_EXCEPTIONS
        .iter()
        .find(|(group, plural, _)| *group == resource.group && *plural == resource.plural)
        .map(|(_, _, prefix)| (*prefix).to_owned())
        .unwrap_or_else(|| resource.plural.to_owned());
    format!("{ROOT}/{prefix}")
}

/// The prefix to range over for a list: one namespace's objects (with a
/// trailing slash, so `ns` does not match `ns-2`) or all of them.
pub fn list_prefix(resource: &ResourceDescriptor, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if resource.namespaced => format!("{}/{ns}/", resource_prefix(resource)),
        _ => format!("{}/", resource_prefix(resource)),
    }
}

/// The key of one object.
pub fn object_key(resource: &ResourceDescriptor, namespace: &str, name: &str) -> String {
    if resource.namespaced {
        format!("{}/{namespace}/{name}", resource_prefix(resource))
    } else {
        format!("{}/{name}", resource_prefix(resource))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, plural: &str) -> &'static ResourceDescriptor {
        generated::RESOURCES
            .iter()
            .find(|r| r.group == group && r.plural == plural)
            .expect("resource exists")
    }

    #[test]
    fn keys_follow_upstream_layout() {
        assert_eq!(
            object_key(resource("", "pods"), "default", "web"),
            "/registry/pods/default/web"
        );
        assert_eq!(
            object_key(resource("", "services"), "default", "web"),
            "/registry/services/specs/default/web"
        );
        assert_eq!(
            object_key(resource("", "nodes"), "", "n1"),
            "/registry/minions/n1"
        );
        assert_eq!(
            object_key(resource("apps", "deployments"), "ns", "d"),
            "/registry/deployments/ns/d"
        );
        assert_eq!(
            list_prefix(resource("", "configmaps"), Some("a")),
            "/registry/configmaps/a/"
        );
        assert_eq!(
            list_prefix(resource("", "configmaps"), None),
            "/registry/configmaps/"
        );
    }
}
