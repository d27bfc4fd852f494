//! The resources the server serves, and the one generic store that serves
//! all of them (`store`), asking each kind's strategy only what differs.

pub mod defaulters;
pub mod eviction;
pub mod hooks;
pub mod keys;
pub mod metadata;
pub mod object;
pub mod service_alloc;
pub mod service_fields;
pub mod service_ranges;
pub mod store;
pub mod stored_json;
pub mod strategy;
pub mod subresources;

use std::collections::HashMap;

use generated::RESOURCES;
use generated::support::meta::ResourceDescriptor;

use crate::runtime_config::ServedVersions;

/// A served resource: the descriptor of the version a request names, and
/// the descriptor of the version its objects are stored in.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub served: &'static ResourceDescriptor,
    pub stored: &'static ResourceDescriptor,
}

/// Every served resource by (group, version, plural).
pub struct Registry {
    endpoints: HashMap<(&'static str, &'static str, &'static str), Endpoint>,
}

impl Registry {
    /// The resources of every served group/version.
    pub fn new(served: &ServedVersions) -> Registry {
        let mut endpoints = HashMap::new();
        for r in RESOURCES
            .iter()
            .filter(|r| served.is_served(r.group, r.version))
        {
            let stored = RESOURCES
                .iter()
                .find(|s| {
                    s.group == r.group && s.plural == r.plural && s.version == r.storage_version
                })
                .unwrap_or(r);
            endpoints.insert(
                (r.group, r.version, r.plural),
                Endpoint { served: r, stored },
            );
        }
        Registry { endpoints }
    }

    /// The endpoint of a resource in a group/version, if served.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Endpoint> {
        self.endpoints.get(&(group, version, plural)).copied()
    }

    /// Every served endpoint.
    pub fn endpoints(&self) -> impl Iterator<Item = Endpoint> + '_ {
        self.endpoints.values().copied()
    }

    /// The core v1 namespaces endpoint, which every namespaced write consults.
    pub fn namespaces(&self) -> Option<Endpoint> {
        self.get("", "v1", "namespaces")
    }
}
