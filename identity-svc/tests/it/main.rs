//! identity-svc integration tests.

mod process;
mod store;
