//! Write hooks: what a kind holds outside its own key (a Service's cluster
//! IPs and node ports), reserved before the store writes the object and
//! given back when the write fails or the object goes away. The generic
//! store calls a resource's hook at three points: before a create, before
//! an update, and after a delete.

use serde_json::Value;

use crate::status::ApiError;

/// What a reservation took and what it lets go of, settled once the write
/// it belongs to has succeeded or failed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Claims made for this write: kept if it succeeds, given back if not.
    pub taken: Vec<Claim>,
    /// Claims the old object held and the new one no longer needs: given
    /// back only once the write has succeeded.
    pub freed: Vec<Claim>,
}

/// One held value, named by the storage key that records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Claim(pub String);

/// The hook of one resource.
#[async_trait::async_trait]
pub trait WriteHook: Send + Sync {
    /// Reserves what `object` needs before it is written, filling in what
    /// the server chooses (a cluster IP, node ports). `old` is the stored
    /// object on an update. A dry run checks without holding anything.
    async fn reserve(
        &self,
        object: &mut Value,
        old: Option<&Value>,
        dry_run: bool,
    ) -> Result<Reservation, ApiError>;

    /// Settles a reservation: on success the freed claims go, on failure
    /// the taken ones do.
    async fn settle(&self, reservation: Reservation, succeeded: bool);

    /// Gives back everything a deleted object held.
    async fn release(&self, object: &Value);
}
