//! RO-7: the guardian CSV upload. [`file`] turns the uploaded bytes into rows.

pub mod file;

pub use file::{Encoding, FileError, HEADERS, InputRow, RowRead, UploadFile, count_rows, read};
