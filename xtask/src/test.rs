//! `cargo xtask test`: the whole suite, as CI and the README run it.
//!
//! Order matters: the system tools the build and the tests need are
//! installed first, because compiling the runtime crate already needs
//! `protoc` (etcd-client generates its gRPC code at build time); only then
//! do formatting, generated code, lints and tests run. This crate itself
//! must not depend on `runtime`, so that it builds on a machine that has
//! nothing but the Rust toolchain.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A program the build or the tests run, and the Debian package that
/// provides it.
struct Prerequisite {
    program: &'static str,
    package: &'static str,
    why: &'static str,
}

const PREREQUISITES: &[Prerequisite] = &[
    Prerequisite {
        program: "protoc",
        package: "protobuf-compiler",
        why: "etcd-client compiles etcd's protobuf definitions",
    },
    Prerequisite {
        program: "etcd",
        package: "etcd-server",
        why: "the etcd storage tests run a real etcd",
    },
];

/// Installs missing prerequisites, checks formatting and generated code,
/// runs clippy, then every test of the workspace; extra arguments go to
/// `cargo test`.
pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    install_prerequisites()?;
    cargo(root, &["fmt", "--all", "--check"])?;
    crate::regenerate(root, &["--check".to_owned()])?;
    cargo(
        root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(root, &args)
}

/// Makes sure every program in [`PREREQUISITES`] is on PATH, installing
/// the missing ones with apt-get (through sudo unless running as root).
pub(crate) fn install_prerequisites() -> Result<()> {
    let missing: Vec<&Prerequisite> = PREREQUISITES.iter().filter(|p| !present(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|p| p.package).collect();
    let reasons: Vec<String> = missing
        .iter()
        .map(|p| format!("{} ({})", p.program, p.why))
        .collect();
    eprintln!(
        "installing {} for: {}",
        packages.join(" "),
        reasons.join(", ")
    );
    let manual = format!(
        "install them yourself (Debian/Ubuntu: `apt-get install {}`) and run `cargo xtask test` again",
        packages.join(" ")
    );
    if find_program("apt-get").is_none() {
        bail!(
            "{} not found and apt-get is not available; {manual}",
            reasons.join(", ")
        );
    }
    let sudo = if running_as_root() {
        None
    } else if find_program("sudo").is_some() {
        Some("sudo")
    } else {
        bail!(
            "installing {} needs root, and sudo is not available; {manual}",
            packages.join(" ")
        );
    };
    eprintln!(
        "installing {} for: {}",
        packages.join(" "),
        reasons.join(", ")
    );
    // One update so that a fresh machine's empty package lists know the
    // packages; then one install for all of them.
    apt_get(sudo, &["update"]).with_context(|| manual.clone())?;
    let mut install = vec!["install", "-y"];
    install.extend(&packages);
    apt_get(sudo, &install).with_context(|| manual.clone())?;
    for prerequisite in &missing {
        if !present(prerequisite) {
            bail!(
                "{} was installed but {} is still not on PATH; {manual}",
                prerequisite.package,
                prerequisite.program
            );
        }
    }
    Ok(())
}

fn apt_get(sudo: Option<&str>, args: &[&str]) -> Result<()> {
    let mut command = match sudo {
        Some(sudo) => {
            let mut command = Command::new(sudo);
            command.arg("apt-get");
            command
        }
        None => Command::new("apt-get"),
    };
    // Never stop at a prompt: CI has no standard input.
    command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    let status = command.status().context("running apt-get")?;
    if !status.success() {
        bail!("apt-get {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Whether this process runs as root (so apt-get needs no sudo).
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether the program is available; prost-build also honours `PROTOC`
/// pointing at a protoc outside PATH.
fn present(prerequisite: &Prerequisite) -> bool {
    if prerequisite.program == "protoc"
        && let Some(protoc) = std::env::var_os("PROTOC")
        && is_executable(Path::new(&protoc))
    {
        return true;
    }
    find_program(prerequisite.program).is_some()
}

/// The executable called `name` in one of PATH's directories.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

pub(crate) fn cargo(root: &Path, args: &[&str]) -> Result<()> {
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
