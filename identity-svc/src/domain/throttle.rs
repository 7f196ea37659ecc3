//! Progressive slow-down of failed logins (ID-3): per identifier, per account and
//! per client address. Never a hard lock: the delay doubles past a free number of
//! failures and is capped, and failures are forgotten after a quiet hour, so
//! nobody can lock a family out of a shared address by guessing.

use std::time::Duration;

use chrono::NaiveDateTime;

/// What a counter is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A normalised email or phone.
    Identifier,
    /// One account.
    Account,
    /// The client's address (many people may share one behind NAT).
    ClientAddress,
    /// One-time codes sent to a normalised email or phone, counted alike
    /// whether or not an account holds it (ID-4: no enumeration).
    CodeSend,
    /// A device that signed in to an account before (its failures count
    /// here instead of against the identifier and that account).
    Device,
}

impl Scope {
    /// The counter's key.
    pub fn key(self, value: &str) -> String {
        match self {
            Scope::Identifier => format!("id:{value}"),
            Scope::Account => format!("acct:{value}"),
            Scope::ClientAddress => format!("ip:{value}"),
            Scope::CodeSend => format!("send:{value}"),
            Scope::Device => format!("dev:{value}"),
        }
    }

    /// The scope of a stored counter's key.
    pub fn of_key(key: &str) -> Scope {
        match key.split_once(':').map(|(p, _)| p) {
            Some("acct") => Scope::Account,
            Some("ip") => Scope::ClientAddress,
            Some("send") => Scope::CodeSend,
            Some("dev") => Scope::Device,
            _ => Scope::Identifier,
        }
    }

    fn free_failures(self) -> i32 {
        match self {
            Scope::Identifier | Scope::Account | Scope::CodeSend | Scope::Device => 5,
            Scope::ClientAddress => 30,
        }
    }

    /// The first delay past the free failures, in seconds; it doubles from there.
    fn first_delay(self) -> u64 {
        match self {
            Scope::CodeSend => 60,
            _ => 1,
        }
    }
}

/// Longest delay a counter can impose.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures older than this no longer count.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// A stored counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// Failures so far.
    pub failures: i32,
    /// When the last one happened.
    pub last_failure_at: NaiveDateTime,
}

/// The counter after one more failure at `now`, and until when it blocks.
pub fn after_failure(
    scope: Scope,
    counter: Option<&Counter>,
    now: NaiveDateTime,
) -> (Counter, Option<NaiveDateTime>) {
    let failures = match counter {
        Some(c) if !forgotten(c, now) => c.failures + 1,
        _ => 1,
    };
    let next = Counter {
        failures,
        last_failure_at: now,
    };
    let blocked =
        delay(scope, failures).map(|d| now + chrono::Duration::from_std(d).unwrap_or_default());
    (next, blocked)
}

/// How long `failures` failures make the next attempt wait.
pub fn delay(scope: Scope, failures: i32) -> Option<Duration> {
    let over = failures - scope.free_failures();
    if over <= 0 {
        return None;
    }
    let seconds = scope
        .first_delay()
        .checked_shl((over - 1).min(20) as u32)
        .unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds).min(MAX_DELAY))
}

/// Time left before `blocked_until`, if it is still ahead, in whole seconds
/// rounded up (what a `Retry-After` can say).
pub fn remaining(blocked_until: Option<NaiveDateTime>, now: NaiveDateTime) -> Option<Duration> {
    let until = blocked_until?;
    let left = (until > now).then(|| (until - now).to_std().unwrap_or_default())?;
    let whole = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    Some(Duration::from_secs(whole))
}

fn forgotten(counter: &Counter, now: NaiveDateTime) -> bool {
    (now - counter.last_failure_at).to_std().unwrap_or_default() > FORGET_AFTER
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn the_first_failures_are_free_then_the_delay_doubles_up_to_a_cap() {
        let delays: Vec<Option<u64>> = (1..=8)
            .map(|n| delay(Scope::Account, n).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            delays,
            vec![None, None, None, None, None, Some(1), Some(2), Some(4)]
        );
        assert_eq!(delay(Scope::Account, 500), Some(MAX_DELAY));
        assert_eq!(delay(Scope::ClientAddress, 10), None);
        assert_eq!(delay(Scope::CodeSend, 5), None);
        assert_eq!(delay(Scope::CodeSend, 6), Some(Duration::from_secs(60)));
        assert_eq!(
            Scope::of_key(&Scope::CodeSend.key("a@b.c")),
            Scope::CodeSend
        );
        assert_eq!(Scope::of_key(&Scope::Device.key("x")), Scope::Device);
        assert_eq!(
            Scope::of_key(&Scope::Identifier.key("a:b")),
            Scope::Identifier
        );
    }

    #[test]
    fn a_quiet_hour_forgets_earlier_failures() {
        let old = Counter {
            failures: 50,
            last_failure_at: at(0),
        };
        let (next, blocked) = after_failure(Scope::Identifier, Some(&old), at(3 * 3600));
        assert_eq!(next.failures, 1);
        assert!(blocked.is_none());
        let (next, blocked) = after_failure(Scope::Identifier, Some(&old), at(60));
        assert_eq!(next.failures, 51);
        assert_eq!(remaining(blocked, at(60)), Some(MAX_DELAY));
    }
}
