//! Snapshots of the API surface the model describes. A change to the specs
//! or to the generator that changes what is served shows up here in review.

use std::fmt::Write;
use std::path::Path;

use codegen::model::Model;

fn model() -> Model {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    codegen::load_model(&codegen::Options::for_workspace(&root)).expect("the model loads")
}

/// One line per resource: group/version, plural, kind, scope, verbs,
/// subresources, short names, categories, storage version.
fn route_table(model: &Model) -> String {
    let mut out = String::new();
    for r in &model.resources {
        let verbs: Vec<&str> = r.verbs.iter().map(|v| v.as_str()).collect();
        let subs: Vec<String> = r
            .subresources
            .iter()
            .map(|s| {
                let verbs: Vec<&str> = s.verbs.iter().map(|v| v.as_str()).collect();
                let kind = s.kind.as_ref().map(|k| k.kind.as_str()).unwrap_or("-");
                format!("{}({kind}:{})", s.name, verbs.join(","))
            })
            .collect();
        writeln!(
            out,
            "{} {} {} {} [{}] subresources=[{}] short=[{}] categories=[{}] storage={}",
            r.gvk.api_version(),
            r.plural,
            r.gvk.kind,
            if r.namespaced {
                "Namespaced"
            } else {
                "Cluster"
            },
            verbs.join(","),
            subs.join(" "),
            r.short_names.join(","),
            r.categories.join(","),
            r.storage_version,
        )
        .unwrap();
    }
    out
}

#[test]
fn route_table_snapshot() {
    insta::assert_snapshot!(route_table(&model()));
}

/// Per resource: the Table columns kubectl shows and the extra field selectors.
#[test]
fn printer_columns_and_field_selectors_snapshot() {
    let mut out = String::new();
    for r in model()
        .resources
        .iter()
        .filter(|r| !r.printer_columns.is_empty() || !r.field_selectors.is_empty())
    {
        let columns: Vec<String> = r
            .printer_columns
            .iter()
            .map(|c| {
                let wide = if c.priority > 0 { "(wide)" } else { "" };
                let path = c.json_path.as_deref().unwrap_or("<printer>");
                format!("{}{wide}:{}:{path}", c.name, c.ty)
            })
            .collect();
        let selectors: Vec<&str> = r.field_selectors.iter().map(|f| f.label.as_str()).collect();
        writeln!(
            out,
            "{} {}\n  columns: {}\n  field selectors: {}",
            r.gvk.api_version(),
            r.plural,
            columns.join(" | "),
            selectors.join(", ")
        )
        .unwrap();
    }
    insta::assert_snapshot!(out);
}

/// The verbs derived from swagger paths agree with upstream discovery for
/// every resource discovery lists.
#[test]
fn paths_agree_with_discovery() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let options = codegen::Options::for_workspace(&root);
    let upstream =
        codegen::inputs::Upstream::open(&options.specs_dir, &options.upstream_dir).unwrap();
    let discovery = codegen::discovery::read(
        &upstream.json("discovery/aggregated_v2.json").unwrap(),
        &upstream.json("discovery/api__v1.json").unwrap(),
    )
    .unwrap();
    let model = model();
    let mut compared = 0;
    for r in &model.resources {
        let key = (r.gvk.group.clone(), r.gvk.version.clone(), r.plural.clone());
        let Some(found) = discovery.get(&key) else {
            continue;
        };
        assert_eq!(r.verbs, found.verbs, "verbs of {key:?}");
        compared += 1;
    }
    assert!(compared > 90, "only {compared} resources compared");
}

/// The example group of our own is served from its spec file alone.
#[test]
fn own_example_group_is_served() {
    let model = model();
    let widget = model
        .resources
        .iter()
        .find(|r| r.gvk.group == "example.ferrokube.dev" && r.plural == "widgets")
        .expect("widgets are in the route table");
    assert_eq!(widget.gvk.kind, "Widget");
    assert!(widget.namespaced);
    assert_eq!(widget.short_names, ["wd"]);
    assert!(
        model
            .definitions
            .contains_key(&format!("{}List", widget.definition))
    );
}

