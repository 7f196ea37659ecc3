//! The header check: where each expected column sits, or one message naming
//! every unexpected, missing, repeated and unnamed column.

use super::{Columns, HEADERS};

/// Longest header name quoted back whole in an error message.
const NAME_CHARS: usize = 40;

/// Most unexpected header names an error message lists.
const NAMES_LISTED: usize = 10;

/// Where each of [`HEADERS`] sits in the header row `names` (trimmed), or a
/// message saying everything wrong with it.
pub(super) fn check(names: &[String]) -> Result<Columns, String> {
    let mut found = [None; HEADERS.len()];
    let (mut unexpected, mut duplicate, mut unnamed) = (Vec::new(), Vec::new(), Vec::new());
    for (at, name) in names.iter().enumerate() {
        match HEADERS.iter().position(|known| known == name) {
            Some(known) => match found.get_mut(known) {
                Some(Some(_)) => push_once(&mut duplicate, name),
                Some(slot) => *slot = Some(at),
                None => {}
            },
            None if name.is_empty() => unnamed.push((at + 1).to_string()),
            None => push_once(&mut unexpected, name),
        }
    }
    let missing: Vec<&str> = HEADERS
        .iter()
        .zip(&found)
        .filter(|(_, at)| at.is_none())
        .map(|(name, _)| *name)
        .collect();
    if unexpected.is_empty() && missing.is_empty() && duplicate.is_empty() && unnamed.is_empty() {
        return Ok(found.map(Option::unwrap_or_default));
    }
    let mut parts = Vec::new();
    if !unexpected.is_empty() {
        let mut listed: Vec<String> = unexpected
            .iter()
            .take(NAMES_LISTED)
            .map(|name| unexpected_name(name))
            .collect();
        if unexpected.len() > NAMES_LISTED {
            listed.push(format!("and {} more", unexpected.len() - NAMES_LISTED));
        }
        parts.push(sentence("Unexpected header", &listed));
    }
    if !missing.is_empty() {
        let listed: Vec<String> = missing.iter().map(|name| quoted(name)).collect();
        parts.push(sentence("Missing header", &listed));
    }
    if !duplicate.is_empty() {
        let listed: Vec<String> = duplicate.iter().map(|name| quoted(name)).collect();
        parts.push(sentence("Duplicate header", &listed));
    }
    match unnamed.as_slice() {
        [] => {}
        [one] => parts.push(format!("Column {one} has no header.")),
        many => parts.push(format!("Columns {} have no header.", many.join(", "))),
    }
    parts.push(format!("Expected: {}", HEADERS.join(", ")));
    Err(parts.join(" "))
}

fn push_once<'a>(list: &mut Vec<&'a str>, name: &'a str) {
    if !list.contains(&name) {
        list.push(name);
    }
}

/// `Missing header "a".` or `Missing headers "a", "b".`
fn sentence(what: &str, listed: &[String]) -> String {
    let plural = if listed.len() > 1 { "s" } else { "" };
    format!("{what}{plural} {}.", listed.join(", "))
}

/// An unknown header name, quoted, with a hint when one helps.
fn unexpected_name(name: &str) -> String {
    let mut text = quoted(name);
    if let Some(known) = HEADERS.iter().find(|h| h.eq_ignore_ascii_case(name)) {
        text.push_str(&format!(" (did you mean \"{known}\"?)"));
    } else if name.contains([';', '\t']) {
        text.push_str(" (columns must be separated by commas)");
    }
    text
}

/// The name in double quotes, cut short when it is long (a header of garbage).
fn quoted(name: &str) -> String {
    match name.char_indices().nth(NAME_CHARS) {
        Some((cut, _)) => format!("\"{}…\"", name.get(..cut).unwrap_or(name)),
        None => format!("\"{name}\""),
    }
}
