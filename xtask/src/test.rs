//! `cargo xtask test`: the whole suite, as CI and the README run it.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Checks that generated code is current, then runs every test of the
/// workspace; extra arguments go to `cargo test`.
pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    crate::regenerate(root, &["--check".to_owned()])?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(root, &args)
}

fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}
