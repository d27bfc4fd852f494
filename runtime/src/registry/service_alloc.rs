//! Cluster IPs and node ports for Services, kept in storage so that they
//! survive restarts and stay unique across concurrent requests.
//!
//! Every held value is one key, claimed with an atomic create (an etcd
//! create-if-absent), so two requests can never both win it:
//! - a cluster IP is a `networking.k8s.io/v1` IPAddress object named by
//!   the address, with `spec.parentRef` naming the Service, at
//!   `/registry/ipaddresses/<ip>`, as upstream stores them since v1.33;
//! - a node port is `/registry/servicenodeports/<port>`, holding the
//!   Service's namespace and name. Upstream keeps all node ports in one
//!   bitmap object (`/registry/ranges/servicenodeports`) that every
//!   allocation rewrites; one key per port keeps claims independent (no
//!   hot key, no retry loop) and works the same way as the IP claims.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::time::Time;
use serde_json::{Value, json};

use super::hooks::{Claim, Reservation, WriteHook};
use super::keys;
use super::object::meta_str;
use super::service_fields::{
    allocates_node_ports, cluster_ips, held_ips, held_ports, is_headless, needs_cluster_ip,
    needs_health_check_port, needs_node_ports,
};
use super::service_ranges::{IpRange, PortRange};
use crate::status::ApiError;
use crate::storage::{RangeRequest, Storage, StorageError};

/// Where node port claims live.
const NODE_PORT_PREFIX: &str = "/registry/servicenodeports/";

/// The field manager label upstream puts on the IPAddresses it allocates.
const MANAGED_BY: &str = "ipallocator.k8s.io";

/// How old a claim no Service holds must be before [`ServiceAllocator::repair`]
/// gives it back: younger ones may belong to a create still under way.
const REPAIR_AFTER_SECONDS: i64 = 60;

/// The allocator of Service cluster IPs and node ports.
pub struct ServiceAllocator {
    storage: Arc<dyn Storage>,
    ips: IpRange,
    ports: PortRange,
}

/// Who holds a claim: a Service's namespace and name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Owner {
    namespace: String,
    name: String,
}

impl Owner {
    fn of(service: &Value) -> Owner {
        Owner {
            namespace: meta_str(service, "namespace").to_owned(),
            name: meta_str(service, "name").to_owned(),
        }
    }
}

impl ServiceAllocator {
    /// An allocator over `storage` for the configured ranges.
    pub fn new(storage: Arc<dyn Storage>, ips: IpRange, ports: PortRange) -> ServiceAllocator {
        ServiceAllocator {
            storage,
            ips,
            ports,
        }
    }

    fn ip_key(ip: &str) -> String {
        format!("{}/ipaddresses/{ip}", keys::ROOT)
    }

    fn port_key(port: u16) -> String {
        format!("{NODE_PORT_PREFIX}{port}")
    }

