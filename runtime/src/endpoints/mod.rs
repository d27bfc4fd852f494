//! HTTP handlers for what is not a resource: health, version, discovery.

pub mod discovery;
pub mod health;
pub mod version;
