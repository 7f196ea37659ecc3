//! RO-2: OneRoster CSV bundles (1.1, 1.2, 1.2.1; bulk and delta; zip or folder).
//!
//! [`read_path`] turns a district's upload into a [`Bundle`]: the manifest is read
//! first, then every rostering file the manifest supplies, with columns mapped by
//! name. Problems with the bundle's shape stop the read with a [`BundleError`];
//! problems with single rows leave those rows out and are listed in
//! [`Bundle::row_errors`].

mod cells;
mod headers;
mod manifest;
pub mod model;
mod people;
mod plan;
mod reader;
mod records;
mod source;
mod specs;
mod table;
#[cfg(test)]
mod tests;

pub(crate) use cells::{flag, status, user_role};
pub use headers::ColumnProblems;
pub use model::*;
pub use reader::{BundleError, read_dir, read_path, read_zip};
pub(crate) use records::enrollment_role;
