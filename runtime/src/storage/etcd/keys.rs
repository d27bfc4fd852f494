//! How the keys of the [`Storage`](crate::storage::Storage) trait map onto
//! etcd keys.
//!
//! Trait keys are written in upstream's layout with `/registry` as their
//! logical root (`/registry/pods/ns/name`). The store replaces that root with
//! the configured prefix (upstream's `--etcd-prefix`), so with the default
//! prefix `/registry` keys are stored exactly as given and the etcd contents
//! look like upstream kube-apiserver's; with `--etcd-prefix=/cluster-a` the
//! same key lands at `/cluster-a/pods/ns/name`.
//!
//! Replacing a common leading string is order-preserving and reversible, so
//! range reads and watches over a mapped prefix see exactly the keys of the
//! logical prefix, in the same order.

use crate::storage::{Result, StorageError};

/// The logical root every trait key starts with.
pub const LOGICAL_ROOT: &str = "/registry";

/// Translates between trait keys and etcd keys for one configured prefix.
#[derive(Clone, Debug)]
pub struct KeyMap {
    /// The configured prefix without trailing slashes ("" for `/`).
    prefix: String,
}

impl KeyMap {
    /// A map for `--etcd-prefix`; trailing slashes are dropped so that
    /// `/registry/` and `/registry` mean the same, as upstream's path joining
    /// makes them.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.trim_end_matches('/').to_owned(),
        }
    }

    /// With the default prefix keys pass through untouched, including keys
    /// outside `/registry` (tests and tools use such keys freely).
    fn is_identity(&self) -> bool {
        self.prefix == LOGICAL_ROOT
    }

    /// The etcd key (or key prefix) for a trait key (or key prefix).
    pub fn to_etcd(&self, key: &str) -> Result<Vec<u8>> {
        if self.is_identity() {
            return Ok(key.as_bytes().to_vec());
        }
        match key.strip_prefix(LOGICAL_ROOT) {
            Some(rest) => Ok(format!("{}{rest}", self.prefix).into_bytes()),
            // Mapping such a key would collide with a mapped /registry key or
            // escape the prefix, so it is a caller error, not a storage state.
            None => Err(StorageError::Internal(format!(
                "key {key:?} is outside {LOGICAL_ROOT}; with --etcd-prefix {:?} only keys under {LOGICAL_ROOT} can be mapped",
                self.prefix
            ))),
        }
    }

    /// The trait key for an etcd key read back from etcd.
    pub fn from_etcd(&self, key: &[u8]) -> Result<String> {
        let key = std::str::from_utf8(key)
            .map_err(|_| StorageError::Corrupt(format!("etcd key {key:?} is not UTF-8")))?;
        if self.is_identity() {
            return Ok(key.to_owned());
        }
        match key.strip_prefix(self.prefix.as_str()) {
            Some(rest) => Ok(format!("{LOGICAL_ROOT}{rest}")),
            None => Err(StorageError::Corrupt(format!(
                "etcd key {key:?} is outside the prefix {:?}",
                self.prefix
            ))),
        }
    }

    /// A key that no trait key maps to, used for revision and health probes
    /// so that they read (almost) nothing.
    pub fn probe_key(&self) -> Vec<u8> {
        // A NUL byte never appears in keys the API layer builds.
        format!("{}/\0probe", self.prefix).into_bytes()
    }
}

/// The first key after every key that starts with `prefix`: the exclusive
/// end of a prefix range in etcd's terms. An empty prefix (or one made only
/// of 0xff bytes) has no such key; etcd spells "to the end" as `\0`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefix_is_identity() {
        let keys = KeyMap::new("/registry");
        assert_eq!(
            keys.to_etcd("/registry/pods/a/b").unwrap(),
            b"/registry/pods/a/b"
        );
        assert_eq!(keys.to_etcd("/elsewhere").unwrap(), b"/elsewhere");
        assert_eq!(
            keys.from_etcd(b"/registry/pods/a/b").unwrap(),
            "/registry/pods/a/b"
        );
    }

    #[test]
    fn custom_prefix_replaces_the_root() {
        let keys = KeyMap::new("/cluster-a/");
        assert_eq!(
            keys.to_etcd("/registry/pods/a/b").unwrap(),
            b"/cluster-a/pods/a/b"
        );
        assert_eq!(keys.to_etcd("/registry").unwrap(), b"/cluster-a");
        assert_eq!(
            keys.from_etcd(b"/cluster-a/pods/a/b").unwrap(),
            "/registry/pods/a/b"
        );
        assert!(matches!(
            keys.to_etcd("/other"),
            Err(StorageError::Internal(_))
        ));
        assert!(matches!(
            keys.from_etcd(b"/other"),
            Err(StorageError::Corrupt(_))
        ));
    }

    #[test]
    fn root_prefix_drops_the_root() {
        let keys = KeyMap::new("/");
        assert_eq!(keys.to_etcd("/registry/pods/a").unwrap(), b"/pods/a");
        assert_eq!(keys.from_etcd(b"/pods/a").unwrap(), "/registry/pods/a");
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), b"\0");
        assert_eq!(prefix_end(b""), b"\0");
    }
}
