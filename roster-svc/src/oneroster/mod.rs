//! RO-2: OneRoster CSV bundles (1.1, 1.2, 1.2.1; bulk and delta; zip or folder).

pub mod model;

pub use model::*;
