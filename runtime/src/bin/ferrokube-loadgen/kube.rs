//! Request workloads against ferrokube's REST API: create, seed, get,
//! update (read-modify-write) and list.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::client::{Client, Pool, TABLE, excerpt};
use crate::objects;
use crate::stats::{Budget, closed_loop, mix};

/// Creates the namespace unless it exists.
pub async fn ensure_namespace(client: &Client, name: &str) -> Result<()> {
    client
        .expect(
            Method::POST,
            "/api/v1/namespaces",
            Some(objects::namespace(name)),
            &[StatusCode::CREATED, StatusCode::CONFLICT],
        )
        .await
        .map(drop)
}

/// The collection path of a namespaced core/v1 resource.
fn collection(namespace: &str, resource: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/{resource}")
}

/// Creates `budget.count` ConfigMaps named `<prefix>-<n>` with `size`
/// bytes of data.
pub async fn create(
    pool: Pool,
    namespace: String,
    prefix: String,
    size: usize,
    budget: Budget,
) -> Value {
    let path = collection(&namespace, "configmaps");
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let client = pool.get(n as usize).clone();
        let body = objects::config_map(&namespace, &format!("{prefix}-{n}"), size);
        let path = path.clone();
        async move {
            client
                .expect(
                    Method::POST,
                    &path,
                    Some(Bytes::from(body.to_string())),
                    &[StatusCode::CREATED],
                )
                .await
                .map(drop)
        }
    })
    .await;
    let mut extra = Map::new();
    extra.insert("value_bytes".into(), json!(size));
    samples.report(elapsed, extra)
}

/// Creates `budget.count` realistic Pods named `<prefix>-<n>` and writes
/// each one's running status, as a scheduler and kubelet would.
pub async fn seed_pods(pool: Pool, namespace: String, prefix: String, budget: Budget) -> Value {
    let path = collection(&namespace, "pods");
    let pod_bytes = pod_size(&namespace, &prefix);
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let client = pool.get(n as usize).clone();
        let name = format!("{prefix}-{n}");
        let body = objects::pod(&namespace, &name, n);
        let path = path.clone();
        async move {
            let created = client
                .expect(
                    Method::POST,
                    &path,
                    Some(Bytes::from(body.to_string())),
                    &[StatusCode::CREATED],
                )
                .await?;
            let mut pod: Value =
                serde_json::from_slice(&created).context("the created pod is not JSON")?;
            pod["status"] = objects::pod_status(n);
            client
                .expect(
                    Method::PUT,
                    &format!("{path}/{name}/status"),
                    Some(Bytes::from(pod.to_string())),
                    &[StatusCode::OK],
                )
                .await
                .map(drop)
        }
    })
    .await;
    let mut extra = Map::new();
    extra.insert("pod_bytes".into(), json!(pod_bytes));
    samples.report(elapsed, extra)
}

/// The JSON size of a seeded pod with its status, roughly what the store
/// keeps per object (the server adds uid, timestamps, resourceVersion).
pub fn pod_size(namespace: &str, prefix: &str) -> usize {
    let mut pod = objects::pod(namespace, &format!("{prefix}-12345"), 12345);
    pod["status"] = objects::pod_status(12345);
    pod.to_string().len()
}

/// Reads random ConfigMaps among `<prefix>-0` .. `<prefix>-<objects-1>`.
pub async fn get(
    pool: Pool,
    namespace: String,
    prefix: String,
    objects: u64,
    budget: Budget,
) -> Value {
    let path = collection(&namespace, "configmaps");
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let client = pool.get(n as usize).clone();
        let path = format!("{path}/{prefix}-{}", mix(n) % objects.max(1));
        async move {
            client
                .expect(Method::GET, &path, None, &[StatusCode::OK])
                .await
                .map(drop)
        }
    })
    .await;
    samples.report(elapsed, Map::new())
}

/// Read-modify-write of random ConfigMaps: GET, change the data, PUT with
/// the resourceVersion read; on 409 Conflict start over, as controllers
/// do. One operation's latency includes its retries.
pub async fn update(
    pool: Pool,
    namespace: String,
    prefix: String,
    objects: u64,
    budget: Budget,
) -> Value {
    let path = collection(&namespace, "configmaps");
    let conflicts = Arc::new(AtomicU64::new(0));
    let counted = conflicts.clone();
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let client = pool.get(n as usize).clone();
        let path = format!("{path}/{prefix}-{}", mix(n) % objects.max(1));
        let conflicts = counted.clone();
        async move {
            // Bounded so that a server that always conflicts fails the
            // operation instead of hanging the run.
            for _ in 0..100 {
                let read = client
                    .expect(Method::GET, &path, None, &[StatusCode::OK])
                    .await?;
                let mut object: Value =
                    serde_json::from_slice(&read).context("the object read is not JSON")?;
                object["data"]["revision"] = json!(n.to_string());
                let (status, body) = client
                    .call(
                        Method::PUT,
                        &path,
                        None,
                        Some(Bytes::from(object.to_string())),
                    )
                    .await?;
                match status {
                    StatusCode::OK => return Ok(()),
                    StatusCode::CONFLICT => {
                        conflicts.fetch_add(1, Ordering::Relaxed);
                    }
                    other => bail!("PUT {path}: {other}: {}", excerpt(&body)),
                }
            }
            bail!("PUT {path}: still conflicting after 100 attempts")
        }
    })
    .await;
    let mut extra = Map::new();
    extra.insert("conflicts".into(), json!(conflicts.load(Ordering::Relaxed)));
    samples.report(elapsed, extra)
}

