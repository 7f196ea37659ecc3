//! Pages of messaging's listings: a size (0 → the listing's default, capped at
//! its maximum) and, as the token, the id of the last row of the previous page
//! (ids are UUIDv7, so they sort by creation).

use crate::domain::error::MessagingError;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Rows per page.
    pub size: i64,
    /// The previous page's last id; `None` for the first page.
    pub after: Option<String>,
}

impl Page {
    /// `page_size` 0 means `default`; above `max`, `max`; a token must be one
    /// this service handed out.
    pub fn new(
        page_size: i32,
        page_token: &str,
        default: i64,
        max: i64,
    ) -> Result<Page, MessagingError> {
        let size = match page_size {
            n if n < 0 => {
                return Err(MessagingError::InvalidArgument(format!(
                    "page_size: must not be negative (0 means {default})"
                )));
            }
            0 => default,
            n => i64::from(n).min(max),
        };
        let token = page_token.trim();
        let after = if token.is_empty() {
            None
        } else if uuid::Uuid::parse_str(token).is_ok() {
            Some(token.to_string())
        } else {
            return Err(MessagingError::InvalidArgument(
                "page_token: not a token from a previous page of this list; omit it to start again"
                    .into(),
            ));
        };
        Ok(Page { size, after })
    }

    /// Rows to ask the store for: one more than a page, to know whether another follows.
    pub fn limit(&self) -> i64 {
        self.size + 1
    }

    /// Keeps one page of `rows` (loaded with [`Page::limit`]) and returns the
    /// next page's token, empty on the last page.
    pub fn cut<T>(&self, rows: &mut Vec<T>, id: impl Fn(&T) -> &str) -> String {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() > size {
            rows.truncate(size);
            rows.last().map(|r| id(r).to_string()).unwrap_or_default()
        } else {
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_default_and_clamp_and_tokens_must_be_ours() {
        assert_eq!(Page::new(0, "", 50, 500).unwrap().size, 50);
        assert_eq!(Page::new(9_999, "", 100, 1_000).unwrap().size, 1_000);
        assert!(Page::new(-1, "", 50, 500).is_err());
        assert!(Page::new(10, "'; drop table", 50, 500).is_err());
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(Page::new(10, &id, 50, 500).unwrap().after, Some(id));
    }

    #[test]
    fn a_page_is_cut_at_its_size_and_names_the_last_row_kept() {
        let page = Page::new(2, "", 50, 500).unwrap();
        let mut rows = vec!["a", "b", "c"];
        assert_eq!(page.cut(&mut rows, |r| r), "b");
        assert_eq!(rows, ["a", "b"]);
        let mut last = vec!["d"];
        assert_eq!(page.cut(&mut last, |r| r), "");
    }
}
