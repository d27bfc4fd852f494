//! HTTP/2 over TLS to a running ferrokube, authenticated with the admin
//! client certificate the server wrote into `<data-dir>/pki`.
//!
//! Built on hyper's connection-level client rather than a pooled one so
//! that the number of TCP connections is exactly what the benchmark asks
//! for: a pool would open connections on its own schedule and blur what a
//! "client" is.

use std::convert::Infallible;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{Context as _, Result, anyhow, bail};
use bytes::{Bytes, BytesMut};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http2::{self, SendRequest};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The media type `kubectl get` asks for to get server-side Tables.
pub const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// A request body sent in one frame; hyper needs a `Body` type and the
/// workspace has no body utility crate, and one fixed frame is all a
/// benchmark request needs.
pub struct Fixed(Option<Bytes>);

impl Fixed {
    /// A body holding `bytes`, or no body at all.
    pub fn new(bytes: Option<Bytes>) -> Fixed {
        Fixed(bytes)
    }
}

impl Body for Fixed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

/// The client side of TLS: the cluster CA to trust and the admin
/// certificate to present.
pub fn tls_config(ca: &Path, cert: &Path, key: &Path) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let ca_pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
    for certificate in CertificateDer::pem_slice_iter(&ca_pem) {
        roots
            .add(certificate.with_context(|| format!("parsing {}", ca.display()))?)
            .context("adding the cluster CA")?;
    }
    let cert_pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .context("the admin certificate and key do not match")?;
    // Kubernetes clients speak HTTP/2 when the server offers it; so do we.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// One HTTP/2 connection; clones share it (each request is a stream).
#[derive(Clone)]
pub struct Client {
    sender: SendRequest<Fixed>,
    /// `https://host:port`, prefixed to every path so that hyper sends
    /// the `:scheme` and `:authority` pseudo-headers HTTP/2 requires.
    base: String,
}

impl Client {
    /// Opens a connection to `url` (`https://host:port`).
    pub async fn connect(url: &str, tls: Arc<rustls::ClientConfig>) -> Result<Client> {
        let base = url.trim_end_matches('/').to_owned();
        let authority = base
            .strip_prefix("https://")
            .ok_or_else(|| anyhow!("{url} is not an https:// URL"))?;
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| anyhow!("{url} has no port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port
            .parse()
            .with_context(|| format!("{url} has no valid port"))?;
        let tcp = TcpStream::connect((host, port))
            .await
            .with_context(|| format!("connecting to {authority}"))?;
        // Requests are small; Nagle's algorithm would only add latency.
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(host.to_owned())
            .with_context(|| format!("{host} is not a valid server name"))?;
        let stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .context("TLS handshake")?;
        let (sender, connection) = http2::Builder::new(TokioExecutor::new())
            // Watches and large lists stream megabytes; the default 64 KiB
            // windows would make the client, not the server, the bottleneck.
            .initial_stream_window_size(4 << 20)
            .initial_connection_window_size(16 << 20)
            .handshake(TokioIo::new(stream))
            .await
            .context("HTTP/2 handshake")?;
        tokio::spawn(async move {
            // The connection ends when every clone of the sender is gone or
            // the server closes it; either way requests report the error.
            let _ = connection.await;
        });
        Ok(Client { sender, base })
    }

    /// Sends one request and returns the response with its body unread.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        body: Option<Bytes>,
    ) -> Result<Response<Incoming>> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("accept", accept.unwrap_or("application/json"));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Fixed::new(body))
            .context("building a request")?;
        let mut sender = self.sender.clone();
        sender.ready().await.context("connection closed")?;
        sender
            .send_request(request)
            .await
            .context("sending a request")
    }

    /// Sends one request and reads the whole response body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes)> {
        let response = self.send(method, path, accept, body).await?;
        let status = response.status();
        let mut body = response.into_body();
        let bytes = read_all(&mut body).await?;
        Ok((status, bytes))
    }

    /// Like [`Client::call`], failing unless the status is one of `ok`.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        ok: &[StatusCode],
    ) -> Result<Bytes> {
        let (status, bytes) = self.call(method.clone(), path, None, body).await?;
        if !ok.contains(&status) {
            bail!("{method} {path}: {status}: {}", excerpt(&bytes));
        }
        Ok(bytes)
    }
}

/// Several connections, handed out round-robin by request index.
#[derive(Clone)]
pub struct Pool(Arc<Vec<Client>>);

impl Pool {
    /// Opens `connections` connections (at least one) to `url`.
    pub async fn connect(
        url: &str,
        tls: Arc<rustls::ClientConfig>,
        connections: usize,
    ) -> Result<Pool> {
        let mut clients = Vec::new();
        for _ in 0..connections.max(1) {
            clients.push(Client::connect(url, tls.clone()).await?);
        }
        Ok(Pool(Arc::new(clients)))
    }

    /// The connection for task or request number `n`.
    pub fn get(&self, n: usize) -> &Client {
        &self.0[n % self.0.len()]
    }
}

/// The next piece of a streamed body, `None` at its end.
pub async fn next_chunk(body: &mut Incoming) -> Option<Result<Bytes>> {
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            // Trailers carry nothing a benchmark looks at.
            Ok(frame) => match frame.into_data() {
                Ok(data) => return Some(Ok(data)),
                Err(_) => continue,
            },
            Err(error) => return Some(Err(anyhow!(error).context("reading a response"))),
        }
    }
}

/// The whole of a response body.
pub async fn read_all(body: &mut Incoming) -> Result<Bytes> {
    let mut all = BytesMut::new();
    while let Some(chunk) = next_chunk(body).await {
        all.extend_from_slice(&chunk?);
    }
    Ok(all.freeze())
}

/// The start of a body, for error messages.
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.chars().take(300).collect()
}
