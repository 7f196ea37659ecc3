//! gRPC handlers: convert the request, call the operation, convert the answer.

pub mod convert;
mod service;
mod status;

pub use service::RosterApi;
