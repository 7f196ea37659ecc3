//! Reading one data file: its header checked once, then each row handed to a
//! parser; a row the parser refuses becomes a [`RowError`] and the rest goes on.

use std::collections::HashMap;
use std::io::Read;

use csv::StringRecord;

use super::cells::Row;
use super::headers::Header;
use super::model::{FileMode, RowError, Version};
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
    /// file is honoured and reported once.
    pub(super) fn rows<T>(
        mut self,
        mode: FileMode,
        report: &mut Report,
        mut parse: impl FnMut(Row<'_>) -> Result<T, String>,
    ) -> Result<Vec<T>, BundleError> {
        let file = self.spec.file;
        let id_col = self.header.col("sourcedId");
        let status_col = self.header.col("status");
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut statuses_in_bulk = 0_usize;
        let mut out = Vec::new();
        let mut record = StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => match error.kind() {
                    csv::ErrorKind::Utf8 { pos, .. } => {
                        let line = pos.as_ref().map_or(0, csv::Position::line);
                        let message =
                            "the row is not UTF-8 text; save the file as UTF-8".to_owned();
                        report.row_errors.push(row_error(file, line, None, message));
                        continue;
                    }
                    _ => return Err(read_error(self.spec, &error)),
                },
            }
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            let line = record.position().map_or(0, csv::Position::line);
            let row = Row::new(&record);
            let id = row.cell(id_col);
            let fail = |message: String| row_error(file, line, id.map(str::to_owned), message);
            if let Some(message) = self.width_problem(&record) {
                report.row_errors.push(fail(message));
                continue;
            }
            if mode == FileMode::Bulk && row.cell(status_col).is_some() {
                statuses_in_bulk += 1;
            }
            match parse(row) {
                Err(message) => report.row_errors.push(fail(message)),
                Ok(value) => match id.map(|id| (id, seen.get(id))) {
                    Some((id, Some(first))) => {
                        report.row_errors.push(fail(format!(
                            "sourcedId {id} was already used on line {first}"
                        )));
                    }
                    Some((id, None)) => {
                        seen.insert(id.to_owned(), line);
                        out.push(value);
                    }
                    None => out.push(value),
                },
            }
        }
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