    /// The IPAddress object recording that `owner` holds `ip`.
    fn ip_address(&self, ip: &str, owner: &Owner) -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IPAddress",
            "metadata": {
                "name": ip,
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": Time::now().to_string(),
                "labels": {
                    "ipaddress.kubernetes.io/ip-family": self.ips.family(),
                    "ipaddress.kubernetes.io/managed-by": MANAGED_BY,
                },
            },
            "spec": {"parentRef": {
                "group": "",
                "resource": "services",
                "namespace": owner.namespace,
                "name": owner.name,
            }},
        })
    }

    /// Creates `key` unless it exists: `Ok(false)` when someone holds it.
    async fn claim(&self, key: &str, value: &Value) -> Result<bool, ApiError> {
        let bytes = Bytes::from(value.to_string());
        match self.storage.create(key, bytes).await {
            Ok(_) => Ok(true),
            Err(StorageError::AlreadyExists { .. }) => Ok(false),
            Err(other) => Err(super::store::storage_error(other)),
        }
    }

    async fn is_claimed(&self, key: &str) -> Result<bool, ApiError> {
        self.storage
            .get(key, None)
            .await
            .map(|kv| kv.is_some())
            .map_err(super::store::storage_error)
    }

    /// The names of every key under `prefix` (after the prefix).
    async fn claimed(&self, prefix: &str) -> Result<HashSet<String>, ApiError> {
        Ok(self
            .range(prefix)
            .await?
            .iter()
            .filter_map(|kv| kv.key.strip_prefix(prefix).map(str::to_owned))
            .collect())
    }

    /// Claims the first free address, in the range's order.
    async fn next_ip(&self, owner: &Owner, dry_run: bool) -> Result<String, ApiError> {
        let taken = self
            .claimed(&format!("{}/ipaddresses/", keys::ROOT))
            .await?;
        for value in self.ips.candidates(fastrand::u64(..)) {
            let ip = self.ips.text(value);
            if taken.contains(&ip) {
                continue;
            }
            if dry_run
                || self
                    .claim(&Self::ip_key(&ip), &self.ip_address(&ip, owner))
                    .await?
            {
                return Ok(ip);
            }
        }
        Err(ApiError::internal(
            "Internal error occurred: failed to allocate a serviceIP: range is full",
        ))
    }

    /// Claims the first free node port, in the range's order.
    async fn next_port(&self, owner: &Owner, dry_run: bool) -> Result<u16, ApiError> {
        let taken = self.claimed(NODE_PORT_PREFIX).await?;
        for port in self.ports.candidates(fastrand::u64(..)) {
            if taken.contains(&port.to_string()) {
                continue;
            }
            if dry_run
                || self
                    .claim(&Self::port_key(port), &port_record(owner))
                    .await?
            {
                return Ok(port);
            }
        }
        Err(ApiError::internal(
            "Internal error occurred: failed to allocate a nodePort: range is full",
        ))
    }

    /// Claims a requested address, or says why it cannot be had.
    async fn requested_ip(&self, ip: &str, owner: &Owner, dry_run: bool) -> Result<(), String> {
        if self.ips.contains(ip).is_none() {
            return Err(format!(
                "provided IP is not in the valid range. The range of valid IPs is {}",
                self.ips
            ));
        }
        let key = Self::ip_key(ip);
        let claimed = if dry_run {
            self.is_claimed(&key).await.map(|held| !held)
        } else {
            self.claim(&key, &self.ip_address(ip, owner)).await
        };
        match claimed {
            Ok(true) => Ok(()),
            Ok(false) => Err("provided IP is already allocated".to_owned()),
            Err(error) => Err(error.message),
        }
    }

    /// Claims a requested node port, or says why it cannot be had.
    async fn requested_port(&self, port: u16, owner: &Owner, dry_run: bool) -> Result<(), String> {
        if !self.ports.contains(port) {
            return Err(format!(
                "provided port is not in the valid range. The range of valid ports is {}",
                self.ports
            ));
        }
        let claimed = if dry_run {
            self.is_claimed(&Self::port_key(port))
                .await
                .map(|held| !held)
        } else {
            self.claim(&Self::port_key(port), &port_record(owner)).await
        };
        match claimed {
            Ok(true) => Ok(()),
            Ok(false) => Err("provided port is already allocated".to_owned()),
            Err(error) => Err(error.message),
        }
    }

    /// Deletes a claim if `owner` still holds it.
    async fn give_back(&self, claim: &Claim, owner: Option<&Owner>) {
        let Ok(Some(kv)) = self.storage.get(&claim.0, None).await else {
            return;
        };
        if let Some(owner) = owner {
            let record: Value = serde_json::from_slice(&kv.value).unwrap_or(Value::Null);
            let holder = record.pointer("/spec/parentRef").unwrap_or(&record);
            let held_by = |field: &str| {
                holder
                    .get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            };
            if held_by("namespace") != owner.namespace || held_by("name") != owner.name {
                return;
            }
        }
        if let Err(error) = self.storage.delete(&claim.0, Some(kv.mod_revision)).await {
            tracing::warn!(key = %claim.0, %error, "releasing a service allocation");
        }
    }

    /// Fills in the IP family fields as upstream's `initIPFamilyFields`
    /// does on a single-stack cluster, or says what cannot be served.
    fn init_ip_families(&self, service: &mut Value, old: Option<&Value>) -> Vec<FieldError> {
        let family = self.ips.family();
        let other = if family == "IPv4" { "IPv6" } else { "IPv4" };
        let selectorless = service
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .is_none_or(|s| s.is_empty());
        let headless_selectorless = is_headless(service) && selectorless;
        let ips = cluster_ips(service);
        let spec = &mut service["spec"];
        if spec.get("ipFamilyPolicy").and_then(Value::as_str).is_none() {
            let inherited = old
                .and_then(|o| o.pointer("/spec/ipFamilyPolicy"))
                .and_then(Value::as_str);
            let policy = inherited.unwrap_or(if headless_selectorless {
                "RequireDualStack"
            } else {
                "SingleStack"
            });
            spec["ipFamilyPolicy"] = json!(policy);
        }
        let policy = spec["ipFamilyPolicy"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let path = FieldPath::new("spec");
        let mut errors = Vec::new();
        if policy == "SingleStack" && ips.len() > 1 {
            errors.push(FieldError::invalid(
                &path.child("ipFamilyPolicy"),
                policy.as_str(),
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
            ));
        }
        let families: Vec<String> = spec
            .get("ipFamilies")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if headless_selectorless {
            let mut families = if families.is_empty() {
                vec![family.to_owned()]
            } else {
                families
            };
            if families.len() < 2 && policy != "SingleStack" {
                let alternate = if families[0] == "IPv4" {
                    "IPv6"
                } else {
                    "IPv4"
                };
                families.push(alternate.to_owned());
            }
            spec["ipFamilies"] = json!(families);
            return errors;
        }
        if policy == "RequireDualStack" {
            errors.push(FieldError::invalid(
                &path.child("ipFamilyPolicy"),
                policy.as_str(),
                "this cluster is not configured for dual-stack services",
            ));
        }
        if families.is_empty() {
            // Families follow the requested addresses; a foreign one is refused.
            for (i, ip) in ips.iter().enumerate() {
                let foreign = match ip.parse::<std::net::IpAddr>() {
                    Ok(std::net::IpAddr::V4(_)) => other == "IPv4",
                    Ok(std::net::IpAddr::V6(_)) => other == "IPv6",
                    Err(_) => false,
                };
                if foreign {
                    errors.push(FieldError::invalid(
                        &path.child("clusterIPs").index(i),
                        json!(ips),
                        format!("{other} is not configured on this cluster"),
                    ));
                }
            }
        }
        for (i, requested) in families.iter().enumerate() {
            if requested == other {
                errors.push(FieldError::invalid(
                    &path.child("ipFamilies").index(i),
                    requested.as_str(),
                    "not configured on this cluster",
                ));
            }
        }
        if families.is_empty() {
            spec["ipFamilies"] = json!([family]);
        }
        errors
    }

    /// Claims the cluster IPs `service` needs beyond those `old` held.
    async fn reserve_ips(
        &self,
        service: &mut Value,
        old: Option<&Value>,
        owner: &Owner,
        dry_run: bool,
        taken: &mut Vec<Claim>,
    ) -> Result<(), ApiError> {
        if !needs_cluster_ip(service) {
            return Ok(());
        }
        let errors = self.init_ip_families(service, old);
        if !errors.is_empty() {
            return Err(invalid(owner, &errors));
        }
        if is_headless(service) {
            return Ok(());
        }
        let before = old.map(held_ips).unwrap_or_default();
        let mut ips = cluster_ips(service);
        match ips.first().map(String::as_str) {
            None | Some("") => {
                let ip = self.next_ip(owner, dry_run).await?;
                if !dry_run {
                    taken.push(Claim(Self::ip_key(&ip)));
                }
                ips = vec![ip];
            }
            Some(_) => {
                for ip in ips.iter().filter(|ip| !before.contains(ip)) {
                    if let Err(why) = self.requested_ip(ip, owner, dry_run).await {
                        let error = FieldError::invalid(
                            &FieldPath::new("spec").child("clusterIPs"),
                            json!(ips),
                            format!("failed to allocate IP {ip}: {why}"),
                        );
                        return Err(invalid(owner, &[error]));
                    }
                    if !dry_run {
                        taken.push(Claim(Self::ip_key(ip)));
                    }
                }
            }
        }
        service["spec"]["clusterIP"] = json!(ips[0]);
        service["spec"]["clusterIPs"] = json!(ips);
        Ok(())
    }

    /// Claims the node ports `service` needs beyond those `old` held.
    async fn reserve_ports(
        &self,
        service: &mut Value,
        old: Option<&Value>,
        owner: &Owner,
        dry_run: bool,
        taken: &mut Vec<Claim>,
    ) -> Result<(), ApiError> {
        let before = old.map(held_ports).unwrap_or_default();
        let mut mine: Vec<u16> = Vec::new();
        let mut by_service_port: Vec<(Value, u16)> = Vec::new();
        let allocate = allocates_node_ports(service);
        let count = service
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if needs_node_ports(service) {
            for i in 0..count {
                let port = &service["spec"]["ports"][i];
                let service_port = port.get("port").cloned().unwrap_or(Value::Null);
                let requested = port
                    .get("nodePort")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0);
                let chosen = if requested != 0 {
                    if !before.contains(&requested) && !mine.contains(&requested) {
                        if let Err(why) = self.requested_port(requested, owner, dry_run).await {
                            let path = FieldPath::new("spec")
                                .child("ports")
                                .index(i)
                                .child("nodePort");
                            return Err(invalid(
                                owner,
                                &[FieldError::invalid(&path, requested, why)],
                            ));
                        }
                        if !dry_run {
                            taken.push(Claim(Self::port_key(requested)));
                        }
                    }
                    requested
                } else if !allocate {
                    continue;
                } else if let Some((_, shared)) =
                    by_service_port.iter().find(|(p, _)| *p == service_port)
                {
                    // Ports of the same number (TCP and UDP) share a node port.
                    *shared
                } else {
                    let port = self.next_port(owner, dry_run).await?;
                    if !dry_run {
                        taken.push(Claim(Self::port_key(port)));
                    }
                    port
                };
                service["spec"]["ports"][i]["nodePort"] = json!(chosen);
                mine.push(chosen);
                by_service_port.push((service_port, chosen));
            }
        }
        if needs_health_check_port(service) {
            let requested = service
                .pointer("/spec/healthCheckNodePort")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(0);
            if requested == 0 {
                let port = self.next_port(owner, dry_run).await?;
                if !dry_run {
                    taken.push(Claim(Self::port_key(port)));
                }
                service["spec"]["healthCheckNodePort"] = json!(port);
            } else if !before.contains(&requested) && !mine.contains(&requested) {
                if let Err(why) = self.requested_port(requested, owner, dry_run).await {
                    let path = FieldPath::new("spec").child("healthCheckNodePort");
                    return Err(invalid(
                        owner,
                        &[FieldError::invalid(&path, requested, why)],
                    ));
                }
                if !dry_run {
                    taken.push(Claim(Self::port_key(requested)));
                }
            }
        }
        Ok(())
    }
}

