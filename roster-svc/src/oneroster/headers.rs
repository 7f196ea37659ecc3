//! The exact header of each rostering file, and the check that maps a file's
//! header to column positions once, so rows are read by index.

use std::fmt;

use super::model::Version;
use super::specs::{LEGACY, Spec, USERS_1_1, USERS_1_2};

/// A file's header, checked: where each standard column sits.
#[derive(Debug)]
pub(super) struct Header {
    spec: &'static Spec,
    /// Position in the file of each of `spec.columns`.
    positions: Vec<Option<usize>>,
    /// Cells a row must have: up to the last named column.
    pub min_width: usize,
    /// Cells in the header, named or not.
    pub width: usize,
}

impl Header {
    /// Maps `cells` (the header row) against `spec`: the header, plus warnings
    /// (a non-standard order, unnamed columns), or what is wrong with it.
    pub(super) fn check(
        spec: &'static Spec,
        version: Version,
        cells: &[&str],
    ) -> Result<(Header, Vec<String>), ColumnProblems> {
        let mut problems = ColumnProblems::new(spec);
        let mut positions = vec![None; spec.columns.len()];
        let mut unnamed = Vec::new();
        for (at, raw) in cells.iter().enumerate() {
            let name = raw.trim_start_matches('\u{feff}').trim();
            if name.is_empty() {
                unnamed.push(at + 1);
            } else if name.starts_with("metadata.") {
                continue;
            } else if let Some(known) = spec.columns.iter().position(|c| *c == name) {
                match positions.get_mut(known) {
                    Some(Some(_)) => problems.duplicate.push(name.to_owned()),
                    Some(slot) => *slot = Some(at),
                    None => {}
                }
            } else {
                problems
                    .unknown
                    .push((name.to_owned(), hint(name, spec, version)));
            }
        }
        for (column, position) in spec.columns.iter().zip(&positions) {
            if position.is_none() && spec.required.contains(column) {
                problems.missing.push((*column).to_owned());
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut warnings = Vec::new();
        let found: Vec<usize> = positions.iter().flatten().copied().collect();
        if found.windows(2).any(|w| w[0] > w[1]) {
            warnings.push(format!(
                "{}: the columns are not in the standard's order ({}); they were read by name",
                spec.file,
                spec.columns.join(",")
            ));
        }
        if !unnamed.is_empty() {
            let list: Vec<String> = unnamed.iter().map(usize::to_string).collect();
            warnings.push(format!(
                "{}: column(s) {} have no name in the header and were ignored",
                spec.file,
                list.join(", ")
            ));
        }
        let min_width = cells
            .iter()
            .rposition(|c| !c.trim_start_matches('\u{feff}').trim().is_empty())
            .map_or(0, |last| last + 1);
        let header = Header {
            spec,
            positions,
            min_width,
            width: cells.len(),
        };
        Ok((header, warnings))
    }

    /// The position of a standard column, when the file has it.
    pub(super) fn col(&self, name: &str) -> Option<usize> {
        let known = self.spec.columns.iter().position(|c| *c == name)?;
        self.positions.get(known).copied().flatten()
    }
}

/// Everything wrong with one file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnProblems {
    /// The file, e.g. `users.csv`.
    pub file: &'static str,
    /// Required columns the header lacks.
    pub missing: Vec<String>,
    /// Columns the standard does not define, each with a hint when one helps.
    pub unknown: Vec<(String, Option<String>)>,
    /// Columns named twice.
    pub duplicate: Vec<String>,
    /// The standard's header for this file.
    pub expected: &'static [&'static str],
}

impl ColumnProblems {
    fn new(spec: &'static Spec) -> Self {
        Self {
            file: spec.file,
            missing: Vec::new(),
            unknown: Vec::new(),
            duplicate: Vec::new(),
            expected: spec.columns,
        }
    }

    fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unknown.is_empty() && self.duplicate.is_empty()
    }
}

