//! Starting the real `ferrokube` binary on a free port for end-to-end
//! tests, and driving it with kubectl.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use http::{Method, Request, header};
use http_body_util::BodyExt;

/// A running server with its own data directory and admin kubeconfig.
pub struct TestServer {
    child: Child,
    pub url: String,
    pub kubeconfig: PathBuf,
    pub data_dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts the server in a new data directory and waits until `/readyz` answers ok.
    pub fn start(extra_args: &[&str]) -> TestServer {
        TestServer::start_in(
            tempfile::tempdir().expect("a temporary data directory"),
            extra_args,
        )
    }

    /// Starts the server on an existing data directory (a restart).
    pub fn start_in(data_dir: tempfile::TempDir, extra_args: &[&str]) -> TestServer {
        let kubeconfig = data_dir.path().join("admin.kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferrokube"))
            .arg("--secure-port=0")
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--data-dir={}", data_dir.path().display()))
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ferrokube starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("ferrokube printed its URL before exiting")
                .expect("stdout is readable");
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("https://")) {
                break url.to_owned();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let server = TestServer {
            child,
            url,
            kubeconfig,
            data_dir,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self.kubectl(&["get", "--raw", "/readyz"]);
            if out.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server never became ready: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs kubectl against the server as the admin.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.data_dir.path())
            .args(args)
            .output()
            .expect("kubectl runs")
    }

    /// Runs kubectl with `input` on its stdin (`-f -` manifests, edits).
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Output {
        self.kubectl_with(args, &[], input)
    }

    /// Runs kubectl with extra environment variables and `input` on its
    /// stdin.
    pub fn kubectl_with(&self, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
        let mut child = Command::new("kubectl")
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.data_dir.path())
            .envs(env.iter().copied())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("kubectl reads its stdin");
        child.wait_with_output().expect("kubectl finishes")
    }

    /// Runs kubectl and returns its stdout, failing the test on an error.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("kubectl prints UTF-8")
    }
}

impl TestServer {
    /// Kills the server and hands back its data directory for a restart.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().expect("a temporary directory");
        std::mem::replace(&mut self.data_dir, placeholder)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestServer {
    /// A kube-rs client that talks to the server with the admin kubeconfig.
    pub async fn client(&self) -> kube::Client {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig)
            .expect("the admin kubeconfig parses");
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .expect("the admin kubeconfig is usable");
        kube::Client::try_from(config).expect("a client")
    }
}

/// Sends a request and returns the status code, Content-Type and body.
pub async fn send(
    client: &kube::Client,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, &str)],
    body: &str,
) -> (u16, String, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let request = request.body(body.as_bytes().to_vec()).unwrap();
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, body.to_vec())
}

/// The resourceVersion of a list of `api`'s objects: a watch from it sees
/// everything written after this call.
pub async fn list_revision<K>(api: &kube::Api<K>) -> String
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.list(&kube::api::ListParams::default())
        .await
        .expect("the list succeeds")
        .metadata
        .resource_version
        .expect("a list has a resourceVersion")
}
