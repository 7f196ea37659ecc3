//! identity-svc integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod admins;
mod codes;
mod contacts;
mod grpc;
mod id_token;
mod login;
mod merge;
mod oidc;
mod process;
mod reports;
mod roles;
mod sso;
mod store;
mod support;
mod upsert;
