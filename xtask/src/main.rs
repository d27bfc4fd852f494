//! `cargo xtask`: the project's developer commands.
//!
//! - `regenerate [--check] [--upstream DIR]` rewrites `generated/` from the
//!   specs, or with `--check` fails when it is stale.
//! - `test` installs what the test suite needs when it is missing, then runs
//!   the whole suite; the README and `.ci/run` call this.
//! - `bench [SUITE...] [--quick|--full] [--repeats N] [--no-build]` runs the
//!   performance benchmark against the release binaries and writes
//!   `bench/results/<UTC date-time>.json`; never part of `test`.

mod bench;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("regenerate") => regenerate(&root, &args[1..]),
        Some("test") => test::run(&root, &args[1..]),
        Some("bench") => bench::run(&root, &args[1..]),
        _ => bail!(
            "usage: cargo xtask <command>\n\n\
             commands:\n  \
             regenerate [--check] [--upstream DIR]   rewrite generated/ (or check that it is current)\n  \
             test [ARGS...]                          install test prerequisites and run the whole suite\n  \
             bench [SUITE...] [--full] [--repeats N]  benchmark the release build against raw etcd\n    \
             (SUITE: storage, api, list, watch, startup or all; --no-build reuses the binaries)"
        ),
    }
}

fn regenerate(root: &Path, args: &[String]) -> Result<()> {
    let mut options = codegen::Options::for_workspace(root);
    let mut check = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--upstream" => {
                options.upstream_dir =
                    PathBuf::from(args.next().context("--upstream needs a directory")?);
            }
            other => bail!("unknown argument {other:?} to regenerate"),
        }
    }
    let files = codegen::generate(&options)?;
    let out = root.join("generated");
    if check {
        let differences = codegen::check(&files, &out)?;
        if !differences.is_empty() {
            bail!(
                "generated/ is stale ({} files differ); run `cargo xtask regenerate`:\n  {}",
                differences.len(),
                differences.join("\n  ")
            );
        }
        println!("generated/ is current ({} files)", files.len());
    } else {
        codegen::write(&files, &out)?;
        println!("wrote {} files to generated/", files.len());
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
