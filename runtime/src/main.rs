//! The `ferrokube` binary.
//!
//! Serving the API over HTTPS is the next step; for now the binary reports
//! the generated route table it will serve, so the README's first command
//! shows what the build contains.

use std::collections::BTreeSet;

fn main() {
    let resources = generated::RESOURCES;
    let group_versions: BTreeSet<String> = resources.iter().map(|r| r.api_version()).collect();
    let kinds: BTreeSet<(&str, &str)> = resources.iter().map(|r| (r.group, r.kind)).collect();
    println!(
        "ferrokube: the generated API surface has {} resources in {} group/versions ({} kinds).",
        resources.len(),
        group_versions.len(),
        kinds.len()
    );
    println!(
        "Serving them over HTTPS (and writing an admin kubeconfig) arrives with the serving issue."
    );
}
