//! The etcd v3 backend: the [`Storage`] trait mapped one to one onto etcd.
//!
//! # Keys
//!
//! Trait keys keep upstream's layout with `/registry` as the logical root;
//! the store replaces that root with the configured prefix (upstream's
//! `--etcd-prefix`, default `/registry`). With the default prefix etcd holds
//! exactly the keys upstream kube-apiserver writes (`/registry/pods/ns/name`);
//! with `--etcd-prefix=/a` the same key is stored as `/a/pods/ns/name`, so
//! several servers can share one etcd. With a non-default prefix, keys
//! outside `/registry` are refused (see [`keys`]).
//!
//! # Semantics
//!
//! - Revisions are etcd's own (an empty cluster starts at revision 1), so
//!   they are shared by everything stored in that etcd, prefixed or not.
//! - create: `Txn(create_revision == 0 → put)`; update:
//!   `Txn(mod_revision == expected ∧ version > 0 → put, else get)`, the `get`
//!   telling `Conflict` (with the actual revision) from `NotFound`; delete
//!   with a precondition likewise.
//! - Reads at a revision, limits, `more` and `count` are etcd's; `remaining`
//!   is etcd's count of the requested key range minus the returned keys.
//!   Reading at `Revision(0)` (before anything was written) reads etcd's
//!   initial revision 1.
//! - Watches are etcd watches from `after + 1` with previous values, one
//!   gRPC stream each. `after` itself must still be readable (like the
//!   memory store), so `watch` fails with `Compacted` up front; etcd's
//!   "compacted" cancellation of a running watch becomes a final
//!   `Compacted` item, and a lost connection, lost leader or closed stream
//!   a final `Unavailable` one. A killed etcd is noticed at once; a peer
//!   that vanishes silently (a partition) within about 15 s of HTTP/2
//!   keepalive.
//! - etcd does not expose its compaction point directly; the store keeps the
//!   highest one it performed or was told about as a lower bound and finds
//!   the exact one by probing reads at past revisions (a binary search,
//!   only on `compacted_revision` and on `Compacted` errors). Before any
//!   compaction it reports `Revision(0)`.
//! - Calls that cannot reach etcd, or get no answer within the request
//!   timeout, fail with `Unavailable`. As with any etcd client, a write
//!   whose answer was lost may still have been applied.
//! - Answers of any size are accepted (gRPC's default limit is 4 MiB); what
//!   etcd accepts per write is its `--max-request-bytes` (1.5 MiB by
//!   default, just too little for upstream's largest objects).

mod errors;
pub mod keys;
mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use etcd_client::proto::{PbKeyValue, PbResponseHeader, PbTxnOpResponse};
use etcd_client::{
    Certificate, Client, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions, Identity,
    KvClient, PutOptions, TlsOptions, Txn, TxnOp, WatchClient, WatchOptions,
};

use self::errors::{Failure, classify, timed_out};
use self::keys::{KeyMap, prefix_end};
use crate::storage::{
    KeyValue, RangeRequest, RangeResponse, Result, Revision, Storage, StorageError, WatchStream,
};

/// How to reach etcd; the fields mirror upstream's `--etcd-*` flags.
#[derive(Clone, Debug)]
pub struct EtcdConfig {
    /// Client URLs (`--etcd-servers`), e.g. `http://127.0.0.1:2379`; use
    /// `https://` URLs together with the TLS files.
    pub endpoints: Vec<String>,
    /// Replaces the `/registry` root of every key (`--etcd-prefix`).
    pub prefix: String,
    /// CA bundle that signed etcd's serving certificate (`--etcd-cafile`);
    /// required for `https://` endpoints, as no system roots are loaded.
    pub ca_file: Option<PathBuf>,
    /// Client certificate for mutual TLS (`--etcd-certfile`).
    pub cert_file: Option<PathBuf>,
    /// Key of the client certificate (`--etcd-keyfile`).
    pub key_file: Option<PathBuf>,
    /// How long [`EtcdStore::connect`] keeps trying to reach etcd, and the
    /// timeout of each TCP/TLS connection attempt.
    pub dial_timeout: Duration,
    /// How long one request may wait for etcd's answer before it fails with
    /// `Unavailable`.
    pub request_timeout: Duration,
}