impl ServiceAllocator {
    /// Upstream's repair loops, run once at startup: claims no Service
    /// holds (left by a write that never finished) are given back, and
    /// values Services hold without a claim are claimed again.
    pub async fn repair(&self) -> Result<(), ApiError> {
        let services = generated::RESOURCES
            .iter()
            .find(|r| r.group.is_empty() && r.plural == "services")
            .map(|r| keys::list_prefix(r, None))
            .unwrap_or_default();
        let mut held: HashMap<String, (Owner, Value)> = HashMap::new();
        for kv in self.range(&services).await? {
            let Ok(service) = serde_json::from_slice::<Value>(&kv.value) else {
                continue;
            };
            let owner = Owner::of(&service);
            for ip in held_ips(&service)
                .into_iter()
                .filter(|ip| self.ips.contains(ip).is_some())
            {
                let record = self.ip_address(&ip, &owner);
                held.insert(Self::ip_key(&ip), (owner.clone(), record));
            }
            for port in held_ports(&service)
                .into_iter()
                .filter(|p| self.ports.contains(*p))
            {
                held.insert(Self::port_key(port), (owner.clone(), port_record(&owner)));
            }
        }
        let cutoff = chrono::Utc::now() - chrono::Duration::seconds(REPAIR_AFTER_SECONDS);
        let ip_prefix = format!("{}/ipaddresses/", keys::ROOT);
        for prefix in [ip_prefix.as_str(), NODE_PORT_PREFIX] {
            for kv in self.range(prefix).await? {
                let record: Value = serde_json::from_slice(&kv.value).unwrap_or(Value::Null);
                let created = record
                    .pointer("/metadata/creationTimestamp")
                    .or_else(|| record.get("creationTimestamp"))
                    .and_then(Value::as_str)
                    .and_then(|t| Time::parse(t).ok());
                let ours = prefix == NODE_PORT_PREFIX
                    || record.pointer("/metadata/labels/ipaddress.kubernetes.io~1managed-by")
                        == Some(&json!(MANAGED_BY));
                let old = created.is_none_or(|t| *t.as_datetime() < cutoff);
                let held_by_a_service = held.remove(&kv.key).is_some();
                if !held_by_a_service && ours && old {
                    tracing::info!(key = %kv.key, "giving back a service allocation no service holds");
                    let _ = self.storage.delete(&kv.key, Some(kv.mod_revision)).await;
                }
            }
        }
        for (key, (owner, record)) in held {
            tracing::info!(key = %key, service = %owner.name, "claiming a service allocation again");
            self.claim(&key, &record).await?;
        }
        Ok(())
    }

