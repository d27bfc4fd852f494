//! The startup workload: exec the server on an empty data directory and
//! time how long until `/readyz` answers 200, then read its idle memory.
//!
//! The load generator spawns the server itself so that one clock times
//! the whole span, from before `exec` to the first 200.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::client::{Client, tls_config};
use crate::kube::wait_ready;
use crate::stats::Samples;

/// Starts `server` with `args` on `data_dir` (which must not hold a
/// previous server's files), waits for readiness, lets it idle for
/// `settle`, and reports the time to ready and its memory.
pub async fn run(
    server: &Path,
    data_dir: &Path,
    args: &[String],
    settle: Duration,
) -> Result<Value> {
    if data_dir.join("pki").exists() {
        bail!(
            "{} is not empty; startup is measured on a fresh data directory",
            data_dir.display()
        );
    }
    let start = Instant::now();
    let mut child = Command::new(server)
        .arg("--secure-port=0")
        .arg("--bind-address=127.0.0.1")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("running {}", server.display()))?;
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

    let pki = data_dir.join("pki");
    let tls: Arc<rustls::ClientConfig> = tls_config(
        &pki.join("ca.crt"),
        &pki.join("admin.crt"),
        &pki.join("admin.key"),
    )?;
    let client = Client::connect(&url, tls).await?;
    wait_ready(&client, Duration::from_secs(60)).await?;
    let ready = start.elapsed();
    drop(client);

    tokio::time::sleep(settle).await;
    let memory = memory_kib(pid);
    child.kill().await.context("stopping the server")?;

    let mut samples = Samples::default();
    samples.ok(ready);
    let mut extra = Map::new();
    extra.insert(
        "url_printed_ms".into(),
        json!(printed.as_secs_f64() * 1000.0),
    );
    extra.insert("idle_rss_kib".into(), json!(memory.map(|m| m.0)));
    extra.insert("idle_hwm_kib".into(), json!(memory.map(|m| m.1)));
    let mut result = samples.report(ready, extra);
    // One start is not a rate; leave the column empty rather than print
    // the reciprocal of the latency.
    result["throughput"] = Value::Null;
    Ok(result)
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
