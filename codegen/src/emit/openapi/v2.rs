//! `/openapi/v2`: upstream's swagger.json is kube-apiserver's document for
//! every built-in group, so it is served as read; our own groups add their
//! definitions and the REST paths upstream would publish for them.
//!
//! Those paths are copied from one upstream resource, the exemplar, and
//! renamed: upstream generates every resource's path items from the same
//! code, so a copy has exactly upstream's operations, parameters (by
//! reference to the document's shared `#/parameters/...` entries), content
//! types and responses, and follows upstream when a release adds a
//! parameter. The tests check that copies made for other upstream resources
//! equal upstream's own path items.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use super::{Dialect, definition_value, gvk_value};
use crate::model::{Model, Resource, Verb};

/// The exemplar: namespaced and with both subresources our own groups can
/// declare (status, scale), so every path a resource of ours has exists on
/// it. Cluster-scoped copies drop the namespace from it.
const EXEMPLAR: (&str, &str, &str) = ("apps", "v1", "deployments");

/// Upstream's document plus our own groups' definitions and paths.
pub fn document(model: &Model) -> Result<Value> {
    let upstream = &model.upstream_openapi;
    let upstream_definitions = section(upstream, "definitions")?;
    let exemplar = exemplar(model)?;

    let mut definitions = Map::new();
    for def in model
        .definitions
        .values()
        .filter(|d| !upstream_definitions.contains_key(&d.name))
    {
        definitions.insert(def.name.clone(), definition_value(def, Dialect::V2));
    }

    let upstream_paths = section(upstream, "paths")?;
    let mut paths = BTreeMap::new();
    for resource in &model.resources {
        let root = api_root(&resource.gvk.group, &resource.gvk.version);
        if upstream_paths.contains_key(&collection_path(resource)) {
            continue;
        }
        // A resource of ours in an upstream group keeps upstream's roots.
        for (path, item) in root_paths(upstream, exemplar, resource)? {
            if !upstream_paths.contains_key(&path) {
                paths.entry(path).or_insert(item);
            }
        }
        for (path, item) in resource_paths(upstream, exemplar, resource)? {
            if paths.insert(path.clone(), item).is_some() {
                bail!("{path} is synthesized twice (under {root})");
            }
        }
    }

    let mut doc = upstream.clone();
    let obj = doc
        .as_object_mut()
        .context("swagger.json is not an object")?;
    for (key, additions) in [
        ("definitions", definitions),
        ("paths", paths.into_iter().collect()),
    ] {
        let section = obj
            .get_mut(key)
            .and_then(Value::as_object_mut)
            .with_context(|| format!("swagger.json has no {key}"))?;
        for (name, value) in additions {
            if section.contains_key(&name) {
                // Upstream paths are skipped above and own definitions are
                // filtered, so this is an own group reusing upstream's name.
                bail!("{key} {name} is both upstream's and our own");
            }
            section.insert(name, value);
        }
    }
    Ok(doc)
}

/// The exemplar resource from the model.
pub fn exemplar(model: &Model) -> Result<&Resource> {
    let (group, version, plural) = EXEMPLAR;
    model
        .resources
        .iter()
        .find(|r| r.gvk.group == group && r.gvk.version == version && r.plural == plural)
        .with_context(|| format!("the exemplar {group}/{version} {plural} is not served"))
}

/// A top-level object of the document.
fn section<'a>(doc: &'a Value, key: &str) -> Result<&'a Map<String, Value>> {
    doc.get(key)
        .and_then(Value::as_object)
        .with_context(|| format!("swagger.json has no {key}"))
}

/// `/api/v1/` or `/apis/<group>/<version>/`.
fn api_root(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}/")
    } else {
        format!("/apis/{group}/{version}/")
    }
}

fn collection_path(resource: &Resource) -> String {
    let root = api_root(&resource.gvk.group, &resource.gvk.version);
    if resource.namespaced {
        format!("{root}namespaces/{{namespace}}/{}", resource.plural)
    } else {
        format!("{root}{}", resource.plural)
    }
}

/// The names upstream derives from a group/version for operation IDs and
/// tags (apiserver `GetOperationIDAndTags`): `AppsV1`/`apps_v1` and
/// `Apps`/`apps`; `.k8s.io` is dropped and the core group is `core`.
#[derive(Debug)]
struct Names {
    group_id: String,
    group_tag: String,
    version_id: String,
    version_tag: String,
}

