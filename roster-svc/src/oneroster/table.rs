//! Reading one data file: its header checked once, then each row handed to a
//! parser; a row the parser refuses becomes a [`RowError`] and the rest goes on.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Read;

use csv::{ByteRecord, StringRecord};

use super::cells::Row;
use super::headers::Header;
use super::model::{
    AcademicSession, Class, Course, Enrollment, FileMode, Org, RowError, User, Version,
};
use super::reader::BundleError;
use super::source::Source;
use super::specs::Spec;

/// What reading the files found besides rows.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub row_errors: Vec<RowError>,
    pub warnings: Vec<String>,
}

/// An open data file whose header has been checked.
pub(super) struct Table<'a> {
    spec: &'static Spec,
    pub header: Header,
    reader: csv::Reader<Box<dyn Read + 'a>>,
}

impl<'a> Table<'a> {
    /// Opens `spec.file` and checks its header; a bad header is
    /// [`BundleError::Columns`]. Also returns the header's warnings.
    pub(super) fn open(
        source: &'a mut dyn Source,
        spec: &'static Spec,
        version: Version,
    ) -> Result<(Self, Vec<String>), BundleError> {
        let input = source.open(spec.file)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(input);
        let mut record = StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err(BundleError::EmptyFile(spec.file.to_owned())),
            Err(error) => return Err(read_error(spec, &error)),
        }
        let cells: Vec<&str> = record.iter().collect();
        let (header, warnings) = Header::check(spec, version, &cells)
            .map_err(|problems| BundleError::Columns(vec![problems]))?;
        Ok((
            Self {
                spec,
                header,
                reader,
            },
            warnings,
        ))
    }

    /// Parses every row. `mode` is the file's manifest mode: a status in a bulk
    /// file is honoured and reported once. A repeated `sourcedId` keeps its first row.
    pub(super) fn rows<T: Keyed>(
        mut self,
        mode: FileMode,
        report: &mut Report,
        mut parse: impl FnMut(Row<'_>) -> Result<T, String>,
    ) -> Result<Vec<T>, BundleError> {
        let file = self.spec.file;
        let id_col = self.header.col("sourcedId");
        let status_col = self.header.col("status");
        let first_error = report.row_errors.len();
        let mut statuses_in_bulk = 0_usize;
        let (mut out, mut lines) = (Vec::new(), Vec::new());
        // Rows are read as bytes and checked as UTF-8 here, so that a row
        // that is not UTF-8 still names its `sourcedId` (the record it
        // belongs to is then kept as it is, never taken for missing). The
        // buffer goes back and forth without copying.
        let mut bytes = ByteRecord::new();
        loop {
            match self.reader.read_byte_record(&mut bytes) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => return Err(read_error(self.spec, &error)),
            }
            let record = match StringRecord::from_byte_record(std::mem::take(&mut bytes)) {
                Ok(record) => record,
                Err(error) => {
                    let raw = error.into_byte_record();
                    let line = raw.position().map_or(0, csv::Position::line);
                    let id = id_col
                        .and_then(|c| raw.get(c))
                        .and_then(|cell| std::str::from_utf8(cell).ok())
                        .map(str::trim)
                        .filter(|id| !id.is_empty())
                        .map(str::to_owned);
                    let message = "the row is not UTF-8 text; save the file as UTF-8".to_owned();
                    report.row_errors.push(row_error(file, line, id, message));
                    bytes = raw;
                    continue;
                }
            };
            if !record.as_slice().trim().is_empty() {
                let line = record.position().map_or(0, csv::Position::line);
                let row = Row::new(&record);
                let fail = |message| row_error(file, line, row.text(id_col), message);
                if let Some(message) = self.width_problem(&record) {
                    report.row_errors.push(fail(message));
                } else {
                    if mode == FileMode::Bulk && row.cell(status_col).is_some() {
                        statuses_in_bulk += 1;
                    }
                    match parse(row) {
                        Ok(value) => {
                            out.push(value);
                            lines.push(line);
                        }
                        Err(message) => report.row_errors.push(fail(message)),
                    }
                }
            }
            bytes = record.into_byte_record();
        }
        drop_repeats(file, &mut out, &lines, report);
        report.row_errors[first_error..].sort_by_key(|e| e.line);
        if statuses_in_bulk > 0 {
            report.warnings.push(format!(
                "{file} is bulk, yet {statuses_in_bulk} row(s) fill in status (bulk files leave it blank); \
                 the statuses were honoured, tobedeleted rows are deletions"
            ));
        }
        Ok(out)
    }

    /// A row must have every named column; extra cells at the end must be blank.
    fn width_problem(&self, record: &StringRecord) -> Option<String> {
        let (len, width) = (record.len(), self.header.width);
        let extra_filled = record
            .iter()
            .skip(width)
            .any(|cell| !cell.trim().is_empty());
        (len < self.header.min_width || extra_filled)
            .then(|| format!("the row has {len} cells, the header has {width}"))
    }
}

/// A parsed row's `sourcedId`, for finding repeats.
pub(super) trait Keyed {
    /// `None` for rows without an id of their own.
    fn source_id(&self) -> Option<&str>;
}

macro_rules! keyed_by_source_id {
    ($($model:ty),*) => {
        $(impl Keyed for $model {
            fn source_id(&self) -> Option<&str> {
                Some(&self.source_id)
            }
        })*
    };
}

keyed_by_source_id!(Org, AcademicSession, Course, Class, User, Enrollment);

/// Leaves out every row whose `sourcedId` an earlier row used. Runs once over
/// the parsed rows, so the ids are hashed without copying them.
fn drop_repeats<T: Keyed>(file: &str, out: &mut Vec<T>, lines: &[u64], report: &mut Report) {
    let mut first_line: HashMap<&str, u64> = HashMap::with_capacity(out.len());
    let mut repeats = Vec::new();
    for (at, (value, line)) in out.iter().zip(lines).enumerate() {
        let Some(id) = value.source_id() else {
            continue;
        };
        match first_line.entry(id) {
            Entry::Vacant(slot) => {
                slot.insert(*line);
            }
            Entry::Occupied(first) => {
                let message = format!("sourcedId {id} was already used on line {}", first.get());
                report
                    .row_errors
                    .push(row_error(file, *line, Some(id.to_owned()), message));
                repeats.push(at);
            }
        }
    }
    drop(first_line);
    if !repeats.is_empty() {
        let mut at = 0;
        out.retain(|_| {
            at += 1;
            repeats.binary_search(&(at - 1)).is_err()
        });
    }
}

fn row_error(file: &str, line: u64, source_id: Option<String>, message: String) -> RowError {
    RowError {
        file: file.to_owned(),
        line,
        source_id,
        message,
    }
}

fn read_error(spec: &Spec, error: &csv::Error) -> BundleError {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => BundleError::NotUtf8(spec.file.to_owned()),
        _ => BundleError::Read {
            file: spec.file.to_owned(),
            line: error.position().map_or(0, csv::Position::line),
            message: error.to_string(),
        },
    }
}
