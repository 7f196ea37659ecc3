//! Reading a guardian upload file (RO-7): the uploaded bytes in, the header
//! checked, one [`RowRead`] per data row out. Pure: no planning, no storage.
//!
//! The file is read in place, since uploads reach 50 MB: UTF-8 validity is
//! checked once over the whole input, records come straight from the byte
//! slice, and only single cells are decoded.

use std::borrow::Cow;

use csv::{ByteRecord, ReaderBuilder};
use encoding_rs::WINDOWS_1252;

mod header;
#[cfg(test)]
mod tests;

/// The columns of a guardian upload, in the order [`InputRow::cells`] gives
/// them. A file may put them in any order, but must name each exactly once.
pub const HEADERS: [&str; 8] = [
    "student_code",
    "parent_code",
    "first_name",
    "last_name",
    "email",
    "phone",
    "home_phone",
    "language",
];

/// Where each of [`HEADERS`] sits in the file's header row.
type Columns = [usize; HEADERS.len()];

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The text encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a byte order mark.
    Utf8,
    /// Windows-1252, what Excel on Windows saves as plain "CSV"; assumed
    /// whenever the bytes are not valid UTF-8.
    Windows1252,
}

impl Encoding {
    /// The encoding's label: `"utf-8"` or `"windows-1252"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Windows1252 => "windows-1252",
        }
    }

    /// Checks the whole input once, without copying it: UTF-8, else
    /// Windows-1252 — unless it holds a byte neither reads as text (NUL, or
    /// one of the five Windows-1252 leaves undefined): then the file is
    /// refused, naming the line of the first such byte.
    fn of(bytes: &[u8]) -> Result<Self, FileError> {
        let utf8 = std::str::from_utf8(bytes).is_ok();
        let not_text = |b: &u8| *b == 0 || (!utf8 && matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D));
        if let Some(at) = bytes.iter().position(not_text) {
            return Err(FileError::Unreadable(format!(
                "line {}: byte 0x{:02X} is not text in UTF-8 or Windows-1252; \
                 save the file from Excel as CSV UTF-8 and upload it again",
                line_of(bytes, at),
                bytes[at]
            )));
        }
        Ok(if utf8 { Self::Utf8 } else { Self::Windows1252 })
    }

    /// One cell's text. A valid UTF-8 file splits at ASCII bytes only, so each
    /// of its cells is valid on its own and borrowed, never replaced.
    fn decode(self, bytes: &[u8]) -> Cow<'_, str> {
        match self {
            Self::Utf8 => String::from_utf8_lossy(bytes),
            Self::Windows1252 => WINDOWS_1252.decode_without_bom_handling(bytes).0,
        }
    }
}

/// A data row with a cell for every column, each trimmed of surrounding
/// whitespace. The values are as typed: checking them is the planner's work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputRow {
    /// The physical line the row starts on; the header is line 1.
    pub line: u64,
    /// `student_code`: the student the guardian belongs to.
    pub student_code: String,
    /// `parent_code`: the guardian's code in the school's system.
    pub parent_code: String,
    /// `first_name` of the guardian.
    pub first_name: String,
    /// `last_name` of the guardian.
    pub last_name: String,
    /// `email` of the guardian.
    pub email: String,
    /// `phone`: the guardian's mobile number.
    pub phone: String,
    /// `home_phone` of the guardian.
    pub home_phone: String,
    /// `language` the guardian reads.
    pub language: String,
}

impl InputRow {
    /// The cells in [`HEADERS`] order, for repeating the row in a result file.
    pub fn cells(&self) -> [&str; HEADERS.len()] {
        [
            &self.student_code,
            &self.parent_code,
            &self.first_name,
            &self.last_name,
            &self.email,
            &self.phone,
            &self.home_phone,
            &self.language,
        ]
    }

    /// Moves a record's cells (in file order) into their fields.
    fn from_cells(line: u64, mut cells: Vec<String>, columns: &Columns) -> Self {
        let mut take = |column: usize| {
            columns
                .get(column)
                .and_then(|at| cells.get_mut(*at))
                .map(std::mem::take)
                .unwrap_or_default()
        };
        Self {
            line,
            student_code: take(0),
            parent_code: take(1),
            first_name: take(2),
            last_name: take(3),
            email: take(4),
            phone: take(5),
            home_phone: take(6),
            language: take(7),
        }
    }
}

/// What one non-blank data row of the file became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRead {
    /// A row with as many cells as the header.
    Row(InputRow),
    /// A row with more or fewer cells than the header: it fails on its own,
    /// the rows after it are still read.
    Broken {
        /// The physical line the row starts on; the header is line 1.
        line: u64,
        /// The cells as read and trimmed, for the result file: in [`HEADERS`]
        /// order as the header places them (blank where the row is short),
        /// then any cells past the header's width.
        raw: Vec<String>,
        /// What is wrong, for the person who uploaded the file.
        reason: String,
    },
}

impl RowRead {
    /// The physical line the row starts on; the header is line 1.
    pub fn line(&self) -> u64 {
        match self {
            Self::Row(row) => row.line,
            Self::Broken { line, .. } => *line,
        }
    }
}

/// A file with the right header and at least one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadFile {
    /// The encoding the file was read in.
    pub encoding: Encoding,
    /// Every non-blank row after the header, in file order.
    pub rows: Vec<RowRead>,
}

/// Why a file cannot be read at all; the message is for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// No bytes, or only whitespace and a byte order mark.
    #[error("The file is empty")]
    Empty,
    /// A header and nothing after it but blank lines.
    #[error("The file has a header but no rows")]
    HeaderOnly,
    /// Headers missing, misspelt, repeated or extra; the message says which
    /// and lists the expected ones.
    #[error("{0}")]
    Headers(String),
    /// Not CSV text at all (a workbook, UTF-16, binary data) or unparsable.
    #[error("The file could not be read: {0}")]
    Unreadable(String),
}