impl fmt::Display for ColumnProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |names: &[String]| {
            let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            list.join(", ")
        };
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "required column(s) missing: {}",
                quoted(&self.missing)
            ));
        }
        if !self.unknown.is_empty() {
            let list: Vec<String> = self
                .unknown
                .iter()
                .map(|(name, hint)| match hint {
                    Some(hint) => format!("\"{name}\" ({hint})"),
                    None => format!("\"{name}\""),
                })
                .collect();
            parts.push(format!("unknown column(s): {}", list.join(", ")));
        }
        if !self.duplicate.is_empty() {
            parts.push(format!(
                "column(s) named twice: {}",
                quoted(&self.duplicate)
            ));
        }
        write!(
            f,
            "{}: {}; the header should be {} \
             (columns may be left out unless required; extra columns must be named metadata.*)",
            self.file,
            parts.join("; "),
            self.expected.join(",")
        )
    }
}

/// Why an unknown column may be there, in words a district admin can act on.
fn hint(name: &str, spec: &Spec, version: Version) -> Option<String> {
    if let Some((_, new)) = LEGACY.iter().find(|(old, _)| *old == name) {
        return Some(format!(
            "a OneRoster 1.0 name; 1.1 and 1.2 call it \"{new}\""
        ));
    }
    if spec.file == USERS_1_2.file {
        let v1_2 = version != Version::V1_1;
        if v1_2 && USERS_1_1.columns.contains(&name) {
            return Some(format!(
                "a OneRoster 1.1 column: 1.2 keeps role and orgs in roles.csv, yet manifest.csv says {}",
                version.as_str()
            ));
        }
        if !v1_2 && USERS_1_2.columns.contains(&name) {
            return Some("a OneRoster 1.2 column, yet manifest.csv says 1.1".to_owned());
        }
    }
    if name.starts_with("ext") {
        return Some("extension columns must be named metadata.<name>".to_owned());
    }
    let near = closest(name, spec.columns.iter().copied())?;
    if near.eq_ignore_ascii_case(name) {
        Some(format!(
            "did you mean \"{near}\"? column names are case-sensitive"
        ))
    } else {
        Some(format!("did you mean \"{near}\"?"))
    }
}

/// The candidate within two edits of `word` (ignoring case), if any: catches
/// `dataLastModified`, `prefferedGivenName`, `fiel.demographics`.
pub(super) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .map(|c| (edit_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oneroster::specs::ORGS;

    #[test]
    fn misspellings_are_within_two_edits() {
        assert_eq!(edit_distance("datalastmodified", "datelastmodified"), 1);
        assert_eq!(edit_distance("fiel.demographics", "file.demographics"), 2);
        assert_eq!(
            closest("prefferedGivenName", USERS_1_2.columns.iter().copied()),
            Some("preferredGivenName")
        );
        assert_eq!(
            closest("favouriteColour", USERS_1_2.columns.iter().copied()),
            None
        );
    }

    #[test]
    fn a_reordered_header_with_metadata_reads_by_name_and_warns() {
        let cells = ["name", "sourcedId", "metadata.city", "type"];
        let (header, warnings) = Header::check(&ORGS, Version::V1_1, &cells).unwrap();
        assert_eq!(header.col("sourcedId"), Some(1));
        assert_eq!(header.col("type"), Some(3));
        assert_eq!(header.col("identifier"), None);
        assert!(
            warnings[0].contains("not in the standard's order"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_1_0_header_is_refused_with_the_new_names() {
        let cells = [
            "sourcedId",
            "givenName",
            "familyName",
            "role",
            "userId",
            "agents",
        ];
        let problems = Header::check(&USERS_1_1, Version::V1_1, &cells).unwrap_err();
        let text = problems.to_string();
        assert!(
            text.contains("\"userId\" (a OneRoster 1.0 name; 1.1 and 1.2 call it \"userIds\")"),
            "{text}"
        );
        assert!(text.contains("\"agents\""), "{text}");
    }

    #[test]
    fn a_case_slip_is_pointed_out() {
        let cells = ["sourcedid", "name", "type"];
        let text = Header::check(&ORGS, Version::V1_1, &cells)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("required column(s) missing: \"sourcedId\""),
            "{text}"
        );
        assert!(
            text.contains("did you mean \"sourcedId\"? column names are case-sensitive"),
            "{text}"
        );
    }
}
