//! Operations: each one loads what the rules need, applies the rules from
//! `domain`, and writes the outcome through `store`, in one transaction.

pub mod accounts;
pub mod upsert;
