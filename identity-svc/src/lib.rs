//! identity-svc owns accounts, credentials (shared by any number of accounts),
//! password hashes, sessions, one-time codes, roles, signing keys and the audit log.

pub mod app;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod ops;
pub mod store;

/// The service's embedded migrations, one tree per backend.
pub static MIGRATIONS: homeroom_platform::db::Migrations = homeroom_platform::db::Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
    after: store::search::ensure_current,
};
