//! How the versions of one kind convert into each other, as static data.
//!
//! Objects are stored in their resource's storage version and converted on
//! read and write. The storage version is the hub: every other version
//! converts to and from it, either by rewriting `apiVersion` alone (the
//! generator found the JSON forms identical) or through a hand-written
//! hook the server registers under the hook's name.

/// How one version converts to and from the storage version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// The JSON forms are the same apart from `apiVersion`, so rewriting it
    /// is the whole, lossless, conversion.
    Identical,
    /// The JSON forms differ; the hook registered under `name` converts.
    Hook {
        /// `group.Kind`, for example `autoscaling.HorizontalPodAutoscaler`.
        name: &'static str,
        /// Where the forms differ (`spec.metrics: only in v2`), so a reader
        /// sees what the hook has to map.
        differences: &'static [&'static str],
    },
}

/// One non-storage version of a kind and how it converts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionConversion {
    /// A served version other than the storage version.
    pub version: &'static str,
    /// How it converts to and from the storage version.
    pub conversion: Conversion,
}

/// A kind served in more than one version.
#[derive(Clone, Copy, Debug)]
pub struct KindConversions {
    /// API group, "" for the core group.
    pub group: &'static str,
    /// The kind, the same in every version.
    pub kind: &'static str,
    /// The version objects are stored in; every conversion goes through it.
    pub storage_version: &'static str,
    /// Every served version, the storage version included, most preferred first.
    pub versions: &'static [&'static str],
    /// How each version other than the storage version converts.
    pub conversions: &'static [VersionConversion],
}

impl KindConversions {
    /// Whether the kind is served in `version`.
    pub fn serves(&self, version: &str) -> bool {
        self.versions.contains(&version)
    }

    /// How `version` converts to and from the storage version; `None` for
    /// the storage version itself and for versions the kind is not served in.
    pub fn conversion(&self, version: &str) -> Option<&'static Conversion> {
        self.conversions
            .iter()
            .find(|c| c.version == version)
            .map(|c| &c.conversion)
    }
}
