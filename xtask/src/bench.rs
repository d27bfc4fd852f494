//! `cargo xtask bench [storage|api|list|watch|startup|all] [--quick|--full]
//! [--repeats N] [--no-build]`: the performance benchmark.
//!
//! It builds the release binaries, starts etcd and one ferrokube per
//! storage backend on loopback, and drives them with `ferrokube-loadgen`
//! (a separate process, so the servers' figures are theirs alone). Raw
//! etcd is measured in the same run as the baseline, because on a shared
//! 2-core machine figures from another hour do not compare. Every
//! measurement is repeated and the table shows medians; repeats are
//! interleaved across targets so that a noisy minute hurts all of them
//! alike. Results go to `bench/results/<UTC date-time>.json`, compared
//! with the newest earlier file of the same mode.
//!
//! Suites: `storage` measures the storage backends without the API
//! server (put, get, range and watch fan-out through the `Storage` trait,
//! opened inside the load generator, against the same operations sent
//! straight to etcd), `api` creates ConfigMaps (1 and 32 clients), gets
//! and updates them, `list` lists realistic Pods four ways, `watch`
//! measures event delivery to 100 and 1,000 watchers (1,000 and 10,000
//! with `--full`) with the server's CPU and memory, `startup` times a
//! server from exec to its first ready `/readyz`, on an empty store and on
//! one holding 10,000 ConfigMaps (100,000 with `--full`).
//!
//! Not part of `cargo xtask test`: a benchmark takes minutes and its
//! figures are not pass/fail.

mod procs;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

use self::procs::{Etcd, Ferrokube, Loadgen, WorkDir};
use self::report::{Metric, Results};

/// The suites in the order they run.
const SUITES: &[&str] = &["storage", "api", "list", "watch", "startup"];

/// How much each suite does; `--quick` (the default) keeps a whole run
/// within a few minutes on a 2-core machine, `--full` uses the issue's
/// sizes.
#[derive(Clone, Debug)]
struct Settings {
    mode: &'static str,
    repeats: usize,
    /// ConfigMaps created per create run.
    creates: u64,
    /// Seconds after which a closed-loop run starts no new request.
    time_limit: f64,
    /// ConfigMaps the get and update runs work on.
    objects: u64,
    gets: u64,
    updates: u64,
    /// Pods the list runs list.
    pods: u64,
    /// Lists per run (whole, paged, Table).
    lists: u64,
    /// Lists per run with the 1% selector (cheap, so more of them).
    selector_lists: u64,
    watchers: Vec<usize>,
    /// Objects created while the watchers watch, and how fast.
    watch_writes: u64,
    watch_rate: f64,
    /// Storage suite: puts and gets per run, keys a range reads, ranges
    /// per run, watchers of the fan-out runs and the keys put meanwhile.
    store_puts: u64,
    store_gets: u64,
    store_keys: u64,
    store_ranges: u64,
    store_watchers: Vec<usize>,
    store_watch_puts: u64,
    /// ConfigMaps stored before a server is started on them.
    startup_objects: u64,
}

impl Settings {
    fn quick() -> Settings {
        Settings {
            mode: "quick",
            repeats: 3,
            creates: 2_000,
            time_limit: 5.0,
            objects: 1_000,
            gets: 5_000,
            updates: 2_000,
            pods: 1_000,
            lists: 3,
            selector_lists: 10,
            watchers: vec![100, 1_000],
            watch_writes: 500,
            watch_rate: 200.0,
            store_puts: 5_000,
            store_gets: 20_000,
            store_keys: 1_000,
            store_ranges: 20,
            store_watchers: vec![100, 1_000],
            store_watch_puts: 2_000,
            startup_objects: 10_000,
        }
    }

    fn full() -> Settings {
        Settings {
            mode: "full",
            creates: 20_000,
            time_limit: 120.0,
            gets: 50_000,
            updates: 20_000,
            pods: 10_000,
            lists: 20,
            selector_lists: 100,
            watchers: vec![1_000, 10_000],
            watch_writes: 1_000,
            store_puts: 20_000,
            store_gets: 100_000,
            store_keys: 10_000,
            store_ranges: 50,
            store_watch_puts: 5_000,
            startup_objects: 100_000,
            ..Settings::quick()
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "creates": self.creates,
            "time_limit_s": self.time_limit,
            "objects": self.objects,
            "gets": self.gets,
            "updates": self.updates,
            "pods": self.pods,
            "lists": self.lists,
            "selector_lists": self.selector_lists,
            "watchers": self.watchers,
            "watch_writes": self.watch_writes,
            "watch_rate": self.watch_rate,
            "store_puts": self.store_puts,
            "store_gets": self.store_gets,
            "store_keys": self.store_keys,
            "store_ranges": self.store_ranges,
            "store_watchers": self.store_watchers,
            "store_watch_puts": self.store_watch_puts,
            "store_watch_rate": STORE_WATCH_RATE,
            "startup_objects": self.startup_objects,
            "configmap_data_bytes": CONFIGMAP_BYTES,
        })
    }
}