impl Names {
    fn new(group: &str, version: &str) -> Names {
        let group = match group {
            "" => "core",
            g => g.strip_suffix(".k8s.io").unwrap_or(g),
        };
        let group_tag = operation_id_part(group, false);
        Names {
            group_id: operation_id_part(group, true),
            version_id: format!(
                "{}{}",
                operation_id_part(group, true),
                operation_id_part(version, true)
            ),
            version_tag: format!("{group_tag}_{}", operation_id_part(version, false)),
            group_tag,
        }
    }
}

/// Upstream's `ToValidOperationID`: keeps letters, `_` and (not first)
/// digits; a dropped character capitalizes the next kept one.
fn operation_id_part(s: &str, capitalize_first: bool) -> String {
    let mut out = String::new();
    let mut capitalize = capitalize_first;
    for (i, c) in s.chars().enumerate() {
        if c.is_alphabetic() || c == '_' || (i != 0 && c.is_ascii_digit()) {
            if capitalize {
                out.extend(c.to_uppercase());
                capitalize = false;
            } else {
                out.push(c);
            }
        } else {
            capitalize = true;
        }
    }
    out
}

/// Upstream's `GetArticleForNoun` with spaces: " a ", " an ", or " " for
/// plural-looking kinds (`Endpoints`).
fn article(noun: &str) -> &'static str {
    if noun.ends_with('s') && !noun.ends_with("ss") {
        " "
    } else if noun
        .chars()
        .next()
        .is_some_and(|c| "aeiou".contains(c.to_ascii_lowercase()))
    {
        " an "
    } else {
        " a "
    }
}

/// Replaces the exemplar's kind in a description, fixing the article
/// ("create a Deployment" -> "create an Ingress").
fn with_kind(text: &str, from: &str, to: &str) -> String {
    text.replace(
        &format!("{}{from}", article(from)),
        &format!("{}{to}", article(to)),
    )
    .replace(from, to)
}

/// The verb an operation needs, by its `x-kubernetes-action`.
fn verb_of(action: &str) -> Option<Verb> {
    Some(match action {
        "get" => Verb::Get,
        "list" => Verb::List,
        "watch" | "watchlist" => Verb::Watch,
        "post" => Verb::Create,
        "put" => Verb::Update,
        "patch" => Verb::Patch,
        "delete" => Verb::Delete,
        "deletecollection" => Verb::DeleteCollection,
        _ => return None,
    })
}

/// How a path below an API root names a resource: its plural, its
/// subresource, and whether it spans all namespaces.
#[derive(Debug, PartialEq)]
struct ResourcePath<'a> {
    segments: Vec<&'a str>,
    plural: &'a str,
    subresource: Option<&'a str>,
    all_namespaces: bool,
}

impl ResourcePath<'_> {
    fn parse(rest: &str) -> Option<ResourcePath<'_>> {
        let segments: Vec<&str> = rest.split('/').collect();
        let mut core = segments
            .iter()
            .filter(|s| !matches!(**s, "watch" | "namespaces" | "{namespace}"));
        let plural = *core.next()?;
        if plural.is_empty() {
            return None;
        }
        let subresource = core.nth(1).copied();
        Some(ResourcePath {
            all_namespaces: !segments.contains(&"namespaces"),
            segments,
            plural,
            subresource,
        })
    }
}

/// The group (`/apis/<group>/`) and version (`/apis/<group>/<version>/`)
/// discovery paths for `target`, copied from the exemplar's.
fn root_paths(doc: &Value, exemplar: &Resource, target: &Resource) -> Result<Vec<(String, Value)>> {
    let (from, to) = (
        Names::new(&exemplar.gvk.group, &exemplar.gvk.version),
        Names::new(&target.gvk.group, &target.gvk.version),
    );
    let paths = section(doc, "paths")?;
    let mut out = Vec::new();
    let version_root = api_root(&exemplar.gvk.group, &exemplar.gvk.version);
    let mut roots = vec![(
        version_root,
        api_root(&target.gvk.group, &target.gvk.version),
        (from.version_id.as_str(), to.version_id.as_str()),
        (from.version_tag.as_str(), to.version_tag.as_str()),
    )];
    if !target.gvk.group.is_empty() {
        roots.push((
            format!("/apis/{}/", exemplar.gvk.group),
            format!("/apis/{}/", target.gvk.group),
            (from.group_id.as_str(), to.group_id.as_str()),
            (from.group_tag.as_str(), to.group_tag.as_str()),
        ));
    }
    for (from_path, to_path, ids, tags) in roots {
        let item = paths
            .get(&from_path)
            .and_then(Value::as_object)
            .with_context(|| format!("upstream has no {from_path}"))?;
        let mut item = item.clone();
        for op in item.values_mut().filter_map(Value::as_object_mut) {
            rename_operation(op, ids, tags, str::to_owned)?;
        }
        out.push((to_path, Value::Object(item)));
    }
    Ok(out)
}

