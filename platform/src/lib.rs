//! `homeroom-platform`: what every Homeroom service shares — configuration,
//! telemetry, shutdown, gRPC hosting, the database layer, access tokens and
//! (with the `testing` feature) test support.

pub mod auth;
pub mod config;
pub mod db;
pub mod grpc;
pub mod identity_keys;
pub mod service;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
