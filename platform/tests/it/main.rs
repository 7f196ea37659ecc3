//! homeroom-platform integration tests.

mod auth;
mod db;
