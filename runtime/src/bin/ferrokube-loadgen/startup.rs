//! The startup workload: exec the server on a data directory and time how
//! long until `/readyz` answers 200, then read its idle memory. On a
//! seeded store it also times how long until the watch cache lists every
//! stored object: `/readyz` does not wait for the caches to fill, and
//! reads in the meantime wait for them.
//!
//! The load generator spawns the server itself so that one clock times
//! the whole span, from before `exec` to the first 200.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::client::{Client, tls_config};
use crate::kube::wait_ready;
use crate::stats::Samples;

/// What one startup run does.
pub struct StartupSpec {
    /// The ferrokube binary.
    pub server: PathBuf,
    pub data_dir: PathBuf,
    /// Further server flags.
    pub args: Vec<String>,
    /// Whether the data directory holds a stopped server's files (else it
    /// must be empty or absent).
    pub seeded: bool,
    /// How many ConfigMaps are stored in which namespace.
    pub stored: Option<(u64, String)>,
    /// Idle time before the memory is read.
    pub settle: Duration,
}

/// Starts the server, waits for readiness (and the full list of stored
/// objects), lets it idle, and reports the times and its memory.
pub async fn run(spec: &StartupSpec) -> Result<Value> {
    let pki = spec.data_dir.join("pki");
    if spec.seeded != pki.exists() {
        bail!(
            "{} {}",
            spec.data_dir.display(),
            if spec.seeded {
                "holds no stopped server's files"
            } else {
                "is not empty; startup is measured on a fresh data directory"
            }
        );
    }
    let start = Instant::now();
    let mut child = Command::new(&spec.server)
        .arg("--secure-port=0")
        .arg("--bind-address=127.0.0.1")
        .arg("--data-dir")
        .arg(&spec.data_dir)
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("running {}", spec.server.display()))?;
    let pid = child.id().context("the server exited at once")?;
    let stdout = child.stdout.take().context("stdout is piped")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("https://")) {
                return Ok(url.to_owned());
            }
        }
        bail!("the server exited without printing its URL")
    })
    .await
    .context("the server printed no URL within 60 s")??;
    let printed = start.elapsed();
    // Keep reading so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let tls: Arc<rustls::ClientConfig> = tls_config(
        &pki.join("ca.crt"),
        &pki.join("admin.crt"),
        &pki.join("admin.key"),
    )?;
    let client = Client::connect(&url, tls).await?;
    wait_ready(&client, Duration::from_secs(60)).await?;
    let ready = start.elapsed();
    let listed = match &spec.stored {
        Some((count, namespace)) => Some(wait_listed(&client, namespace, *count).await?),
        None => None,
    };
    let listed = listed.map(|_| start.elapsed());
    drop(client);

    tokio::time::sleep(spec.settle).await;
    let memory = memory_kib(pid);
    stop(&mut child, pid).await?;

    let mut samples = Samples::default();
    samples.ok(ready);
    let mut extra = Map::new();
    extra.insert(
        "url_printed_ms".into(),
        json!(printed.as_secs_f64() * 1000.0),
    );
    if let Some(listed) = listed {
        extra.insert("all_listed_ms".into(), json!(listed.as_secs_f64() * 1000.0));
    }
    extra.insert("idle_rss_kib".into(), json!(memory.map(|m| m.0)));
    extra.insert("idle_hwm_kib".into(), json!(memory.map(|m| m.1)));
    let mut result = samples.report(ready, extra);
    // One start is not a rate; leave the column empty rather than print
    // the reciprocal of the latency.
    result["throughput"] = Value::Null;
    Ok(result)
}

/// The parts of a list response that say how many objects it holds.
#[derive(Deserialize)]
struct ListCount {
    items: Vec<IgnoredAny>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    remaining_item_count: Option<u64>,
}

/// Waits until a list from the watch cache (`resourceVersion=0`) counts
/// `count` ConfigMaps in `namespace`. One item per page keeps the
/// response small: the count comes from `remainingItemCount`.
async fn wait_listed(client: &Client, namespace: &str, count: u64) -> Result<()> {
    let path = format!("/api/v1/namespaces/{namespace}/configmaps?resourceVersion=0&limit=1");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (status, body) = client.call(Method::GET, &path, None, None).await?;
        if status == StatusCode::OK {
            let list: ListCount =
                serde_json::from_slice(&body).context("the list is not a list")?;
            let listed = list.items.len() as u64 + list.metadata.remaining_item_count.unwrap_or(0);
            if listed >= count {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("the server did not list {count} ConfigMaps within 300 s (last: {status})");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Stops the server with SIGTERM, as an operator would, so that a durable
/// store is closed cleanly for the next start; killed after 30 s.
async fn stop(child: &mut Child, pid: u32) -> Result<()> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .context("the server's process id")?;
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)
        .context("sending SIGTERM to the server")?;
    if tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .is_err()
    {
        child.kill().await.context("killing the server")?;
        bail!("the server did not stop within 30 s of SIGTERM");
    }
    Ok(())
}

/// VmRSS and VmHWM of a process, in KiB.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