/// Data bytes of every ConfigMap written.
const CONFIGMAP_BYTES: usize = 1024;

/// Puts per second while the storage suite's watchers watch.
const STORE_WATCH_RATE: f64 = 1_000.0;

/// Backstop for one load generator run that hangs.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// Parses the arguments, runs the chosen suites, prints the table and
/// writes the results file.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut settings = Settings::quick();
    let mut suites: Vec<&str> = Vec::new();
    let mut build = true;
    let mut repeats = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => settings = Settings::quick(),
            "--full" => settings = Settings::full(),
            "--no-build" => build = false,
            "--repeats" => {
                let n = args.next().and_then(|n| n.parse::<usize>().ok());
                match n {
                    Some(n) if n > 0 => repeats = Some(n),
                    _ => bail!("--repeats needs a positive number"),
                }
            }
            "all" => suites.extend(SUITES),
            name => match SUITES.iter().find(|s| **s == name) {
                Some(suite) => suites.push(suite),
                None => bail!(
                    "unknown argument {name:?} to bench; suites are {} or all",
                    SUITES.join(", ")
                ),
            },
        }
    }
    if let Some(n) = repeats {
        settings.repeats = n;
    }
    if suites.is_empty() {
        suites.extend(SUITES);
    }
    // Run in the fixed order whatever order they were named in.
    let suites: Vec<&str> = SUITES
        .iter()
        .copied()
        .filter(|s| suites.contains(s))
        .collect();

    crate::test::install_prerequisites()?;
    if build {
        crate::test::cargo(root, &["build", "--release", "-p", "runtime", "--bins"])?;
    }
    let target = target_dir(root);
    let server = target.join("release/ferrokube");
    let loadgen = Loadgen(target.join("release/ferrokube-loadgen"));
    for binary in [&server, &loadgen.0] {
        if !binary.exists() {
            bail!("{} is missing; run without --no-build", binary.display());
        }
    }

    let started = SystemTime::now();
    let clock = Instant::now();
    // Declared first so that it is removed last, after every process in
    // it was stopped.
    let work = WorkDir::create(target.join("bench-work"))?;
    let mut bench = Bench {
        settings: settings.clone(),
        loadgen,
        server,
        work: work.0.clone(),
        servers: Vec::new(),
        etcd: None,
        embedded_available: true,
        results: Results::default(),
        notes: Vec::new(),
    };
    let servers = suites.iter().any(|s| ["api", "list", "watch"].contains(s));
    bench.start(servers)?;
    for suite in &suites {
        let began = Instant::now();
        eprintln!("== {suite}");
        match *suite {
            "storage" => bench.storage(),
            "api" => bench.api(),
            "list" => bench.list(),
            "watch" => bench.watch(),
            _ => bench.startup(),
        }
        eprintln!("== {suite} took {:.0} s", began.elapsed().as_secs_f64());
    }
    // Stop the servers and etcd before the slow part is reported.
    bench.servers.clear();
    bench.etcd = None;

    let stamp = utc_stamp(started);
    let results_dir = root.join("bench/results");
    let previous = report::previous(&results_dir, settings.mode);
    let mut header = Map::new();
    header.insert("format".into(), json!(1));
    header.insert("started_utc".into(), json!(stamp));
    header.insert("mode".into(), json!(settings.mode));
    header.insert("repeats".into(), json!(settings.repeats));
    header.insert("suites".into(), json!(suites));
    header.insert(
        "duration_s".into(),
        json!(clock.elapsed().as_secs_f64().round()),
    );
    header.insert("machine".into(), machine());
    header.insert("settings".into(), settings.to_json());
    let results = bench.results.to_json(header, &bench.notes, &previous);
    print!("\n{}", report::table(&results));
    println!(
        "medians of {} repeats. req/s: operations per second (watch: events delivered per second); \
         p50/p99/p99.9: latency in ms (watch: from write acknowledged to event read). \
         vs etcd, vs prev: times better than raw etcd / the previous run, by throughput \
         (list, startup: p50; watch: p99); above 1 is better.",
        settings.repeats
    );
    let compared: Vec<String> = results["previous"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|name| format!("bench/results/{}", name.as_str().unwrap_or_default()))
        .collect();
    if compared.is_empty() {
        println!("no previous {} results to compare with", settings.mode);
    } else {
        println!("compared with {}", compared.join(", "));
    }
    for note in &bench.notes {
        println!("note: {note}");
    }
    let path = report::write(&results_dir, &stamp, &results)?;
    println!("wrote {}", path.display());
    drop(work);
    Ok(())
}

