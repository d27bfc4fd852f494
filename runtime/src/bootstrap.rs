//! What a new cluster has before anyone asks: upstream's system namespaces.

use serde_json::json;

use crate::endpoints::rest::RestState;
use crate::registry::store::WriteOptions;

/// The manager upstream's own writes carry (its User-Agent's first part).
const MANAGER: &str = "kube-apiserver";

/// The namespaces kube-apiserver creates at startup.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the system namespaces that do not exist yet.
pub async fn ensure_namespaces(state: &RestState) -> anyhow::Result<()> {
    let Some(namespaces) = state.registry.namespaces() else {
        return Ok(());
    };
    for name in SYSTEM_NAMESPACES {
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let options = WriteOptions::update(MANAGER, false);
        match state.store.create(namespaces, "", object, &options).await {
            Ok(_) => {}
            Err(error) if error.reason == "AlreadyExists" => {}
            Err(error) => anyhow::bail!("creating namespace {name}: {}", error.message),
        }
    }
    Ok(())
}
