//! gateway integration tests.

mod readiness;
