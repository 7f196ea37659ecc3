//! messaging-svc integration tests.

mod process;
mod store;