/// Replaces the exemplar's operation ID infix and tag with the target's;
/// `rest` rewrites what follows the infix (the kind and scope).
fn rename_operation(
    op: &mut Map<String, Value>,
    (from_id, to_id): (&str, &str),
    (from_tag, to_tag): (&str, &str),
    rest: impl Fn(&str) -> String,
) -> Result<()> {
    if let Some(Value::String(id)) = op.get_mut("operationId") {
        let (verb, after) = id
            .split_once(from_id)
            .with_context(|| format!("operation {id} does not contain {from_id}"))?;
        *id = format!("{verb}{to_id}{}", rest(after));
    }
    if let Some(Value::Array(tags)) = op.get_mut("tags") {
        for tag in tags.iter_mut().filter(|t| t.as_str() == Some(from_tag)) {
            *tag = json!(to_tag);
        }
    }
    Ok(())
}

/// Every path item upstream would publish for `target`, copied from the
/// exemplar's: only the operations its verbs allow, only its subresources,
/// and without the namespace when it is cluster-scoped.
fn resource_paths(
    doc: &Value,
    exemplar: &Resource,
    target: &Resource,
) -> Result<BTreeMap<String, Value>> {
    for sub in &target.subresources {
        if !exemplar.subresources.iter().any(|s| s.name == sub.name) {
            bail!(
                "{}/{}: subresource {} has no upstream exemplar to copy",
                target.gvk.api_version(),
                target.plural,
                sub.name
            );
        }
    }
    let renamer = Renamer::new(doc, exemplar, target)?;
    let from_root = api_root(&exemplar.gvk.group, &exemplar.gvk.version);
    let to_root = api_root(&target.gvk.group, &target.gvk.version);
    let mut out = BTreeMap::new();
    for (path, item) in section(doc, "paths")? {
        let Some(parsed) = path.strip_prefix(&from_root).and_then(ResourcePath::parse) else {
            continue;
        };
        if parsed.plural != exemplar.plural || (parsed.all_namespaces && !target.namespaced) {
            continue;
        }
        let verbs = match parsed.subresource {
            None => &target.verbs,
            Some(name) => match target.subresources.iter().find(|s| s.name == name) {
                Some(sub) => &sub.verbs,
                None => continue,
            },
        };
        let segments: Vec<&str> = parsed
            .segments
            .iter()
            .filter(|s| target.namespaced || !matches!(**s, "namespaces" | "{namespace}"))
            .map(|s| {
                if *s == exemplar.plural {
                    target.plural.as_str()
                } else {
                    s
                }
            })
            .collect();
        let item = item
            .as_object()
            .with_context(|| format!("path {path} is not an object"))?;
        let mut copied = Map::new();
        for (key, value) in item {
            if key == "parameters" {
                copied.insert(key.clone(), renamer.parameters(value)?);
                continue;
            }
            let verb = value
                .get("x-kubernetes-action")
                .and_then(Value::as_str)
                .and_then(verb_of);
            if verb.is_some_and(|v| !verbs.contains(&v)) {
                continue;
            }
            copied.insert(key.clone(), renamer.operation(value)?);
        }
        if copied.keys().any(|k| k != "parameters") {
            out.insert(
                format!("{to_root}{}", segments.join("/")),
                Value::Object(copied),
            );
        }
    }
    Ok(out)
}

/// Renames the parts of an exemplar path item that name its resource.
struct Renamer<'a> {
    shared_parameters: &'a Map<String, Value>,
    from: &'a Resource,
    to: &'a Resource,
    ids: (String, String),
    tags: (String, String),
    gvk: Value,
}

