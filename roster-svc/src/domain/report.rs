//! RO-5: a run's report rows and totals.

use std::collections::BTreeMap;

use super::records::{Action, Entity};

/// One row of a sync report: one record.
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
    /// Fields that changed.
    pub changed_fields: Vec<String>,
    /// Notes (RO-6 differences, error reasons).
    pub notes: Vec<String>,
    /// Roster record id.
    pub record_id: Option<Box<str>>,
    /// identity account id.
    pub account_id: Option<Box<str>>,
}

impl ReportRow {
    /// A row with no changed fields, notes or ids.
    pub fn new(entity: Entity, source_id: &str, name: &str, action: Action) -> ReportRow {
        ReportRow {
            entity,
            source_id: source_id.into(),
            name: name.into(),
            action,
            changed_fields: Vec::new(),
            notes: Vec::new(),
            record_id: None,
            account_id: None,
        }
    }

    /// With a roster record id.
    pub fn record(mut self, id: &str) -> ReportRow {
        self.record_id = Some(id.into());
        self
    }

    /// With one note.
    pub fn note(mut self, note: impl Into<String>) -> ReportRow {
        self.notes.push(note.into());
        self
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
