//! RO-3 (data safety): a row that failed to read or validate still counts as
//! present. Its record keeps its current state and links and is never taken
//! for missing from a bulk file; a row so broken that even its `sourcedId`
//! is unknown stops every deactivation its file would cause in that run.

use std::collections::{HashMap, HashSet};

use crate::oneroster::RowError;

/// The kinds of rows a source delivers, whatever the source calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Districts and schools.
    Orgs,
    /// Terms and other academic sessions.
    Sessions,
    /// Courses.
    Courses,
    /// Classes (Clever sections).
    Classes,
    /// Students, staff and guardians (Clever contacts).
    Users,
    /// Enrollments.
    Enrollments,
}

impl Table {
    /// The table of a row error's `file`: a OneRoster CSV file, a OneRoster
    /// REST collection or a Clever list (`None` for an event feed).
    pub fn of_file(file: &str) -> Option<Table> {
        let name = file.split(['.', '?']).next().unwrap_or_default();
        Some(match name {
            "orgs" | "schools" | "districts" => Table::Orgs,
            "academicSessions" | "terms" => Table::Sessions,
            "courses" => Table::Courses,
            "classes" | "sections" => Table::Classes,
            "enrollments" => Table::Enrollments,
            "users" | "students" | "teachers" | "staff" | "contacts" | "demographics" => {
                Table::Users
            }
            _ => return None,
        })
    }
}

/// The rows that failed, by table.
#[derive(Debug, Default)]
pub struct FailedRows {
    ids: HashMap<Table, HashSet<String>>,
    /// The first failed row of a table whose `sourcedId` is unknown.
    unnamed: HashMap<Table, (String, u64)>,
}

impl FailedRows {
    /// Sorts `errors` by table.
    pub fn of(errors: &[RowError]) -> FailedRows {
        let mut failed = FailedRows::default();
        for e in errors {
            let Some(table) = Table::of_file(&e.file) else {
                continue;
            };
            match &e.source_id {
                Some(id) => {
                    failed.ids.entry(table).or_default().insert(id.clone());
                }
                None => {
                    failed
                        .unnamed
                        .entry(table)
                        .or_insert_with(|| (e.file.clone(), e.line));
                }
            }
        }
        failed
    }

    /// Did the row of `source_id` in `table` fail?
    pub fn contains(&self, table: Table, source_id: &str) -> bool {
        self.ids
            .get(&table)
            .is_some_and(|ids| ids.contains(source_id))
    }

    /// Why nothing missing from `table` may be deactivated in this run: a
    /// row of it failed without a `sourcedId` (its file and line).
    pub fn blinds(&self, table: Table) -> Option<String> {
        self.unnamed.get(&table).map(|(file, line)| {
            format!(
                "{file} line {line} could not be read at all, so nothing missing from {file} is deactivated in this run; fix the row and sync again"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: &str, line: u64, id: Option<&str>) -> RowError {
        RowError {
            file: file.into(),
            line,
            source_id: id.map(str::to_owned),
            message: "bad".into(),
        }
    }

    #[test]
    fn failed_rows_are_sorted_by_table_whatever_the_source_calls_it() {
        let failed = FailedRows::of(&[
            error("users.csv", 3, Some("g1")),
            error("users?role=contact", 9, Some("c7")),
            error("sections", 2, Some("sec1")),
            error("enrollments.csv", 5, None),
            error("events", 1, Some("ev")),
        ]);
        assert!(failed.contains(Table::Users, "g1"));
        assert!(failed.contains(Table::Users, "c7"));
        assert!(failed.contains(Table::Classes, "sec1"));
        assert!(!failed.contains(Table::Users, "sec1"));
        assert!(failed.blinds(Table::Users).is_none());
        let why = failed.blinds(Table::Enrollments).unwrap();
        assert!(
            why.starts_with("enrollments.csv line 5 could not be read"),
            "{why}"
        );
    }
}