impl<'a> Renamer<'a> {
    fn new(doc: &'a Value, from: &'a Resource, to: &'a Resource) -> Result<Renamer<'a>> {
        let (f, t) = (
            Names::new(&from.gvk.group, &from.gvk.version),
            Names::new(&to.gvk.group, &to.gvk.version),
        );
        Ok(Renamer {
            shared_parameters: section(doc, "parameters")?,
            from,
            to,
            ids: (f.version_id, t.version_id),
            tags: (f.version_tag, t.version_tag),
            gvk: gvk_value(&from.gvk),
        })
    }

    fn operation(&self, op: &Value) -> Result<Value> {
        let mut op = op
            .as_object()
            .context("an operation is not an object")?
            .clone();
        rename_operation(
            &mut op,
            (&self.ids.0, &self.ids.1),
            (&self.tags.0, &self.tags.1),
            |rest| {
                let rest = rest.replace(&self.from.gvk.kind, &self.to.gvk.kind);
                if self.to.namespaced {
                    rest
                } else {
                    rest.replacen("Namespaced", "", 1)
                }
            },
        )?;
        if let Some(Value::String(text)) = op.get_mut("description") {
            *text = with_kind(text, &self.from.gvk.kind, &self.to.gvk.kind);
        }
        if let Some(gvk) = op.get_mut("x-kubernetes-group-version-kind")
            && *gvk == self.gvk
        {
            *gvk = gvk_value(&self.to.gvk);
        }
        if let Some(parameters) = op.get("parameters") {
            let parameters = self.parameters(parameters)?;
            op.insert("parameters".into(), parameters);
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for response in responses.values_mut() {
                if let Some(schema) = response.get_mut("schema") {
                    self.schema(schema);
                }
            }
        }
        Ok(Value::Object(op))
    }

    fn parameters(&self, parameters: &Value) -> Result<Value> {
        let parameters = parameters.as_array().context("parameters are not a list")?;
        let mut out = Vec::new();
        for parameter in parameters {
            let resolved = resolve(self.shared_parameters, parameter)?;
            let field = |key: &str| resolved.get(key).and_then(Value::as_str);
            if !self.to.namespaced
                && field("in") == Some("path")
                && field("name") == Some("namespace")
            {
                continue;
            }
            let mut parameter = parameter.clone();
            if field("in") == Some("path")
                && field("name") == Some("name")
                && let Some(Value::String(text)) = parameter.get_mut("description")
            {
                *text = with_kind(text, &self.from.gvk.kind, &self.to.gvk.kind);
            }
            if let Some(schema) = parameter.get_mut("schema") {
                self.schema(schema);
            }
            out.push(parameter);
        }
        Ok(Value::Array(out))
    }

    /// Points references to the exemplar's kind (and its list) at the target's.
    fn schema(&self, schema: &mut Value) {
        let Some(Value::String(reference)) = schema.get_mut("$ref") else {
            return;
        };
        let kind = format!("#/definitions/{}", self.from.definition);
        if let Some(suffix) = reference.strip_prefix(&kind)
            && (suffix.is_empty() || suffix == "List")
        {
            *reference = format!("#/definitions/{}{suffix}", self.to.definition);
        }
    }
}

/// A parameter, or the shared one its `$ref` names.
pub fn resolve<'a>(shared: &'a Map<String, Value>, parameter: &'a Value) -> Result<&'a Value> {
    match parameter.get("$ref").and_then(Value::as_str) {
        None => Ok(parameter),
        Some(reference) => reference
            .strip_prefix("#/parameters/")
            .and_then(|name| shared.get(name))
            .with_context(|| format!("parameter {reference} does not resolve")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::model;
    use super::*;

    fn resource<'a>(model: &'a Model, group: &str, version: &str, plural: &str) -> &'a Resource {
        model
            .resources
            .iter()
            .find(|r| r.gvk.group == group && r.gvk.version == version && r.plural == plural)
            .unwrap_or_else(|| panic!("{group}/{version} {plural} is served"))
    }

    /// Copies of the exemplar made for other upstream resources are
    /// upstream's own path items for them: namespaced and cluster-scoped,
    /// with and without status and scale, "a" and "an" kinds.
    #[test]
    fn copies_for_upstream_resources_equal_upstream() {
        let model = model();
        let doc = &model.upstream_openapi;
        let exemplar = exemplar(model).unwrap();
        let upstream_paths = section(doc, "paths").unwrap();
        for (group, version, plural) in [
            ("batch", "v1", "cronjobs"),
            ("apps", "v1", "statefulsets"),
            ("networking.k8s.io", "v1", "ingresses"),
            ("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
            ("apiregistration.k8s.io", "v1", "apiservices"),
            ("rbac.authorization.k8s.io", "v1", "clusterroles"),
            ("coordination.k8s.io", "v1", "leases"),
        ] {
            let target = resource(model, group, version, plural);
            let copied = resource_paths(doc, exemplar, target).unwrap();
            let root = api_root(group, version);
            let expected: BTreeMap<&String, &Value> = upstream_paths
                .iter()
                .filter(|(path, _)| {
                    path.strip_prefix(&root)
                        .and_then(ResourcePath::parse)
                        .is_some_and(|p| p.plural == plural)
                })
                .collect();
            assert_eq!(
                copied.keys().collect::<Vec<_>>(),
                expected.keys().copied().collect::<Vec<_>>(),
                "paths of {plural}"
            );
            for (path, item) in &copied {
                assert_eq!(Some(item), expected.get(path).copied(), "{path}");
            }
            for (from, to) in root_paths(doc, exemplar, target).unwrap() {
                assert_eq!(Some(&to), upstream_paths.get(&from), "{from}");
            }
        }
    }

    #[test]
    fn names_follow_upstream() {
        let names = Names::new("example.ferrokube.dev", "v1");
        assert_eq!(names.version_id, "ExampleFerrokubeDevV1");
        assert_eq!(names.version_tag, "exampleFerrokubeDev_v1");
        assert_eq!(names.group_id, "ExampleFerrokubeDev");
        assert_eq!(names.group_tag, "exampleFerrokubeDev");
        let rbac = Names::new("rbac.authorization.k8s.io", "v1beta1");
        assert_eq!(rbac.version_id, "RbacAuthorizationV1beta1");
        assert_eq!(Names::new("", "v1").version_tag, "core_v1");
        assert_eq!(
            with_kind("create a Deployment", "Deployment", "Ingress"),
            "create an Ingress"
        );
        assert_eq!(
            with_kind("create a Deployment", "Deployment", "Endpoints"),
            "create Endpoints"
        );
    }

    #[test]
    fn own_widgets_are_published() {
        let doc = document(model()).unwrap();
        let paths = section(&doc, "paths").unwrap();
        let collection = &paths["/apis/example.ferrokube.dev/v1/namespaces/{namespace}/widgets"];
        assert_eq!(
            collection["get"]["operationId"],
            "listExampleFerrokubeDevV1NamespacedWidget"
        );
        assert_eq!(
            collection["post"]["tags"],
            json!(["exampleFerrokubeDev_v1"])
        );
        assert_eq!(
            collection["post"]["parameters"][0]["schema"]["$ref"],
            "#/definitions/dev.ferrokube.example.v1.Widget"
        );
        assert_eq!(
            collection["get"]["responses"]["200"]["schema"]["$ref"],
            "#/definitions/dev.ferrokube.example.v1.WidgetList"
        );
        for path in [
            "/apis/example.ferrokube.dev/",
            "/apis/example.ferrokube.dev/v1/",
            "/apis/example.ferrokube.dev/v1/widgets",
            "/apis/example.ferrokube.dev/v1/watch/widgets",
            "/apis/example.ferrokube.dev/v1/namespaces/{namespace}/widgets/{name}/status",
            "/apis/example.ferrokube.dev/v1/watch/namespaces/{namespace}/widgets/{name}",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
        // Widgets declare no scale subresource.
        assert!(!paths.keys().any(|p| p.contains("widgets/{name}/scale")));
        let definitions = section(&doc, "definitions").unwrap();
        assert_eq!(
            definitions["dev.ferrokube.example.v1.Widget"]["x-kubernetes-group-version-kind"],
            json!([{"group": "example.ferrokube.dev", "kind": "Widget", "version": "v1"}])
        );
        // Every reference in the document resolves.
        let text = doc.to_string();
        for reference in text.split("\"#/definitions/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(definitions.contains_key(name), "{name}");
        }
        for reference in text.split("\"#/parameters/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(section(&doc, "parameters").unwrap().contains_key(name));
        }
    }
}
