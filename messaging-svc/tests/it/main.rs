//! messaging-svc integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod addresses;
mod communications;
mod crash;
mod events;
mod history;
mod mock_twilio;
mod preferences;
mod process;
mod processes;
mod queue;
mod smtp;
mod smtp_sink;
mod store;
mod system;
mod twilio;
mod views;
mod worker;
