//! gRPC handlers: convert the request, call the operation, convert the answer.

pub mod convert;
mod convert_records;
mod merges;
mod organization;
mod people;
mod service;
mod status;

pub use service::RosterApi;
