//! Which group/versions are served: upstream's default (GA versions on,
//! beta and alpha off) adjusted by `--runtime-config`, whose entries are
//! `<group>/<version>=true|false` (`api/v1` for the core group) or the sets
//! `api/all`, `api/ga`, `api/beta`, `api/alpha`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use generated::GROUPS;

/// The served group/versions.
#[derive(Clone, Debug)]
pub struct ServedVersions {
    /// (group, version) -> served.
    served: BTreeMap<(String, String), bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stability {
    Ga,
    Beta,
    Alpha,
}

fn stability(version: &str) -> Stability {
    if version.contains("alpha") {
        Stability::Alpha
    } else if version.contains("beta") {
        Stability::Beta
    } else {
        Stability::Ga
    }
}

impl ServedVersions {
    /// Applies `--runtime-config` entries, in order, to the default.
    pub fn from_flags(entries: &[String]) -> Result<ServedVersions> {
        let mut served: BTreeMap<(String, String), bool> = GROUPS
            .iter()
            .flat_map(|g| {
                g.versions.iter().map(move |v| {
                    (
                        (g.name.to_owned(), v.to_string()),
                        stability(v) == Stability::Ga,
                    )
                })
            })
            .collect();
        for entry in entries.iter().filter(|e| !e.is_empty()) {
            let (key, value) = entry.split_once('=').unwrap_or((entry, "true"));
            let on = match value {
                "true" => true,
                "false" => false,
                other => bail!("--runtime-config {entry:?}: {other:?} is not true or false"),
            };
            let set = match key {
                "api/all" => Some(None),
                "api/ga" => Some(Some(Stability::Ga)),
                "api/beta" => Some(Some(Stability::Beta)),
                "api/alpha" => Some(Some(Stability::Alpha)),
                _ => None,
            };
            if let Some(filter) = set {
                for ((_, version), value) in served.iter_mut() {
                    if filter.is_none_or(|s| stability(version) == s) {
                        *value = on;
                    }
                }
                continue;
            }
            let (group, version) = match key.split_once('/') {
                Some(("api", version)) => ("", version),
                Some((group, version)) => (group, version),
                None => bail!("--runtime-config {entry:?}: expected <group>/<version>=true|false"),
            };
            match served.get_mut(&(group.to_owned(), version.to_owned())) {
                Some(value) => *value = on,
                None => bail!("--runtime-config {entry:?}: the server has no API {key}"),
            }
        }
        Ok(ServedVersions { served })
    }

    /// Whether `group/version` is served.
    pub fn is_served(&self, group: &str, version: &str) -> bool {
        self.served
            .get(&(group.to_owned(), version.to_owned()))
            .copied()
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_ga_only() {
        let served = ServedVersions::from_flags(&[]).unwrap();
        assert!(served.is_served("", "v1"));
        assert!(served.is_served("autoscaling", "v2"));
        assert!(!served.is_served("certificates.k8s.io", "v1beta1"));
        assert!(!served.is_served("certificates.k8s.io", "v1alpha1"));
    }

    #[test]
    fn flags_turn_versions_and_sets_on_and_off() {
        let flags = |s: &[&str]| {
            ServedVersions::from_flags(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        let served = flags(&[
            "api/beta=true",
            "storage.k8s.io/v1beta1=false",
            "api/v1=false",
        ])
        .unwrap();
        assert!(served.is_served("certificates.k8s.io", "v1beta1"));
        assert!(!served.is_served("storage.k8s.io", "v1beta1"));
        assert!(!served.is_served("", "v1"));
        assert!(
            flags(&["api/all=true"])
                .unwrap()
                .is_served("certificates.k8s.io", "v1alpha1")
        );
        assert!(
            flags(&["apps/v7=true"])
                .unwrap_err()
                .to_string()
                .contains("no API apps/v7")
        );
        assert!(
            flags(&["apps/v1=maybe"])
                .unwrap_err()
                .to_string()
                .contains("not true or false")
        );
    }
}
