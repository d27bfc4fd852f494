//! The watch workload: M watchers on one namespace's ConfigMaps while a
//! paced writer creates objects there; the figure is delivery latency, from
//! the moment the writer got its 201 to the moment a watcher read the event.
//!
//! Both ends run in this process so that one monotonic clock times them.
//! An event can reach a watcher before the writer has processed its own
//! response; such samples count as zero and are reported as `before_ack`.
//! Latency from sending the write (`p50_from_send_ms`, ...) is reported
//! too: it has no such floor, but includes the write's own latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};

use crate::client::{Client, Pool, excerpt, next_chunk};
use crate::kube::ensure_namespace;
use crate::objects;
use crate::stats::Samples;

/// What one watch run does.
#[derive(Clone, Debug)]
pub struct WatchSpec {
    /// Namespace the objects are written to and watched in.
    pub namespace: String,
    /// Object names are `<prefix>-<n>`; unique per run so that runs never
    /// see each other's events.
    pub prefix: String,
    /// Concurrent watch streams.
    pub watchers: usize,
    /// Objects created while they watch.
    pub writes: u64,
    /// Creations per second the writer aims for.
    pub rate: f64,
    /// Data bytes per ConfigMap.
    pub size: usize,
    /// How long watchers wait for stragglers after the last write.
    pub grace: Duration,
}

/// Watch streams per HTTP/2 connection: the server's limit of concurrent
/// streams (kube-apiserver's default, which ferrokube keeps). A Go client
/// opens another connection when one is full, so thousands of watches
/// from one process arrive over many connections, as here.
const STREAMS_PER_CONNECTION: usize = 100;

/// Runs the workload and returns its result line.
pub async fn run(url: &str, tls: Arc<rustls::ClientConfig>, spec: WatchSpec) -> Result<Value> {
    // The writer has a connection of its own, as a controller would.
    let writer = Client::connect(url, tls.clone()).await?;
    ensure_namespace(&writer, &spec.namespace).await?;
    let path = format!("/api/v1/namespaces/{}/configmaps", spec.namespace);
    let listed = writer
        .expect(
            Method::GET,
            &format!("{path}?limit=1"),
            None,
            &[StatusCode::OK],
        )
        .await?;
    let listed: Value = serde_json::from_slice(&listed).context("the list is not JSON")?;
    let revision = listed["metadata"]["resourceVersion"]
        .as_str()
        .context("the list has no resourceVersion")?
        .to_owned();

    let connections = spec.watchers.div_ceil(STREAMS_PER_CONNECTION).max(1);
    let pool = Pool::connect(url, tls, connections).await?;
    let base = Instant::now();
    let (done_tx, done_rx) = watch::channel::<Option<Instant>>(None);
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<()>>(spec.watchers.max(1));
    let marker = format!("\"name\":\"{}-", spec.prefix);
    let mut watchers = Vec::new();
    for n in 0..spec.watchers {
        let client = pool.get(n / STREAMS_PER_CONNECTION).clone();
        let query = format!("{path}?watch=true&resourceVersion={revision}&timeoutSeconds=900");
        let ready = ready_tx.clone();
        let done = done_rx.clone();
        let marker = marker.clone();
        let writes = spec.writes;
        watchers.push(tokio::spawn(async move {
            watcher(client, query, marker, writes, base, ready, done).await
        }));
    }
    drop(ready_tx);
    for _ in 0..spec.watchers {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(error))) => return Err(error.context("starting a watch")),
            Ok(None) | Err(_) => bail!("the watches did not all start within 60 s"),
        }
    }

    let acks = Arc::new(Stamps::new(spec.writes));
    let write_start = Instant::now();
    let write_errors = write(&writer, &path, &spec, base, acks.clone()).await;
    let write_seconds = write_start.elapsed().as_secs_f64();
    // Watchers stop once they have every event, or `grace` after the
    // last write for the ones that never come.
    let _ = done_tx.send(Some(Instant::now() + spec.grace));

    let mut samples = Samples::default();
    let mut from_send = Samples::default();
    let (mut received, mut before_ack, mut last) = (0u64, 0u64, 0u64);
    for task in watchers {
        let events = match task.await {
            Ok(Ok(events)) => events,
            Ok(Err(error)) => {
                samples.error(format!("{error:#}"));
                continue;
            }
            Err(error) => {
                samples.error(format!("a watcher failed: {error}"));
                continue;
            }
        };
        for (index, at) in events {
            received += 1;
            last = last.max(at);
            let Some((sent, ack)) = acks.get(index) else {
                // An event for a write whose response never came back.
                continue;
            };
            if at < ack {
                before_ack += 1;
            }
            samples.ok(Duration::from_nanos(at.saturating_sub(ack)));
            from_send.ok(Duration::from_nanos(at.saturating_sub(sent)));
        }
    }
    let acked = acks.acknowledged();
    let expected = acked * spec.watchers as u64;
    let start_ns = u64::try_from((write_start - base).as_nanos()).unwrap_or(0);
    let elapsed = Duration::from_nanos(last.saturating_sub(start_ns));
    let mut extra = Map::new();
    extra.insert("watchers".into(), json!(spec.watchers));
    extra.insert("connections".into(), json!(connections));
    extra.insert("writes_acked".into(), json!(acked));
    extra.insert("write_errors".into(), json!(write_errors));
    extra.insert("target_rate".into(), json!(spec.rate));
    extra.insert(
        "write_rate".into(),
        json!(acked as f64 / write_seconds.max(1e-9)),
    );
    extra.insert("events_expected".into(), json!(expected));
    extra.insert(
        "events_lost".into(),
        json!(expected.saturating_sub(received)),
    );
    extra.insert("before_ack".into(), json!(before_ack));
    // The load generator shares the machine's cores with the server.
    extra.insert("loadgen_cpu_s".into(), json!(own_cpu_seconds()));
    let from_send = from_send.report(elapsed, Map::new());
    for field in ["p50_ms", "p99_ms", "p999_ms"] {
        let name = field.replace("_ms", "_from_send_ms");
        extra.insert(name, from_send[field].clone());
    }
    Ok(samples.report(elapsed, extra))
}

