//! XLSX for people: named sheets with a bold, frozen header row, every cell a
//! string, column widths that fit the text.
//!
//! Sheets are written in `rust_xlsxwriter`'s low-memory mode (its
//! `constant_memory` feature): each finished row goes to a temporary file and
//! only the shared-string table stays in memory, so a 100,000-row report costs
//! tens of MB rather than hundreds. The temporary directory is checked when the
//! report is created, so a read-only one is an error, not a panic.

use rust_xlsxwriter::{Format, Workbook};

use super::ReportFileError;

/// Excel's limit on the characters in a cell; longer text is cut.
const MAX_CELL_CHARS: usize = 32_767;
/// Widest column we set, in characters, however long the text.
const MAX_WIDTH: usize = 60;
/// Narrowest column we set.
const MIN_WIDTH: usize = 8;

/// An XLSX workbook being written. Rows go to the sheet added last; cells are
/// always strings, so nothing in them is ever evaluated as a formula.
pub struct XlsxReport {
    workbook: Workbook,
    header: Format,
    /// Per sheet, in workbook order.
    sheets: Vec<Sheet>,
}

struct Sheet {
    next_row: u32,
    /// Widest text seen per column, in characters.
    widths: Vec<usize>,
}

impl std::fmt::Debug for XlsxReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxReport")
            .field("sheets", &self.sheets.len())
            .finish_non_exhaustive()
    }
}

impl XlsxReport {
    /// A workbook whose first sheet is `sheet`, starting with `header`.
    pub fn new(sheet: &str, header: &[&str]) -> Result<Self, ReportFileError> {
        let mut workbook = Workbook::new();
        workbook.set_tempdir(std::env::temp_dir())?;
        let mut report = Self {
            workbook,
            header: Format::new().set_bold(),
            sheets: Vec::new(),
        };
        report.add_sheet(sheet, header)?;
        Ok(report)
    }

    /// Adds a sheet named `name` (at most 31 characters, none of `[]:*?/\`)
    /// starting with `header`; later rows go to it.
    pub fn add_sheet(&mut self, name: &str, header: &[&str]) -> Result<(), ReportFileError> {
        let sheet = self.workbook.add_worksheet_with_low_memory();
        sheet.set_name(name)?;
        sheet.set_freeze_panes(1, 0)?;
        let mut widths = Vec::with_capacity(header.len());
        for (col, title) in (0u16..).zip(header) {
            let text = fit(title);
            sheet.write_string_with_format(0, col, text, &self.header)?;
            // Bold text is a little wider.
            widths.push(text.chars().count() + 1);
        }
        self.sheets.push(Sheet {
            next_row: 1,
            widths,
        });
        Ok(())
    }

    /// Appends a row of text to the sheet added last.
    pub fn row<I: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = I>,
    ) -> Result<(), ReportFileError> {
        let index = self.sheets.len().saturating_sub(1);
        let sheet = self.workbook.worksheet_from_index(index)?;
        let Some(state) = self.sheets.last_mut() else {
            return Ok(());
        };
        let row = state.next_row;
        for (col, cell) in (0u16..).zip(cells) {
            let text = fit(cell.as_ref());
            if !text.is_empty() {
                sheet.write_string(row, col, text)?;
            }
            let width = text.chars().count();
            match state.widths.get_mut(usize::from(col)) {
                Some(w) => *w = (*w).max(width),
                None => state.widths.push(width),
            }
        }
        state.next_row += 1;
        Ok(())
    }

    /// The finished `.xlsx` file.
    pub fn finish(mut self) -> Result<Vec<u8>, ReportFileError> {
        for (index, state) in self.sheets.iter().enumerate() {
            let sheet = self.workbook.worksheet_from_index(index)?;
            for (col, width) in (0u16..).zip(&state.widths) {
                let chars = (*width + 2).clamp(MIN_WIDTH, MAX_WIDTH);
                sheet.set_column_width(col, u32::try_from(chars).unwrap_or(60))?;
            }
        }
        Ok(self.workbook.save_to_buffer()?)
    }
}

/// `text` cut to what a cell holds.
fn fit(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::*;

    fn entry(xlsx: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn a_workbook_is_a_zip_with_the_named_sheets_and_their_cells() {
        let mut report = XlsxReport::new("Shared emails", &["Value", "Holders"]).unwrap();
        report.row(["smith@example.org", "2"]).unwrap();
        report.row(["=cmd|' /C calc'!A0", "José Müller"]).unwrap();
        report.add_sheet("Holders", &["Name"]).unwrap();
        report.row(["Nguyễn Văn An"]).unwrap();
        let xlsx = report.finish().unwrap();

        assert!(xlsx.starts_with(b"PK"));
        let workbook = entry(&xlsx, "xl/workbook.xml");
        assert!(workbook.contains(r#"name="Shared emails""#), "{workbook}");
        assert!(workbook.contains(r#"name="Holders""#), "{workbook}");
        let strings = entry(&xlsx, "xl/sharedStrings.xml");
        for text in ["Value", "smith@example.org", "José Müller", "Nguyễn Văn An"] {
            assert!(strings.contains(text), "{text} missing from {strings}");
        }
        // A formula-like value is text, never a formula.
        assert!(strings.contains("=cmd|&apos; /C calc&apos;!A0") || strings.contains("=cmd|' /C"));
        let sheet1 = entry(&xlsx, "xl/worksheets/sheet1.xml");
        assert!(!sheet1.contains("<f>"), "{sheet1}");
        assert!(
            sheet1.contains(r#"ySplit="1""#),
            "header row not frozen: {sheet1}"
        );
        assert!(sheet1.contains("<col "), "no column widths: {sheet1}");
    }

    #[test]
    fn a_sheet_name_excel_refuses_is_an_error() {
        let refused = XlsxReport::new("a/b", &["A"]);
        assert!(matches!(refused, Err(ReportFileError::Xlsx(_))));
    }

    #[test]
    fn text_longer_than_a_cell_holds_is_cut() {
        let long = "é".repeat(MAX_CELL_CHARS + 5);
        assert_eq!(fit(&long).chars().count(), MAX_CELL_CHARS);
        assert_eq!(fit("short"), "short");
        let mut report = XlsxReport::new("Long", &["A"]).unwrap();
        report.row([long]).unwrap();
        assert!(report.finish().unwrap().starts_with(b"PK"));
    }

    #[test]
    fn a_large_sheet_is_written_row_by_row_to_the_end() {
        // 100,000 rows like these peak at ~40 MB; fewer keep the suite quick.
        let mut report = XlsxReport::new("Big", &["Id", "Email", "Phone", "Name"]).unwrap();
        for i in 0..20_000 {
            let cells = [
                i.to_string(),
                format!("parent{i}@example.org"),
                format!("(212) 555-{:04}", i % 10_000),
                String::from("Ana Smith"),
            ];
            report.row(cells).unwrap();
        }
        let xlsx = report.finish().unwrap();
        assert!(xlsx.starts_with(b"PK"));
        assert!(entry(&xlsx, "xl/worksheets/sheet1.xml").contains(r#"<row r="20001""#));
    }
}
