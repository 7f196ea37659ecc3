//! The Homeroom launcher: the whole suite in one process on SQLite for a laptop
//! or a small school, or one service per process as containers run it.

pub mod admin;
pub mod cli;
pub mod roster_client;
pub mod suite;
