//! What the read queries share, written the same for both backends: escaped
//! LIKE patterns, `lower()`, words of the space-separated list columns
//! (`grades`, `school_ids`, `term_source_ids`), and the set a caller may see.

use homeroom_platform::db::DbConn;

/// The backend of a [`DbConn`], for boxed queries and conditions.
pub type Backend = <DbConn as diesel::Connection>::Backend;

diesel::define_sql_function!(
    /// SQL `lower(text)`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text
);

/// Ids per `IN (…)` list, well under SQLite's bound-parameter limit.
pub const CHUNK: usize = 1_000;

/// `text` with LIKE's wildcards (and the escape character `\`) escaped.
pub fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `%text%`, escaped: a case-folded search matches anywhere.
pub fn containing(text: &str) -> String {
    format!("%{}%", escape(&text.to_lowercase()))
}

/// The patterns of a space-separated list holding `word` first, last or
/// inside (a list of one is an equality).
pub fn word_patterns(word: &str) -> [String; 3] {
    let e = escape(word);
    [format!("{e} %"), format!("% {e}"), format!("% {e} %")]
}

/// True where the space-separated list `$column` holds the word `$word`.
macro_rules! has_word {
    ($column:expr, $word:expr) => {{
        let word: &str = $word;
        let [first, last, inside] = $crate::store::query::word_patterns(word);
        $column
            .eq(word.to_string())
            .or($column.like(first).escape('\\'))
            .or($column.like(last).escape('\\'))
            .or($column.like(inside).escape('\\'))
    }};
}
pub(crate) use has_word;

/// What a list may show of a district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// Everything.
    All,
    /// Records of these schools, and these records by id.
    Some {
        /// Whole schools.
        schools: Vec<String>,
        /// Single records.
        ids: Vec<String>,
    },
}

impl Visible {
    /// True when nothing at all is visible.
    pub fn is_nothing(&self) -> bool {
        matches!(self, Visible::Some { schools, ids } if schools.is_empty() && ids.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_user_text_match_themselves() {
        assert_eq!(containing("50%_A"), "%50\\%\\_a%");
        assert_eq!(
            word_patterns("03"),
            ["03 %".to_string(), "% 03".into(), "% 03 %".into()]
        );
    }
}
