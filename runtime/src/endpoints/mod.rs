//! HTTP handlers: resources (`rest`), health, version, discovery.

pub mod discovery;
pub mod health;
pub mod list;
pub mod media;
pub mod openapi;
pub mod read_options;
pub mod rest;
pub mod version;
pub mod watch;