    async fn range(&self, prefix: &str) -> Result<Vec<crate::storage::KeyValue>, ApiError> {
        self.storage
            .range(RangeRequest {
                prefix: prefix.to_owned(),
                ..RangeRequest::default()
            })
            .await
            .map(|page| page.kvs)
            .map_err(super::store::storage_error)
    }
}

#[async_trait::async_trait]
impl WriteHook for ServiceAllocator {
    async fn reserve(
        &self,
        service: &mut Value,
        old: Option<&Value>,
        dry_run: bool,
    ) -> Result<Reservation, ApiError> {
        let owner = Owner::of(service);
        let mut taken = Vec::new();
        let mut result = self
            .reserve_ips(service, old, &owner, dry_run, &mut taken)
            .await;
        if result.is_ok() {
            result = self
                .reserve_ports(service, old, &owner, dry_run, &mut taken)
                .await;
        }
        if let Err(error) = result {
            for claim in &taken {
                self.give_back(claim, None).await;
            }
            return Err(error);
        }
        let mut freed = Vec::new();
        if let Some(old) = old.filter(|_| !dry_run) {
            let (ips, ports) = (held_ips(service), held_ports(service));
            freed.extend(
                held_ips(old)
                    .into_iter()
                    .filter(|ip| !ips.contains(ip))
                    .map(|ip| Claim(Self::ip_key(&ip))),
            );
            freed.extend(
                held_ports(old)
                    .into_iter()
                    .filter(|port| !ports.contains(port))
                    .map(|port| Claim(Self::port_key(port))),
            );
        }
        Ok(Reservation { taken, freed })
    }

    async fn settle(&self, reservation: Reservation, succeeded: bool) {
        let claims = if succeeded {
            reservation.freed
        } else {
            reservation.taken
        };
        for claim in &claims {
            self.give_back(claim, None).await;
        }
    }

    async fn release(&self, service: &Value) {
        let owner = Owner::of(service);
        let ips = held_ips(service).into_iter().map(|ip| Self::ip_key(&ip));
        let ports = held_ports(service).into_iter().map(Self::port_key);
        for key in ips.chain(ports) {
            self.give_back(&Claim(key), Some(&owner)).await;
        }
    }
}

/// The record of a node port claim.
fn port_record(owner: &Owner) -> Value {
    json!({
        "namespace": owner.namespace,
        "name": owner.name,
        "creationTimestamp": Time::now().to_string(),
    })
}

fn invalid(owner: &Owner, errors: &[FieldError]) -> ApiError {
    ApiError::invalid("", "Service", &owner.name, errors)
}

#[cfg(test)]
#[path = "service_alloc_tests.rs"]
mod tests;
