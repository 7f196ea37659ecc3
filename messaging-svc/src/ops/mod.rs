//! Operations: load what the rules need, apply them, write the outcome.

pub mod access;
pub mod audit;
pub mod communications;
pub mod directory;
pub mod events;
pub mod history;
pub mod paging;
pub mod preferences;
pub mod status;
pub mod system;
