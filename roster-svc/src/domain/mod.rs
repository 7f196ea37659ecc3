//! The rules of rostering, free of tonic and diesel.

pub mod duplicates;
pub mod error;
pub(crate) mod parallel;
pub mod plan;
pub mod reads;
pub mod records;
pub mod report;
pub mod upload;
