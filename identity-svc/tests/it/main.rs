//! identity-svc integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod grpc;
mod login;
mod process;
mod store;
mod upsert;
