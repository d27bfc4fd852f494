//! `ferrokube-loadgen`: the load generator of `cargo xtask bench`.
//!
//! Each invocation runs one workload against a running ferrokube (HTTP/2
//! over TLS with the admin client certificate) or against etcd directly
//! (the baseline), or against one storage backend opened in-process
//! (`storage`), and prints one JSON line: operations, errors, seconds,
//! throughput, p50/p99/p99.9/max latency in milliseconds, and
//! workload-specific `extra` fields. It runs in a process of its own so
//! that the server's CPU and memory figures are the server's alone.

mod client;
mod etcd;
mod kube;
mod objects;
mod startup;
mod stats;
mod storage;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::client::{Client, Pool, tls_config};
use crate::stats::Budget;

/// Load generator for ferrokube's benchmarks (run by `cargo xtask bench`).
#[derive(Parser)]
#[command(name = "ferrokube-loadgen")]
struct Cli {
    #[command(subcommand)]
    command: Workload,
}

/// Where a ferrokube serves and how to authenticate to it.
#[derive(Args, Clone)]
struct Target {
    /// The server's URL, `https://host:port`.
    #[arg(long)]
    url: String,
    /// The cluster CA (`<data-dir>/pki/ca.crt`).
    #[arg(long)]
    ca: PathBuf,
    /// The admin client certificate (`<data-dir>/pki/admin.crt`).
    #[arg(long)]
    cert: PathBuf,
    /// The admin client key (`<data-dir>/pki/admin.key`).
    #[arg(long)]
    key: PathBuf,
    /// HTTP/2 connections to spread requests over [default: one per client].
    #[arg(long)]
    connections: Option<usize>,
}

impl Target {
    async fn pool(&self, clients: usize) -> Result<Pool> {
        let tls = tls_config(&self.ca, &self.cert, &self.key)?;
        Pool::connect(&self.url, tls, self.connections.unwrap_or(clients)).await
    }
}

/// How much load one run applies.
#[derive(Args, Clone, Copy)]
struct Load {
    /// Concurrent clients, each sending its next request when the last
    /// one was answered.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Operations in total.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Seconds after which no new operation starts.
    #[arg(long, default_value_t = 60.0)]
    time_limit: f64,
}

impl Load {
    fn budget(self) -> Budget {
        Budget {
            clients: self.clients,
            count: self.count,
            time_limit: Duration::from_secs_f64(self.time_limit.max(0.0)),
        }
    }
}

/// Names the objects of a run: `<namespace>/<prefix>-<n>`.
#[derive(Args, Clone)]
struct Objects {
    /// Namespace of the objects (created if missing).
    #[arg(long, default_value = "bench")]
    namespace: String,
    /// Object names are `<prefix>-<n>`.
    #[arg(long, default_value = "bench")]
    prefix: String,
}

/// etcd to talk to directly.
#[derive(Args, Clone)]
struct Etcd {
    /// etcd's client URL.
    #[arg(long)]
    endpoint: String,
    /// gRPC channels to spread requests over [default: one per client].
    #[arg(long)]
    connections: Option<usize>,
    /// Keys are `<key-prefix><n>`.
    #[arg(long, default_value = "/bench/")]
    key_prefix: String,
}

