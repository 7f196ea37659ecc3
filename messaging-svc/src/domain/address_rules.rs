//! What provider events mean for an address (MS-3, MS-6): SMS keywords, and
//! when bounces make an address bad.

use chrono::NaiveDateTime;

/// What an inbound SMS asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: no more SMS to this number.
    OptOut,
    /// START, UNSTOP, YES: SMS again.
    OptIn,
}

/// Reads an inbound SMS body as carriers do: the whole message, trimmed,
/// case-insensitive, is the keyword ("Stop", " STOP ", "stop." count; "stop it" does not).
pub fn keyword(body: &str) -> Option<Keyword> {
    let word: String = body
        .trim()
        .trim_end_matches(['.', '!'])
        .to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "START" | "UNSTOP" | "YES" => Some(Keyword::OptIn),
        _ => None,
    }
}

/// A delivery problem reported for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounce {
    /// Permanent: SMTP 5xx, unknown or unreachable number, landline for SMS.
    Hard,
    /// Temporary: mailbox full, carrier hiccup.
    Soft,
    /// The recipient reported the message as spam.
    Complaint,
}

/// Soft bounces within [`SOFT_WINDOW_DAYS`] that make an address bad.
pub const SOFT_LIMIT: usize = 3;
/// The window soft bounces are counted in.
pub const SOFT_WINDOW_DAYS: i64 = 7;

/// Whether this bounce makes the address bad, given the earlier soft bounces
/// still on record (their times).
pub fn becomes_bad(bounce: Bounce, now: NaiveDateTime, earlier_soft: &[NaiveDateTime]) -> bool {
    match bounce {
        Bounce::Hard | Bounce::Complaint => true,
        Bounce::Soft => {
            let since = now - chrono::Duration::days(SOFT_WINDOW_DAYS);
            earlier_soft.iter().filter(|t| **t > since).count() + 1 >= SOFT_LIMIT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriers_keywords_opt_out_and_back_in() {
        for stop in [
            "STOP",
            "stop",
            " Stop. ",
            "STOPALL",
            "unsubscribe",
            "Cancel",
            "END",
            "quit",
        ] {
            assert_eq!(keyword(stop), Some(Keyword::OptOut), "{stop:?}");
        }
        for start in ["START", "start", "Unstop", "yes"] {
            assert_eq!(keyword(start), Some(Keyword::OptIn), "{start:?}");
        }
        for other in ["stop it", "Thanks!", "", "STOPP"] {
            assert_eq!(keyword(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_hard_bounce_is_bad_at_once_and_soft_ones_at_the_third_within_a_week() {
        let t = |days: i64| {
            chrono::DateTime::from_timestamp(1_800_000_000 + days * 86_400, 0)
                .unwrap()
                .naive_utc()
        };
        assert!(becomes_bad(Bounce::Hard, t(0), &[]));
        assert!(becomes_bad(Bounce::Complaint, t(0), &[]));
        assert!(!becomes_bad(Bounce::Soft, t(10), &[t(9)]));
        assert!(becomes_bad(Bounce::Soft, t(10), &[t(9), t(5)]));
        assert!(
            !becomes_bad(Bounce::Soft, t(10), &[t(9), t(1)]),
            "the one 9 days ago is out of the window"
        );
    }
}
