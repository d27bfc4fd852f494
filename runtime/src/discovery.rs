//! Discovery documents, built from the route table: `/api`, `/api/v1`,
//! `/apis`, `/apis/<group>`, `/apis/<group>/<version>` and the aggregated
//! form (`apidiscovery.k8s.io/v2`) that kubectl asks for first.
//!
//! Which group/versions are served is the caller's choice (upstream's
//! `--runtime-config`), passed as an [`Enabled`] predicate; everything else
//! comes from `generated::RESOURCES` and `generated::GROUPS`, in upstream's
//! order.

use generated::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, GroupVersionForDiscovery,
    ServerAddressByClientCIDR,
};
use generated::support::meta::{GroupDescriptor, ResourceDescriptor};
use generated::{GROUPS, RESOURCES};

use crate::registry::object::api_version;
use serde_json::{Value, json};

/// Whether a (group, version) is served.
pub type Enabled<'a> = &'a dyn Fn(&str, &str) -> bool;

/// `/api`: the core group's versions and where to reach the server.
pub fn core_versions(enabled: Enabled, server_address: &str) -> APIVersions {
    APIVersions {
        kind: Some("APIVersions".into()),
        versions: core_group()
            .versions
            .iter()
            .filter(|v| enabled("", v))
            .map(|v| v.to_string())
            .collect(),
        server_address_by_client_cidrs: vec![ServerAddressByClientCIDR {
            client_cidr: "0.0.0.0/0".into(),
            server_address: server_address.into(),
        }],
        ..APIVersions::default()
    }
}

/// `/apis`: every named group with its served versions.
pub fn group_list(enabled: Enabled) -> APIGroupList {
    APIGroupList {
        api_version: Some("v1".into()),
        kind: Some("APIGroupList".into()),
        groups: named_groups()
            .filter_map(|g| api_group(g, enabled))
            .collect(),
    }
}

/// `/apis/<group>`, or `None` when no version of it is served.
pub fn group(name: &str, enabled: Enabled) -> Option<APIGroup> {
    let group = named_groups().find(|g| g.name == name)?;
    let mut document = api_group(group, enabled)?;
    document.api_version = Some("v1".into());
    document.kind = Some("APIGroup".into());
    Some(document)
}

/// `/api/v1` or `/apis/<group>/<version>`, or `None` when not served.
pub fn resource_list(group: &str, version: &str, enabled: Enabled) -> Option<APIResourceList> {
    if !enabled(group, version)
        || !RESOURCES
            .iter()
            .any(|r| r.group == group && r.version == version)
    {
        return None;
    }
    let mut resources = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        resources.push(APIResource {
            name: r.plural.into(),
            singular_name: r.singular.into(),
            namespaced: r.namespaced,
            kind: r.kind.into(),
            verbs: r.verbs.iter().map(|v| v.as_str().to_owned()).collect(),
            short_names: non_empty(r.short_names),
            categories: non_empty(r.categories),
            storage_version_hash: r.storage_version_hash.map(str::to_owned),
            ..APIResource::default()
        });
        for sub in r.subresources {
            let kind = sub
                .kind
                .unwrap_or(generated::support::meta::GroupVersionKind {
                    group: r.group,
                    version: r.version,
                    kind: r.kind,
                });
            let foreign = kind.group != r.group || kind.version != r.version;
            resources.push(APIResource {
                name: format!("{}/{}", r.plural, sub.name),
                singular_name: String::new(),
                namespaced: r.namespaced,
                kind: kind.kind.into(),
                group: foreign.then(|| kind.group.to_owned()),
                version: foreign.then(|| kind.version.to_owned()),
                verbs: sub.verbs.iter().map(|v| v.as_str().to_owned()).collect(),
                ..APIResource::default()
            });
        }
    }
    resources.sort_by(|a, b| a.name.cmp(&b.name));
    Some(APIResourceList {
        api_version: (!group.is_empty()).then(|| "v1".into()),
        kind: Some("APIResourceList".into()),
        group_version: api_version(group, version),
        resources,
    })
}

/// The aggregated discovery document (`APIGroupDiscoveryList`,
/// `apidiscovery.k8s.io/v2`) for the core group (`core = true`, served at
/// `/api`) or for every named group (served at `/apis`).
pub fn aggregated(core: bool, enabled: Enabled) -> Value {
    let groups: Vec<&GroupDescriptor> = if core {
        vec![core_group()]
    } else {
        named_groups().collect()
    };
    let items: Vec<Value> = groups
        .into_iter()
        .filter_map(|g| {
            let versions: Vec<Value> = g
                .versions
                .iter()
                .filter(|v| enabled(g.name, v))
                .map(|v| {
                    let resources: Vec<Value> = RESOURCES
                        .iter()
                        .filter(|r| r.group == g.name && r.version == *v)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            if versions.is_empty() {
                return None;
            }
            let metadata = if core {
                json!({})
            } else {
                json!({"name": g.name})
            };
            Some(json!({"metadata": metadata, "versions": versions}))
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn aggregated_resource(r: &ResourceDescriptor) -> Value {
    let mut resource = json!({
        "resource": r.plural,
        "responseKind": {"group": "", "version": "", "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
    });
    if !r.short_names.is_empty() {
        resource["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        resource["categories"] = json!(r.categories);
    }
    if !r.subresources.is_empty() {
        let subresources: Vec<Value> = r
            .subresources
            .iter()
            .map(|sub| {
                // The parent's own group/version is written as empty strings.
                let kind = match sub.kind {
                    Some(k) if k.group != r.group || k.version != r.version => {
                        json!({"group": k.group, "version": k.version, "kind": k.kind})
                    }
                    Some(k) => json!({"group": "", "version": "", "kind": k.kind}),
                    None => json!({"group": "", "version": "", "kind": r.kind}),
                };
                json!({
                    "subresource": sub.name,
                    "responseKind": kind,
                    "verbs": sub.verbs.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect();
        resource["subresources"] = json!(subresources);
    }
    resource
}

fn api_group(group: &GroupDescriptor, enabled: Enabled) -> Option<APIGroup> {
    let versions: Vec<GroupVersionForDiscovery> = group
        .versions
        .iter()
        .filter(|v| enabled(group.name, v))
        .map(|v| GroupVersionForDiscovery {
            group_version: api_version(group.name, v),
            version: v.to_string(),
        })
        .collect();
    let preferred = versions.first()?.clone();
    Some(APIGroup {
        name: group.name.into(),
        versions,
        preferred_version: Some(preferred),
        ..APIGroup::default()
    })
}

fn core_group() -> &'static GroupDescriptor {
    GROUPS
        .iter()
        .find(|g| g.name.is_empty())
        .expect("the core group is generated")
}

fn named_groups() -> impl Iterator<Item = &'static GroupDescriptor> {
    GROUPS.iter().filter(|g| !g.name.is_empty())
}

fn non_empty(items: &[&str]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.iter().map(|s| s.to_string()).collect())
}
