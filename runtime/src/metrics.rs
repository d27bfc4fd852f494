//! `/metrics` in the Prometheus text format, with upstream's request
//! metrics (`apiserver_request_total`, `apiserver_request_duration_seconds`)
//! labelled as kube-apiserver labels them, so existing dashboards work.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::pipeline::request_info::{RequestInfo, query_param};

/// Labels of `apiserver_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    verb: String,
    dry_run: String,
    group: String,
    version: String,
    resource: String,
    subresource: String,
    scope: String,
    component: String,
}

/// Labels of `apiserver_request_total`: the above and the status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CountLabels {
    #[prometheus(flatten)]
    request: RequestLabels,
    code: String,
}

/// Upstream's buckets for request latency, in seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<CountLabels, Counter>,
    durations: Family<RequestLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<CountLabels, Counter>::default();
        let durations = Family::<RequestLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(DURATION_BUCKETS.iter().copied())) as fn() -> Histogram,
        );
        registry.register(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
            requests.clone(),
        );
        registry.register(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
            durations.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
        }
    }
}

impl Metrics {
    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// The verb label upstream uses: the REST verb in capitals, with
/// create/update as the HTTP methods that carry them.
fn verb_label(info: &RequestInfo, method: &str) -> String {
    if !info.is_resource_request {
        return method.to_owned();
    }
    match info.verb.as_str() {
        "create" => "POST".to_owned(),
        "update" => "PUT".to_owned(),
        verb => verb.to_ascii_uppercase(),
    }
}

fn scope_label(info: &RequestInfo) -> &'static str {
    if !info.is_resource_request {
        ""
    } else if !info.name.is_empty() {
        "resource"
    } else if !info.namespace.is_empty() {
        "namespace"
    } else {
        "cluster"
    }
}

/// Counts and times every request.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let info = RequestInfo::parse(
        request.method(),
        request.uri().path(),
        request.uri().query(),
    );
    let method = request.method().as_str().to_owned();
    let dry_run = query_param(request.uri().query(), "dryRun").unwrap_or_default();
    let response = next.run(request).await;
    let labels = RequestLabels {
        verb: verb_label(&info, &method),
        dry_run,
        group: info.api_group.clone(),
        version: info.api_version.clone(),
        resource: info.resource.clone(),
        subresource: info.subresource.clone(),
        scope: scope_label(&info).to_owned(),
        component: "apiserver".to_owned(),
    };
    metrics
        .durations
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&CountLabels {
            request: labels,
            code: response.status().as_u16().to_string(),
        })
        .inc();
    response
}

/// `GET /metrics`.
pub async fn get(State(metrics): State<Arc<Metrics>>) -> Response {
    let mut response = metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_requests_are_rendered() {
        let metrics = Metrics::default();
        let labels = RequestLabels {
            verb: "LIST".into(),
            dry_run: String::new(),
            group: String::new(),
            version: "v1".into(),
            resource: "pods".into(),
            subresource: String::new(),
            scope: "cluster".into(),
            component: "apiserver".into(),
        };
        metrics.durations.get_or_create(&labels).observe(0.01);
        metrics
            .requests
            .get_or_create(&CountLabels {
                request: labels,
                code: "200".into(),
            })
            .inc();
        let text = metrics.render();
        assert!(
            text.contains(r#"apiserver_request_total{verb="LIST""#),
            "{text}"
        );
        assert!(
            text.contains("apiserver_request_duration_seconds_bucket{"),
            "{text}"
        );
    }
}
