//! gateway integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod limits;
mod readiness;
