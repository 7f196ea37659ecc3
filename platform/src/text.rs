//! Length limits of the text a caller sets, said the same way everywhere:
//! `display_name: at most 200 characters (this one has 901,002)`.

/// Names of people, schools, districts, sources.
pub const NAME: usize = 200;
/// URLs and file locations.
pub const URL: usize = 2_048;
/// Short free text: notes, search queries, ids and keys.
pub const SHORT: usize = 1_000;
/// An email subject.
pub const SUBJECT: usize = 998;
/// A message body.
pub const BODY: usize = 100_000;

/// `Err` naming `field` when `value` has more than `max` characters.
pub fn within(field: &str, value: &str, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n > max {
        Err(format!(
            "{field}: at most {max} characters (this one has {n})"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_value_is_refused_naming_the_field() {
        assert!(super::within("name", "Ana", 3).is_ok());
        assert_eq!(
            super::within("name", "Anna", 3),
            Err("name: at most 3 characters (this one has 4)".into())
        );
        assert!(
            super::within("name", "ÉÉÉ", 3).is_ok(),
            "characters, not bytes"
        );
    }
}