/// The state of one benchmark run.
struct Bench {
    settings: Settings,
    loadgen: Loadgen,
    /// The ferrokube binary.
    server: PathBuf,
    work: PathBuf,
    /// Declared before `etcd` so that they stop before it does (fields
    /// drop in declaration order), never finding their store gone.
    servers: Vec<Ferrokube>,
    etcd: Option<Etcd>,
    /// False once `--storage=embedded` failed to start (said in a note).
    embedded_available: bool,
    results: Results,
    notes: Vec<String>,
}

impl Bench {
    /// Starts etcd and a ferrokube per backend; a backend that does not
    /// start (the embedded store before it is finished) becomes a note.
    fn start(&mut self, servers: bool) -> Result<()> {
        let etcd_dir = self.work.join("etcd");
        std::fs::create_dir_all(&etcd_dir)?;
        self.etcd = Some(Etcd::start(&etcd_dir)?);
        if !servers {
            return Ok(());
        }
        let endpoint = self.etcd.as_ref().map(|e| e.endpoint.clone());
        let mut backends = vec![("ferrokube-memory", vec!["--storage=memory".to_owned()])];
        if let Some(endpoint) = endpoint {
            backends.push(("ferrokube-etcd", vec![format!("--etcd-servers={endpoint}")]));
        }
        backends.push(("ferrokube-embedded", vec!["--storage=embedded".to_owned()]));
        for (name, args) in backends {
            let started = Ferrokube::start(&self.server, name, self.work.join(name), &args)
                .and_then(|server| {
                    let mut ready = vec!["ready".to_owned()];
                    ready.extend(server.target_args());
                    self.loadgen.run(&ready, RUN_LIMIT)?;
                    Ok(server)
                });
            match started {
                Ok(server) => self.servers.push(server),
                Err(error) => {
                    if name == "ferrokube-embedded" {
                        self.embedded_available = false;
                    }
                    self.note(format!("{name} skipped: {error:#}"));
                }
            }
        }
        Ok(())
    }

    fn note(&mut self, note: String) {
        eprintln!("note: {note}");
        self.notes.push(note);
    }

    /// Runs the load generator once and files its result under a row.
    fn measure(
        &mut self,
        workload: &str,
        target: &str,
        clients: usize,
        metric: Metric,
        args: Vec<String>,
    ) -> bool {
        let result = self.run_once(workload, target, clients, args);
        let ran = result.is_some();
        if let Some(result) = result {
            self.results.add(workload, target, clients, metric, result);
        }
        ran
    }

    /// Runs the load generator once and returns its result; a failed run
    /// becomes a note and the suite goes on.
    fn run_once(
        &mut self,
        workload: &str,
        target: &str,
        clients: usize,
        args: Vec<String>,
    ) -> Option<Value> {
        match self.loadgen.run(&args, RUN_LIMIT) {
            Ok(result) => {
                let figure = |field: &str, decimals: usize| {
                    report::number(&result, field)
                        .map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
                };
                eprintln!(
                    "  {workload:<18} {target:<20} {clients:>5}  {:>9}/s  p50 {:>8} ms  p99 {:>8} ms  errors {}",
                    figure("throughput", 0),
                    figure("p50_ms", 2),
                    figure("p99_ms", 2),
                    result["errors"],
                );
                Some(result)
            }
            Err(error) => {
                self.note(format!(
                    "{workload} on {target} ({clients} clients): {error:#}"
                ));
                None
            }
        }
    }

    fn etcd_endpoint(&self) -> Option<String> {
        self.etcd.as_ref().map(|etcd| etcd.endpoint.clone())
    }

