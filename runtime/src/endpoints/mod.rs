//! HTTP handlers: resources (`rest`), health, version, discovery.

pub mod apply;
pub mod discovery;
pub mod get;
pub mod health;
pub mod list;
pub mod media;
pub mod negotiate;
pub mod openapi;
pub mod read_options;
pub mod rest;
pub mod reviews;
pub mod subresources;
pub mod version;
pub mod watch;
