//! The storage workloads: put, get, range and watch fan-out against one
//! backend of the [`Storage`] trait opened in this process (memory, the
//! embedded store, ferrokube's etcd backend), or against etcd straight
//! through etcd-client, the baseline. The same keys, values and
//! concurrency go to each, so the ratios show what each backend costs
//! compared with raw etcd, without the API server on top.
//!
//! Both the etcd backend and the raw baseline talk to etcd over one gRPC
//! channel, as the server's etcd backend does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use etcd_client::{Compare, CompareOp, GetOptions, KvClient, Txn, TxnOp, WatchOptions};
use futures::StreamExt;
use futures::stream::BoxStream;
use runtime::storage::embedded::EmbeddedStore;
use runtime::storage::etcd::{EtcdConfig, EtcdStore};
use runtime::storage::memory::MemoryStore;
use runtime::storage::{EventKind, RangeRequest, Storage};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::etcd::{ValueKind, value};
use crate::stats::{Budget, Samples, closed_loop, mix};

/// Which store a run measures.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Backend {
    /// ferrokube's in-memory store.
    Memory,
    /// ferrokube's durable embedded store, in `--data-dir`.
    Embedded,
    /// ferrokube's etcd backend, on the etcd at `--endpoint`.
    Etcd,
    /// etcd itself through etcd-client: the baseline.
    RawEtcd,
}

/// What a run measures.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Op {
    /// Create-if-absent of new keys.
    Put,
    /// Reads of random seeded keys.
    Get,
    /// Reads of every seeded key in one range.
    Range,
    /// Watchers on the prefix while keys are put at a fixed rate.
    Watch,
}

/// Where the store is and what a run does to it.
pub struct StorageSpec {
    pub backend: Backend,
    pub op: Op,
    /// The embedded store's directory.
    pub data_dir: Option<std::path::PathBuf>,
    /// etcd's client URL for the etcd backend and the baseline.
    pub endpoint: Option<String>,
    /// Keys of the run are `<prefix><n>`; under `/registry/` so that the
    /// etcd backend can map them.
    pub prefix: String,
    /// Value bytes of the ConfigMap data in each value.
    pub size: usize,
    /// Keys seeded (unmeasured) before a get or range run.
    pub keys: u64,
    /// Watchers of a watch run.
    pub watchers: usize,
    /// Puts per second during a watch run.
    pub rate: f64,
}

/// A store as the workloads see it.
#[derive(Clone)]
enum Store {
    Trait(Arc<dyn Storage>),
    Raw(Arc<etcd_client::Client>),
}

impl Store {
    async fn open(spec: &StorageSpec) -> Result<Store> {
        let endpoint = || spec.endpoint.clone().context("--endpoint is required");
        Ok(match spec.backend {
            Backend::Memory => Store::Trait(Arc::new(MemoryStore::new())),
            Backend::Embedded => {
                let dir = spec.data_dir.clone().context("--data-dir is required")?;
                let store = tokio::task::spawn_blocking(move || EmbeddedStore::open(dir)).await??;
                Store::Trait(Arc::new(store))
            }
            Backend::Etcd => {
                let config = EtcdConfig {
                    endpoints: vec![endpoint()?],
                    prefix: "/bench-store".to_owned(),
                    ..EtcdConfig::default()
                };
                Store::Trait(Arc::new(EtcdStore::connect(config).await?))
            }
            Backend::RawEtcd => {
                let endpoint = endpoint()?;
                let client = etcd_client::Client::connect([&endpoint], None)
                    .await
                    .with_context(|| format!("connecting to etcd at {endpoint}"))?;
                Store::Raw(Arc::new(client))
            }
        })
    }

    /// etcd keys of the baseline live under a root of their own.
    fn raw_key(key: &str) -> String {
        format!("/bench-raw-store{key}")
    }

    fn raw_kv(client: &etcd_client::Client) -> KvClient {
        client.kv_client().max_decoding_message_size(1 << 30)
    }