impl Default for EtcdConfig {
    fn default() -> Self {
        Self {
            endpoints: vec!["http://127.0.0.1:2379".to_owned()],
            prefix: keys::LOGICAL_ROOT.to_owned(),
            ca_file: None,
            cert_file: None,
            key_file: None,
            // Upstream's storagebackend uses a 20 s dial timeout.
            dial_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// A [`Storage`] backed by an etcd v3 cluster. Cloning is cheap and clones
/// share the connection.
#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
    keys: KeyMap,
    request_timeout: Duration,
    /// A lower bound of etcd's compaction point: the highest one this client
    /// performed, was told about, or found.
    compacted_floor: Arc<AtomicU64>,
    endpoints: String,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.endpoints)
            .field("keys", &self.keys)
            .finish()
    }
}

// The largest gRPC message accepted from etcd (upstream: math.MaxInt32).
const MAX_MESSAGE: usize = i32::MAX as usize;

// How long to wait between attempts while etcd is not reachable yet.
const RETRY_INTERVAL: Duration = Duration::from_millis(200);

impl EtcdStore {
    /// Connects and waits until etcd answers, retrying for up to
    /// `dial_timeout`; fails with `Unavailable` naming the endpoints and the
    /// last error when it never does, and with `Internal` when the
    /// configuration itself is unusable (unreadable TLS files, bad URLs).
    pub async fn connect(config: EtcdConfig) -> Result<Self> {
        let deadline = tokio::time::Instant::now() + config.dial_timeout;
        let store = Self::connect_lazy(config.clone()).await?;
        loop {
            // One attempt may not outlast the deadline, whatever the
            // request timeout.
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let attempt = tokio::time::timeout(left, store.health()).await;
            let error = match attempt {
                Ok(Ok(())) => return Ok(store),
                Ok(Err(StorageError::Unavailable(error))) => error,
                Ok(Err(other)) => return Err(other),
                Err(_) => format!("no answer to a health check within {left:?}"),
            };
            if tokio::time::Instant::now() + RETRY_INTERVAL >= deadline {
                return Err(StorageError::Unavailable(format!(
                    "etcd at {} did not answer within {:?}: {error}",
                    store.endpoints, config.dial_timeout
                )));
            }
            tokio::time::sleep(RETRY_INTERVAL).await;
        }
    }

    /// Sets up the client without waiting for etcd: the server can start
    /// and report not-ready through [`Storage::health`] until etcd answers;
    /// every call fails with `Unavailable` meanwhile.
    pub async fn connect_lazy(config: EtcdConfig) -> Result<Self> {
        let endpoints = config.endpoints.join(",");
        let mut options = ConnectOptions::new()
            .with_connect_timeout(config.dial_timeout)
            // HTTP/2 pings notice a peer that vanished without closing the
            // connection (a partition), which would otherwise leave watches
            // silently idle. etcd refuses pings more often than every 5 s
            // and pings without open streams, hence these settings.
            .with_keep_alive(Duration::from_secs(10), Duration::from_secs(5))
            .with_keep_alive_while_idle(false)
            // A member cut off from its cluster must not serve watches that
            // will never see new writes.
            .with_require_leader(true);
        if let Some(tls) = tls_options(&config)? {
            options = options.with_tls(tls);
        }
        let client = Client::connect(&config.endpoints, Some(options))
            .await
            .map_err(|error| {
                StorageError::Internal(format!(
                    "configuring the etcd client for {endpoints}: {error}"
                ))
            })?;
        Ok(Self {
            client,
            keys: KeyMap::new(&config.prefix),
            request_timeout: config.request_timeout,
            compacted_floor: Arc::new(AtomicU64::new(0)),
            endpoints,
        })
    }

    /// A KV client that accepts answers of any size etcd sends: an
    /// unlimited list easily exceeds gRPC's default 4 MiB (upstream's
    /// client lifts the limit the same way).
    fn kv(&self) -> KvClient {
        self.client
            .kv_client()
            .max_decoding_message_size(MAX_MESSAGE)
    }

