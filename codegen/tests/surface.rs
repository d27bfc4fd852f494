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
