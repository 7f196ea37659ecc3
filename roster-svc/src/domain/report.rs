//! RO-5: a run's report rows and totals.

use std::collections::BTreeMap;

use super::records::{Action, Entity};

/// One row of a sync report: one record.
///
/// A large sync holds one for each of its hundreds of thousands of records
/// until the report is stored, and most have no changed fields and no notes:
/// those two live behind one pointer that stays empty until a row has one,
/// and the record id, a UUID, is kept as its 16 bytes rather than as 36
/// characters on the heap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// Kind of record.
    pub entity: Entity,
    /// The record's source id.
    pub source_id: Box<str>,
    /// Name to show.
    pub name: Box<str>,
    /// What happened.
    pub action: Action,
    /// Roster record id.
    pub record_id: Option<CompactId>,
    /// identity account id.
    pub account_id: Option<Box<str>>,
    /// Changed fields and notes; `None` while the row has neither.
    details: Option<Box<Details>>,
}

/// An id as compact as it can be kept: a UUID in the form this service writes
/// (lowercase, hyphenated) as its 16 bytes, any other id as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompactId {
    /// A lowercase hyphenated UUID.
    Uuid(uuid::Uuid),
    /// Anything else, as written.
    Text(Box<str>),
}

impl CompactId {
    /// Keeps `id`; [`CompactId::to_string`] gives it back exactly.
    pub fn new(id: &str) -> CompactId {
        let mut buf = uuid::Uuid::encode_buffer();
        match uuid::Uuid::try_parse(id) {
            Ok(u) if u.hyphenated().encode_lower(&mut buf) == id => CompactId::Uuid(u),
            _ => CompactId::Text(id.into()),
        }
    }
}

impl std::fmt::Display for CompactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompactId::Uuid(u) => u.hyphenated().fmt(f),
            CompactId::Text(t) => f.write_str(t),
        }
    }
}

/// What only some rows have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Details {
    changed_fields: Vec<String>,
    notes: Vec<String>,
}

impl ReportRow {
    /// A row with no changed fields, notes or ids.
    pub fn new(entity: Entity, source_id: &str, name: &str, action: Action) -> ReportRow {
        ReportRow {
            entity,
            source_id: source_id.into(),
            name: name.into(),
            action,
            record_id: None,
            account_id: None,
            details: None,
        }
    }

    /// With a roster record id.
    pub fn record(mut self, id: &str) -> ReportRow {
        self.record_id = Some(CompactId::new(id));
        self
    }

    /// With one note.
    pub fn note(mut self, note: impl Into<String>) -> ReportRow {
        self.push_note(note);
        self
    }

    /// With these changed fields (after any it has).
    pub fn changed<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> ReportRow {
        self.push_changed_fields(fields);
        self
    }

    /// Fields that changed.
    pub fn changed_fields(&self) -> &[String] {
        self.details.as_ref().map_or(&[], |d| &d.changed_fields)
    }

    /// Notes (RO-6 differences, error reasons).
    pub fn notes(&self) -> &[String] {
        self.details.as_ref().map_or(&[], |d| &d.notes)
    }

    /// Adds changed fields.
    pub fn push_changed_fields<S: Into<String>>(&mut self, fields: impl IntoIterator<Item = S>) {
        let mut fields = fields.into_iter().peekable();
        if fields.peek().is_some() {
            self.details_mut()
                .changed_fields
                .extend(fields.map(Into::into));
        }
    }

    /// Adds a note.
    pub fn push_note(&mut self, note: impl Into<String>) {
        self.details_mut().notes.push(note.into());
    }

    fn details_mut(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Box::default)
    }
}

/// Counts per entity and action.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals(pub BTreeMap<String, BTreeMap<String, u64>>);

impl Totals {
    /// Counts the rows.
    pub fn of(rows: &[ReportRow]) -> Totals {
        let mut t = Totals::default();
        for r in rows {
            *t.0.entry(r.entity.as_str().to_string())
                .or_default()
                .entry(r.action.as_str().to_string())
                .or_default() += 1;
        }
        t
    }

    /// The count of one entity and action.
    pub fn get(&self, entity: Entity, action: Action) -> u64 {
        self.0
            .get(entity.as_str())
            .and_then(|m| m.get(action.as_str()))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large sync holds a row per record until its report is stored.
    #[test]
    fn a_row_without_changes_or_notes_stays_small() {
        assert!(std::mem::size_of::<ReportRow>() <= 88);
        let row = ReportRow::new(Entity::Student, "s1", "Ana", Action::Unchanged)
            .changed(Vec::<String>::new());
        assert!(row.details.is_none(), "no fields, no details");
        assert_eq!(
            row,
            ReportRow::new(Entity::Student, "s1", "Ana", Action::Unchanged)
        );
    }

    #[test]
    fn changed_fields_and_notes_keep_their_order() {
        let mut row = ReportRow::new(Entity::Guardian, "g1", "Bo", Action::Updated)
            .changed(["email"])
            .note("first");
        row.push_changed_fields(["phone".to_string()]);
        row.push_note("second");
        assert_eq!(row.changed_fields(), ["email", "phone"]);
        assert_eq!(row.notes(), ["first", "second"]);
    }

    #[test]
    fn an_id_reads_back_exactly_and_only_a_lowercase_hyphenated_uuid_is_packed() {
        let uuid = "01a2067d-a5b8-7648-88d0-3dfcdb080127";
        assert!(matches!(CompactId::new(uuid), CompactId::Uuid(_)));
        for other in [
            "01A2067D-A5B8-7648-88D0-3DFCDB080127",
            "01a2067da5b8764888d03dfcdb080127",
            "{01a2067d-a5b8-7648-88d0-3dfcdb080127}",
            "r1",
            "",
        ] {
            assert!(
                matches!(CompactId::new(other), CompactId::Text(_)),
                "{other}"
            );
        }
        for id in [uuid, "01A2067D-A5B8-7648-88D0-3DFCDB080127", "r1", ""] {
            assert_eq!(CompactId::new(id).to_string(), id);
        }
    }
}
