//! `/version`: the Kubernetes version ferrokube serves the API of, in the
//! shape `kubectl version` reads.

use axum::Json;
use generated::apimachinery::pkg::version::Info;

/// The upstream release whose API surface is generated.
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "36");

/// The version document.
pub fn info() -> Info {
    let (major, minor) = KUBERNETES_VERSION;
    Info {
        major: major.into(),
        minor: minor.into(),
        emulation_major: Some(major.into()),
        emulation_minor: Some(minor.into()),
        min_compatibility_major: Some(major.into()),
        min_compatibility_minor: Some(minor.into()),
        git_version: format!("v{major}.{minor}.0-ferrokube.{}", env!("CARGO_PKG_VERSION")),
        git_commit: String::new(),
        git_tree_state: "clean".into(),
        build_date: String::new(),
        go_version: String::new(),
        compiler: "rustc".into(),
        platform: format!("{}/{}", std::env::consts::OS, go_arch()),
    }
}

/// `GET /version`.
pub async fn get() -> Json<Info> {
    Json(info())
}

/// Go's name for the CPU architecture, as clients expect it in `platform`.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