    /// The storage backends on their own: each run opens one backend in
    /// the load generator (the embedded store in a directory of its own,
    /// the etcd backend and raw etcd on the bench's etcd) and puts, gets,
    /// ranges or watches 1 KiB values.
    fn storage(&mut self) {
        let s = self.settings.clone();
        let Some(endpoint) = self.etcd_endpoint() else {
            self.note("storage suite skipped: etcd did not start".to_owned());
            return;
        };
        let data_dir = self.work.join("store-embedded");
        let targets = [
            ("store-memory", "memory"),
            ("store-embedded", "embedded"),
            ("store-etcd", "etcd"),
            ("etcd", "raw-etcd"),
        ];
        let store_args = |backend: &str, op: &str, prefix: String| {
            vec![
                "storage".to_owned(),
                "--backend".to_owned(),
                backend.to_owned(),
                "--op".to_owned(),
                op.to_owned(),
                "--data-dir".to_owned(),
                data_dir.display().to_string(),
                "--endpoint".to_owned(),
                endpoint.clone(),
                "--key-prefix".to_owned(),
                prefix,
                "--size".to_owned(),
                CONFIGMAP_BYTES.to_string(),
            ]
        };
        for repeat in 0..s.repeats {
            let mut runs: Vec<(&str, &str, usize, Metric, Vec<String>)> = Vec::new();
            for clients in [1, 32] {
                runs.push((
                    "put",
                    "put",
                    clients,
                    Metric::Throughput,
                    load_args(clients, s.store_puts, s.time_limit),
                ));
                runs.push(("get", "get", clients, Metric::Throughput, {
                    let mut args = load_args(clients, s.store_gets, s.time_limit);
                    args.extend(["--keys".into(), s.store_keys.to_string()]);
                    args
                }));
            }
            runs.push(("range", "range", 1, Metric::Latency, {
                let mut args = load_args(1, s.store_ranges, s.time_limit);
                args.extend(["--keys".into(), s.store_keys.to_string()]);
                args
            }));
            for &watchers in &s.store_watchers {
                runs.push(("watch", "watch", watchers, Metric::TailLatency, {
                    vec![
                        "--keys".into(),
                        s.store_watch_puts.to_string(),
                        "--watchers".into(),
                        watchers.to_string(),
                        "--rate".into(),
                        STORE_WATCH_RATE.to_string(),
                    ]
                }));
            }
            for (name, op, clients, metric, load) in runs {
                for (target, backend) in targets {
                    let prefix = format!("/registry/bench/{op}-c{clients}-r{repeat}/");
                    let mut args = store_args(backend, op, prefix);
                    args.extend(load.clone());
                    let workload = format!("storage {name}");
                    self.measure(&workload, target, clients, metric, args);
                }
            }
        }
    }

    /// ConfigMap creates with 1 and 32 clients, every backend and raw
    /// etcd.
    fn creates(&mut self) {
        let s = self.settings.clone();
        for repeat in 0..s.repeats {
            for clients in [1, 32] {
                let load = load_args(clients, s.creates, s.time_limit);
                for n in 0..self.servers.len() {
                    let mut args = command("create", &self.servers[n]);
                    args.extend(load.clone());
                    args.extend(objects("bench-create", &format!("c{clients}-r{repeat}")));
                    args.extend(["--size".into(), CONFIGMAP_BYTES.to_string()]);
                    let name = self.servers[n].name.clone();
                    self.measure("create", &name, clients, Metric::Throughput, args);
                }
                if let Some(endpoint) = self.etcd_endpoint() {
                    let mut args = etcd_args(
                        "etcd-put",
                        &endpoint,
                        &format!("/bench-raw/create/c{clients}-r{repeat}/"),
                    );
                    args.extend(load);
                    args.extend(["--size".into(), CONFIGMAP_BYTES.to_string()]);
                    self.measure("create", "etcd", clients, Metric::Throughput, args);
                }
            }
        }
    }