    /// Creates `key`; fails if it exists.
    async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        match self {
            Store::Trait(store) => {
                store.create(key, value).await?;
            }
            Store::Raw(client) => {
                let key = Store::raw_key(key);
                let txn = Txn::new()
                    .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                    .and_then([TxnOp::put(key.clone(), value.to_vec(), None)]);
                if !Store::raw_kv(client).txn(txn).await?.succeeded() {
                    bail!("{key} exists already");
                }
            }
        }
        Ok(())
    }

    /// Reads `key`; fails if it is absent.
    async fn get(&self, key: &str) -> Result<()> {
        let found = match self {
            Store::Trait(store) => store.get(key, None).await?.is_some(),
            Store::Raw(client) => {
                let response = Store::raw_kv(client).get(Store::raw_key(key), None).await?;
                !response.kvs().is_empty()
            }
        };
        if !found {
            bail!("{key} does not exist");
        }
        Ok(())
    }

    /// Reads every key under `prefix`; returns how many and their bytes.
    async fn range(&self, prefix: &str) -> Result<(usize, usize)> {
        Ok(match self {
            Store::Trait(store) => {
                let response = store
                    .range(RangeRequest {
                        prefix: prefix.to_owned(),
                        ..RangeRequest::default()
                    })
                    .await?;
                let bytes = response.kvs.iter().map(|kv| kv.value.len()).sum();
                (response.kvs.len(), bytes)
            }
            Store::Raw(client) => {
                let response = Store::raw_kv(client)
                    .get(
                        Store::raw_key(prefix),
                        Some(GetOptions::new().with_prefix()),
                    )
                    .await?;
                let bytes = response.kvs().iter().map(|kv| kv.value().len()).sum();
                (response.kvs().len(), bytes)
            }
        })
    }

    /// The keys put under `prefix` from now on, as they are delivered.
    async fn watch(&self, prefix: &str) -> Result<BoxStream<'static, Result<Vec<String>>>> {
        Ok(match self {
            Store::Trait(store) => {
                let now = store.current_revision().await?;
                store
                    .watch(prefix, now)
                    .await?
                    .map(|event| {
                        let event = event?;
                        Ok(match event.kind {
                            EventKind::Put => vec![event.kv.key],
                            EventKind::Deleted => Vec::new(),
                        })
                    })
                    .boxed()
            }
            Store::Raw(client) => {
                let stream = client
                    .watch_client()
                    .watch(
                        Store::raw_key(prefix),
                        Some(WatchOptions::new().with_prefix()),
                    )
                    .await?;
                stream
                    .map(|response| {
                        let response = response?;
                        Ok(response
                            .events()
                            .iter()
                            .filter_map(|event| event.kv())
                            .map(|kv| {
                                let key = String::from_utf8_lossy(kv.key());
                                key.trim_start_matches("/bench-raw-store").to_owned()
                            })
                            .collect())
                    })
                    .boxed()
            }
        })
    }
}

/// Runs one storage workload and returns its result line.
pub async fn run(spec: StorageSpec, budget: Budget) -> Result<Value> {
    if !spec.prefix.starts_with("/registry/") || !spec.prefix.ends_with('/') {
        bail!("--key-prefix must start with /registry/ and end with /");
    }
    let store = Store::open(&spec).await?;
    let value_bytes = value_of(&spec).len();
    let mut result = match spec.op {
        Op::Put => put(&store, &spec, budget).await,
        Op::Get => {
            seed(&store, &spec).await?;
            get(&store, &spec, budget).await
        }
        Op::Range => {
            seed(&store, &spec).await?;
            range(&store, &spec, budget).await?
        }
        Op::Watch => watch(&store, &spec).await?,
    };
    result["extra"]["value_bytes"] = json!(value_bytes);
    Ok(result)
}

/// The value every key gets: a stored ConfigMap with `size` data bytes.
/// Built once, so that making values costs the load generator nothing
/// (the store does not look inside them).
fn value_of(spec: &StorageSpec) -> Bytes {
    Bytes::from(value(ValueKind::Configmap, spec.size, 0))
}

async fn put(store: &Store, spec: &StorageSpec, budget: Budget) -> Value {
    let (store, prefix, value) = (store.clone(), spec.prefix.clone(), value_of(spec));
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let store = store.clone();
        let key = format!("{prefix}{n}");
        let value = value.clone();
        async move { store.put(&key, value).await }
    })
    .await;
    samples.report(elapsed, Map::new())
}

/// Puts the `keys` keys a get or range run reads, 32 at a time.
async fn seed(store: &Store, spec: &StorageSpec) -> Result<()> {
    let budget = Budget {
        clients: 32,
        count: spec.keys,
        time_limit: Duration::from_secs(600),
    };
    let result = put(store, spec, budget).await;
    if result["errors"] != 0 || result["ops"] != spec.keys {
        bail!("seeding {} keys failed: {result}", spec.keys);
    }
    Ok(())
}

async fn get(store: &Store, spec: &StorageSpec, budget: Budget) -> Value {
    let (store, prefix, keys) = (store.clone(), spec.prefix.clone(), spec.keys);
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let store = store.clone();
        let key = format!("{prefix}{}", mix(n) % keys.max(1));
        async move { store.get(&key).await }
    })
    .await;
    samples.report(elapsed, Map::new())
}

