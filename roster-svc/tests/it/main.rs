//! roster-svc integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oneroster_samples;
mod process;
mod store;
mod sync_engine;
