//! Reads upstream's OpenAPI v2 document (`swagger.json`): its definitions
//! become model definitions, and its paths tell which resources exist, in
//! which scope, with which verbs and subresources.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::model::{Definition, Gvk, Subresource, Verb};
use crate::schema::Schema;

/// What the paths of the document say about one resource in one group/version.
#[derive(Debug, Default)]
pub struct PathResource {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub kind: Option<String>,
    pub namespaced: bool,
    pub verbs: BTreeSet<Verb>,
    pub subresources: BTreeMap<String, Subresource>,
}

/// Definitions and path-derived resources of a swagger document.
pub struct Swagger {
    pub definitions: BTreeMap<String, Definition>,
    /// Keyed by (group, version, plural).
    pub resources: BTreeMap<(String, String, String), PathResource>,
}

/// Reads a parsed swagger document.
pub fn read(doc: &Value) -> Result<Swagger> {
    let mut definitions = BTreeMap::new();
    let defs = doc
        .get("definitions")
        .and_then(Value::as_object)
        .context("swagger.json has no definitions")?;
    for (name, json) in defs {
        let schema = Schema::from_json(json, "#/definitions/")
            .with_context(|| format!("definition {name}"))?;
        definitions.insert(
            name.clone(),
            Definition {
                name: name.clone(),
                schema,
                gvks: gvks(json.get("x-kubernetes-group-version-kind")),
                proto_fields: BTreeMap::new(),
            },
        );
    }

    let mut resources = BTreeMap::new();
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .context("swagger.json has no paths")?;
    for (path, item) in paths {
        let Some(route) = Route::parse(path) else {
            continue;
        };
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(action) = op.get("x-kubernetes-action").and_then(Value::as_str) else {
                continue;
            };
            let op_gvk = gvks(op.get("x-kubernetes-group-version-kind"))
                .into_iter()
                .next();
            let key = (
                route.group.clone(),
                route.version.clone(),
                route.plural.clone(),
            );
            let resource = resources.entry(key).or_insert_with(|| PathResource {
                group: route.group.clone(),
                version: route.version.clone(),
                plural: route.plural.clone(),
                ..PathResource::default()
            });
            resource.namespaced |= route.namespaced;
            let verb = verb_of(action, method);
            match &route.subresource {
                None => {
                    if resource.kind.is_none() && matches!(action, "get" | "post" | "put" | "list")
                    {
                        resource.kind = op_gvk.map(|g| g.kind);
                    }
                    resource.verbs.extend(verb);
                }
                Some(name) => {
                    let sub = resource
                        .subresources
                        .entry(name.clone())
                        .or_insert_with(|| Subresource {
                            name: name.clone(),
                            kind: op_gvk.clone(),
                            verbs: BTreeSet::new(),
                            connect: action == "connect",
                        });
                    sub.verbs.extend(verb);
                }
            }
        }
    }
    Ok(Swagger {
        definitions,
        resources,
    })
}

/// The verb an operation grants, by its action and HTTP method.
fn verb_of(action: &str, method: &str) -> Option<Verb> {
    Some(match action {
        "get" => Verb::Get,
        "list" => Verb::List,
        "watch" | "watchlist" => Verb::Watch,
        "post" => Verb::Create,
        "put" => Verb::Update,
        "patch" => Verb::Patch,
        "delete" => Verb::Delete,
        "deletecollection" => Verb::DeleteCollection,
        // Streaming subresources are authorized by HTTP method.
        "connect" => match method {
            "get" | "head" | "options" => Verb::Get,
            "post" => Verb::Create,
            "put" => Verb::Update,
            "patch" => Verb::Patch,
            "delete" => Verb::Delete,
            _ => return None,
        },
        _ => return None,
    })
}

