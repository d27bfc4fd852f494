//! Starting the server: certificates, the store, the admin kubeconfig, and
//! the HTTPS listener (HTTP/1.1 and HTTP/2 over rustls) whose connections
//! carry their verified client certificates into the request pipeline.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::{any, get};
use generated::support::meta::Verb;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::batched_writes::BatchedWrites;
use crate::bootstrap::ApiServerAddress;
use crate::cache::Settings as CacheSettings;
use crate::config::Config;
use crate::endpoints::discovery::{self, DiscoveryState, Documents};
use crate::endpoints::health::{self, Health};
use crate::endpoints::openapi;
use crate::endpoints::rest::{self, RestState};
use crate::endpoints::version;
use crate::metrics::Metrics;
use crate::pipeline::authn::{Authenticators, ClientCertificates, PeerCertificates};
use crate::pipeline::authz::{Authorizers, PrivilegedGroup};
use crate::pipeline::{self, Security};
use crate::pki::Pki;
use crate::registry::Registry;
use crate::registry::service_alloc::ServiceAllocator;
use crate::registry::store::Store;
use crate::runtime_config::ServedVersions;
use crate::status::ApiError;
use crate::storage::Storage;

/// A server that is bound and ready to serve.
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    health: Arc<Health>,
    /// HTTP/2 streams a client may have open on one connection.
    max_streams: u32,
    /// `https://host:port` as written into the kubeconfig.
    pub url: String,
}

impl Server {
    /// Prepares everything and binds the port; nothing is served until [`Server::serve`].
    pub async fn bind(config: &Config, storage: Arc<dyn Storage>) -> Result<Server> {
        let served = ServedVersions::from_flags(&config.runtime_config)?;
        let pki = Pki::load_or_create(&config.data_dir.join("pki"), &serving_hosts(config))?;

        let listener = TcpListener::bind(SocketAddr::new(config.bind_address, config.secure_port))
            .await
            .with_context(|| {
                format!(
                    "listening on {}:{}",
                    config.bind_address, config.secure_port
                )
            })?;
        let port = listener.local_addr()?.port();
        let host = client_host(config.bind_address);
        let url = format!("https://{}", socket_text(&host, port));

        let acceptor = TlsAcceptor::from(Arc::new(tls_config(config, &pki)?));
        let health = Arc::new(Health::new(storage.clone()));
        let allocator = ServiceAllocator::new(
            storage.clone(),
            config.service_cluster_ip_range.clone(),
            config.service_node_port_range,
        );
        allocator
            .repair()
            .await
            .map_err(|e| anyhow::anyhow!("repairing service allocations: {}", e.message))?;
        let cache_settings = CacheSettings {
            window: config.default_watch_cache_size as usize,
            ..CacheSettings::default()
        };
        let rest = Arc::new(RestState {
            registry: Registry::new(&served),
            store: Store::with_cache_settings(storage.clone(), cache_settings).with_hook(
                "",
                "services",
                Arc::new(allocator),
            ),
        });
        let watchable = rest.registry.endpoints().map(|e| e.stored);
        rest.store
            .caches()
            .start(watchable.filter(|r| r.supports(Verb::Watch)))
            .await
            .context("starting the watch cache")?;
        crate::bootstrap::ensure_namespaces(&rest).await?;
        let address = ApiServerAddress::choose(config.advertise_address, config.bind_address, port);
        crate::bootstrap::ensure_kubernetes_service(
            &rest,
            &config.service_cluster_ip_range,
            address,
        )
        .await?;
        crate::bootstrap::spawn_reconciler(
            rest.clone(),
            config.service_cluster_ip_range.clone(),
            address,
        );
        let security = Arc::new(Security {
            authenticators: Authenticators(vec![Box::new(ClientCertificates)]),
            authorizers: Authorizers(vec![Box::new(PrivilegedGroup)]),
        });
        let discovery_state = Arc::new(DiscoveryState {
            served,
            server_address: socket_text(&host, port),
            documents: Documents::default(),
        });
        let metrics = Arc::new(Metrics::default());
        let app = Router::new()
            .route("/version", get(version::get))
            .route(
                "/metrics",
                get(crate::metrics::get).with_state(metrics.clone()),
            )
            .merge(health::routes(health.clone()))
            .merge(
                Router::new()
                    .route("/api", get(discovery::core))
                    .route("/api/{version}", get(discovery::core_resources))
                    .route("/apis", get(discovery::groups))
                    .route("/apis/{group}", get(discovery::group))
                    .route("/apis/{group}/{version}", get(discovery::group_resources))
                    .route("/openapi/v2", get(openapi::v2))
                    .route("/openapi/v3", get(openapi::v3_index))
                    .route("/openapi/v3/{*path}", get(openapi::v3_document))
                    .with_state(discovery_state),
            )
            .merge(
                Router::new()
                    .route("/api/{version}/{*rest}", any(rest::handle))
                    .route("/apis/{group}/{version}/{*rest}", any(rest::handle))
                    .with_state(rest),
            )
            .fallback(|| async { ApiError::not_found_path().into_response() })
            .layer(axum::middleware::from_fn_with_state(
                security,
                pipeline::admit_request,
            ))
            .layer(axum::middleware::from_fn_with_state(
                metrics,
                crate::metrics::record,
            ));

        crate::kubeconfig::write_admin(&config.kubeconfig_path(), &url, &pki)?;
        Ok(Server {
            listener,
            acceptor,
            app,
            health,
            max_streams: config.http2_max_streams(),
            url,
        })
    }