    /// Creates, then get and read-modify-write with 32 clients over a
    /// fixed set of objects, seeded first (unmeasured).
    fn api(&mut self) {
        self.creates();
        let s = self.settings.clone();
        let seed = load_args(32, s.objects, 300.0);
        let mut ready = Vec::new();
        for n in 0..self.servers.len() {
            let mut args = command("create", &self.servers[n]);
            args.extend(seed.clone());
            args.extend(objects("bench-rw", "obj"));
            let name = self.servers[n].name.clone();
            if self.seed(&name, args) {
                ready.push(n);
            }
        }
        let endpoint = self.etcd_endpoint();
        let etcd_ready = endpoint.as_ref().is_some_and(|endpoint| {
            let mut args = etcd_args("etcd-put", endpoint, "/bench-raw/rw/");
            args.extend(seed.clone());
            self.seed("etcd", args)
        });
        let count = s.objects.to_string();
        for _ in 0..s.repeats {
            for (workload, ops) in [("get", s.gets), ("update", s.updates)] {
                let load = load_args(32, ops, s.time_limit);
                for &n in &ready {
                    let name = self.servers[n].name.clone();
                    let mut args = command(workload, &self.servers[n]);
                    args.extend(load.clone());
                    args.extend(objects("bench-rw", "obj"));
                    args.extend(["--objects-count".into(), count.clone()]);
                    self.measure(workload, &name, 32, Metric::Throughput, args);
                }
                if let (true, Some(endpoint)) = (etcd_ready, &endpoint) {
                    let command = if workload == "get" {
                        "etcd-get"
                    } else {
                        "etcd-update"
                    };
                    let mut args = etcd_args(command, endpoint, "/bench-raw/rw/");
                    args.extend(load);
                    args.extend(["--objects-count".into(), count.clone()]);
                    self.measure(workload, "etcd", 32, Metric::Throughput, args);
                }
            }
        }
    }

