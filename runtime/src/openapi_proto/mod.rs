//! `/openapi/v2` as protobuf: the swagger document converted to gnostic's
//! `openapi_v2.Document` message, which kubectl and client-go's discovery
//! ask for (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`)
//! and decode with gnostic's Go types.
//!
//! The bytes are made once per process, at the first request that asks for
//! them, from the JSON document embedded in `generated` (see [`v2`]).

mod convert;
pub mod messages;

use std::sync::OnceLock;

use anyhow::Result;
use prost::Message;

pub use convert::document;

/// The protobuf form of [`generated::openapi::V2`], encoded at first use.
///
/// Encoding here rather than at `cargo xtask regenerate` keeps a ~3 MB
/// binary blob out of the generated sources and their diffs, and costs one
/// parse-and-convert of the JSON (tens of milliseconds) on the first
/// protobuf request only; servers never asked for protobuf never pay it.
/// A document this subset cannot convert is an error every time it is
/// asked for (the unit tests make sure the embedded one converts).
pub fn v2() -> Result<&'static [u8], &'static str> {
    static BYTES: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    BYTES
        .get_or_init(|| encode(generated::openapi::V2).map_err(|e| format!("{e:#}")))
        .as_deref()
        .map_err(String::as_str)
}

/// Converts a swagger JSON document to gnostic's protobuf bytes.
pub fn encode(json: &str) -> Result<Vec<u8>> {
    Ok(document(serde_json::from_str(json)?)?.encode_to_vec())
}

#[cfg(test)]
mod tests;
