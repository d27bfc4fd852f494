//! Converting objects between the versions a kind is served in.
//!
//! Objects are stored in their resource's storage version and converted on
//! read and write, as JSON values, because validation, defaulting and
//! patching all work on JSON against the schema table. The generated table
//! (`generated::conversions`) says for every kind served in more than one
//! version how each other version relates to the storage version: the JSON
//! forms are identical (rewrite `apiVersion`) or a hand-written hook
//! registered in [`HOOKS`] under the table's name maps the fields. The
//! storage version is the hub: `v1 -> v2beta1` goes `v1 -> storage ->
//! v2beta1`.
//!
//! Hooks follow upstream's conversion functions
//! (`pkg/apis/<group>/<version>/conversion.go`) for the field mapping, and
//! keep round trips through any served version lossless, where upstream
//! stashes fields a version lacks in annotations.

mod autoscaling;
mod go_json;
mod resource;

use generated::conversions::kind_conversions;
use generated::support::conversion::{Conversion, KindConversions};
use generated::support::meta::GroupVersionKind;
use serde_json::Value;

/// A hand-written conversion of one kind between a non-storage version and
/// the storage version, in either direction. It receives the object in
/// version `from` and returns it in the shape of version `to`; the caller
/// sets `apiVersion`, so hooks also serve list items that carry none.
pub type Hook = fn(object: Value, from: &str, to: &str) -> Result<Value, ConversionError>;

/// Every hand-written hook, under the name the generated table gives it.
pub static HOOKS: &[(&str, Hook)] = &[
    (
        "autoscaling.HorizontalPodAutoscaler",
        autoscaling::horizontal_pod_autoscaler,
    ),
    ("resource.k8s.io.ResourceClaim", resource::resource_claim),
    (
        "resource.k8s.io.ResourceClaimTemplate",
        resource::resource_claim_template,
    ),
    ("resource.k8s.io.ResourceSlice", resource::resource_slice),
];

/// The hook registered under `name`.
pub fn hook(name: &str) -> Option<Hook> {
    HOOKS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}

/// Why an object could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    /// The object is not a JSON object with string `apiVersion` and `kind`.
    #[error("cannot convert: {0}")]
    Malformed(String),
    /// Conversion changes the version only, never the group or kind.
    #[error("cannot convert {from} to {to}: only the version may change")]
    KindMismatch {
        /// `group/version Kind` of the object.
        from: String,
        /// `group/version Kind` asked for.
        to: String,
    },
    /// The kind is not served in the version asked for or given.
    #[error("{kind} is not served in {api_version}")]
    NotServed {
        /// The kind.
        kind: String,
        /// The group/version it is not served in.
        api_version: String,
    },
    /// The generated table names a hook nobody registered.
    #[error("no conversion hook {0} is registered")]
    MissingHook(String),
    /// A hook was asked for a pair of versions it does not map.
    #[error("conversion hook {hook} does not convert {from} to {to}")]
    UnsupportedVersions {
        /// The hook's name.
        hook: &'static str,
        /// The version converted from.
        from: String,
        /// The version converted to.
        to: String,
    },
}

/// Converts `object` to the version of `to`, which must name the object's
/// group and kind (or, for a list such as `HorizontalPodAutoscalerList`,
/// the list kind; every item is converted).
pub fn convert(object: Value, to: &GroupVersionKind) -> Result<Value, ConversionError> {
    let (group, version, kind) = type_of(&object)?;
    if kind != to.kind || group != to.group {
        return Err(ConversionError::KindMismatch {
            from: format!("{} {kind}", api_version(&group, &version)),
            to: format!("{} {}", api_version(to.group, to.version), to.kind),
        });
    }
    if version == to.version {
        return Ok(object);
    }
    let list_of = kind
        .strip_suffix("List")
        .and_then(|item| kind_conversions(&group, item))
        .filter(|_| object.get("items").is_some_and(Value::is_array));
    let mut converted = match list_of {
        Some(table) => convert_list(object, table, &version, to.version)?,
        None => {
            let table =
                kind_conversions(&group, &kind).ok_or_else(|| ConversionError::NotServed {
                    kind: kind.clone(),
                    api_version: api_version(to.group, to.version),
                })?;
            convert_body(object, table, &version, to.version)?
        }
    };
    set_api_version(&mut converted, &api_version(to.group, to.version));
    Ok(converted)
}