    /// Runs an unmeasured seeding step; false (and a note) unless every
    /// object was written.
    fn seed(&mut self, target: &str, args: Vec<String>) -> bool {
        let wanted = args
            .iter()
            .position(|a| a == "--count")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse::<f64>().ok());
        match self.loadgen.run(&args, RUN_LIMIT) {
            Ok(result) if result["errors"] == 0 && report::number(&result, "ops") == wanted => {
                eprintln!(
                    "  seeded {target}: {} objects at {:.0}/s",
                    result["ops"],
                    report::number(&result, "throughput").unwrap_or(0.0)
                );
                true
            }
            Ok(result) => {
                self.note(format!("seeding {target} failed: {result}"));
                false
            }
            Err(error) => {
                self.note(format!("seeding {target} failed: {error:#}"));
                false
            }
        }
    }

    /// Lists of realistic pods: whole, in pages of 500, as a Table, and
    /// with a 1% label selector; the server's memory around each run.
    fn list(&mut self) {
        let s = self.settings.clone();
        let seed = load_args(32, s.pods, 600.0);
        let mut ready = Vec::new();
        for n in 0..self.servers.len() {
            let mut args = command("seed-pods", &self.servers[n]);
            args.extend(seed.clone());
            args.extend(objects("bench-list", "pod"));
            let name = self.servers[n].name.clone();
            if self.seed(&name, args) {
                ready.push(n);
            }
        }
        let endpoint = self.etcd_endpoint();
        let etcd_ready = endpoint.as_ref().is_some_and(|endpoint| {
            let mut args = etcd_args("etcd-put", endpoint, "/bench-raw/pods/");
            args.extend(seed.clone());
            args.extend(["--kind".into(), "pod".into()]);
            self.seed("etcd", args)
        });
        let modes = [
            ("list", "whole", s.lists),
            ("list limit=500", "paged", s.lists),
            ("list Table", "table", s.lists),
            ("list selector 1%", "selector", s.selector_lists),
        ];
        for _ in 0..s.repeats {
            for (workload, mode, count) in modes {
                let load = load_args(1, count, s.time_limit);
                for &n in &ready {
                    let mut args = command("list", &self.servers[n]);
                    args.extend(load.clone());
                    args.extend(objects("bench-list", "pod"));
                    args.extend(["--mode".into(), mode.into()]);
                    let peak_reset = self.servers[n].reset_peak();
                    let before = self.servers[n].memory_kib();
                    let name = self.servers[n].name.clone();
                    let Some(mut result) = self.run_once(workload, &name, 1, args) else {
                        continue;
                    };
                    let after = self.servers[n].memory_kib();
                    if let (Some((before, _)), Some((after, peak))) = (before, after) {
                        result["extra"]["rss_before_kib"] = json!(before);
                        result["extra"]["rss_after_kib"] = json!(after);
                        result["extra"]["hwm_kib"] = json!(peak);
                        if peak_reset {
                            // The peak since the reset: what the lists
                            // of this run added at most.
                            result["extra"]["peak_extra_kib"] = json!(peak.saturating_sub(before));
                        }
                    }
                    self.results
                        .add(workload, &name, 1, Metric::Latency, result);
                }
                if let (true, "whole", Some(endpoint)) = (etcd_ready, mode, &endpoint) {
                    let mut args = etcd_args("etcd-range", endpoint, "/bench-raw/pods/");
                    args.extend(load);
                    self.measure("list", "etcd", 1, Metric::Latency, args);
                }
            }
        }
    }

    /// Delivery latency to the configured numbers of watchers while
    /// objects are created at a steady rate, with the CPU seconds the
    /// server used and its resident memory during the run.
    fn watch(&mut self) {
        let s = self.settings.clone();
        for repeat in 0..s.repeats {
            for &watchers in &s.watchers {
                for n in 0..self.servers.len() {
                    let mut args = command("watch", &self.servers[n]);
                    args.extend(objects("bench-watch", &format!("w{watchers}-r{repeat}")));
                    args.extend([
                        "--watchers".into(),
                        watchers.to_string(),
                        "--writes".into(),
                        s.watch_writes.to_string(),
                        "--rate".into(),
                        s.watch_rate.to_string(),
                        "--size".into(),
                        CONFIGMAP_BYTES.to_string(),
                    ]);
                    let name = self.servers[n].name.clone();
                    let cpu_before = self.servers[n].cpu_seconds();
                    let rss_before = self.servers[n].memory_kib();
                    let sampler = self.servers[n].sample_memory();
                    let result = self.run_once("watch", &name, watchers, args);
                    let peak = sampler.finish();
                    let Some(mut result) = result else { continue };
                    let cpu_after = self.servers[n].cpu_seconds();
                    let rss_after = self.servers[n].memory_kib();
                    let extra = &mut result["extra"];
                    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
                        extra["server_cpu_s"] = json!(after - before);
                    }
                    if let Some((before, _)) = rss_before {
                        extra["rss_before_kib"] = json!(before);
                    }
                    if let Some((after, _)) = rss_after {
                        extra["rss_after_kib"] = json!(after);
                    }
                    extra["rss_peak_kib"] = json!(peak);
                    self.results
                        .add("watch", &name, watchers, Metric::TailLatency, result);
                }
            }
        }
    }

    /// Time from exec to the first 200 from `/readyz` and idle memory
    /// after: on an empty data directory, then on a store holding
    /// `startup_objects` ConfigMaps (the durable backends only; seeded
    /// once), where the time until the watch cache lists them all is
    /// measured too.
    fn startup(&mut self) {
        for repeat in 0..self.settings.repeats {
            let mut backends = vec![("ferrokube-memory", vec!["--storage=memory".to_owned()])];
            if let Some(endpoint) = self.etcd_endpoint() {
                // A prefix of its own: an empty cluster, as the data
                // directory is empty.
                backends.push((
                    "ferrokube-etcd",
                    vec![
                        format!("--etcd-servers={endpoint}"),
                        format!("--etcd-prefix=/startup-{repeat}"),
                    ],
                ));
            }
            if self.embedded_available {
                backends.push(("ferrokube-embedded", vec!["--storage=embedded".to_owned()]));
            }
            for (name, server_args) in backends {
                let data_dir = self.work.join(format!("startup-{name}-{repeat}"));
                let args = startup_args(&self.server, &data_dir, &[], &server_args);
                if !self.measure("startup", name, 1, Metric::Latency, args)
                    && name == "ferrokube-embedded"
                {
                    // Said once in the notes; no need to fail again.
                    self.embedded_available = false;
                }
            }
        }

        let count = self.settings.startup_objects;
        let workload = format!("startup {}k objects", count / 1000);
        let seeded = self.seed_startup();
        let loadgen_args = [
            "--seeded".to_owned(),
            "--objects".to_owned(),
            count.to_string(),
            "--namespace".to_owned(),
            STARTUP_NAMESPACE.to_owned(),
        ];
        for _ in 0..self.settings.repeats {
            for (name, data_dir, server_args) in &seeded {
                let args = startup_args(&self.server, data_dir, &loadgen_args, server_args);
                self.measure(&workload, name, 1, Metric::Latency, args);
            }
        }
    }

    /// Stores `startup_objects` ConfigMaps for each durable backend through
    /// a server that is then stopped, and returns the backends seeded:
    /// name, data directory and server flags.
    fn seed_startup(&mut self) -> Vec<(String, PathBuf, Vec<String>)> {
        let mut backends = Vec::new();
        if self.embedded_available {
            backends.push(("ferrokube-embedded", vec!["--storage=embedded".to_owned()]));
        }
        if let Some(endpoint) = self.etcd_endpoint() {
            backends.push((
                "ferrokube-etcd",
                vec![
                    format!("--etcd-servers={endpoint}"),
                    "--etcd-prefix=/startup-seeded".to_owned(),
                ],
            ));
        }
        let count = self.settings.startup_objects;
        let mut seeded = Vec::new();
        for (name, server_args) in backends {
            let data_dir = self.work.join(format!("startup-seeded-{name}"));
            let server = match Ferrokube::start(&self.server, name, data_dir.clone(), &server_args)
            {
                Ok(server) => server,
                Err(error) => {
                    self.note(format!("seeding {name} for startup: {error:#}"));
                    continue;
                }
            };
            let mut ready = vec!["ready".to_owned()];
            ready.extend(server.target_args());
            let mut args = command("create", &server);
            args.extend(load_args(32, count, RUN_LIMIT.as_secs_f64() / 2.0));
            args.extend(objects(STARTUP_NAMESPACE, "cm"));
            args.extend(["--size".into(), CONFIGMAP_BYTES.to_string()]);
            let ok = match self.loadgen.run(&ready, RUN_LIMIT) {
                Ok(_) => self.seed(name, args),
                Err(error) => {
                    self.note(format!("seeding {name} for startup: {error:#}"));
                    false
                }
            };
            if let Err(error) = server.stop() {
                self.note(format!("stopping {name} after seeding: {error:#}"));
                continue;
            }
            if ok {
                seeded.push((name.to_owned(), data_dir, server_args));
            }
        }
        seeded
    }
}