#[derive(Subcommand)]
enum Workload {
    /// Wait until `/readyz` answers 200.
    Ready {
        #[command(flatten)]
        target: Target,
    },
    /// Create ConfigMaps.
    Create {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        load: Load,
        #[command(flatten)]
        objects: Objects,
        /// Data bytes per ConfigMap.
        #[arg(long, default_value_t = 1024)]
        size: usize,
    },
    /// Create realistic Pods and set their status (for the list workload).
    SeedPods {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        load: Load,
        #[command(flatten)]
        objects: Objects,
    },
    /// Get random ConfigMaps among `--objects` created ones.
    Get {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        load: Load,
        #[command(flatten)]
        objects: Objects,
        /// How many objects `<prefix>-0..` exist.
        #[arg(long)]
        objects_count: u64,
    },
    /// Read-modify-write random ConfigMaps, retrying on conflicts.
    Update {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        load: Load,
        #[command(flatten)]
        objects: Objects,
        /// How many objects `<prefix>-0..` exist.
        #[arg(long)]
        objects_count: u64,
    },
    /// List a namespace's pods.
    List {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        load: Load,
        #[command(flatten)]
        objects: Objects,
        /// How to list.
        #[arg(long, value_enum)]
        mode: kube::ListMode,
    },
    /// Watchers on ConfigMaps while objects are created; delivery latency.
    Watch {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        objects: Objects,
        /// Concurrent watch streams.
        #[arg(long, default_value_t = 100)]
        watchers: usize,
        /// Objects created while they watch.
        #[arg(long, default_value_t = 1000)]
        writes: u64,
        /// Creations per second.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Data bytes per ConfigMap.
        #[arg(long, default_value_t = 1024)]
        size: usize,
        /// Seconds to wait for missing events after the last write.
        #[arg(long, default_value_t = 10.0)]
        grace: f64,
    },
    /// Start a server on an empty (or seeded) data directory; time until
    /// `/readyz` is 200.
    Startup {
        /// The ferrokube binary.
        #[arg(long)]
        server: PathBuf,
        /// An empty (or absent) data directory for it.
        #[arg(long)]
        data_dir: PathBuf,
        /// The data directory holds a stopped server's files and store.
        #[arg(long)]
        seeded: bool,
        /// ConfigMaps stored in `--namespace`: the time until a cached
        /// list returns them all is measured too.
        #[arg(long, requires = "namespace")]
        objects: Option<u64>,
        /// The namespace of those ConfigMaps.
        #[arg(long)]
        namespace: Option<String>,
        /// Milliseconds to let it idle before reading its memory.
        #[arg(long, default_value_t = 1000)]
        settle_ms: u64,
        /// Further server flags (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// One storage backend (or raw etcd) without the API server: put, get,
    /// range or watch fan-out of 1 KiB values.
    Storage {
        #[arg(long, value_enum)]
        backend: storage::Backend,
        #[arg(long, value_enum)]
        op: storage::Op,
        #[command(flatten)]
        load: Load,
        /// The embedded store's directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// etcd's client URL (etcd backend and raw etcd).
        #[arg(long)]
        endpoint: Option<String>,
        /// Keys are `<key-prefix><n>`, under `/registry/`.
        #[arg(long)]
        key_prefix: String,
        /// Data bytes of the ConfigMap each value holds.
        #[arg(long, default_value_t = 1024)]
        size: usize,
        /// Keys seeded before a get or range run; keys put during a watch run.
        #[arg(long, default_value_t = 1000)]
        keys: u64,
        /// Watchers of a watch run.
        #[arg(long, default_value_t = 100)]
        watchers: usize,
        /// Puts per second during a watch run.
        #[arg(long, default_value_t = 1000.0)]
        rate: f64,
    },
    /// Baseline: put keys into etcd.
    EtcdPut {
        #[command(flatten)]
        etcd: Etcd,
        #[command(flatten)]
        load: Load,
        /// What each value looks like.
        #[arg(long, value_enum, default_value_t = etcd::ValueKind::Configmap)]
        kind: etcd::ValueKind,
        /// Data bytes of a ConfigMap value.
        #[arg(long, default_value_t = 1024)]
        size: usize,
    },
    /// Baseline: get random keys from etcd.
    EtcdGet {
        #[command(flatten)]
        etcd: Etcd,
        #[command(flatten)]
        load: Load,
        /// How many keys `<key-prefix>0..` exist.
        #[arg(long)]
        objects_count: u64,
    },
    /// Baseline: read-modify-write random keys with conflict retry.
    EtcdUpdate {
        #[command(flatten)]
        etcd: Etcd,
        #[command(flatten)]
        load: Load,
        /// How many keys `<key-prefix>0..` exist.
        #[arg(long)]
        objects_count: u64,
        /// Data bytes of the ConfigMap value written.
        #[arg(long, default_value_t = 1024)]
        size: usize,
    },
    /// Baseline: range over every key under the prefix.
    EtcdRange {
        #[command(flatten)]
        etcd: Etcd,
        #[command(flatten)]
        load: Load,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Thousands of watches over a hundred connections, plus the servers
    // the startup workload spawns, need more than the default 1,024 files.
    runtime::limits::raise_open_files();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(result) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(workload: Workload) -> Result<Value> {
    Ok(match workload {
        Workload::Ready { target } => {
            let tls = tls_config(&target.ca, &target.cert, &target.key)?;
            let client = Client::connect(&target.url, tls).await?;
            let waited = kube::wait_ready(&client, Duration::from_secs(60)).await?;
            serde_json::json!({"ready_ms": waited.as_secs_f64() * 1000.0})
        }
        Workload::Create {
            target,
            load,
            objects,
            size,
        } => {
            let pool = target.pool(load.clients).await?;
            kube::ensure_namespace(pool.get(0), &objects.namespace).await?;
            kube::create(pool, objects.namespace, objects.prefix, size, load.budget()).await
        }
        Workload::SeedPods {
            target,
            load,
            objects,
        } => {
            let pool = target.pool(load.clients).await?;
            kube::ensure_namespace(pool.get(0), &objects.namespace).await?;
            kube::seed_pods(pool, objects.namespace, objects.prefix, load.budget()).await
        }
        Workload::Get {
            target,
            load,
            objects,
            objects_count,
        } => {
            let pool = target.pool(load.clients).await?;
            kube::get(
                pool,
                objects.namespace,
                objects.prefix,
                objects_count,
                load.budget(),
            )
            .await
        }
        Workload::Update {
            target,
            load,
            objects,
            objects_count,
        } => {
            let pool = target.pool(load.clients).await?;
            kube::update(
                pool,
                objects.namespace,
                objects.prefix,
                objects_count,
                load.budget(),
            )
            .await
        }
        Workload::List {
            target,
            load,
            objects,
            mode,
        } => {
            let pool = target.pool(load.clients).await?;
            kube::list(pool, objects.namespace, mode, load.budget()).await?
        }
        Workload::Watch {
            target,
            objects,
            watchers,
            writes,
            rate,
            size,
            grace,
        } => {
            let tls = tls_config(&target.ca, &target.cert, &target.key)?;
            let spec = watch::WatchSpec {
                namespace: objects.namespace,
                prefix: objects.prefix,
                watchers,
                writes,
                rate,
                size,
                grace: Duration::from_secs_f64(grace.max(0.0)),
            };
            watch::run(&target.url, tls, spec).await?
        }
        Workload::Startup {
            server,
            data_dir,
            seeded,
            objects,
            namespace,
            settle_ms,
            args,
        } => {
            let spec = startup::StartupSpec {
                server,
                data_dir,
                args,
                seeded,
                stored: objects.zip(namespace),
                settle: Duration::from_millis(settle_ms),
            };
            startup::run(&spec).await?
        }
        Workload::Storage {
            backend,
            op,
            load,
            data_dir,
            endpoint,
            key_prefix,
            size,
            keys,
            watchers,
            rate,
        } => {
            let spec = storage::StorageSpec {
                backend,
                op,
                data_dir,
                endpoint,
                prefix: key_prefix,
                size,
                keys,
                watchers,
                rate,
            };
            storage::run(spec, load.budget()).await?
        }
        Workload::EtcdPut {
            etcd,
            load,
            kind,
            size,
        } => {
            let clients =
                etcd::connect(&etcd.endpoint, etcd.connections.unwrap_or(load.clients)).await?;
            etcd::put(clients, etcd.key_prefix, kind, size, load.budget()).await
        }
        Workload::EtcdGet {
            etcd,
            load,
            objects_count,
        } => {
            let clients =
                etcd::connect(&etcd.endpoint, etcd.connections.unwrap_or(load.clients)).await?;
            etcd::get(clients, etcd.key_prefix, objects_count, load.budget()).await
        }
        Workload::EtcdUpdate {
            etcd,
            load,
            objects_count,
            size,
        } => {
            let clients =
                etcd::connect(&etcd.endpoint, etcd.connections.unwrap_or(load.clients)).await?;
            etcd::update(clients, etcd.key_prefix, objects_count, size, load.budget()).await
        }
        Workload::EtcdRange { etcd, load } => {
            let clients =
                etcd::connect(&etcd.endpoint, etcd.connections.unwrap_or(load.clients)).await?;
            etcd::range(clients, etcd.key_prefix, load.budget()).await?
        }
    })
}
