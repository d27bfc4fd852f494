//! A real etcd server for tests: `/usr/bin/etcd` (Debian's etcd-server,
//! installed by `cargo xtask test`) on free loopback ports with a temporary
//! data directory, killed when dropped.
//!
//! Starting one takes well under a second (single member, short election
//! timeout), so every test gets its own and tests never see each other's
//! revisions or compactions.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long etcd may take to become healthy before the test gives up.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Certificates for an etcd that serves TLS and requires client
/// certificates, all signed by one fresh CA, as PEM files.
pub struct TlsFiles {
    /// The CA certificate (`--trusted-ca-file` for etcd, `--etcd-cafile`
    /// for us).
    pub ca: PathBuf,
    /// etcd's serving certificate, for 127.0.0.1.
    pub server_cert: PathBuf,
    /// The key of `server_cert`.
    pub server_key: PathBuf,
    /// A client certificate etcd accepts.
    pub client_cert: PathBuf,
    /// The key of `client_cert`.
    pub client_key: PathBuf,
}

impl TlsFiles {
    /// Generates a CA, a server and a client certificate into `dir`.
    pub fn generate(dir: &Path) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).expect("writing a PEM file");
            path
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issue = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(names).expect("certificate parameters");
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &ca, &ca_key).expect("certificate");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = issue(
            vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = issue(
            vec!["client".to_owned()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Self {
            ca: write("ca.pem", ca.pem()),
            server_cert: write("server.pem", server_cert),
            server_key: write("server-key.pem", server_key),
            client_cert: write("client.pem", client_cert),
            client_key: write("client-key.pem", client_key),
        }
    }
}

/// One etcd process and its data directory.
pub struct EtcdProcess {
    child: Option<Child>,
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
    /// Plain-HTTP `/health`, also when clients must use TLS.
    metrics_port: u16,
    tls: Option<TlsFiles>,
}

impl EtcdProcess {
    /// Starts etcd with an empty data directory and waits until it is
    /// healthy. Ports are picked free by the OS; if another process grabs
    /// one before etcd binds it, starting is retried with new ports.
    pub fn start() -> Self {
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::new(free_port(), false).launch_new() {
                Ok(etcd) => return etcd,
                Err(error) => last_error = error,
            }
        }
        panic!("etcd did not start: {last_error}");
    }

    /// Starts etcd on a port the caller picked (for tests that connect
    /// before etcd exists).
    pub fn start_on(client_port: u16) -> Self {
        Self::new(client_port, false)
            .launch_new()
            .unwrap_or_else(|error| panic!("etcd did not start on port {client_port}: {error}"))
    }

    /// Starts etcd serving clients over TLS only, requiring client
    /// certificates signed by [`EtcdProcess::tls`]'s CA.
    pub fn start_tls() -> Self {
        Self::new(free_port(), true)
            .launch_new()
            .unwrap_or_else(|error| panic!("etcd with TLS did not start: {error}"))
    }

    fn new(client_port: u16, tls: bool) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for etcd");
        let tls = tls.then(|| TlsFiles::generate(dir.path()));
        Self {
            child: None,
            dir,
            client_port,
            peer_port: free_port(),
            metrics_port: free_port(),
            tls,
        }
    }

    fn launch_new(mut self) -> Result<Self, String> {
        self.launch()?;
        Ok(self)
    }

    /// The certificates of a TLS etcd.
    pub fn tls(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The client URL, as `--etcd-servers` takes it.
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.client_port)
    }

    /// Kills etcd at once (SIGKILL, no clean shutdown), keeping its data.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts etcd again on the same data directory and ports.
    pub fn restart(&mut self) {
        self.kill();
        if let Err(error) = self.launch() {
            panic!("etcd did not restart: {error}");
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("etcd.log")
    }

    /// Runs etcd and waits for `/health`; on failure returns what the log
    /// says.
    fn launch(&mut self) -> Result<(), String> {
        let client = self.endpoint();
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let metrics = format!("http://127.0.0.1:{}", self.metrics_port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|error| format!("opening the etcd log: {error}"))?;
        let log_err = log.try_clone().map_err(|error| error.to_string())?;
        let mut command = Command::new(etcd_binary());
        command
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--name", "default"])
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &format!("default={peer}")])
            .args(["--listen-metrics-urls", &metrics])
            // A single member elects itself after one election timeout;
            // etcd's default of 1 s would dominate every test.
            .args(["--heartbeat-interval", "10", "--election-timeout", "100"])
            // Upstream's largest object (1.5 MiB) plus the key and the
            // transaction around it exceed etcd's default request limit of
            // exactly 1.5 MiB; clusters serving Kubernetes raise it too.
            .args(["--max-request-bytes", "10485760"])
            .args(["--logger", "zap", "--log-level", "warn"]);
        if let Some(tls) = &self.tls {
            command
                .arg("--cert-file")
                .arg(&tls.server_cert)
                .arg("--key-file")
                .arg(&tls.server_key)
                .arg("--trusted-ca-file")
                .arg(&tls.ca)
                .arg("--client-cert-auth");
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|error| format!("running {}: {error}", etcd_binary().display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if healthy(self.metrics_port) {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                self.kill();
                let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
                return Err(format!(
                    "etcd exited or never became healthy ({exited:?}); log:\n{log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `etcd` from PATH, or Debian's location when PATH lacks /usr/bin.
fn etcd_binary() -> PathBuf {
    let debian = Path::new("/usr/bin/etcd");
    if debian.exists() {
        debian.to_path_buf()
    } else {
        PathBuf::from("etcd")
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

/// Whether etcd's `/health` endpoint says it is healthy (it has a leader).
fn healthy(port: u16) -> bool {
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
