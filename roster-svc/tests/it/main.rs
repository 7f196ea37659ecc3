//! roster-svc integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_sources;
mod connectors;
mod duplicates;
mod failed_rows;
mod mock_clever;
mod mock_oneroster_rest;
mod oneroster_samples;
mod process;
mod reach;
mod reads_classes;
mod reads_fixture;
mod reads_staff;
mod reads_students;
mod schedule;
mod store;
mod sync_engine;
mod uploads;