/// The namespace of the ConfigMaps a server is started on.
const STARTUP_NAMESPACE: &str = "bench-startup";

/// A load generator `startup` command line: its own flags, then the
/// server's after `--`.
fn startup_args(
    server: &Path,
    data_dir: &Path,
    loadgen_args: &[String],
    server_args: &[String],
) -> Vec<String> {
    let mut args = vec![
        "startup".to_owned(),
        "--server".to_owned(),
        server.display().to_string(),
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
    ];
    args.extend(loadgen_args.iter().cloned());
    args.extend(["--".to_owned(), "--v=0".to_owned()]);
    args.extend(server_args.iter().cloned());
    args
}

/// A load generator command line for a ferrokube target.
fn command(workload: &str, server: &Ferrokube) -> Vec<String> {
    let mut args = vec![workload.to_owned()];
    args.extend(server.target_args());
    args
}

/// A load generator command line for raw etcd.
fn etcd_args(workload: &str, endpoint: &str, prefix: &str) -> Vec<String> {
    vec![
        workload.to_owned(),
        "--endpoint".to_owned(),
        endpoint.to_owned(),
        "--key-prefix".to_owned(),
        prefix.to_owned(),
    ]
}

fn load_args(clients: usize, count: u64, time_limit: f64) -> Vec<String> {
    vec![
        "--clients".to_owned(),
        clients.to_string(),
        "--count".to_owned(),
        count.to_string(),
        "--time-limit".to_owned(),
        time_limit.to_string(),
    ]
}

fn objects(namespace: &str, prefix: &str) -> Vec<String> {
    vec![
        "--namespace".to_owned(),
        namespace.to_owned(),
        "--prefix".to_owned(),
        prefix.to_owned(),
    ]
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `<root>/target`).
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// What the figures were measured on.
fn machine() -> Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned());
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .map(|rest| rest.trim().to_owned());
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "memory": memory,
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
    })
}

/// `YYYY-MM-DDTHH-MM-SSZ` in UTC: a timestamp that sorts as text and is
/// a portable file name (no colons).
fn utc_stamp(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (the
/// well-known era arithmetic: 400-year eras of 146,097 days, years
/// starting in March so that leap days fall last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "1970-01-01T00-00-00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_723);
        assert_eq!(utc_stamp(leap), "2000-02-29T01-02-03Z");
        let later = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(utc_stamp(later), "2025-12-31T23-59-59Z");
    }
}