    /// A watch client without the 4 MiB limit: etcd batches up to 1000
    /// revisions, each with its previous value, into one response.
    fn watcher(&self) -> WatchClient {
        self.client
            .watch_client()
            .max_decoding_message_size(MAX_MESSAGE)
    }

    /// Runs one etcd call under the request timeout.
    async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = std::result::Result<T, etcd_client::Error>>,
    ) -> std::result::Result<T, Failure> {
        match tokio::time::timeout(self.request_timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(classify(error)),
            Err(_) => Err(Failure::Other(timed_out(what, self.request_timeout))),
        }
    }

    /// Turns a failure of a read at `requested` into the trait's error,
    /// looking up the compaction point or current revision it must name.
    async fn read_error(&self, failure: Failure, requested: Revision) -> StorageError {
        match failure {
            Failure::Compacted => match self.find_compacted().await {
                Ok(compacted) => StorageError::Compacted {
                    requested,
                    compacted,
                },
                Err(error) => error,
            },
            Failure::FutureRevision => match self.current_revision().await {
                Ok(current) => StorageError::FutureRevision { requested, current },
                Err(error) => error,
            },
            Failure::Other(error) => error,
        }
    }

    /// Whether etcd can still serve a read at `revision`: `Ok(false)` when it
    /// is compacted; future revisions count as readable (nothing is lost).
    async fn readable(&self, revision: u64) -> Result<bool> {
        let options = GetOptions::new()
            .with_count_only()
            .with_revision(revision_to(Revision(revision)));
        let mut kv = self.kv();
        match self
            .call(
                "a revision probe",
                kv.get(self.keys.probe_key(), Some(options)),
            )
            .await
        {
            Ok(_) | Err(Failure::FutureRevision) => Ok(true),
            Err(Failure::Compacted) => Ok(false),
            Err(Failure::Other(error)) => Err(error),
        }
    }

    /// etcd's compaction point (the oldest readable revision; 0 when etcd
    /// never compacted): the smallest readable revision, found by binary
    /// search between the known lower bound and the current revision.
    async fn find_compacted(&self) -> Result<Revision> {
        let floor = self.compacted_floor.load(Ordering::Relaxed).max(1);
        if self.readable(floor).await? {
            // Revision 1 is etcd's empty initial state: readable means
            // nothing was ever compacted away.
            return Ok(Revision(if floor == 1 { 0 } else { floor }));
        }
        let (mut low, mut high) = (floor, self.current_revision().await?.0.max(floor));
        // Invariant: `low` is compacted, `high` is readable (the current
        // revision always is).
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if self.readable(middle).await? {
                high = middle;
            } else {
                low = middle;
            }
        }
        self.compacted_floor.fetch_max(high, Ordering::Relaxed);
        Ok(Revision(high))
    }

    /// Reads one response's header revision.
    fn header_revision(header: Option<&PbResponseHeader>) -> Result<Revision> {
        let header = header
            .ok_or_else(|| StorageError::Internal("etcd answered without a header".to_owned()))?;
        revision_from(header.revision)
    }

    /// The stored key after a successful put in a transaction that changed
    /// `key` to `value` at `revision`; `created` tells the creation revision
    /// when the put replaced an existing key.
    fn written(key: &str, value: Bytes, revision: Revision, created: Option<Revision>) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value,
            create_revision: created.unwrap_or(revision),
            mod_revision: revision,
        }
    }
}

/// Reads the TLS files named in the configuration.
fn tls_options(config: &EtcdConfig) -> Result<Option<TlsOptions>> {
    let read = |path: &PathBuf, flag: &str| {
        std::fs::read(path).map_err(|error| {
            StorageError::Internal(format!("reading {flag} {}: {error}", path.display()))
        })
    };
    let mut tls = None::<TlsOptions>;
    if let Some(path) = &config.ca_file {
        tls = Some(
            TlsOptions::new().ca_certificate(Certificate::from_pem(read(path, "--etcd-cafile")?)),
        );
    }
    match (&config.cert_file, &config.key_file) {
        (Some(cert), Some(key)) => {
            let identity =
                Identity::from_pem(read(cert, "--etcd-certfile")?, read(key, "--etcd-keyfile")?);
            tls = Some(tls.unwrap_or_default().identity(identity));
        }
        (None, None) => {}
        _ => {
            return Err(StorageError::Internal(
                "--etcd-certfile and --etcd-keyfile must be given together".to_owned(),
            ));
        }
    }
    Ok(tls)
}

