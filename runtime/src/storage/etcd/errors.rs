//! How etcd client failures become [`StorageError`]s.
//!
//! Anything that says "etcd could not be reached or could not answer in
//! time" is [`StorageError::Unavailable`] (the API layer answers 5xx/504 and
//! readiness fails); etcd's own compaction and future-revision errors are
//! recognised so that the store can turn them into the typed errors of the
//! trait; everything else is [`StorageError::Internal`].

use etcd_client::Error as EtcdError;
use tonic::Code;

use crate::storage::StorageError;

/// What an etcd failure means for the caller.
#[derive(Debug)]
pub enum Failure {
    /// The revision asked for is older than etcd's compaction point.
    Compacted,
    /// The revision asked for is newer than etcd's current revision.
    FutureRevision,
    /// Any other failure, already mapped.
    Other(StorageError),
}

// etcd reports both revision errors with gRPC code OutOfRange and tells them
// apart only by message (ErrGRPCCompacted / ErrGRPCFutureRev in etcd's
// rpctypes); the messages have been stable since etcd 3.0.
const COMPACTED_MESSAGE: &str = "required revision has been compacted";
const FUTURE_REVISION_MESSAGE: &str = "required revision is a future revision";

/// Classifies a failed etcd call.
pub fn classify(error: EtcdError) -> Failure {
    match error {
        EtcdError::GRpcStatus(status) => {
            let message = status.message();
            if status.code() == Code::OutOfRange && message.contains(COMPACTED_MESSAGE) {
                return Failure::Compacted;
            }
            if status.code() == Code::OutOfRange && message.contains(FUTURE_REVISION_MESSAGE) {
                return Failure::FutureRevision;
            }
            let text = format!("etcd: {} ({:?})", message, status.code());
            Failure::Other(match status.code() {
                // Unavailable covers refused connections, "no leader" and
                // etcd's "request timed out" (no quorum in time);
                // DeadlineExceeded and Cancelled come from deadlines and
                // dropped calls; Unknown is what tonic reports when the HTTP/2
                // connection breaks mid-call.
                Code::Unavailable
                | Code::DeadlineExceeded
                | Code::Cancelled
                | Code::Unknown
                | Code::Aborted => StorageError::Unavailable(text),
                // etcd's "database space exceeded" alarm: no writes until an
                // operator compacts and defragments.
                Code::ResourceExhausted => StorageError::Unavailable(text),
                // Everything else (too large a request, permissions, a
                // malformed call) is not cured by retrying.
                _ => StorageError::Internal(text),
            })
        }
        EtcdError::TransportError(error) => Failure::Other(StorageError::Unavailable(format!(
            "etcd transport: {error}"
        ))),
        EtcdError::IoError(error) => Failure::Other(StorageError::Unavailable(format!(
            "etcd connection: {error}"
        ))),
        EtcdError::WatchError(error) => {
            Failure::Other(StorageError::Unavailable(format!("etcd watch: {error}")))
        }
        other => Failure::Other(StorageError::Internal(format!("etcd client: {other}"))),
    }
}

/// The error for a call that got no answer within the request timeout.
pub fn timed_out(what: &str, timeout: std::time::Duration) -> StorageError {
    StorageError::Unavailable(format!("etcd did not answer {what} within {timeout:?}"))
}
