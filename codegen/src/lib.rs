//! The ferrokube code generator.
//!
//! [`generate`] reads the upstream Kubernetes specifications (pinned by
//! `specs/kubernetes.toml`) and the project's own declarations in `specs/`,
//! joins them into one [`model::Model`], and emits every file of the
//! `generated` crate. `cargo xtask regenerate` is the only caller that
//! writes; tests read the model directly.
//!
//! The flow: [`inputs`] verifies the upstream files, [`swagger`],
//! [`discovery`] and [`proto`] read them, [`assemble`] joins them into the
//! model, and `emit` turns the model into Rust.

pub mod assemble;
pub mod conversion;
pub mod discovery;
mod emit;
pub mod inputs;
pub mod model;
pub mod overlay;
pub mod own_groups;
pub mod proto;
pub mod schema;
pub mod swagger;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use emit::HEADER;

/// Generated files by path relative to the generated crate's root.
pub type Files = BTreeMap<PathBuf, String>;

/// Where the generator reads from.
#[derive(Clone, Debug)]
pub struct Options {
    /// The project's `specs/` directory.
    pub specs_dir: PathBuf,
    /// The upstream Kubernetes specs (`../shared/specs/kubernetes`).
    pub upstream_dir: PathBuf,
}

impl Options {
    /// The default layout: `specs/` in the workspace, upstream specs from
    /// `$FERROKUBE_UPSTREAM`, else `../shared/specs/kubernetes` beside the
    /// checkout, else the machine-wide `/work/shared/specs/kubernetes` (a
    /// clone made elsewhere, as CI makes one, still finds them).
    pub fn for_workspace(root: &Path) -> Options {
        let beside = root.join("../shared/specs/kubernetes");
        let upstream_dir = match std::env::var_os("FERROKUBE_UPSTREAM") {
            Some(dir) => PathBuf::from(dir),
            None if beside.is_dir() => beside,
            None => PathBuf::from("/work/shared/specs/kubernetes"),
        };
        Options {
            specs_dir: root.join("specs"),
            upstream_dir,
        }
    }
}

/// Reads every input into the model.
pub fn load_model(options: &Options) -> Result<model::Model> {
    let upstream = inputs::Upstream::open(&options.specs_dir, &options.upstream_dir)?;
    let mut upstream_openapi = upstream.json("openapi-v2/swagger.json")?;
    swagger::restore_connect_kinds(&mut upstream_openapi);
    let swagger = swagger::read(&upstream_openapi)?;
    let discovery = discovery::read(
        &upstream.json("discovery/aggregated_v2.json")?,
        &upstream.json("discovery/api__v1.json")?,
    )?;
    let mut protos = proto::ProtoIndex::default();
    for (file, text) in upstream.protos()? {
        protos.add_source(&file, &text)?;
    }

    let mut model = model::Model {
        resources: assemble::resources(&swagger, &discovery)?,
        definitions: swagger.definitions,
        groups: Vec::new(),
        upstream_openapi,
        protos,
    };
    own_groups::add_all(&mut model, &options.specs_dir.join("groups"))?;
    for def in model.definitions.values_mut() {
        if let schema::SchemaKind::Object { properties, .. } = &def.schema.kind {
            def.proto_fields = properties
                .keys()
                .filter_map(|p| Some((p.clone(), model.protos.field_path(&def.name, p)?)))
                .collect();
        }
    }
    let overlays = overlay::read_all(&options.specs_dir.join("overlays"))?;
    let storage_versions = overlay::apply(&mut model, &overlays)?;
    assemble::assign_storage_versions(&mut model, &storage_versions)?;
    assemble::order_groups(&mut model, &discovery);
    model.resources.sort_by(|a, b| {
        (&a.gvk.group, &a.gvk.version, &a.plural).cmp(&(&b.gvk.group, &b.gvk.version, &b.plural))
    });
    Ok(model)
}

/// Every file of the generated crate.
pub fn generate(options: &Options) -> Result<Files> {
    let model = load_model(options)?;
    emit::files(&model)
}

/// Writes `files` under `out_dir`, removing generated files that are no
/// longer produced. Files without the generated header are never touched,
/// except under `openapi/`, which the generator owns.
pub fn write(files: &Files, out_dir: &Path) -> Result<()> {
    for stale in existing_generated(out_dir)? {
        if !files.contains_key(&stale) {
            std::fs::remove_file(out_dir.join(&stale))
                .with_context(|| format!("removing stale {}", stale.display()))?;
        }
    }
    for (path, text) in files {
        let full = out_dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&full, text).with_context(|| format!("writing {}", full.display()))?;
        }
    }
    Ok(())
}

/// Describes how `out_dir` differs from `files`; empty when it is current.
pub fn check(files: &Files, out_dir: &Path) -> Result<Vec<String>> {
    let mut differences = Vec::new();
    for (path, text) in files {
        match std::fs::read_to_string(out_dir.join(path)) {
            Ok(current) if current == *text => {}
            Ok(current) => differences.push(format!(
                "changed: {} ({} lines now, {} lines when regenerated)",
                path.display(),
                current.lines().count(),
                text.lines().count()
            )),
            Err(_) => differences.push(format!("missing: {}", path.display())),
        }
    }
    for path in existing_generated(out_dir)? {
        if !files.contains_key(&path) {
            differences.push(format!("stale: {}", path.display()));
        }
    }
    Ok(differences)
}

/// Files of the generated crate that start with a generated header, and
/// every file under `openapi/` (data files that cannot carry a header, in a
/// directory only the generator writes).
fn existing_generated(out_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let owned = out_dir.join("openapi");
    let mut stack = vec![out_dir.join("src"), owned.clone()];
    if out_dir.join("Cargo.toml").is_file() {
        found.push(PathBuf::from("Cargo.toml"));
    }
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if (path.starts_with(&owned)
                || std::fs::read_to_string(&path).is_ok_and(|t| t.starts_with(HEADER)))
                && let Ok(relative) = path.strip_prefix(out_dir)
            {
                found.push(relative.to_owned());
            }
        }
    }
    Ok(found)
}