/// How a list workload asks for the pods.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ListMode {
    /// One request for every pod.
    Whole,
    /// Pages of 500 with continue tokens; one operation is the whole walk.
    Paged,
    /// One request for every pod, rendered as a Table (what kubectl asks).
    Table,
    /// Pods matching a label selector that selects 1% of them.
    Selector,
}

impl ListMode {
    fn query(self, continue_token: Option<&str>) -> String {
        let mut query = match self {
            ListMode::Whole | ListMode::Table => String::new(),
            ListMode::Paged => "?limit=500".to_owned(),
            ListMode::Selector => {
                format!(
                    "?labelSelector={}",
                    escape(&format!("{}=7", objects::SHARD_LABEL))
                )
            }
        };
        if let Some(token) = continue_token {
            query.push_str("&continue=");
            query.push_str(&escape(token));
        }
        query
    }
}

/// Lists the pods of `namespace` `budget.count` times. One untimed list
/// first warms the server up and counts the items, so that a run that
/// listed nothing cannot pass for a fast one.
pub async fn list(pool: Pool, namespace: String, mode: ListMode, budget: Budget) -> Result<Value> {
    let path = collection(&namespace, "pods");
    let (items, bytes) = list_once(pool.get(0), &path, mode, true).await?;
    let (samples, elapsed) = closed_loop(budget, move |n| {
        let client = pool.get(n as usize).clone();
        let path = path.clone();
        async move { list_once(&client, &path, mode, false).await.map(drop) }
    })
    .await;
    Ok(samples.report_reads(elapsed, items, bytes))
}

/// One list (every page of it); with `count`, also the number of items,
/// which costs a full parse and so is left out of timed runs.
async fn list_once(
    client: &Client,
    path: &str,
    mode: ListMode,
    count: bool,
) -> Result<(usize, usize)> {
    let accept = matches!(mode, ListMode::Table).then_some(TABLE);
    let mut token: Option<String> = None;
    let (mut items, mut bytes) = (0, 0);
    loop {
        let url = format!("{path}{}", mode.query(token.as_deref()));
        let (status, body) = client.call(Method::GET, &url, accept, None).await?;
        if status != StatusCode::OK {
            bail!("GET {url}: {status}: {}", excerpt(&body));
        }
        bytes += body.len();
        if count {
            let list: Value = serde_json::from_slice(&body).context("the list is not JSON")?;
            let rows = if accept.is_some() { "rows" } else { "items" };
            items += list[rows].as_array().map_or(0, Vec::len);
        }
        token = match mode {
            ListMode::Paged => continue_token(&body),
            _ => None,
        };
        if token.is_none() {
            return Ok((items, bytes));
        }
    }
}

/// The list's `metadata.continue` without parsing megabytes of items: the
/// server writes keys sorted, so list metadata comes after the items and
/// the token (base64, nothing to unescape) is the last such field.
fn continue_token(body: &[u8]) -> Option<String> {
    const FIELD: &[u8] = b"\"continue\":\"";
    let start = body
        .windows(FIELD.len())
        .rposition(|window| window == FIELD)?
        + FIELD.len();
    let end = body[start..].iter().position(|&b| b == b'"')? + start;
    let token = std::str::from_utf8(&body[start..end]).ok()?;
    (!token.is_empty()).then(|| token.to_owned())
}

/// Percent-encodes a query parameter value.
fn escape(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Waits until `/readyz` answers 200, polling every few milliseconds;
/// returns how long that took.
pub async fn wait_ready(
    client: &Client,
    limit: std::time::Duration,
) -> Result<std::time::Duration> {
    let start = Instant::now();
    loop {
        if let Ok((StatusCode::OK, _)) = client.call(Method::GET, "/readyz", None, None).await {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!("/readyz did not answer 200 within {limit:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_is_the_last_one() {
        let body = br#"{"items":[{"continue":"nope"}],"metadata":{"continue":"eyJr+/=","resourceVersion":"5"}}"#;
        assert_eq!(continue_token(body).as_deref(), Some("eyJr+/="));
        assert_eq!(continue_token(br#"{"metadata":{"continue":""}}"#), None);
        assert_eq!(continue_token(br#"{"metadata":{}}"#), None);
    }

    #[test]
    fn selector_is_escaped() {
        assert_eq!(
            ListMode::Selector.query(None),
            "?labelSelector=bench.ferrokube.dev%2Fshard%3D7"
        );
        assert_eq!(
            ListMode::Paged.query(Some("a+b")),
            "?limit=500&continue=a%2Bb"
        );
    }
}
