//! Page tokens and sizes for listing RPCs: a token is the last row's sort key,
//! as URL-safe base64 of a JSON array of strings, opaque to callers.

use base64::Engine as _;

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The message for a token this list did not issue.
pub const BAD_TOKEN: &str =
    "page_token: not a token from a previous page of this list; omit it to start again";

/// A token for the next page after the row with this sort key.
pub fn encode<S: AsRef<str>>(key: &[S]) -> String {
    let parts: Vec<&str> = key.iter().map(AsRef::as_ref).collect();
    ENGINE.encode(serde_json::to_string(&parts).unwrap_or_default())
}

/// The sort key in a token: `Ok(None)` for no token, `Err(())` for junk.
#[allow(clippy::result_unit_err)]
pub fn decode(token: &str) -> Result<Option<Vec<String>>, ()> {
    if token.is_empty() {
        return Ok(None);
    }
    let bytes = ENGINE.decode(token).map_err(|_| ())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| ())
}

/// A requested page size: `default` when 0 or negative, at most `max`.
pub fn size(requested: i32, default: i64, max: i64) -> i64 {
    if requested <= 0 {
        default
    } else {
        i64::from(requested).min(max)
    }
}

/// Keeps one page of `rows` (loaded with one row more than `size`) and
/// returns the next page's token — the last kept row's key — or an empty one
/// on the last page.
pub fn cut<T, S: AsRef<str>>(rows: &mut Vec<T>, size: i64, key: impl Fn(&T) -> Vec<S>) -> String {
    let size = usize::try_from(size).unwrap_or(0);
    if rows.len() <= size {
        return String::new();
    }
    rows.truncate(size);
    rows.last().map(|r| encode(&key(r))).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_carries_its_key_back_and_junk_is_refused() {
        let token = encode(&["Lincoln", "0192"]);
        assert_eq!(
            decode(&token),
            Ok(Some(vec!["Lincoln".into(), "0192".into()]))
        );
        assert_eq!(decode(""), Ok(None));
        assert_eq!(decode("!!"), Err(()));
        assert_eq!(size(0, 50, 500), 50);
        assert_eq!(size(9_999, 50, 500), 500);
    }

    #[test]
    fn a_page_keeps_its_size_and_names_its_last_row_only_when_more_follow() {
        let mut rows = vec![1, 2, 3];
        let token = cut(&mut rows, 2, |r| vec![r.to_string()]);
        assert_eq!(rows, [1, 2]);
        assert_eq!(decode(&token), Ok(Some(vec!["2".into()])));
        let mut last = vec![1, 2];
        assert_eq!(cut(&mut last, 2, |r| vec![r.to_string()]), "");
        assert_eq!(last, [1, 2]);
    }
}
