//! The processes a benchmark runs: etcd, ferrokube servers and the load
//! generator. Every long-lived process is owned by a guard that kills it
//! when dropped, so an error anywhere in a run leaves nothing behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// A directory removed when dropped.
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    /// Creates `path` afresh (removing what a crashed run left there).
    pub fn create(path: PathBuf) -> Result<WorkDir> {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(WorkDir(path))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills and reaps a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A single-member etcd on free loopback ports.
pub struct Etcd {
    _child: Guard,
    /// The client URL.
    pub endpoint: String,
}

impl Etcd {
    /// Starts `/usr/bin/etcd` (or etcd from PATH) with its data in `dir`
    /// and waits until it reports healthy.
    pub fn start(dir: &Path) -> Result<Etcd> {
        let (client, peer, metrics) = (free_port()?, free_port()?, free_port()?);
        let endpoint = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let log = std::fs::File::create(dir.join("etcd.log")).context("creating etcd.log")?;
        let binary = if Path::new("/usr/bin/etcd").exists() {
            PathBuf::from("/usr/bin/etcd")
        } else {
            PathBuf::from("etcd")
        };
        let child = Command::new(&binary)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--name", "bench"])
            .args(["--listen-client-urls", &endpoint])
            .args(["--advertise-client-urls", &endpoint])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("bench={peer_url}")])
            .args([
                "--listen-metrics-urls",
                &format!("http://127.0.0.1:{metrics}"),
            ])
            // One member has no peers to heartbeat; a short election
            // timeout only makes it lead sooner.
            .args(["--heartbeat-interval", "10", "--election-timeout", "100"])
            // As clusters serving Kubernetes configure it.
            .args(["--max-request-bytes", "10485760"])
            // A full run writes more than etcd's default 2 GiB quota of
            // history before the seeded startup (nothing defragments it).
            .args(["--quota-backend-bytes", "8589934592"])
            .args(["--logger", "zap", "--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("running {}", binary.display()))?;
        let mut guard = Guard(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !etcd_healthy(metrics) {
            if guard.0.try_wait()?.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default();
                bail!("etcd did not become healthy; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Etcd {
            _child: guard,
            endpoint,
        })
    }
}

/// A running ferrokube and the files a client needs to reach it.
pub struct Ferrokube {
    child: Guard,
    /// What the table calls it: `ferrokube-memory`, `ferrokube-etcd`, ...
    pub name: String,
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// Its `--data-dir`.
    pub data_dir: PathBuf,
}

impl Ferrokube {
    /// Starts `binary` on a free loopback port with `args`, reads the URL
    /// it prints, and returns once it printed it; readiness is the load
    /// generator's `ready` command. On failure the error carries the end
    /// of its log, which says why (e.g. a storage backend that is not
    /// available yet).
    pub fn start(binary: &Path, name: &str, data_dir: PathBuf, args: &[String]) -> Result<Self> {
        std::fs::create_dir_all(&data_dir)?;
        let log_path = data_dir.with_extension("log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new(binary)
            .args(["--secure-port=0", "--bind-address=127.0.0.1", "--v=0"])
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("running {}", binary.display()))?;
        let mut guard = Guard(child);
        let stdout = guard.0.stdout.take().context("stdout is piped")?;
        let (url_tx, url_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            // Keep reading after the URL so that the server never blocks
            // on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent
                    && let Some(url) = line.split_whitespace().find(|w| w.starts_with("https://"))
                {
                    sent = url_tx.send(url.to_owned()).is_ok();
                }
            }
        });
        let url = match url_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = guard.0.kill();
                let _ = guard.0.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!("{name} did not start: {}", tail.join(" | "));
            }
        };
        Ok(Ferrokube {
            child: guard,
            name: name.to_owned(),
            url,
            data_dir,
        })
    }

    /// The load generator's flags for reaching this server.
    pub fn target_args(&self) -> Vec<String> {
        let pki = self.data_dir.join("pki");
        vec![
            "--url".into(),
            self.url.clone(),
            "--ca".into(),
            pki.join("ca.crt").display().to_string(),
            "--cert".into(),
            pki.join("admin.crt").display().to_string(),
            "--key".into(),
            pki.join("admin.key").display().to_string(),
        ]
    }

    /// Its resident and peak resident memory in KiB (VmRSS, VmHWM).
    pub fn memory_kib(&self) -> Option<(u64, u64)> {
        memory_kib(self.child.0.id())
    }

    /// Resets the server's peak RSS (VmHWM) to its current RSS, so that
    /// the next reading's peak belongs to what ran in between. Linux
    /// only; false if the kernel refused.
    pub fn reset_peak(&self) -> bool {
        let path = format!("/proc/{}/clear_refs", self.child.0.id());
        std::fs::write(path, "5").is_ok()
    }
    /// CPU seconds it has used so far, user plus system, all threads.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.child.0.id())
    }

    /// Samples its resident memory until the sampler is finished, so that
    /// a run's peak is known (VmHWM is the peak of the whole process life).
    pub fn sample_memory(&self) -> MemorySampler {
        MemorySampler::start(self.child.0.id())
    }

    /// Stops it the way an operator would, with SIGTERM, so that its store
    /// is closed cleanly; killed if it has not exited within 30 s.
    pub fn stop(mut self) -> Result<()> {
        let pid = self.child.0.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.0.try_wait()?.is_none() {
            if Instant::now() > deadline {
                bail!("{} did not stop within 30 s of SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// The highest resident memory seen while it runs, sampled every 50 ms.
pub struct MemorySampler {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Option<u64>>,
}

impl MemorySampler {
    fn start(pid: u32) -> MemorySampler {
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut peak = None;
            loop {
                if let Some((rss, _)) = memory_kib(pid) {
                    peak = peak.max(Some(rss));
                }
                match stopped.recv_timeout(Duration::from_millis(50)) {
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => return peak,
                }
            }
        });
        MemorySampler { stop, thread }
    }

    /// The peak VmRSS in KiB, if it could be read at all.
    pub fn finish(self) -> Option<u64> {
        let _ = self.stop.send(());
        self.thread.join().ok().flatten()
    }
}

/// User plus system CPU seconds of a process from `/proc/<pid>/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s: USER_HZ is 100 on every
/// Linux architecture the benchmark runs on).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat).map(|ticks| ticks as f64 / 100.0)
}

/// utime + stime of a `/proc/<pid>/stat` line. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// VmRSS and VmHWM of a process, in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The load generator binary.
pub struct Loadgen(pub PathBuf);

impl Loadgen {
    /// Runs one workload and returns its JSON result line. The load
    /// generator bounds its own run time; `limit` is the backstop for a
    /// hung one.
    pub fn run(&self, args: &[String], limit: Duration) -> Result<Value> {
        let mut child = Guard(
            Command::new(&self.0)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("running {}", self.0.display()))?,
        );
        let mut stdout = child.0.stdout.take().context("stdout is piped")?;
        let mut stderr = child.0.stderr.take().context("stderr is piped")?;
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let err = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.0.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                bail!("ferrokube-loadgen {} ran longer than {limit:?}", args[0]);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = out.join().unwrap_or_default();
        let err = err.join().unwrap_or_default();
        if !status.success() {
            bail!("ferrokube-loadgen {} failed: {}", args[0], err.trim());
        }
        let line = out
            .lines()
            .last()
            .context("ferrokube-loadgen printed nothing")?;
        serde_json::from_str(line)
            .with_context(|| format!("ferrokube-loadgen printed {line:?}, not JSON"))
    }
}

/// A loopback port nothing listens on right now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether etcd's `/health` says it has a leader.
fn etcd_healthy(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.contains("\"health\":\"true\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_after_the_command_name() {
        let stat = "4242 (ferro kube) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    150 25 0 0 20 0 8 0 100 123456 789 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(175));
        assert_eq!(parse_cpu_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(cpu_seconds(std::process::id()).is_some());
    }
}