/// Converts every item of a list; items keep `apiVersion` only if they had it.
fn convert_list(
    mut list: Value,
    table: &KindConversions,
    from: &str,
    to: &str,
) -> Result<Value, ConversionError> {
    let target = api_version(table.group, to);
    if let Some(Value::Array(items)) = list.get_mut("items") {
        for item in items.iter_mut() {
            let had_api_version = item.get("apiVersion").is_some();
            let mut converted = convert_body(item.take(), table, from, to)?;
            if had_api_version {
                set_api_version(&mut converted, &target);
            }
            *item = converted;
        }
    }
    Ok(list)
}

/// Converts the fields of one object `from -> storage -> to`, leaving
/// `apiVersion` as it was.
fn convert_body(
    object: Value,
    table: &KindConversions,
    from: &str,
    to: &str,
) -> Result<Value, ConversionError> {
    for version in [from, to] {
        if !table.serves(version) {
            return Err(ConversionError::NotServed {
                kind: table.kind.to_owned(),
                api_version: api_version(table.group, version),
            });
        }
    }
    let storage = table.storage_version;
    let mut object = object;
    if from != storage {
        object = step(object, table, from, from, storage)?;
    }
    if to != storage {
        object = step(object, table, to, storage, to)?;
    }
    Ok(object)
}

/// One conversion between `version` (not the storage version) and the
/// storage version, in the direction `from -> to`.
fn step(
    object: Value,
    table: &KindConversions,
    version: &str,
    from: &str,
    to: &str,
) -> Result<Value, ConversionError> {
    match table.conversion(version) {
        Some(Conversion::Identical) => Ok(object),
        Some(Conversion::Hook { name, .. }) => {
            let hook =
                hook(name).ok_or_else(|| ConversionError::MissingHook((*name).to_owned()))?;
            hook(object, from, to)
        }
        None => Err(ConversionError::NotServed {
            kind: table.kind.to_owned(),
            api_version: api_version(table.group, version),
        }),
    }
}

/// Group, version and kind named by an object's `apiVersion` and `kind`.
fn type_of(object: &Value) -> Result<(String, String, String), ConversionError> {
    let field = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| ConversionError::Malformed(format!("the object has no string {name}")))
    };
    let api_version = field("apiVersion")?;
    let kind = field("kind")?;
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    };
    Ok((group.to_owned(), version.to_owned(), kind.to_owned()))
}

fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

fn set_api_version(object: &mut Value, api_version: &str) {
    if let Some(map) = object.as_object_mut() {
        map.insert(
            "apiVersion".to_owned(),
            Value::String(api_version.to_owned()),
        );
    }
}

