//! gRPC handlers: convert the request, call the domain, convert the answer.

pub mod convert;
mod merges;
mod reports;
mod service;
mod status;

pub use service::{IdentityApi, SERVICE_CLIENTS};
