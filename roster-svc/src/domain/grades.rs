//! Grade levels as CEDS codes: what a district picks for student accounts
//! and what a student's record says, compared alike (`9` is `09`).

/// The CEDS grade codes.
pub const CODES: [&str; 21] = [
    "IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
    "12", "13", "PS", "UG", "Other",
];

/// The CEDS code of a grade as a source or a person wrote it: any case,
/// numbers with or without the leading zero; `None` when it is none.
pub fn code(raw: &str) -> Option<&'static str> {
    let raw = raw.trim();
    let padded = format!("{raw:0>2}");
    CODES
        .iter()
        .find(|g| g.eq_ignore_ascii_case(raw) || **g == padded)
        .copied()
}

/// Whether a person's grades (space-separated, as stored) meet `chosen`
/// (CEDS codes, space-separated).
pub fn any_in(grades: &str, chosen: &str) -> bool {
    grades
        .split_whitespace()
        .filter_map(code)
        .any(|g| chosen.split_whitespace().any(|c| c == g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_and_without_a_leading_zero_are_one_grade() {
        assert_eq!(code("9"), Some("09"));
        assert_eq!(code("09"), Some("09"));
        assert_eq!(code("kg"), Some("KG"));
        assert_eq!(code("other"), Some("Other"));
        assert_eq!(code("14"), None);
        assert_eq!(code(""), None);
        assert!(any_in("8 9", "09 10"));
        assert!(!any_in("07 08", "09 10"));
        assert!(!any_in("", ""));
    }
}
