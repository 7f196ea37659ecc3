//! homeroom-platform integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod db;
mod pg_tls;
