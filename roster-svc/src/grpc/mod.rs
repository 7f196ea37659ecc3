//! gRPC handlers: convert the request, call the domain, convert the answer.

mod service;

pub use service::RosterApi;
