//! A bundle as the connectors build it: OneRoster 1.1 shaped, each of the six
//! rostering files bulk (a full read) or delta (an incremental one).

use std::collections::{BTreeMap, HashSet};

use reqwest::Url;
use serde::{Deserialize, Deserializer};

use crate::oneroster::{Bundle, FileMode, RowError, Version};

/// The files a connector supplies, by stem.
const STEMS: [&str; 6] = [
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
];

/// An empty bundle from `system` at `base`, every rostering file in `mode`.
pub(super) fn empty(mode: FileMode, system: &str, base: &Url) -> Bundle {
    let manifest = BTreeMap::from([
        ("manifest.version".to_owned(), "1.0".to_owned()),
        ("oneroster.version".to_owned(), "1.1".to_owned()),
        ("source.systemName".to_owned(), system.to_owned()),
        (
            "source.systemCode".to_owned(),
            base.host_str().unwrap_or_default().to_owned(),
        ),
    ]);
    Bundle::empty(
        Version::V1_1,
        manifest,
        STEMS.iter().map(|s| ((*s).to_owned(), mode)).collect(),
    )
}

/// A record left out: `file` is the API collection, `position` its 0-based
/// place in the whole collection.
pub(super) fn row_error(
    file: &str,
    position: usize,
    source_id: Option<&str>,
    message: impl Into<String>,
) -> RowError {
    RowError {
        file: file.to_owned(),
        line: u64::try_from(position).map_or(u64::MAX, |p| p.saturating_add(1)),
        source_id: source_id.map(str::to_owned),
        message: message.into(),
    }
}

/// Keeps the first record of each id; later ones (a page that shifted while
/// being read) are left out and reported.
pub(super) fn first_of_each<T>(
    file: &str,
    records: Vec<T>,
    id: impl Fn(&T) -> &str,
    row_errors: &mut Vec<RowError>,
) -> Vec<T> {
    let mut seen: HashSet<String> = HashSet::with_capacity(records.len());
    let mut kept = Vec::with_capacity(records.len());
    for (at, record) in records.into_iter().enumerate() {
        if seen.insert(id(&record).to_owned()) {
            kept.push(record);
        } else {
            let message = format!("{} was already read; the repeat was left out", id(&record));
            row_errors.push(row_error(file, at, Some(id(&record)), message));
        }
    }
    kept
}

/// A trimmed, non-empty string, or `None`.
pub(super) fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "NULL")
        .map(str::to_owned)
}

/// `null` reads as the type's default (APIs send `null` for empty lists).
pub(super) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Pushes `value` unless it is already in `list`.
pub(super) fn push_unique(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}
