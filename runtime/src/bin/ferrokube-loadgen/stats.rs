//! Latency samples, the closed-loop driver every request workload uses,
//! and the one JSON line a run prints.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// Latencies of the operations one run completed, and its failures.
#[derive(Default)]
pub struct Samples {
    /// Microseconds per successful operation.
    pub micros: Vec<u64>,
    /// Operations that failed (transport errors, unexpected statuses).
    pub errors: u64,
    /// The first failure, so that a broken run says why.
    pub first_error: Option<String>,
}

impl Samples {
    /// Records one successful operation.
    pub fn ok(&mut self, latency: Duration) {
        self.micros
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one failed operation.
    pub fn error(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }

    /// Adds another task's samples to these.
    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// The result line of a run of reads that each return `items` items
    /// in `bytes` bytes (lists and ranges).
    pub fn report_reads(self, elapsed: Duration, items: usize, bytes: usize) -> Value {
        let mut extra = Map::new();
        extra.insert("items".into(), json!(items));
        extra.insert("response_bytes".into(), json!(bytes));
        self.report(elapsed, extra)
    }

    /// The run's result line: throughput over `elapsed`, latency
    /// percentiles, errors, and workload-specific `extra` fields.
    pub fn report(mut self, elapsed: Duration, extra: Map<String, Value>) -> Value {
        self.micros.sort_unstable();
        let ops = self.micros.len();
        let seconds = elapsed.as_secs_f64();
        let throughput = if seconds > 0.0 {
            ops as f64 / seconds
        } else {
            0.0
        };
        json!({
            "ops": ops,
            "errors": self.errors,
            "seconds": seconds,
            "throughput": throughput,
            "p50_ms": percentile(&self.micros, 0.50),
            "p99_ms": percentile(&self.micros, 0.99),
            "p999_ms": percentile(&self.micros, 0.999),
            "max_ms": percentile(&self.micros, 1.0),
            "first_error": self.first_error,
            "extra": extra,
        })
    }
}

/// The nearest-rank percentile of sorted microseconds, in milliseconds;
/// nearest-rank rather than interpolation so that p99.9 of a thousand
/// samples is a latency that really happened.
fn percentile(sorted: &[u64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    Some(sorted[index] as f64 / 1000.0)
}

/// How long and how much a closed-loop run may do.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Concurrent clients, each issuing its next request when the last
    /// one finished.
    pub clients: usize,
    /// Operations in total over all clients.
    pub count: u64,
    /// No client starts an operation after this much time.
    pub time_limit: Duration,
}

/// Runs `op(n)` for n = 0, 1, ... from `budget.clients` concurrent tasks
/// until `budget.count` operations were started or the time limit passed.
/// Returns the merged samples and the wall time of the whole run.
pub async fn closed_loop<F, Fut>(budget: Budget, op: F) -> (Samples, Duration)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + budget.time_limit;
    let mut tasks = Vec::new();
    for _ in 0..budget.clients.max(1) {
        let op = op.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= budget.count || Instant::now() >= deadline {
                    break;
                }
                let began = Instant::now();
                match op(n).await {
                    Ok(()) => samples.ok(began.elapsed()),
                    Err(error) => samples.error(format!("{error:#}")),
                }
            }
            samples
        }));
    }
    let mut all = Samples::default();
    for task in tasks {
        match task.await {
            Ok(samples) => all.merge(samples),
            Err(error) => all.error(format!("a client task failed: {error}")),
        }
    }
    (all, start.elapsed())
}

/// A well-mixed index from a sequence number (SplitMix64's finaliser), so
/// that concurrent clients touch objects in no particular order without a
/// random number crate.
pub fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<u64> = (1..=1000).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&sorted, 0.5), Some(500.0));
        assert_eq!(percentile(&sorted, 0.99), Some(990.0));
        assert_eq!(percentile(&sorted, 0.999), Some(999.0));
        assert_eq!(percentile(&sorted, 1.0), Some(1000.0));
        assert_eq!(percentile(&[7000], 0.999), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