async fn range(store: &Store, spec: &StorageSpec, budget: Budget) -> Result<Value> {
    let (items, bytes) = store.range(&spec.prefix).await?;
    if items as u64 != spec.keys {
        bail!("the range found {items} keys, {} were seeded", spec.keys);
    }
    let (store, prefix) = (store.clone(), spec.prefix.clone());
    let (samples, elapsed) = closed_loop(budget, move |_| {
        let store = store.clone();
        let prefix = prefix.clone();
        async move {
            let (found, _) = store.range(&prefix).await?;
            if found != items {
                bail!("the range found {found} keys, not {items}");
            }
            Ok(())
        }
    })
    .await;
    Ok(samples.report_reads(elapsed, items, bytes))
}

/// Most puts in flight at once during a watch run.
const WATCH_WRITERS: usize = 32;

/// How long watchers wait for missing events after the last put.
const WATCH_GRACE: Duration = Duration::from_secs(10);

/// `spec.watchers` watchers on the prefix while `spec.keys` keys are put
/// at `spec.rate` per second; latency from a put's acknowledgement to each
/// watcher's receipt (zero when the event arrived first, as counted in
/// `before_ack`), throughput in events delivered per second.
async fn watch(store: &Store, spec: &StorageSpec) -> Result<Value> {
    let base = Instant::now();
    let mut streams = Vec::with_capacity(spec.watchers);
    for _ in 0..spec.watchers {
        streams.push(store.watch(&spec.prefix).await?);
    }
    let acks = Arc::new(
        (0..spec.keys)
            .map(|_| AtomicU64::new(0))
            .collect::<Vec<_>>(),
    );
    let (done_tx, done_rx) = tokio::sync::watch::channel::<Option<Instant>>(None);
    let mut watchers = Vec::new();
    for mut stream in streams {
        let (prefix, keys) = (spec.prefix.clone(), spec.keys);
        let mut done = done_rx.clone();
        watchers.push(tokio::spawn(async move {
            let mut seen: Vec<(u64, u64)> = Vec::with_capacity(keys as usize);
            while (seen.len() as u64) < keys {
                let deadline = *done.borrow();
                let next = match deadline {
                    Some(deadline) => {
                        match tokio::time::timeout_at(deadline.into(), stream.next()).await {
                            Ok(next) => next,
                            Err(_) => break,
                        }
                    }
                    None => tokio::select! {
                        next = stream.next() => next,
                        _ = done.changed() => continue,
                    },
                };
                let Some(batch) = next else {
                    bail!("the watch ended after {} events", seen.len())
                };
                let at = base.elapsed().as_micros() as u64;
                for key in batch? {
                    let index = key.strip_prefix(&prefix).and_then(|n| n.parse().ok());
                    if let Some(index) = index {
                        seen.push((index, at));
                    }
                }
            }
            Ok(seen)
        }));
    }

    let started = Instant::now();
    let writers = Arc::new(Semaphore::new(WATCH_WRITERS));
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / spec.rate.max(1.0)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut puts = Vec::with_capacity(spec.keys as usize);
    let value = value_of(spec);
    for n in 0..spec.keys {
        interval.tick().await;
        let permit = writers.clone().acquire_owned().await?;
        let (store, acks) = (store.clone(), acks.clone());
        let key = format!("{}{n}", spec.prefix);
        let value = value.clone();
        puts.push(tokio::spawn(async move {
            let written = store.put(&key, value).await;
            acks[n as usize].store(base.elapsed().as_micros() as u64, Ordering::Release);
            drop(permit);
            written
        }));
    }
    let mut samples = Samples::default();
    for put in puts {
        if let Err(error) = put.await? {
            samples.error(format!("a put failed: {error:#}"));
        }
    }
    let _ = done_tx.send(Some(Instant::now() + WATCH_GRACE));

    let (mut delivered, mut before_ack, mut last) = (0u64, 0u64, 0u64);
    for watcher in watchers {
        let seen = match watcher.await? {
            Ok(seen) => seen,
            Err(error) => {
                samples.error(format!("{error:#}"));
                continue;
            }
        };
        if (seen.len() as u64) < spec.keys {
            samples.error(format!(
                "a watcher got {} of {} events",
                seen.len(),
                spec.keys
            ));
        }
        for (index, at) in seen {
            let Some(ack) = acks.get(index as usize) else {
                continue;
            };
            let ack = ack.load(Ordering::Acquire);
            if at < ack {
                before_ack += 1;
            }
            samples.ok(Duration::from_micros(at.saturating_sub(ack)));
            delivered += 1;
            last = last.max(at);
        }
    }
    let elapsed = Duration::from_micros(last).saturating_sub(started - base);
    let mut extra = Map::new();
    extra.insert("events".into(), json!(delivered));
    extra.insert("before_ack".into(), json!(before_ack));
    extra.insert("watchers".into(), json!(spec.watchers));
    extra.insert("puts".into(), json!(spec.keys));
    extra.insert("rate".into(), json!(spec.rate));
    Ok(samples.report(elapsed, extra))
}