    /// Serves until the process is asked to stop (SIGINT or SIGTERM).
    pub async fn serve(self) -> Result<()> {
        self.health.set_ready(true);
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                _ = &mut shutdown => break,
            };
            let (tcp, peer) = match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection");
                    continue;
                }
            };
            let acceptor = self.acceptor.clone();
            let app = self.app.clone();
            let max_streams = self.max_streams;
            tokio::spawn(async move {
                if let Err(error) = serve_connection(acceptor, app, tcp, max_streams).await {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
            });
        }
        self.health.set_ready(false);
        tracing::info!("shutting down");
        Ok(())
    }
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    app: Router,
    tcp: tokio::net::TcpStream,
    max_streams: u32,
) -> Result<()> {
    let _ = tcp.set_nodelay(true);
    let tls = acceptor.accept(tcp).await.context("TLS handshake")?;
    let certificates = PeerCertificates::new(
        tls.get_ref()
            .1
            .peer_certificates()
            .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default(),
    );
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(certificates.clone());
        app.clone().oneshot(request.map(Body::new))
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http2().max_concurrent_streams(max_streams);
    builder
        // Frames written in one turn of the connection's task go out in
        // one TLS write: a watch event fanned out over its streams.
        .serve_connection_with_upgrades(TokioIo::new(BatchedWrites::new(tls)), service)
        .await
        .map_err(|e| anyhow::anyhow!(e))
}

fn tls_config(config: &Config, pki: &Pki) -> Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (cert_pem, key_pem) = match (&config.tls_cert_file, &config.tls_private_key_file) {
        (Some(cert), Some(key)) => (
            std::fs::read(cert)
                .with_context(|| format!("reading --tls-cert-file {}", cert.display()))?,
            std::fs::read(key)
                .with_context(|| format!("reading --tls-private-key-file {}", key.display()))?,
        ),
        _ => (
            pki.serving.cert.clone().into_bytes(),
            pki.serving.key.clone().into_bytes(),
        ),
    };
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .context("parsing the serving certificate")?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).context("parsing the serving key")?;

    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(pki.ca.cert.as_bytes()) {
        roots
            .add(ca.context("parsing the cluster CA")?)
            .context("adding the cluster CA")?;
    }
    // Requests without a client certificate still reach the pipeline, which
    // answers them with a 401 Status (or, later, authenticates a token).
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .context("building the client certificate verifier")?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("the serving certificate and key do not match")?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// Names and addresses the generated serving certificate is valid for.
fn serving_hosts(config: &Config) -> Vec<String> {
    let mut hosts: Vec<String> = [
        "localhost",
        "127.0.0.1",
        "::1",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    if !config.bind_address.is_unspecified() && !config.bind_address.is_loopback() {
        hosts.push(config.bind_address.to_string());
    }
    if let Ok(name) = std::fs::read_to_string("/etc/hostname") {
        let name = name.trim();
        if !name.is_empty() && !hosts.iter().any(|h| h == name) {
            hosts.push(name.to_owned());
        }
    }
    hosts
}

/// The host clients use: loopback when listening on every address.
fn client_host(bind: IpAddr) -> String {
    if bind.is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        bind.to_string()
    }
}

fn socket_text(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