/// Reads an uploaded guardian file: UTF-8 (a byte order mark is dropped) or
/// else Windows-1252, CRLF or LF, RFC 4180 quoting. Blank lines are skipped
/// wherever they are; so are lines whose cells are all blank (`,,,,,,,`).
pub fn read(bytes: &[u8]) -> Result<UploadFile, FileError> {
    let mut records = Records::open(bytes)?;
    if records.advance()?.is_none() {
        return Err(FileError::Empty);
    }
    let columns = header::check(&records.cells()).map_err(FileError::Headers)?;
    let mut rows = Vec::new();
    while let Some(line) = records.advance()? {
        rows.push(row(line, records.cells(), &columns));
    }
    if rows.is_empty() {
        return Err(FileError::HeaderOnly);
    }
    Ok(UploadFile {
        encoding: records.encoding,
        rows,
    })
}

/// How many rows [`read`] would return, counted without keeping any: the
/// non-blank records after the first. Checks neither the header nor the cells.
pub fn count_rows(bytes: &[u8]) -> Result<usize, FileError> {
    let mut records = Records::open(bytes)?;
    let mut count = 0_usize;
    while records.advance()?.is_some() {
        count += 1;
    }
    Ok(count.saturating_sub(1))
}

/// The file's non-blank records, one at a time in one reused buffer.
struct Records<'a> {
    bytes: &'a [u8],
    /// How far line breaks have been counted, and the line reached there.
    scanned: usize,
    line: u64,
    reader: csv::Reader<&'a [u8]>,
    record: ByteRecord,
    encoding: Encoding,
}

impl<'a> Records<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, FileError> {
        let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        if let Some(what) = not_csv(bytes) {
            return Err(FileError::Unreadable(what.to_owned()));
        }
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        Ok(Self {
            bytes,
            scanned: 0,
            line: 1,
            reader,
            record: ByteRecord::new(),
            encoding: Encoding::of(bytes)?,
        })
    }

    /// Moves to the next record with a non-blank cell: its line, or `None`
    /// at the end of the file.
    fn advance(&mut self) -> Result<Option<u64>, FileError> {
        let encoding = self.encoding;
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|error| FileError::Unreadable(error.to_string()))?;
            if !more {
                return Ok(None);
            }
            let blank = self
                .record
                .iter()
                .all(|cell| encoding.decode(cell).trim().is_empty());
            if !blank {
                return Ok(Some(self.start_line()));
            }
        }
    }

    /// The physical line the current record starts on, counting CRLF, LF
    /// and a lone CR as the reader does. The reader's own position is where
    /// the previous record stopped (before the `\n` of a CRLF and before the
    /// empty lines it skips), and its line count ignores a lone CR, so line
    /// breaks are counted here, each byte once.
    fn start_line(&mut self) -> u64 {
        let from = self
            .record
            .position()
            .and_then(|position| usize::try_from(position.byte()).ok())
            .unwrap_or(self.scanned);
        let skipped = self
            .bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = from + skipped;
        let between = self.bytes.get(self.scanned..start).unwrap_or_default();
        let breaks = between
            .iter()
            .enumerate()
            .filter(|(at, b)| match b {
                b'\n' => true,
                b'\r' => between.get(at + 1) != Some(&b'\n'),
                _ => false,
            })
            .count();
        self.line += breaks as u64;
        self.scanned = start;
        self.line
    }

    /// The current record's cells, decoded and trimmed.
    fn cells(&self) -> Vec<String> {
        self.record
            .iter()
            .map(|cell| self.encoding.decode(cell).trim().to_owned())
            .collect()
    }
}

/// The physical line (from 1) of byte `at`: CRLF, LF and a lone CR each end a line.
fn line_of(bytes: &[u8], at: usize) -> u64 {
    let before = &bytes[..at.min(bytes.len())];
    let breaks = before
        .iter()
        .enumerate()
        .filter(|(i, b)| match b {
            b'\n' => true,
            b'\r' => before.get(i + 1) != Some(&b'\n'),
            _ => false,
        })
        .count();
    1 + breaks as u64
}

/// Says what the upload is when it is plainly not CSV text, which would
/// otherwise surface as a header of garbage.
fn not_csv(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(
            "it is an Excel workbook or a zip file, not CSV; in Excel, use Save As and pick CSV UTF-8",
        )
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        Some("it is an Excel 97-2003 workbook, not CSV; in Excel, use Save As and pick CSV UTF-8")
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        Some("it is UTF-16 text, not CSV; in Excel, use Save As and pick CSV UTF-8")
    } else {
        None
    }
}

/// One data record as a row, or as a broken row when its width is wrong.
fn row(line: u64, mut cells: Vec<String>, columns: &Columns) -> RowRead {
    let (len, width) = (cells.len(), HEADERS.len());
    if len == width {
        return RowRead::Row(InputRow::from_cells(line, cells, columns));
    }
    let mut reason = format!(
        "The row has {} but the header has {width}",
        count(len, "cell")
    );
    if len > width {
        reason.push_str("; a value containing a comma must be in double quotes");
    }
    let mut raw: Vec<String> = columns
        .iter()
        .map(|at| cells.get_mut(*at).map(std::mem::take).unwrap_or_default())
        .collect();
    raw.extend(cells.into_iter().skip(width));
    RowRead::Broken { line, raw, reason }
}

/// `1 cell`, `7 cells`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
