//! The `ferrokube` binary: parse flags, open the store, serve.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use runtime::config::{Config, StorageKind};
use runtime::server::Server;
use runtime::storage::Storage;
use runtime::storage::embedded::{EmbeddedStore, spawn_compactor};
use runtime::storage::etcd::{EtcdConfig, EtcdStore};
use runtime::storage::memory::MemoryStore;

fn main() -> ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The storage engine's own progress notes are too chatty for info.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new(format!(
                        "{},fjall=warn,lsm_tree=warn",
                        config.log_filter()
                    ))
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    let open_files = runtime::limits::raise_open_files();
    tracing::debug!(?open_files, "open files limit");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let storage = open_storage(&config).await?;
    let server = Server::bind(&config, storage).await?;
    let kubeconfig = config.kubeconfig_path();
    println!("ferrokube is serving the Kubernetes API at {}", server.url);
    println!("Use it with kubectl:");
    println!("  export KUBECONFIG={}", kubeconfig.display());
    println!("  kubectl api-resources");
    server.serve().await
}

async fn open_storage(config: &Config) -> anyhow::Result<Arc<dyn Storage>> {
    if !config.etcd_servers.is_empty() {
        // Start even if etcd is not up yet: /readyz reports not ready until
        // it answers, and requests fail with a 5xx Status meanwhile.
        let store = EtcdStore::connect_lazy(EtcdConfig {
            endpoints: config.etcd_servers.clone(),
            prefix: config.etcd_prefix.clone(),
            ca_file: config.etcd_cafile.clone(),
            cert_file: config.etcd_certfile.clone(),
            key_file: config.etcd_keyfile.clone(),
            ..EtcdConfig::default()
        })
        .await?;
        if let Err(error) = store.health().await {
            tracing::warn!(%error, "etcd is not answering yet; retrying in the background");
        }
        return Ok(Arc::new(store));
    }
    match config.storage {
        StorageKind::Memory => Ok(Arc::new(MemoryStore::new())),
        StorageKind::Embedded => {
            let dir = config.data_dir.join("store");
            let store = tokio::task::spawn_blocking(move || EmbeddedStore::open(&dir))
                .await
                .map_err(|e| anyhow::anyhow!("opening the embedded store: {e}"))??;
            let store = Arc::new(store);
            // Upstream compacts history every five minutes.
            spawn_compactor(store.clone(), Duration::from_secs(300));
            Ok(store)
        }
    }
}
