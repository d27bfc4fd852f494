//! Results of a benchmark run: one row per (workload, target, clients)
//! holding every repeat, reduced to medians; ratios against the raw etcd
//! baseline and against the previous results file; the printed table and
//! the JSON written to `bench/results/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

/// Which figure decides whether a row got better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Operations per second; higher is better.
    Throughput,
    /// Median latency; lower is better.
    Latency,
    /// 99th percentile latency; lower is better. For watch delivery,
    /// whose median sits near zero whenever the server keeps up.
    TailLatency,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::Latency => "p50 latency",
            Metric::TailLatency => "p99 latency",
        }
    }

    /// How many times better `ours` is than `base` (above 1 is better),
    /// from two row summaries.
    fn ratio(self, ours: &Value, base: &Value) -> Option<f64> {
        let (ours, base) = match self {
            Metric::Throughput => (number(ours, "throughput")?, number(base, "throughput")?),
            // Inverted so that above 1 means better for every row.
            Metric::Latency => (number(base, "p50_ms")?, number(ours, "p50_ms")?),
            Metric::TailLatency => (number(base, "p99_ms")?, number(ours, "p99_ms")?),
        };
        (base > 0.0).then(|| ours / base)
    }
}

/// One table row: a workload on one target at one concurrency, over all
/// repeats.
pub struct Row {
    /// What was done ("create", "list Table", "watch", ...).
    pub workload: String,
    /// What it was done to ("ferrokube-memory", "etcd", ...).
    pub target: String,
    /// Concurrent clients (watchers for the watch workload).
    pub clients: usize,
    /// The figure ratios compare.
    pub metric: Metric,
    /// Each repeat's result line from the load generator.
    pub runs: Vec<Value>,
}

impl Row {
    fn key(&self) -> (String, String, usize) {
        (self.workload.clone(), self.target.clone(), self.clients)
    }

    /// Medians over the repeats of every figure, errors summed: a noisy
    /// machine makes single runs lie, the median of three rarely does.
    pub fn summary(&self) -> Value {
        let mut summary = Map::new();
        for field in ["throughput", "p50_ms", "p99_ms", "p999_ms", "max_ms"] {
            let values = self.runs.iter().filter_map(|run| number(run, field));
            summary.insert(field.to_owned(), json!(median(values.collect())));
        }
        let errors: f64 = self.runs.iter().filter_map(|r| number(r, "errors")).sum();
        summary.insert("errors".to_owned(), json!(errors as u64));
        let mut extra = Map::new();
        if let Some(Value::Object(first)) = self.runs.first().map(|run| &run["extra"]) {
            for (name, value) in first {
                if value.is_number() {
                    let values = self
                        .runs
                        .iter()
                        .filter_map(|run| run["extra"][name.as_str()].as_f64());
                    extra.insert(name.clone(), json!(median(values.collect())));
                } else {
                    extra.insert(name.clone(), value.clone());
                }
            }
        }
        summary.insert("extra".to_owned(), Value::Object(extra));
        let first_error = self.runs.iter().find_map(|run| run["first_error"].as_str());
        summary.insert("first_error".to_owned(), json!(first_error));
        Value::Object(summary)
    }
}

/// Every row of a run, in the order they were first measured.
#[derive(Default)]
pub struct Results {
    rows: Vec<Row>,
}

impl Results {
    /// Adds one repeat's result to its row.
    pub fn add(
        &mut self,
        workload: &str,
        target: &str,
        clients: usize,
        metric: Metric,
        run: Value,
    ) {
        let key = (workload.to_owned(), target.to_owned(), clients);
        match self.rows.iter_mut().find(|row| row.key() == key) {
            Some(row) => row.runs.push(run),
            None => self.rows.push(Row {
                workload: workload.to_owned(),
                target: target.to_owned(),
                clients,
                metric,
                runs: vec![run],
            }),
        }
    }

    /// The raw etcd row a row is compared with: the same operation at
    /// the same concurrency; every kind of list against etcd returning
    /// the whole range, since the API server reads it all in any case.
    fn baseline(&self, row: &Row) -> Option<&Row> {
        if row.target == "etcd" {
            return None;
        }
        let workload = if row.workload.starts_with("list") {
            "list"
        } else {
            row.workload.as_str()
        };
        self.rows.iter().find(|base| {
            base.target == "etcd" && base.workload == workload && base.clients == row.clients
        })
    }

    /// The results as JSON, with ratios to etcd and to each row's newest
    /// earlier figure in `previous` (parsed results files and their names,
    /// newest first).
    pub fn to_json(
        &self,
        header: Map<String, Value>,
        notes: &[String],
        previous: &[(String, Value)],
    ) -> Value {
        let mut rows = Vec::new();
        let mut compared: Vec<&str> = Vec::new();
        for row in &self.rows {
            let summary = row.summary();
            let vs_etcd = self
                .baseline(row)
                .and_then(|base| row.metric.ratio(&summary, &base.summary()));
            // A run of only some suites must not hide older figures of the
            // others: each row looks back to the newest file that has it.
            let before = previous
                .iter()
                .find_map(|(name, file)| Some((name.as_str(), previous_summary(file, row)?)));
            let vs_previous = before
                .as_ref()
                .and_then(|(_, old)| row.metric.ratio(&summary, old));
            if let Some((name, _)) = before
                && !compared.contains(&name)
            {
                compared.push(name);
            }
            rows.push(json!({
                "workload": row.workload,
                "target": row.target,
                "clients": row.clients,
                "metric": row.metric.name(),
                "median": summary,
                "vs_etcd": vs_etcd,
                "vs_previous": vs_previous,
                "previous_file": before.map(|(name, _)| name),
                "runs": row.runs,
            }));
        }
        let mut out = header;
        out.insert("previous".to_owned(), json!(compared));
        out.insert("notes".to_owned(), json!(notes));
        out.insert("rows".to_owned(), Value::Array(rows));
        Value::Object(out)
    }
}

