//! Report files people download: CSV that spreadsheets open as UTF-8 and never
//! run as formulas ([`CsvReport`]), XLSX workbooks ([`XlsxReport`]), and the
//! [`chunks`] a finished file is streamed in over gRPC.
//!
//! These are for people. Files other systems read (OneRoster bundles, for
//! instance) must not get the BOM or the `'` prefix: write them with `csv`.

mod csv;
mod xlsx;

pub use self::{csv::CsvReport, xlsx::XlsxReport};

/// Media type of a [`CsvReport`].
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// Media type of an [`XlsxReport`].
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Bytes per streamed message: well under gRPC's 4 MiB default message limit.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// Why a report file could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// The workbook refused something (a sheet name Excel does not allow, more
    /// rows than a sheet holds, no writable temporary directory …).
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// `bytes` cut into messages of at most `size` bytes (a `size` of 0 means
/// [`CHUNK_SIZE`]); nothing for an empty file.
pub fn chunks(bytes: Vec<u8>, size: usize) -> Vec<Vec<u8>> {
    let size = if size == 0 { CHUNK_SIZE } else { size };
    if bytes.len() <= size {
        return if bytes.is_empty() {
            Vec::new()
        } else {
            vec![bytes]
        };
    }
    bytes.chunks(size).map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_cut_into_chunks_of_at_most_the_size_that_join_back_to_it() {
        let bytes: Vec<u8> = (0..=255).cycle().take(CHUNK_SIZE * 2 + 10).collect();
        let parts = chunks(bytes.clone(), CHUNK_SIZE);
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(sizes, [CHUNK_SIZE, CHUNK_SIZE, 10]);
        assert_eq!(parts.concat(), bytes);
    }

    #[test]
    fn a_small_file_is_one_chunk_and_an_empty_one_none() {
        assert_eq!(chunks(b"abc".to_vec(), 0), [b"abc".to_vec()]);
        assert_eq!(
            chunks(b"abcd".to_vec(), 2),
            [b"ab".to_vec(), b"cd".to_vec()]
        );
        assert!(chunks(Vec::new(), CHUNK_SIZE).is_empty());
    }
}
