//! The ferrokube API server.
//!
//! Everything the server knows about a built-in kind comes from the
//! `generated` crate (start at `generated::RESOURCES`); this crate turns
//! that into HTTP behaviour. [`discovery`] builds the documents clients use
//! to find the API.

pub mod batched_writes;
pub mod bootstrap;
pub mod cache;
pub mod codec;
pub mod config;
pub mod conversion;
pub mod discovery;
pub mod endpoints;
pub mod field_validation;
pub mod fieldmanager;
pub mod kubeconfig;
pub mod limits;
pub mod metrics;
pub mod openapi_proto;
pub mod patch;
pub mod pipeline;
pub mod pki;
pub mod printers;
pub mod registry;
pub mod runtime_config;
pub mod selectors;
pub mod server;
pub mod status;
pub mod storage;
