//! messaging-svc owns communications, deliveries (the queue), address status
//! (bad, opted out), notification preferences and provider events.

pub mod app;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod ops;
pub mod providers;
pub mod queue;
pub mod store;

/// The service's embedded migrations, one tree per backend.
pub static MIGRATIONS: homeroom_platform::db::Migrations = homeroom_platform::db::Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
    after: homeroom_platform::db::Migrations::NOTHING_AFTER,
};
