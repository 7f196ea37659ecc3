//! Clever stores a contact's full name in the last-name field. This splits it
//! into given and family names the way a person would read it.

/// Lower-case words that belong to the family name that follows them.
const PARTICLES: &[&str] = &[
    "da", "das", "de", "del", "della", "der", "des", "di", "do", "dos", "du", "la", "le", "st.",
    "van", "von",
];

/// Words that end a name and stay with the family name.
const SUFFIXES: &[&str] = &["Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"];

/// Given and family name of a contact from Clever's `first` and `last`:
/// - `first` given: it is the given name, and `last` loses a leading copy of it;
/// - `"Lopez, Maria"`: family before the comma;
/// - `"Maria Lopez"`, `"Ana María de la Cruz"`, `"John Smith Jr."`: the last
///   word (with particles before it and a suffix after it) is the family name;
/// - one word: the family name, the given name left blank.
pub(super) fn contact_name(first: Option<&str>, last: Option<&str>) -> (String, String) {
    let first = first.map(str::trim).unwrap_or_default();
    let last = last.map(str::trim).unwrap_or_default();
    if !first.is_empty() {
        let family = last
            .strip_prefix(first)
            .filter(|rest| rest.starts_with(' '))
            .map_or(last, str::trim);
        return (first.to_owned(), family.to_owned());
    }
    if let Some((family, given)) = last.split_once(',') {
        let (family, given) = (family.trim(), given.trim());
        if !family.is_empty() && !given.is_empty() {
            return (given.to_owned(), family.to_owned());
        }
    }
    split_full_name(last)
}

fn split_full_name(full: &str) -> (String, String) {
    let words: Vec<&str> = full.split_whitespace().collect();
    if words.len() < 2 {
        return (String::new(), words.join(" "));
    }
    let mut start = words.len() - 1;
    let suffix = words.last().is_some_and(|w| SUFFIXES.contains(w));
    if suffix && words.len() > 2 {
        start -= 1;
    }
    while start > 1 && words.get(start - 1).is_some_and(|w| PARTICLES.contains(w)) {
        start -= 1;
    }
    (words[..start].join(" "), words[start..].join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(first: Option<&str>, last: &str) -> (String, String) {
        contact_name(first, Some(last))
    }

    fn pair(given: &str, family: &str) -> (String, String) {
        (given.to_owned(), family.to_owned())
    }

    #[test]
    fn a_full_name_in_the_last_name_field_is_split() {
        assert_eq!(split(None, "Maria Lopez"), pair("Maria", "Lopez"));
        assert_eq!(split(Some(""), " Maria  Lopez "), pair("Maria", "Lopez"));
        assert_eq!(split(None, "Mary Ann Smith"), pair("Mary Ann", "Smith"));
        assert_eq!(split(None, "Ana de la Cruz"), pair("Ana", "de la Cruz"));
        assert_eq!(
            split(None, "Ludwig van Beethoven"),
            pair("Ludwig", "van Beethoven")
        );
        assert_eq!(split(None, "John Smith Jr."), pair("John", "Smith Jr."));
        assert_eq!(split(None, "Lopez, Maria"), pair("Maria", "Lopez"));
        assert_eq!(split(None, "Cher"), pair("", "Cher"));
        assert_eq!(split(None, ""), pair("", ""));
    }

    #[test]
    fn a_given_first_name_is_kept_and_not_repeated_in_the_family_name() {
        assert_eq!(split(Some("Maria"), "Maria Lopez"), pair("Maria", "Lopez"));
        assert_eq!(split(Some("Maria"), "Lopez"), pair("Maria", "Lopez"));
        assert_eq!(split(Some("Mari"), "Mariano"), pair("Mari", "Mariano"));
    }
}
