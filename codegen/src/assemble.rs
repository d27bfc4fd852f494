//! Joins the inputs into one model: swagger definitions and paths, discovery
//! names, protobuf field numbers, our own groups and the overlays in specs/.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

use crate::discovery::Discovery;
use crate::model::{Definition, Group, Gvk, Model, Resource, Subresource};
use crate::swagger::Swagger;

/// Turns path-derived resources into model resources, with discovery names.
pub fn resources(swagger: &Swagger, discovery: &Discovery) -> Result<Vec<Resource>> {
    let mut resources = Vec::new();
    for (key, found) in &swagger.resources {
        let kind = found
            .kind
            .clone()
            .with_context(|| format!("resource {key:?} has no kind in its operations"))?;
        let gvk = Gvk {
            group: found.group.clone(),
            version: found.version.clone(),
            kind,
        };
        let definition = definition_of(&swagger.definitions, &gvk)?;
        let discovered = discovery.get(key);
        let subresources = found
            .subresources
            .values()
            .map(|sub| Subresource {
                kind: discovered
                    .and_then(|d| d.subresource_kinds.get(&sub.name).cloned())
                    .or_else(|| sub.kind.clone()),
                ..sub.clone()
            })
            .collect();
        resources.push(Resource {
            plural: found.plural.clone(),
            singular: discovered
                .map(|d| d.singular.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| gvk.kind.to_lowercase()),
            namespaced: found.namespaced,
            verbs: found.verbs.clone(),
            short_names: discovered
                .map(|d| d.short_names.clone())
                .unwrap_or_default(),
            categories: discovered.map(|d| d.categories.clone()).unwrap_or_default(),
            subresources,
            definition,
            storage_version: String::new(),
            field_selectors: Vec::new(),
            printer_columns: Vec::new(),
            gvk,
        });
    }
    Ok(resources)
}

/// The definition whose `x-kubernetes-group-version-kind` names `gvk`.
pub fn definition_of(definitions: &BTreeMap<String, Definition>, gvk: &Gvk) -> Result<String> {
    let mut found = definitions.values().filter(|d| d.gvks.contains(gvk));
    match (found.next(), found.next()) {
        (Some(def), None) => Ok(def.name.clone()),
        (None, _) => bail!("no definition declares {gvk:?}"),
        (Some(a), Some(b)) => bail!("{gvk:?} is declared by both {} and {}", a.name, b.name),
    }
}

/// Rank of a Kubernetes version string: GA over beta over alpha, then by
/// number, as upstream orders versions in discovery.
pub fn version_rank(version: &str) -> (u8, u32, u32) {
    let rest = version.strip_prefix('v').unwrap_or(version);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stability, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stability, major, minor)
}

/// Sets each resource's storage version: the most stable version the group
/// serves it in, unless specs/ names another one.
pub fn assign_storage_versions(
    model: &mut Model,
    overrides: &BTreeMap<String, String>,
) -> Result<()> {
    let mut best: BTreeMap<(String, String), String> = BTreeMap::new();
    for r in &model.resources {
        let key = (r.gvk.group.clone(), r.plural.clone());
        let entry = best.entry(key).or_insert_with(|| r.gvk.version.clone());
        if version_rank(&r.gvk.version) > version_rank(entry) {
            *entry = r.gvk.version.clone();
        }
    }
    for (group_resource, version) in overrides {
        let (group, plural) = split_group_resource(group_resource);
        let slot = best
            .get_mut(&(group.to_owned(), plural.to_owned()))
            .with_context(|| {
                format!("storage version override for unknown resource {group_resource}")
            })?;
        *slot = version.clone();
    }
    for r in &mut model.resources {
        r.storage_version = best[&(r.gvk.group.clone(), r.plural.clone())].clone();
    }
    Ok(())
}

/// Orders the model's groups and versions as upstream discovery does;
/// groups and versions discovery does not know go last, by name and by
/// version stability.
pub fn order_groups(model: &mut Model, discovery: &Discovery) {
    let served = model.group_versions();
    let mut names: Vec<String> = served.iter().map(|(g, _)| g.clone()).collect();
    names.dedup();
    let position = |group: &str| {
        if group.is_empty() {
            return 0;
        }
        discovery
            .group_order
            .iter()
            .position(|(g, _)| g == group)
            .map_or(usize::MAX, |i| i + 1)
    };
    names.sort_by(|a, b| position(a).cmp(&position(b)).then(a.cmp(b)));
    model.groups = names
        .into_iter()
        .map(|name| {
            let known: &[String] = discovery
                .group_order
                .iter()
                .find(|(g, _)| *g == name)
                .map(|(_, v)| v.as_slice())
                .unwrap_or_default();
            let mut versions: Vec<String> = served
                .iter()
                .filter(|(g, _)| *g == name)
                .map(|(_, v)| v.clone())
                .collect();
            versions.sort_by_key(|v| {
                let at = known.iter().position(|k| k == v).unwrap_or(usize::MAX);
                (at, std::cmp::Reverse(version_rank(v)))
            });
            Group { name, versions }
        })
        .collect();
}

/// `deployments.apps` -> ("apps", "deployments"); `pods` -> ("", "pods").
pub fn split_group_resource(group_resource: &str) -> (&str, &str) {
    match group_resource.split_once('.') {
        Some((plural, group)) => (group, plural),
        None => ("", group_resource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_rank_like_upstream() {
        let mut versions = ["v1alpha1", "v1", "v2beta2", "v1beta1", "v2", "v1beta2"];
        versions.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
        assert_eq!(
            versions,
            ["v2", "v1", "v2beta2", "v1beta2", "v1beta1", "v1alpha1"]
        );
    }
}
