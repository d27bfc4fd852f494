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
