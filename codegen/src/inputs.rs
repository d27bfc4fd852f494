//! The upstream specification files and their pinned checksums.
//!
//! Upstream files are never copied into the project; `specs/kubernetes.toml`
//! names each file the generator reads with its SHA256, so a regeneration
//! from a different upstream drop fails loudly instead of quietly changing
//! the API surface.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// `specs/kubernetes.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The upstream Kubernetes release, such as `v1.36.0`.
    pub version: String,
    /// Path relative to the upstream directory -> expected SHA256 (hex).
    pub sha256: BTreeMap<String, String>,
}

/// The verified upstream directory.
pub struct Upstream {
    dir: PathBuf,
    pub manifest: Manifest,
}

impl Upstream {
    /// Reads the manifest in `specs_dir` and checks every file it lists in
    /// `upstream_dir`.
    pub fn open(specs_dir: &Path, upstream_dir: &Path) -> Result<Upstream> {
        let manifest_path = specs_dir.join("kubernetes.toml");
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        let manifest: Manifest = toml::from_str(&text)
            .with_context(|| format!("parsing {}", manifest_path.display()))?;
        let mut mismatches = Vec::new();
        for (file, expected) in &manifest.sha256 {
            let path = upstream_dir.join(file);
            let bytes = std::fs::read(&path).with_context(|| {
                format!(
                    "upstream file {} is missing (is --upstream pointing at the Kubernetes {} specs?)",
                    path.display(),
                    manifest.version
                )
            })?;
            let actual = hex(&Sha256::digest(&bytes));
            if &actual != expected {
                mismatches.push(format!("  {file}: expected {expected}, found {actual}"));
            }
        }
        if !mismatches.is_empty() {
            bail!(
                "upstream files in {} do not match specs/kubernetes.toml (Kubernetes {}):\n{}\n\
                 update specs/kubernetes.toml only if you mean to move to these inputs",
                upstream_dir.display(),
                manifest.version,
                mismatches.join("\n")
            );
        }
        Ok(Upstream {
            dir: upstream_dir.to_owned(),
            manifest,
        })
    }

    /// Path of a pinned file; refuses files the manifest does not pin.
    pub fn file(&self, relative: &str) -> Result<PathBuf> {
        if !self.manifest.sha256.contains_key(relative) {
            bail!("{relative} is read by the generator but not pinned in specs/kubernetes.toml");
        }
        Ok(self.dir.join(relative))
    }

    /// Reads and parses a pinned JSON file.
    pub fn json(&self, relative: &str) -> Result<serde_json::Value> {
        let path = self.file(relative)?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Every pinned `generated.proto` file as (relative path, text).
    pub fn protos(&self) -> Result<Vec<(String, String)>> {
        self.manifest
            .sha256
            .keys()
            .filter(|file| file.starts_with("protos/"))
            .map(|file| {
                let path = self.dir.join(file);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Ok((file.clone(), text))
            })
            .collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
