//! `homeroom-platform`: what every Homeroom service shares — configuration,
//! telemetry, shutdown, gRPC hosting, the database layer, access tokens and
//! (with the `testing` feature) test support.

pub mod auth;
pub mod config;
pub mod contact;
pub mod db;
pub mod forwarded;
pub mod grpc;
pub mod identity_keys;
pub mod metrics;
pub mod paging;
pub mod report_cache;
pub mod report_file;
pub mod request_context;
pub mod service;
pub mod service_token;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod xml;