/// A REST path taken apart.
#[derive(Debug, PartialEq)]
struct Route {
    group: String,
    version: String,
    plural: String,
    namespaced: bool,
    subresource: Option<String>,
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (group, version, rest) = match segments.as_slice() {
            ["api", version, rest @ ..] => ("", *version, rest),
            ["apis", group, version, rest @ ..] => (*group, *version, rest),
            _ => return None,
        };
        let rest = match rest {
            ["watch", rest @ ..] => rest,
            _ => rest,
        };
        let (namespaced, rest) = match rest {
            ["namespaces", "{namespace}", rest @ ..] if !rest.is_empty() => (true, rest),
            _ => (false, rest),
        };
        let (plural, subresource) = match rest {
            [plural] | [plural, "{name}"] => (*plural, None),
            [plural, "{name}", sub, ..] => (*plural, Some(sub.to_string())),
            _ => return None,
        };
        if plural.is_empty() || plural.starts_with('{') {
            return None;
        }
        Some(Route {
            group: group.to_owned(),
            version: version.to_owned(),
            plural: plural.to_owned(),
            namespaced,
            subresource,
        })
    }
}

/// The kinds upstream's document gives the streaming (connect) operations,
/// by resource and subresource.
const CONNECT_KINDS: &[(&str, &str, &str)] = &[
    ("pods", "attach", "PodAttachOptions"),
    ("pods", "exec", "PodExecOptions"),
    ("pods", "portforward", "PodPortForwardOptions"),
    ("pods", "proxy", "PodProxyOptions"),
    ("nodes", "proxy", "NodeProxyOptions"),
    ("services", "proxy", "ServiceProxyOptions"),
];

/// Undoes the one edit the specs README records: the copy of swagger.json
/// renamed the kinds of connect operations to their parent kind (Pod,
/// Node, Service), which kube-apiserver never does. Clients tell
/// operations apart by that kind (kubectl looks for a kind's PATCH
/// operation to learn whether it supports `fieldValidation`), so the
/// served documents must carry upstream's names.
pub fn restore_connect_kinds(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(route) = Route::parse(path) else {
            continue;
        };
        let Some(sub) = route.subresource.as_deref() else {
            continue;
        };
        let Some((_, _, kind)) = CONNECT_KINDS
            .iter()
            .find(|(plural, name, _)| *plural == route.plural && *name == sub)
        else {
            continue;
        };
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            if op.get("x-kubernetes-action").and_then(Value::as_str) == Some("connect")
                && let Some(gvk) = op.get_mut("x-kubernetes-group-version-kind")
            {
                gvk["kind"] = Value::String((*kind).to_owned());
            }
        }
    }
}

/// Reads an `x-kubernetes-group-version-kind` value (an object or a list).
pub fn gvks(value: Option<&Value>) -> Vec<Gvk> {
    let one = |v: &Value| {
        Some(Gvk {
            group: v.get("group")?.as_str()?.to_owned(),
            version: v.get("version")?.as_str()?.to_owned(),
            kind: v.get("kind")?.as_str()?.to_owned(),
        })
    };
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(single @ Value::Object(_)) => one(single).into_iter().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_taken_apart() {
        let route = Route::parse("/api/v1/namespaces/{namespace}/pods/{name}/log").unwrap();
        assert_eq!(
            (
                route.group.as_str(),
                route.plural.as_str(),
                route.namespaced
            ),
            ("", "pods", true)
        );
        assert_eq!(route.subresource.as_deref(), Some("log"));

        let namespaces = Route::parse("/api/v1/namespaces/{name}/finalize").unwrap();
        assert_eq!(namespaces.plural, "namespaces");
        assert!(!namespaces.namespaced);

        let watch = Route::parse("/apis/apps/v1/watch/namespaces/{namespace}/deployments").unwrap();
        assert!(watch.namespaced);

        let proxy = Route::parse("/api/v1/nodes/{name}/proxy/{path}").unwrap();
        assert_eq!(proxy.subresource.as_deref(), Some("proxy"));

        assert_eq!(Route::parse("/apis/apps/v1/"), None);
        assert_eq!(Route::parse("/version/"), None);
    }
}