/// The error a hook returns for a version pair it does not know.
fn unsupported(hook: &'static str, from: &str, to: &str) -> ConversionError {
    ConversionError::UnsupportedVersions {
        hook,
        from: from.to_owned(),
        to: to.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generated::conversions::CONVERSIONS;
    use serde_json::json;

    /// Hooks the generated table asks for that are not written yet. Empty:
    /// every kind whose versions differ has its hook. A new upstream
    /// version that differs must either get a hook or be listed here, with
    /// a comment saying why, so the gap shows in review.
    const MISSING_HOOKS: &[&str] = &[];

    fn gvk(group: &'static str, version: &'static str, kind: &'static str) -> GroupVersionKind {
        GroupVersionKind {
            group,
            version,
            kind,
        }
    }

    #[test]
    fn every_hook_the_table_names_is_registered() {
        let mut missing = Vec::new();
        for kind in CONVERSIONS {
            for c in kind.conversions {
                if let Conversion::Hook { name, .. } = c.conversion
                    && hook(name).is_none()
                    && !missing.contains(&name)
                {
                    missing.push(name);
                }
            }
        }
        missing.sort_unstable();
        assert_eq!(
            missing, MISSING_HOOKS,
            "hooks named by generated::conversions but not registered"
        );
    }

    #[test]
    fn every_registered_hook_is_used() {
        for (name, _) in HOOKS {
            let used = CONVERSIONS.iter().any(|k| {
                k.conversions
                    .iter()
                    .any(|c| matches!(c.conversion, Conversion::Hook { name: n, .. } if n == *name))
            });
            assert!(used, "hook {name} is registered but no version needs it");
        }
    }

    fn lease_candidate(api_version: &str) -> Value {
        json!({
            "apiVersion": api_version,
            "kind": "LeaseCandidate",
            "metadata": {"name": "kube-controller-manager-node-1", "namespace": "kube-system"},
            "spec": {
                "leaseName": "kube-controller-manager",
                "binaryVersion": "1.36.0",
                "emulationVersion": "1.36",
                "strategy": "OldestEmulationVersion",
                "renewTime": "2026-11-26T07:00:00.000000Z"
            }
        })
    }

    #[test]
    fn identical_versions_only_rewrite_api_version() {
        let stored = lease_candidate("coordination.k8s.io/v1beta1");
        let served = convert(
            stored.clone(),
            &gvk("coordination.k8s.io", "v1alpha2", "LeaseCandidate"),
        )
        .expect("converts");
        assert_eq!(served, lease_candidate("coordination.k8s.io/v1alpha2"));
        let back = convert(
            served,
            &gvk("coordination.k8s.io", "v1beta1", "LeaseCandidate"),
        )
        .expect("converts back");
        assert_eq!(back, stored);
    }

    #[test]
    fn identical_non_storage_versions_convert_through_storage() {
        // MutatingAdmissionPolicy is stored as v1beta1: v1 -> v1alpha1 passes through it.
        let policy = |api_version: &str| {
            json!({
                "apiVersion": api_version,
                "kind": "MutatingAdmissionPolicy",
                "metadata": {"name": "sidecar"},
                "spec": {"reinvocationPolicy": "IfNeeded", "failurePolicy": "Fail"}
            })
        };
        let converted = convert(
            policy("admissionregistration.k8s.io/v1"),
            &gvk(
                "admissionregistration.k8s.io",
                "v1alpha1",
                "MutatingAdmissionPolicy",
            ),
        )
        .expect("converts");
        assert_eq!(converted, policy("admissionregistration.k8s.io/v1alpha1"));
    }

    #[test]
    fn lists_convert_every_item() {
        let list = json!({
            "apiVersion": "coordination.k8s.io/v1beta1",
            "kind": "LeaseCandidateList",
            "metadata": {"resourceVersion": "42"},
            "items": [lease_candidate("coordination.k8s.io/v1beta1"), {"metadata": {"name": "bare"}}]
        });
        let converted = convert(
            list,
            &gvk("coordination.k8s.io", "v1alpha2", "LeaseCandidateList"),
        )
        .expect("converts");
        assert_eq!(converted["apiVersion"], "coordination.k8s.io/v1alpha2");
        assert_eq!(
            converted["items"][0],
            lease_candidate("coordination.k8s.io/v1alpha2")
        );
        assert_eq!(converted["items"][1], json!({"metadata": {"name": "bare"}}));
    }

    #[test]
    fn errors_name_the_problem() {
        let lease = lease_candidate("coordination.k8s.io/v1beta1");
        assert!(matches!(
            convert(
                lease.clone(),
                &gvk("coordination.k8s.io", "v9", "LeaseCandidate")
            ),
            Err(ConversionError::NotServed { .. })
        ));
        assert!(matches!(
            convert(lease.clone(), &gvk("coordination.k8s.io", "v1", "Lease")),
            Err(ConversionError::KindMismatch { .. })
        ));
        assert!(matches!(
            convert(json!({"kind": "Pod"}), &gvk("", "v1", "Pod")),
            Err(ConversionError::Malformed(_))
        ));
        // A kind served in one version converts to that version only.
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        assert_eq!(convert(pod.clone(), &gvk("", "v1", "Pod")), Ok(pod.clone()));
        assert!(matches!(
            convert(pod, &gvk("", "v2", "Pod")),
            Err(ConversionError::NotServed { .. })
        ));
    }
}
