//! identity-svc integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod codes;
mod contacts;
mod grpc;
mod login;
mod process;
mod reports;
mod roles;
mod store;
mod support;
mod upsert;
