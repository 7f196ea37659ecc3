//! CSV for people: a UTF-8 BOM first so Excel reads UTF-8, RFC 4180 quoting,
//! CRLF line ends, and formula-like cells neutralised.

/// A CSV report being written, in memory; hand it out whole
/// ([`CsvReport::into_bytes`]) or piece by piece ([`CsvReport::take_chunk`]).
///
/// A cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or CR) is written with a leading `'` so it stays text (OWASP's
/// CSV injection advice); a cell holding a comma, quote, CR or LF is quoted.
#[derive(Debug, Clone, Default)]
pub struct CsvReport {
    buf: Vec<u8>,
    rows: usize,
}

impl CsvReport {
    /// A report starting with the BOM and the header row.
    pub fn new(header: &[&str]) -> Self {
        let mut report = Self {
            buf: "\u{feff}".into(),
            rows: 0,
        };
        report.record(header);
        report
    }

    /// Rows only, no BOM and no header: the later chunks of a stream whose first
    /// chunk came from [`CsvReport::new`].
    pub fn rows_only() -> Self {
        Self::default()
    }

    /// Appends a row.
    pub fn row<I: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = I>) {
        self.record(cells);
        self.rows += 1;
    }

    /// The bytes written since the last call (all of them the first time), for
    /// streaming; the report goes on empty.
    pub fn take_chunk(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Every byte not yet taken.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written and not yet taken.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether every byte written has been taken.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Rows appended with [`CsvReport::row`] (the header is not one).
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn record<I: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = I>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            cell_into(&mut self.buf, cell.as_ref());
        }
        self.buf.extend_from_slice(b"\r\n");
    }
}

/// Writes one cell: neutralised when formula-like, quoted when needed.
fn cell_into(out: &mut Vec<u8>, cell: &str) {
    let formula_like = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = cell.contains([',', '"', '\r', '\n']);
    if quoted {
        out.push(b'"');
    }
    if formula_like {
        out.push(b'\'');
    }
    if quoted {
        for part in cell.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(s: &str) -> String {
        let mut out = Vec::new();
        cell_into(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_report_starts_with_a_bom_and_the_header_and_ends_lines_with_crlf() {
        let mut report = CsvReport::new(&["Name", "Email"]);
        report.row(["Ana", "ana@example.org"]);
        report.row(vec![String::from("Bo"), String::new()]);
        assert_eq!(report.rows(), 2);
        let text = String::from_utf8(report.into_bytes()).unwrap();
        assert_eq!(text, "\u{feff}Name,Email\r\nAna,ana@example.org\r\nBo,\r\n");
    }

    #[test]
    fn formula_like_cells_are_neutralised_so_they_stay_text() {
        assert_eq!(cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(cell("+1987"), "'+1987");
        assert_eq!(cell("+19876543210"), "'+19876543210");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn cells_with_commas_quotes_or_line_breaks_are_quoted() {
        assert_eq!(cell("Smith, Sarah"), "\"Smith, Sarah\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("\r"), "\"'\r\"");
        assert_eq!(cell("=1,2"), "\"'=1,2\"");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("José Müller"), "José Müller");
    }

    #[test]
    fn an_rfc_4180_reader_gets_the_cells_back_with_only_the_prefix_added() {
        let cells = ["Smith, \"Sam\"", "=1+1", "line\r\nbreak", "", "Nguyễn"];
        let mut report = CsvReport::rows_only();
        report.row(cells);
        let bytes = report.take_chunk();
        assert!(report.is_empty());
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let read: Vec<String> = reader
            .records()
            .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
            .collect();
        assert_eq!(
            read,
            ["Smith, \"Sam\"", "'=1+1", "line\r\nbreak", "", "Nguyễn"]
        );
    }

    #[test]
    fn chunks_taken_in_turn_join_into_the_whole_report() {
        let mut report = CsvReport::new(&["A"]);
        let mut whole = report.take_chunk();
        assert!(whole.starts_with(&[0xEF, 0xBB, 0xBF]));
        for i in 0..3 {
            report.row([i.to_string()]);
            whole.extend(report.take_chunk());
        }
        assert_eq!(whole, "\u{feff}A\r\n0\r\n1\r\n2\r\n".as_bytes());
    }
}
