//! Body encodings besides JSON. The request pipeline works on
//! `serde_json::Value`s; a codec turns another wire format into the
//! equivalent JSON value on the way in and back on the way out.
//!
//! [`protobuf`] is Kubernetes' `application/vnd.kubernetes.protobuf`, which
//! client-go's typed clients (so `kubectl create configmap`, controllers)
//! send for built-in kinds.

pub mod protobuf;
mod wire;

/// Why a body could not be decoded or an object encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The body is empty or holds only the magic prefix.
    #[error("empty body")]
    Empty,
    /// The body does not start with the magic prefix `k8s\0`.
    #[error(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    )]
    NotProtobuf,
    /// The envelope names no kind or no apiVersion.
    #[error("the protobuf body does not name its {0}")]
    MissingType(&'static str),
    /// The kind has no protobuf form (custom resources, `Table`, kinds
    /// ferrokube does not know).
    #[error("{kind} in {api_version} has no protobuf form")]
    UnknownKind { api_version: String, kind: String },
    /// The bytes are not a valid message of the kind they claim to be.
    #[error("malformed protobuf{}: {reason}", at(path))]
    Malformed {
        /// JSON path of the offending field (`spec.replicas`), "" for the top.
        path: String,
        reason: String,
    },
    /// The JSON value does not fit the kind's protobuf message.
    #[error("cannot encode as protobuf{}: {reason}", at(path))]
    Unencodable {
        /// JSON path of the offending field, "" for the top.
        path: String,
        reason: String,
    },
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

impl CodecError {
    fn malformed(fail: wire::Fail) -> CodecError {
        CodecError::Malformed {
            path: fail.path(),
            reason: fail.reason,
        }
    }

    fn unencodable(fail: wire::Fail) -> CodecError {
        CodecError::Unencodable {
            path: fail.path(),
            reason: fail.reason,
        }
    }
}