/// The same row's median in a previous results file.
fn previous_summary(file: &Value, row: &Row) -> Option<Value> {
    file["rows"].as_array()?.iter().find_map(|old| {
        (old["workload"] == row.workload.as_str()
            && old["target"] == row.target.as_str()
            && old["clients"].as_u64() == Some(row.clients as u64))
        .then(|| old["median"].clone())
    })
}

/// The results files in `dir` from runs of the same mode (quick or full:
/// their counts differ, so their figures do not compare), newest first.
pub fn previous(dir: &Path, mode: &str) -> Vec<(String, Value)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    // Names are UTC date-times, so name order is time order.
    files.sort();
    files
        .into_iter()
        .rev()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let value: Value = serde_json::from_str(&text).ok()?;
            let name = path.file_name()?.to_string_lossy().into_owned();
            (value["mode"] == mode).then_some((name, value))
        })
        .collect()
}

/// The table printed at the end of a run, from [`Results::to_json`]'s
/// output.
pub fn table(results: &Value) -> String {
    let header = [
        "workload", "target", "clients", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors",
        "vs etcd", "vs prev", "notes",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for row in results["rows"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let median = &row["median"];
        lines.push(vec![
            text(&row["workload"]),
            text(&row["target"]),
            row["clients"].to_string(),
            fixed(number(median, "throughput"), 0),
            fixed(number(median, "p50_ms"), 2),
            fixed(number(median, "p99_ms"), 2),
            fixed(number(median, "p999_ms"), 2),
            median["errors"].to_string(),
            ratio(row["vs_etcd"].as_f64()),
            ratio(row["vs_previous"].as_f64()),
            notes(median),
        ]);
    }
    let columns = header.len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .map(|line| line[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                // Text columns left, numbers right, as tables read best.
                if c < 2 || c == columns - 1 {
                    format!("{cell:<width$}", width = widths[c])
                } else {
                    format!("{cell:>width$}", width = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

/// The workload-specific figures worth a glance, in a few words.
fn notes(median: &Value) -> String {
    let extra = &median["extra"];
    let mut notes = Vec::new();
    let mib = |name: &str| number(extra, name).map(|kib| kib / 1024.0);
    if let Some(items) = number(extra, "items") {
        notes.push(format!("{items:.0} items"));
    }
    if let Some(bytes) = number(extra, "response_bytes") {
        notes.push(format!("{:.1} MiB/resp", bytes / 1048576.0));
    }
    if let (Some(before), Some(after)) = (mib("rss_before_kib"), mib("rss_after_kib")) {
        notes.push(format!("rss {before:.0}->{after:.0} MiB"));
    }
    match (mib("peak_extra_kib"), number(extra, "response_bytes")) {
        (Some(added), Some(bytes)) if bytes > 0.0 => notes.push(format!(
            "peak +{added:.0} MiB ({:.1}x resp)",
            added * 1048576.0 / bytes
        )),
        _ => {
            if let Some(peak) = mib("hwm_kib").or_else(|| mib("rss_peak_kib")) {
                notes.push(format!("peak {peak:.0} MiB"));
            }
        }
    }
    if let Some(cpu) = number(extra, "server_cpu_s") {
        notes.push(format!("server cpu {cpu:.1} s"));
    }
    if let Some(conflicts) = number(extra, "conflicts").filter(|c| *c > 0.0) {
        notes.push(format!("{conflicts:.0} conflicts"));
    }
    if let Some(lost) = number(extra, "events_lost") {
        notes.push(format!("{lost:.0} lost"));
    }
    if let Some(rate) = number(extra, "write_rate") {
        notes.push(format!("writes {rate:.0}/s"));
    }
    if let Some(p50) = number(extra, "p50_from_send_ms") {
        notes.push(format!("p50 from send {p50:.2} ms"));
    }
    if let Some(listed) = number(extra, "all_listed_ms") {
        notes.push(format!("all listed at {listed:.0} ms"));
    }
    if let Some(idle) = mib("idle_rss_kib") {
        notes.push(format!("idle rss {idle:.0} MiB"));
    }
    if let Some(error) = median["first_error"].as_str() {
        notes.push(format!(
            "error: {}",
            error.chars().take(60).collect::<String>()
        ));
    }
    notes.join(", ")
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn fixed(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}x"))
}

/// A numeric field of a JSON object.
pub fn number(value: &Value, field: &str) -> Option<f64> {
    value.get(field)?.as_f64()
}

/// The median; the mean of the middle two for an even count.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

/// Writes `results` to `<dir>/<name>.json`.
pub fn write(dir: &Path, name: &str, results: &Value) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.json"));
    let mut text = serde_json::to_string_pretty(results)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn ratios_read_higher_is_better() {
        let fast = json!({"throughput": 200.0, "p50_ms": 1.0});
        let slow = json!({"throughput": 100.0, "p50_ms": 4.0});
        assert_eq!(Metric::Throughput.ratio(&fast, &slow), Some(2.0));
        assert_eq!(Metric::Latency.ratio(&fast, &slow), Some(4.0));
    }
}