/// When each write was sent and acknowledged, in nanoseconds after the
/// run's base instant plus one, so that zero means "not yet".
struct Stamps {
    sent: Vec<AtomicU64>,
    acked: Vec<AtomicU64>,
}

impl Stamps {
    fn new(writes: u64) -> Stamps {
        let zeros = || (0..writes).map(|_| AtomicU64::new(0)).collect();
        Stamps {
            sent: zeros(),
            acked: zeros(),
        }
    }

    fn record(list: &[AtomicU64], index: u64, base: Instant) {
        if let Some(slot) = list.get(index as usize) {
            let at = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
            slot.store(at + 1, Ordering::Relaxed);
        }
    }

    /// When write `index` was sent and acknowledged, if it was.
    fn get(&self, index: u32) -> Option<(u64, u64)> {
        let read = |list: &[AtomicU64]| match list.get(index as usize)?.load(Ordering::Relaxed) {
            0 => None,
            stamp => Some(stamp - 1),
        };
        Some((read(&self.sent)?, read(&self.acked)?))
    }

    fn acknowledged(&self) -> u64 {
        self.acked
            .iter()
            .filter(|stamp| stamp.load(Ordering::Relaxed) != 0)
            .count() as u64
    }
}

/// Creates `spec.writes` ConfigMaps at `spec.rate` per second, stamping
/// when each was sent and acknowledged. Returns the number of failed
/// writes.
async fn write(
    writer: &Client,
    path: &str,
    spec: &WatchSpec,
    base: Instant,
    acks: Arc<Stamps>,
) -> u64 {
    // Several writers in flight so that a slow response does not hold the
    // pace back; each write waits for its slot in the schedule.
    const IN_FLIGHT: u64 = 8;
    let start = Instant::now();
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for lane in 0..IN_FLIGHT {
        let writer = writer.clone();
        let path = path.to_owned();
        let spec = spec.clone();
        let acks = acks.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = lane;
            while n < spec.writes {
                let due = start + Duration::from_secs_f64(n as f64 / spec.rate.max(0.001));
                tokio::time::sleep_until(due.into()).await;
                let body = objects::config_map(
                    &spec.namespace,
                    &format!("{}-{n}", spec.prefix),
                    spec.size,
                );
                Stamps::record(&acks.sent, n, base);
                let result = writer
                    .call(
                        Method::POST,
                        &path,
                        None,
                        Some(Bytes::from(body.to_string())),
                    )
                    .await;
                match result {
                    Ok((StatusCode::CREATED, _)) => Stamps::record(&acks.acked, n, base),
                    Ok((status, body)) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("watch writer: {status}: {}", excerpt(&body));
                    }
                    Err(error) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("watch writer: {error:#}");
                    }
                }
                n += IN_FLIGHT;
            }
        }));
    }
    for task in tasks {
        if task.await.is_err() {
            errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    errors.load(Ordering::Relaxed)
}

/// One watch stream: reports on `ready` once the server accepted it, then
/// collects (object index, nanoseconds after `base`) for every event of
/// this run until it has `writes` of them or `done` says time is up.
async fn watcher(
    client: Client,
    query: String,
    marker: String,
    writes: u64,
    base: Instant,
    ready: mpsc::Sender<Result<()>>,
    mut done: watch::Receiver<Option<Instant>>,
) -> Result<Vec<(u32, u64)>> {
    let response = match client.send(Method::GET, &query, None, None).await {
        Ok(response) if response.status() == StatusCode::OK => response,
        Ok(response) => {
            let status = response.status();
            let _ = ready
                .send(Err(anyhow::anyhow!("GET {query}: {status}")))
                .await;
            bail!("GET {query}: {status}");
        }
        Err(error) => {
            let message = format!("{error:#}");
            let _ = ready.send(Err(error)).await;
            bail!("{message}");
        }
    };
    let _ = ready.send(Ok(())).await;
    let mut body = response.into_body();
    let mut events = Vec::with_capacity(writes as usize);
    let mut pending: Vec<u8> = Vec::new();
    // A run never waits longer than this for its writer.
    let hard_stop = Instant::now() + Duration::from_secs(900);
    while (events.len() as u64) < writes {
        let deadline = (*done.borrow()).unwrap_or(hard_stop);
        let chunk = tokio::select! {
            chunk = next_chunk(&mut body) => chunk,
            _ = tokio::time::sleep_until(deadline.into()) => {
                if done.borrow().is_some() || Instant::now() >= hard_stop {
                    break;
                }
                continue;
            }
            changed = done.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
        };
        let Some(chunk) = chunk else { break };
        let at = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        pending.extend_from_slice(&chunk?);
        let mut consumed = 0;
        while let Some(end) = pending[consumed..].iter().position(|&b| b == b'\n') {
            let line = &pending[consumed..consumed + end];
            consumed += end + 1;
            if let Some(index) = event_index(line, &marker) {
                events.push((index, at));
            } else if contains(line, "\"type\":\"ERROR\"") {
                bail!("the watch ended with an error: {}", excerpt(line));
            }
        }
        pending.drain(..consumed);
    }
    Ok(events)
}

/// User plus system CPU seconds this process has used so far.
fn own_cpu_seconds() -> f64 {
    let used = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    used.tv_sec as f64 + used.tv_nsec as f64 / 1e9
}

/// The `<n>` of a `<prefix>-<n>` object named in an event line.
fn event_index(line: &[u8], marker: &str) -> Option<u32> {
    let text = std::str::from_utf8(line).ok()?;
    let start = text.find(marker)? + marker.len();
    let digits: &str = &text[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn contains(line: &[u8], needle: &str) -> bool {
    std::str::from_utf8(line).is_ok_and(|text| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_object_index() {
        let line = br#"{"object":{"metadata":{"name":"w3-417","namespace":"x"}},"type":"ADDED"}"#;
        assert_eq!(event_index(line, "\"name\":\"w3-"), Some(417));
        assert_eq!(event_index(line, "\"name\":\"w4-"), None);
    }
}
