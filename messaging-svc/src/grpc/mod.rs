//! gRPC handlers: convert the request, call the domain, convert the answer.

mod communications;
mod events;
mod service;
mod status;

pub use service::MessagingApi;
