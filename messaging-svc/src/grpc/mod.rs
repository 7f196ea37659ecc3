//! gRPC handlers: convert the request, call the domain, convert the answer.

mod communications;
mod convert;
mod events;
mod listings;
mod service;
mod status;

pub use service::MessagingApi;
