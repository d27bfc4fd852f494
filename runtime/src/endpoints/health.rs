//! `/healthz`, `/livez` and `/readyz`, with `?verbose`, `?exclude=<check>`
//! and per-check paths (`/readyz/etcd`), answering in upstream's text
//! format so that probes and `kubectl get --raw /readyz?verbose` read the
//! same.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::future::BoxFuture;

use crate::pipeline::request_info::query_param;
use crate::storage::Storage;

/// One named check; `Err` carries the reason for the log.
pub type Check = Box<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The checks behind the three endpoints.
pub struct Health {
    checks: Vec<(&'static str, Check)>,
    /// False until startup finished and after shutdown began; only
    /// `/readyz` looks at it.
    ready: AtomicBool,
}

impl Health {
    /// Liveness and readiness both need the store to answer.
    pub fn new(storage: Arc<dyn Storage>) -> Health {
        let etcd: Check = Box::new(move || {
            let storage = storage.clone();
            Box::pin(async move { storage.health().await.map_err(|e| e.to_string()) })
        });
        let ping: Check = Box::new(|| Box::pin(async { Ok(()) }));
        Health {
            // Upstream calls the storage check "etcd" whatever the backend;
            // probes and dashboards look for that name.
            checks: vec![("ping", ping), ("etcd", etcd)],
            ready: AtomicBool::new(false),
        }
    }

    /// Marks startup as finished (or shutdown as begun, with `false`).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    async fn report(&self, endpoint: &str, only: Option<&str>, query: Option<&str>) -> Response {
        let verbose = query_param(query, "verbose").is_some();
        let excluded: Vec<String> = query
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.strip_prefix("exclude="))
            .map(str::to_owned)
            .collect();
        let mut lines = Vec::new();
        let mut failed = false;
        let mut found = only.is_none();
        for (name, check) in &self.checks {
            if only.is_some_and(|o| o != *name) {
                continue;
            }
            found = true;
            if excluded.iter().any(|e| e == name) {
                lines.push(format!("[+]{name} excluded: ok"));
                continue;
            }
            match check().await {
                Ok(()) => lines.push(format!("[+]{name} ok")),
                Err(reason) => {
                    tracing::warn!(check = name, %reason, "{endpoint} check failed");
                    failed = true;
                    lines.push(format!("[-]{name} failed: reason withheld"));
                }
            }
        }
        if endpoint == "readyz" && only.is_none() {
            if self.ready.load(Ordering::SeqCst) {
                lines.push("[+]shutdown ok".to_owned());
            } else {
                failed = true;
                lines.push("[-]shutdown failed: reason withheld".to_owned());
            }
        }
        if !found {
            return (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
        }
        if failed {
            lines.push(format!("{endpoint} check failed"));
            return (StatusCode::INTERNAL_SERVER_ERROR, lines.join("\n") + "\n").into_response();
        }
        if verbose {
            lines.push(format!("{endpoint} check passed"));
            return (StatusCode::OK, lines.join("\n") + "\n").into_response();
        }
        (StatusCode::OK, "ok").into_response()
    }
}

/// The routes `/healthz`, `/livez`, `/readyz` and their per-check paths.
pub fn routes(health: Arc<Health>) -> Router {
    let mut router = Router::new();
    for endpoint in ["healthz", "livez", "readyz"] {
        router = router
            .route(
                &format!("/{endpoint}"),
                get(
                    move |State(health): State<Arc<Health>>, RawQuery(query): RawQuery| async move {
                        health.report(endpoint, None, query.as_deref()).await
                    },
                ),
            )
            .route(
                &format!("/{endpoint}/{{check}}"),
                get(
                    move |State(health): State<Arc<Health>>,
                          Path(check): Path<String>,
                          RawQuery(query): RawQuery| async move {
                        health
                            .report(endpoint, Some(&check), query.as_deref())
                            .await
                    },
                ),
            );
    }
    router.with_state(health)
}
