//! The raw etcd baseline: the same number of clients doing the storage
//! operations behind a Kubernetes request, with values of the size
//! ferrokube stores, straight to etcd over gRPC. Ferrokube on etcd can at
//! best approach these figures, so they show what the API layer costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use etcd_client::{Compare, CompareOp, GetOptions, KvClient, Txn, TxnOp};
use serde_json::{Map, Value, json};

use crate::objects;
use crate::stats::{Budget, closed_loop, mix};

/// Large enough for a list of every seeded pod in one answer; gRPC's
/// default of 4 MiB is not.
const MAX_MESSAGE: usize = 1 << 30;

/// What the baseline writes under each key.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ValueKind {
    /// A stored ConfigMap with `--size` bytes of data.
    Configmap,
    /// A stored realistic Pod with its status.
    Pod,
}

/// The value written for object `n`.
pub fn value(kind: ValueKind, size: usize, n: u64) -> Vec<u8> {
    let name = format!("bench-{n}");
    let object = match kind {
        ValueKind::Configmap => objects::config_map("bench", &name, size),
        ValueKind::Pod => {
            let mut pod = objects::pod("bench", &name, n);
            pod["status"] = objects::pod_status(n);
            pod
        }
    };
    objects::as_stored(object, n).to_string().into_bytes()
}

/// `connections` independent gRPC channels to `endpoint`.
pub async fn connect(endpoint: &str, connections: usize) -> Result<Vec<KvClient>> {
    let mut clients = Vec::new();
    for _ in 0..connections.max(1) {
        let client = etcd_client::Client::connect([endpoint], None)
            .await
            .with_context(|| format!("connecting to etcd at {endpoint}"))?;
        clients.push(client.kv_client().max_decoding_message_size(MAX_MESSAGE));
    }
    Ok(clients)
}

/// Creates `budget.count` keys `<prefix><n>`, each as a transaction that
/// succeeds only if the key does not exist yet: what a Kubernetes create
/// asks of etcd.
pub async fn put(
    clients: Vec<KvClient>,
    prefix: String,
    kind: ValueKind,
    size: usize,
    budget: Budget,
) -> Value {
    let bytes = value(kind, size, 0).len();
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let mut client = clients[n as usize % clients.len()].clone();
        let key = format!("{prefix}{n}");
        let value = value(kind, size, n);
        async move {
            let txn = Txn::new()
                .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(key.clone(), value, None)]);
            if !client.txn(txn).await?.succeeded() {
                bail!("{key} exists already");
            }
            Ok(())
        }
    })
    .await;
    let mut extra = Map::new();
    extra.insert("value_bytes".into(), json!(bytes));
    samples.report(elapsed, extra)
}

/// Gets random keys among `<prefix>0` .. `<prefix><objects-1>`.
pub async fn get(clients: Vec<KvClient>, prefix: String, objects: u64, budget: Budget) -> Value {
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let mut client = clients[n as usize % clients.len()].clone();
        let key = format!("{prefix}{}", mix(n) % objects.max(1));
        async move {
            let response = client.get(key.clone(), None).await?;
            if response.kvs().is_empty() {
                bail!("{key} does not exist");
            }
            Ok(())
        }
    })
    .await;
    samples.report(elapsed, Map::new())
}

/// Read-modify-write of random keys: get, then a transaction that puts a
/// new value only if the key's mod revision is still the one read,
/// retried when it is not; what a Kubernetes update asks of etcd.
pub async fn update(
    clients: Vec<KvClient>,
    prefix: String,
    objects: u64,
    size: usize,
    budget: Budget,
) -> Value {
    let conflicts = Arc::new(AtomicU64::new(0));
    let counted = conflicts.clone();
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let mut client = clients[n as usize % clients.len()].clone();
        let index = mix(n) % objects.max(1);
        let key = format!("{prefix}{index}");
        let value = value(ValueKind::Configmap, size, index);
        let conflicts = counted.clone();
        async move {
            for _ in 0..100 {
                let read = client.get(key.clone(), None).await?;
                let Some(current) = read.kvs().first() else {
                    bail!("{key} does not exist");
                };
                let txn = Txn::new()
                    .when([Compare::mod_revision(
                        key.clone(),
                        CompareOp::Equal,
                        current.mod_revision(),
                    )])
                    .and_then([TxnOp::put(key.clone(), value.clone(), None)]);
                if client.txn(txn).await?.succeeded() {
                    return Ok(());
                }
                conflicts.fetch_add(1, Ordering::Relaxed);
            }
            bail!("{key}: still conflicting after 100 attempts")
        }
    })
    .await;
    let mut extra = Map::new();
    extra.insert("conflicts".into(), json!(conflicts.load(Ordering::Relaxed)));
    samples.report(elapsed, extra)
}

/// Ranges over every key under `prefix`, as listing a resource does.
pub async fn range(clients: Vec<KvClient>, prefix: String, budget: Budget) -> Result<Value> {
    let mut first = clients.first().context("no etcd client")?.clone();
    let all = first
        .get(prefix.clone(), Some(GetOptions::new().with_prefix()))
        .await?;
    let items = all.kvs().len();
    let bytes: usize = all.kvs().iter().map(|kv| kv.value().len()).sum();
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let mut client = clients[n as usize % clients.len()].clone();
        let prefix = prefix.clone();
        async move {
            client
                .get(prefix, Some(GetOptions::new().with_prefix()))
                .await?;
            Ok(())
        }
    })
    .await;
    Ok(samples.report_reads(elapsed, items, bytes))
}
