//! The admin kubeconfig written at startup, so that kubectl works at once:
//! `KUBECONFIG=<file> kubectl get namespaces`.

use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::pki::Pki;

/// The kubeconfig text for `server` with the admin client certificate.
pub fn admin(server: &str, pki: &Pki) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: ferrokube
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: admin
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
contexts:
- name: ferrokube
  context:
    cluster: ferrokube
    user: admin
current-context: ferrokube
",
        ca = STANDARD.encode(&pki.ca.cert),
        cert = STANDARD.encode(&pki.admin.cert),
        key = STANDARD.encode(&pki.admin.key),
    )
}

/// Writes the admin kubeconfig, readable by its owner only (it holds a key).
pub fn write_admin(path: &Path, server: &str, pki: &Pki) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(admin(server, pki).as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
