//! What a new cluster has before anyone asks, as kube-apiserver makes it:
//! the system namespaces, the `kubernetes` ServiceCIDR, and the
//! `kubernetes` Service in `default` with its Endpoints and EndpointSlice
//! pointing at this server; made at startup and put back every ten
//! seconds if someone changes or deletes them, as upstream's controllers do.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::endpoints::rest::RestState;
use crate::registry::Endpoint;
use crate::registry::service_ranges::IpRange;
use crate::registry::store::{WriteOptions, WriteTarget};

/// The manager upstream's own writes carry (its User-Agent's first part).
const MANAGER: &str = "kube-apiserver";

/// The namespaces kube-apiserver creates at startup.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The name of the Service, its endpoints and the ServiceCIDR that stand
/// for the API server itself.
const KUBERNETES: &str = "kubernetes";

/// Creates the system namespaces that do not exist yet.
pub async fn ensure_namespaces(state: &RestState) -> anyhow::Result<()> {
    let Some(namespaces) = state.registry.namespaces() else {
        return Ok(());
    };
    for name in SYSTEM_NAMESPACES {
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let options = WriteOptions::update(MANAGER, false);
        match state.store.create(namespaces, "", object, &options).await {
            Ok(_) => {}
            Err(error) if error.reason == "AlreadyExists" => {}
            Err(error) => anyhow::bail!("creating namespace {name}: {}", error.message),
        }
    }
    Ok(())
}

/// Where the API server is reachable from inside the cluster.
#[derive(Clone, Copy, Debug)]
pub struct ApiServerAddress {
    pub ip: IpAddr,
    pub port: u16,
}

impl ApiServerAddress {
    /// `--advertise-address`, else the bind address, else (binding to every
    /// address) the address the host's default route leaves from.
    pub fn choose(advertise: Option<IpAddr>, bind: IpAddr, port: u16) -> ApiServerAddress {
        let ip = advertise
            .or((!bind.is_unspecified()).then_some(bind))
            .or_else(outbound_address)
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        ApiServerAddress { ip, port }
    }
}

/// The local address a packet to a public address would leave from;
/// connecting a UDP socket sends nothing.
fn outbound_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:443").ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

/// How often [`spawn_reconciler`] puts the bootstrap objects back.
const RECONCILE_EVERY: Duration = Duration::from_secs(10);

/// Keeps the system namespaces and the `kubernetes` Service objects as
/// startup made them, in the background.
pub fn spawn_reconciler(
    state: Arc<RestState>,
    range: IpRange,
    address: ApiServerAddress,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RECONCILE_EVERY).await;
            let ensured = match ensure_namespaces(&state).await {
                Ok(()) => ensure_kubernetes_service(&state, &range, address).await,
                Err(error) => Err(error),
            };
            if let Err(error) = ensured {
                tracing::warn!(%error, "keeping the kubernetes service in place");
            }
        }
    })
}

/// The `kubernetes` ServiceCIDR, Service, Endpoints and EndpointSlice,
/// created or brought up to date with this server's range and address.
pub async fn ensure_kubernetes_service(
    state: &RestState,
    range: &IpRange,
    address: ApiServerAddress,
) -> anyhow::Result<()> {
    let registry = &state.registry;
    if let Some(cidrs) = registry.get("networking.k8s.io", "v1", "servicecidrs") {
        ensure_service_cidr(state, cidrs, range).await?;
    }
    let ip = address.ip.to_string();
    let port = address.port;
    if let Some(services) = registry.get("", "v1", "services") {
        let first = range.text(range.first());
        let service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": KUBERNETES,
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": first,
                "clusterIPs": [first],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                "sessionAffinity": "None",
            },
        });
        ensure(state, services, service, &["/spec/ports"]).await?;
    }
    if let Some(endpoints) = registry.get("", "v1", "endpoints") {
        let object = json!({
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": KUBERNETES,
                "namespace": "default",
                "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
            },
            "subsets": [{
                "addresses": [{"ip": ip}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            }],
        });
        ensure(state, endpoints, object, &["/subsets", "/metadata/labels"]).await?;
    }
    if let Some(slices) = registry.get("discovery.k8s.io", "v1", "endpointslices") {
        let family = if address.ip.is_ipv4() { "IPv4" } else { "IPv6" };
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": KUBERNETES,
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": KUBERNETES},
            },
            "addressType": family,
            "endpoints": [{"addresses": [ip], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        });
        ensure(
            state,
            slices,
            slice,
            &["/addressType", "/endpoints", "/ports", "/metadata/labels"],
        )
        .await?;
    }
    Ok(())
}

/// The ServiceCIDR `kubernetes` for the configured range, marked Ready.
async fn ensure_service_cidr(
    state: &RestState,
    cidrs: Endpoint,
    range: &IpRange,
) -> anyhow::Result<()> {
    let object = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "ServiceCIDR",
        "metadata": {"name": KUBERNETES},
        "spec": {"cidrs": [range.to_string()]},
    });
    let mut current = ensure(state, cidrs, object, &[]).await?;
    let ready = current
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
    if !ready {
        current["status"] = json!({"conditions": [{
            "type": "Ready",
            "status": "True",
            "lastTransitionTime": generated::support::time::Time::now().to_string(),
            "reason": "",
            "message": "Kubernetes Service CIDR is ready",
        }]});
        state
            .store
            .update(
                cidrs,
                "",
                KUBERNETES,
                current,
                WriteTarget::Status,
                &WriteOptions::update(MANAGER, false),
            )
            .await
            .map_err(|e| {
                anyhow::anyhow!("marking ServiceCIDR {KUBERNETES} ready: {}", e.message)
            })?;
    }
    Ok(())
}

/// Creates `desired` or, if it exists, rewrites the fields at `owned`
/// (JSON pointers) that differ from it; returns the object as stored.
async fn ensure(
    state: &RestState,
    endpoint: Endpoint,
    desired: Value,
    owned: &[&str],
) -> anyhow::Result<Value> {
    let name = desired["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let namespace = desired["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let kind = endpoint.served.kind;
    let failed = |what: &str, e: crate::status::ApiError| {
        anyhow::anyhow!("{what} {kind} {namespace}/{name}: {}", e.message)
    };
    let current = match state.store.get(endpoint, &namespace, &name).await {
        Ok(current) => current,
        Err(error) if error.reason == "NotFound" => {
            return match state
                .store
                .create(
                    endpoint,
                    &namespace,
                    desired,
                    &WriteOptions::update(MANAGER, false),
                )
                .await
            {
                Ok(created) => Ok(created),
                // Another server made it first.
                Err(error) if error.reason == "AlreadyExists" => state
                    .store
                    .get(endpoint, &namespace, &name)
                    .await
                    .map_err(|e| failed("reading", e)),
                Err(error) => Err(failed("creating", error)),
            };
        }
        Err(error) => return Err(failed("reading", error)),
    };
    let mut updated = current.clone();
    for pointer in owned {
        let (parent, field) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        if let (Some(want), Some(parent)) = (
            desired.pointer(pointer),
            updated.pointer_mut(parent).and_then(Value::as_object_mut),
        ) {
            parent.insert(field.to_owned(), want.clone());
        }
    }
    if updated == current {
        return Ok(current);
    }
    state
        .store
        .update(
            endpoint,
            &namespace,
            &name,
            updated,
            WriteTarget::Main,
            &WriteOptions::update(MANAGER, false),
        )
        .await
        .map_err(|e| failed("updating", e))
}