/// Per kind served in more than one version: whether each non-storage
/// version converts by rewriting `apiVersion` or needs a hand-written hook,
/// and where the JSON forms differ.
#[test]
fn conversions_snapshot() {
    let mut out = String::new();
    for k in codegen::conversion::kinds(&model()).expect("versions compare") {
        let group = if k.group.is_empty() { "core" } else { &k.group };
        writeln!(
            out,
            "{group} {} storage={} versions=[{}]",
            k.kind,
            k.storage_version,
            k.versions.join(",")
        )
        .unwrap();
        for c in &k.conversions {
            if c.is_identical() {
                writeln!(out, "  {}: identical", c.version).unwrap();
                continue;
            }
            writeln!(out, "  {}: hook {}", c.version, k.hook_name()).unwrap();
            for d in &c.differences {
                writeln!(out, "    {}", d.describe(&c.version, &k.storage_version)).unwrap();
            }
        }
    }
    insta::assert_snapshot!(out);
}

/// Every generated file, generated once for the OpenAPI tests below.
fn generated_files() -> &'static codegen::Files {
    static FILES: std::sync::OnceLock<codegen::Files> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        codegen::generate(&codegen::Options::for_workspace(&root)).expect("generation succeeds")
    })
}

/// The OpenAPI v3 documents the `/openapi/v3` index names, by path
/// (`apis/apps/v1`), each checked against the hash the index gives it.
fn openapi_v3_documents() -> Vec<(String, serde_json::Value)> {
    use sha2::Digest;
    let files = generated_files();
    let index: serde_json::Value =
        serde_json::from_str(&files[Path::new("openapi/v3/index.json")]).unwrap();
    let paths = index["paths"].as_object().expect("the index has paths");
    paths
        .iter()
        .map(|(path, entry)| {
            let file = format!("openapi/v3/{}_openapi.json", path.replace('/', "__"));
            let text = &files[Path::new(&file)];
            let hash: String = sha2::Sha512::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            assert_eq!(
                entry["serverRelativeURL"],
                format!("/openapi/v3/{path}?hash={hash}")
            );
            (path.clone(), serde_json::from_str(text).unwrap())
        })
        .collect()
}

/// The documents served under `/openapi/v3`: one per web service, with the
/// number of paths and schemas each holds.
#[test]
fn openapi_v3_index_snapshot() {
    let mut out = String::new();
    for (path, doc) in openapi_v3_documents() {
        let count = |value: &serde_json::Value| value.as_object().map_or(0, |o| o.len());
        writeln!(
            out,
            "{path} paths={} schemas={}",
            count(&doc["paths"]),
            count(&doc["components"]["schemas"])
        )
        .unwrap();
    }
    insta::assert_snapshot!(out);
}

/// `/openapi/v2` is upstream's document plus our own group's definitions
/// and paths, and every reference in it resolves.
#[test]
fn openapi_v2_publishes_own_groups() {
    let text = &generated_files()[Path::new("openapi/v2.json")];
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let definitions = doc["definitions"].as_object().unwrap();
    for name in ["Widget", "WidgetList", "WidgetSpec", "WidgetStatus"] {
        assert!(
            definitions.contains_key(&format!("dev.ferrokube.example.v1.{name}")),
            "{name}"
        );
    }
    let paths = doc["paths"].as_object().unwrap();
    let widgets = &paths["/apis/example.ferrokube.dev/v1/namespaces/{namespace}/widgets"];
    assert_eq!(
        widgets["get"]["operationId"],
        "listExampleFerrokubeDevV1NamespacedWidget"
    );
    assert_eq!(widgets["get"]["x-kubernetes-action"], "list");
    assert!(
        paths.contains_key("/apis/example.ferrokube.dev/v1/watch/namespaces/{namespace}/widgets")
    );
    let parameters = doc["parameters"].as_object().unwrap();
    for (prefix, section) in [
        ("#/definitions/", definitions),
        ("#/parameters/", parameters),
    ] {
        let needle = format!("\"{prefix}");
        for reference in text.split(needle.as_str()).skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(section.contains_key(name), "{prefix}{name}");
        }
    }
}

/// Every v3 document is an OpenAPI 3.0 document that carries every schema
/// it refers to.
#[test]
fn openapi_v3_documents_are_self_contained() {
    let documents = openapi_v3_documents();
    assert!(
        documents
            .iter()
            .any(|(p, _)| p == "apis/example.ferrokube.dev/v1")
    );
    for (path, doc) in documents {
        let parsed: openapiv3::OpenAPI = serde_json::from_value(doc.clone())
            .unwrap_or_else(|e| panic!("{path} is not an OpenAPI 3 document: {e}"));
        assert_eq!(parsed.openapi, "3.0.0");
        let schemas = doc["components"]["schemas"].as_object();
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let reference = reference.split('"').next().unwrap();
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{path}: $ref {reference} is not to a schema"));
            assert!(
                schemas.is_some_and(|s| s.contains_key(name)),
                "{path}: {name} is missing"
            );
        }
    }
}
