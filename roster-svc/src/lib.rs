//! roster-svc owns districts, schools, sessions, classes, enrollments, students,
//! staff, guardian links, sync sources and runs with their reports, and uploads.

pub mod app;
pub mod config;
pub mod connectors;
pub mod domain;
pub mod generator;
pub mod grpc;
pub mod oneroster;
pub mod ops;
pub mod secrets;
pub mod store;
pub mod upload;

/// The service's embedded migrations, one tree per backend.
pub static MIGRATIONS: homeroom_platform::db::Migrations = homeroom_platform::db::Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
    after: |conn| homeroom_platform::db::ensure_fts_current(conn, &["people_search"]),
};
