//! The rules of rostering, free of tonic and diesel.

pub mod duplicates;
pub mod error;
pub mod failed_rows;
pub mod grades;
pub(crate) mod parallel;
pub mod plan;
pub mod reads;
pub mod records;
pub mod report;
pub mod upload;

/// A hash map keyed by ids (source or roster): foldhash, seeded per map —
/// hashing is much of planning, and SipHash's strength buys nothing here.
pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set of ids; see [`Map`].
pub type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// Keeps one copy of each text it is given: ids that repeat across hundreds
/// of thousands of records (an enrollment's class, user and school) share it.
#[derive(Debug, Default)]
pub struct Interner(Set<std::sync::Arc<str>>);

impl Interner {
    /// The shared copy of `text`.
    pub fn get(&mut self, text: &str) -> std::sync::Arc<str> {
        match self.0.get(text) {
            Some(known) => known.clone(),
            None => {
                let shared: std::sync::Arc<str> = text.into();
                self.0.insert(shared.clone());
                shared
            }
        }
    }
}