/// An etcd revision as the trait's; etcd never sends negative ones.
pub(super) fn revision_from(revision: i64) -> Result<Revision> {
    u64::try_from(revision).map(Revision).map_err(|_| {
        StorageError::Corrupt(format!("etcd reported the negative revision {revision}"))
    })
}

/// A trait revision to read at, in etcd's terms: `Revision(0)` is the state
/// before any write, which is etcd's initial revision 1 (etcd's own 0 means
/// "latest"); revisions beyond `i64::MAX` are in the future either way.
fn revision_to(revision: Revision) -> i64 {
    i64::try_from(revision.0.max(1)).unwrap_or(i64::MAX)
}

/// One etcd key-value as the trait's.
pub(super) fn convert_kv(keys: &KeyMap, kv: PbKeyValue) -> Result<KeyValue> {
    Ok(KeyValue {
        key: keys.from_etcd(&kv.key)?,
        value: Bytes::from(kv.value),
        create_revision: revision_from(kv.create_revision)?,
        mod_revision: revision_from(kv.mod_revision)?,
    })
}

/// The single key-value of a transaction's `get` branch, if the key exists.
fn txn_get(
    keys: &KeyMap,
    responses: Vec<etcd_client::proto::PbResponseOp>,
) -> Result<Option<KeyValue>> {
    for op in responses {
        if let Some(PbTxnOpResponse::ResponseRange(range)) = op.response {
            return range
                .kvs
                .into_iter()
                .next()
                .map(|kv| convert_kv(keys, kv))
                .transpose();
        }
    }
    Ok(None)
}

/// The previous key-value a transaction's put or delete reported.
fn txn_prev(
    keys: &KeyMap,
    responses: Vec<etcd_client::proto::PbResponseOp>,
) -> Result<Option<KeyValue>> {
    for op in responses {
        match op.response {
            Some(PbTxnOpResponse::ResponsePut(put)) => {
                return put.prev_kv.map(|kv| convert_kv(keys, kv)).transpose();
            }
            Some(PbTxnOpResponse::ResponseDeleteRange(delete)) => {
                return delete
                    .prev_kvs
                    .into_iter()
                    .next()
                    .map(|kv| convert_kv(keys, kv))
                    .transpose();
            }
            _ => {}
        }
    }
    Ok(None)
}

#[async_trait::async_trait]
impl Storage for EtcdStore {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>> {
        let physical = self.keys.to_etcd(key)?;
        let mut options = GetOptions::new();
        if let Some(revision) = revision {
            options = options.with_revision(revision_to(revision));
        }
        let mut kv = self.kv();
        match self.call("a get", kv.get(physical, Some(options))).await {
            Ok(response) => response
                .0
                .kvs
                .into_iter()
                .next()
                .map(|kv| convert_kv(&self.keys, kv))
                .transpose(),
            Err(failure) => Err(self.read_error(failure, revision.unwrap_or_default()).await),
        }
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse> {
        let prefix = self.keys.to_etcd(&request.prefix)?;
        let end = prefix_end(&prefix);
        let mut from = match &request.start {
            Some(start) => self.keys.to_etcd(start)?.max(prefix.clone()),
            None => prefix,
        };
        if from.is_empty() {
            // etcd has no empty key; "\0" is the first possible one.
            from = vec![0];
        }
        let mut options = GetOptions::new().with_range(end);
        if let Some(limit) = request.limit.filter(|limit| *limit > 0) {
            options = options.with_limit(i64::try_from(limit).unwrap_or(i64::MAX));
        }
        if let Some(revision) = request.revision {
            options = options.with_revision(revision_to(revision));
        }
        let mut kv = self.kv();
        let response = match self.call("a range read", kv.get(from, Some(options))).await {
            Ok(response) => response.0,
            Err(failure) => {
                return Err(self
                    .read_error(failure, request.revision.unwrap_or_default())
                    .await);
            }
        };
        // etcd's header names its current revision, not the one read at.
        let revision = match request.revision {
            Some(revision) => revision,
            None => Self::header_revision(response.header.as_ref())?,
        };
        let returned = response.kvs.len() as u64;
        let count = u64::try_from(response.count).unwrap_or(0);
        let kvs = response
            .kvs
            .into_iter()
            .map(|kv| convert_kv(&self.keys, kv))
            .collect::<Result<Vec<_>>>()?;
        Ok(RangeResponse {
            kvs,
            revision,
            more: response.more,
            remaining: count.saturating_sub(returned),
        })
    }

    async fn count(&self, prefix: &str) -> Result<u64> {
        let physical = self.keys.to_etcd(prefix)?;
        let end = prefix_end(&physical);
        let from = if physical.is_empty() {
            vec![0]
        } else {
            physical
        };
        let mut kv = self.kv();
        match self
            .call(
                "a count",
                kv.get(
                    from,
                    Some(GetOptions::new().with_range(end).with_count_only()),
                ),
            )
            .await
        {
            Ok(response) => Ok(u64::try_from(response.0.count).unwrap_or(0)),
            Err(failure) => Err(self.read_error(failure, Revision(0)).await),
        }
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        let physical = self.keys.to_etcd(key)?;
        let txn = Txn::new()
            .when([Compare::create_revision(
                physical.clone(),
                CompareOp::Equal,
                0,
            )])
            .and_then([TxnOp::put(physical, value.to_vec(), None)]);
        let mut kv = self.kv();
        let response = self
            .call("a create", kv.txn(txn))
            .await
            .map_err(Failure::into_error)?
            .0;
        if !response.succeeded {
            return Err(StorageError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        let revision = Self::header_revision(response.header.as_ref())?;
        Ok(Self::written(key, value, revision, None))
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue> {
        let physical = self.keys.to_etcd(key)?;
        // An absent key has mod_revision 0 in etcd's comparisons, so the
        // version check keeps `expected == 0` from creating it.
        let txn = Txn::new()
            .when([
                Compare::mod_revision(
                    physical.clone(),
                    CompareOp::Equal,
                    revision_to_compare(expected),
                ),
                Compare::version(physical.clone(), CompareOp::Greater, 0),
            ])
            .and_then([TxnOp::put(
                physical.clone(),
                value.to_vec(),
                Some(PutOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(physical, None)]);
        let mut kv = self.kv();
        let response = self
            .call("an update", kv.txn(txn))
            .await
            .map_err(Failure::into_error)?
            .0;
        if !response.succeeded {
            return Err(match txn_get(&self.keys, response.responses)? {
                Some(actual) => StorageError::Conflict {
                    key: key.to_owned(),
                    expected,
                    actual: actual.mod_revision,
                },
                None => StorageError::NotFound {
                    key: key.to_owned(),
                },
            });
        }
        let revision = Self::header_revision(response.header.as_ref())?;
        let prev = txn_prev(&self.keys, response.responses)?;
        Ok(Self::written(
            key,
            value,
            revision,
            prev.map(|prev| prev.create_revision),
        ))
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)> {
        let physical = self.keys.to_etcd(key)?;
        let delete = TxnOp::delete(physical.clone(), Some(DeleteOptions::new().with_prev_key()));
        let txn = match expected {
            Some(expected) => Txn::new()
                .when([
                    Compare::mod_revision(
                        physical.clone(),
                        CompareOp::Equal,
                        revision_to_compare(expected),
                    ),
                    Compare::version(physical.clone(), CompareOp::Greater, 0),
                ])
                .and_then([delete])
                .or_else([TxnOp::get(physical, None)]),
            None => Txn::new().and_then([delete]),
        };
        let mut kv = self.kv();
        let response = self
            .call("a delete", kv.txn(txn))
            .await
            .map_err(Failure::into_error)?
            .0;
        if !response.succeeded {
            return Err(match (txn_get(&self.keys, response.responses)?, expected) {
                (Some(actual), Some(expected)) => StorageError::Conflict {
                    key: key.to_owned(),
                    expected,
                    actual: actual.mod_revision,
                },
                _ => StorageError::NotFound {
                    key: key.to_owned(),
                },
            });
        }
        let revision = Self::header_revision(response.header.as_ref())?;
        match txn_prev(&self.keys, response.responses)? {
            Some(deleted) => Ok((deleted, revision)),
            None => Err(StorageError::NotFound {
                key: key.to_owned(),
            }),
        }
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        let physical = self.keys.to_etcd(prefix)?;
        // etcd reports a compacted start only asynchronously, on the stream;
        // probing first lets the call itself fail, as the trait asks. The
        // probe reads `after`, not `after + 1`: etcd would serve a watch
        // starting right at its compaction point, but the first event's
        // previous value would already be gone (etcd then sends none, and a
        // replaced key would look created). A compaction racing with this
        // still ends the stream with `Compacted`.
        if !self.readable(after.0).await? {
            let compacted = self.find_compacted().await?;
            return Err(StorageError::Compacted {
                requested: after,
                compacted,
            });
        }
        let start = after.0.saturating_add(1);
        let options = WatchOptions::new()
            .with_start_revision(i64::try_from(start).unwrap_or(i64::MAX))
            .with_prev_key();
        let (key, options) = if physical.is_empty() {
            (vec![0], options.with_range(vec![0]))
        } else {
            (physical, options.with_prefix())
        };
        let mut client = self.watcher();
        let stream = self
            .call("a watch", client.watch(key, Some(options)))
            .await
            .map_err(Failure::into_error)?;
        let mut watch = watch::Watch::new(
            stream,
            self.keys.clone(),
            after,
            self.compacted_floor.clone(),
        );
        match tokio::time::timeout(self.request_timeout, watch.wait_created()).await {
            Ok(Ok(())) => Ok(watch.into_stream()),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(timed_out("a watch", self.request_timeout)),
        }
    }

    async fn current_revision(&self) -> Result<Revision> {
        let mut kv = self.kv();
        let options = GetOptions::new().with_count_only();
        let response = self
            .call(
                "a revision read",
                kv.get(self.keys.probe_key(), Some(options)),
            )
            .await;
        let response = response.map_err(Failure::into_error)?;
        Self::header_revision(response.0.header.as_ref())
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        if revision.0 <= 1 {
            // Nothing precedes etcd's initial revision.
            return Ok(());
        }
        let mut kv = self.kv();
        match self
            .call("a compaction", kv.compact(revision_to(revision), None))
            .await
        {
            Ok(_) => {
                self.compacted_floor
                    .fetch_max(revision.0, Ordering::Relaxed);
                Ok(())
            }
            // Compacting to or below the current compaction point changes
            // nothing; etcd calls that an error, the trait does not.
            Err(Failure::Compacted) => Ok(()),
            Err(failure) => Err(self.read_error(failure, revision).await),
        }
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        self.find_compacted().await
    }

    async fn health(&self) -> Result<()> {
        // A linearizable read goes through the leader: it succeeds only when
        // the cluster has quorum, which is what serving writes needs.
        let mut kv = self.kv();
        let options = GetOptions::new().with_count_only();
        self.call(
            "a health check",
            kv.get(self.keys.probe_key(), Some(options)),
        )
        .await
        .map(|_| ())
        .map_err(Failure::into_error)
    }
}

/// A revision for a transaction comparison; values beyond etcd's range can
/// never match, so any out-of-range value does.
fn revision_to_compare(revision: Revision) -> i64 {
    i64::try_from(revision.0).unwrap_or(-1)
}

impl Failure {
    /// The error for calls that name no revision, where etcd's revision
    /// errors cannot legitimately happen.
    fn into_error(self) -> StorageError {
        match self {
            Failure::Compacted | Failure::FutureRevision => StorageError::Internal(
                "etcd reported a revision error for a call without a revision".to_owned(),
            ),
            Failure::Other(error) => error,
        }
    }
}
