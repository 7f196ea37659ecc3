//! What an address status says (MS-6, MS-3, MS-7): bad with its cause,
//! reason, provider code and time, soft bounces in the window, STOP, and the
//! last reset, read from the status row and the address's event history.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use homeroom_platform::db::DbConn;

use crate::{
    domain::{address_rules::SOFT_WINDOW_DAYS, error::MessagingError, plan::Channel},
    store::{
        addresses::{self, StatusRow},
        events::{self as store, EventRow},
    },
};

/// MS-6: what made an address bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadCause {
    /// SMTP 5xx, a hard bounce event, or another permanent provider error.
    HardBounce,
    /// 3 soft bounces within 7 days.
    RepeatedSoftBounces,
    /// A spam complaint.
    Complaint,
    /// Invalid or unknown number (Twilio 21211, 21217, 21401, 30005).
    InvalidNumber,
    /// Landline or not SMS-capable (Twilio 21614, 21635, 30006).
    NotSmsCapable,
    /// Unreachable handset (Twilio 21214, 21612, 30003).
    Unreachable,
}

impl BadCause {
    /// The cause a permanent Twilio error code stands for, if it names one.
    pub fn of_twilio_code(code: u32) -> Option<BadCause> {
        match code {
            21211 | 21217 | 21401 | 30005 => Some(BadCause::InvalidNumber),
            21614 | 21635 | 30006 => Some(BadCause::NotSmsCapable),
            21214 | 21612 | 30003 => Some(BadCause::Unreachable),
            _ => None,
        }
    }

    /// In words, for reasons ("Twilio 30006: landline or not SMS-capable").
    pub fn describe(self) -> &'static str {
        match self {
            BadCause::HardBounce => "hard bounce",
            BadCause::RepeatedSoftBounces => "repeated soft bounces",
            BadCause::Complaint => "spam complaint",
            BadCause::InvalidNumber => "invalid or unknown number",
            BadCause::NotSmsCapable => "landline or not SMS-capable",
            BadCause::Unreachable => "unreachable handset",
        }
    }
}

/// The status of one address on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressView {
    /// Channel.
    pub channel: Channel,
    /// Normalised address.
    pub address: String,
    /// Marked bad: later communications skip it.
    pub bad: bool,
    /// For bad: what caused it.
    pub cause: Option<BadCause>,
    /// For bad: why, in words.
    pub reason: Option<String>,
    /// For bad: the provider's code in the reason ("30006", "550"), if any.
    pub provider_error_code: Option<String>,
    /// For bad: since when.
    pub bad_since: Option<NaiveDateTime>,
    /// Soft bounces in the current window.
    pub soft_bounces: u32,
    /// SMS: the number sent STOP.
    pub opted_out: bool,
    /// When it did.
    pub opted_out_at: Option<NaiveDateTime>,
    /// Last Reset Status.
    pub last_reset_at: Option<NaiveDateTime>,
    /// Who did it.
    pub last_reset_by: Option<String>,
}

impl AddressView {
    /// A never-seen address: OK.
    pub(super) fn ok(channel: Channel, address: String) -> AddressView {
        AddressView {
            channel,
            address,
            bad: false,
            cause: None,
            reason: None,
            provider_error_code: None,
            bad_since: None,
            soft_bounces: 0,
            opted_out: false,
            opted_out_at: None,
            last_reset_at: None,
            last_reset_by: None,
        }
    }
}

/// Status views of `keys` from the status rows and the event history.
pub(super) fn views(
    c: &mut DbConn,
    keys: &[(Channel, String)],
    now: NaiveDateTime,
) -> Result<Vec<AddressView>, MessagingError> {
    let mut wanted: Vec<String> = keys.iter().map(|(_, a)| a.clone()).collect();
    wanted.sort();
    wanted.dedup();
    let mut rows: HashMap<(String, String), StatusRow> = HashMap::new();
    for chunk in wanted.chunks(1_000) {
        for row in addresses::rows(c, chunk)? {
            rows.insert((row.channel.clone(), row.address.clone()), row);
        }
    }
    let window = now - chrono::Duration::days(SOFT_WINDOW_DAYS);
    let earliest_bad = rows
        .values()
        .filter(|r| r.bad)
        .filter_map(|r| r.bad_since)
        .min();
    let since = earliest_bad.map_or(window, |t| t.min(window)) - chrono::Duration::seconds(1);
    let bounces = by_key(store::events_of(
        c,
        &wanted,
        &["hard_bounce", "soft_bounce", "complaint"],
        Some(since),
    )?);
    let resets = by_key(store::events_of(c, &wanted, &["reset"], None)?);
    let none = Vec::new();
    Ok(keys
        .iter()
        .map(|(channel, address)| {
            let key = (channel.as_str().to_string(), address.clone());
            let mut view = AddressView::ok(*channel, address.clone());
            let bounces = bounces.get(&key).unwrap_or(&none);
            view.soft_bounces = bounces
                .iter()
                .filter(|e| e.kind == "soft_bounce" && e.created_at > window)
                .count()
                .try_into()
                .unwrap_or(u32::MAX);
            if let Some(reset) = resets.get(&key).and_then(|r| r.last()) {
                view.last_reset_at = Some(reset.created_at);
                view.last_reset_by = reset.actor_id.clone();
            }
            if let Some(row) = rows.get(&key) {
                view.opted_out = row.opted_out;
                view.opted_out_at = row.opted_out_at;
                if row.bad {
                    let last = bounces
                        .iter()
                        .rev()
                        .find(|e| row.bad_since.is_none_or(|t| e.created_at <= t));
                    view.bad = true;
                    view.cause = Some(last.map_or(BadCause::HardBounce, |e| cause_of(e, *channel)));
                    view.provider_error_code = row.bad_reason.as_deref().and_then(error_code);
                    view.reason = row.bad_reason.clone();
                    view.bad_since = row.bad_since;
                }
            }
            view
        })
        .collect())
}

/// Events grouped by (channel, address), each group oldest first.
fn by_key(events: Vec<EventRow>) -> HashMap<(String, String), Vec<EventRow>> {
    let mut out: HashMap<(String, String), Vec<EventRow>> = HashMap::new();
    for e in events {
        out.entry((e.channel.clone(), e.address.clone()))
            .or_default()
            .push(e);
    }
    out
}

/// The cause the bounce event that made an address bad stands for.
fn cause_of(event: &EventRow, channel: Channel) -> BadCause {
    match event.kind.as_str() {
        "complaint" => BadCause::Complaint,
        "soft_bounce" => BadCause::RepeatedSoftBounces,
        _ if channel == Channel::Email => BadCause::HardBounce,
        _ => error_code(&event.reason)
            .and_then(|code| code.parse().ok())
            .and_then(BadCause::of_twilio_code)
            .unwrap_or(BadCause::HardBounce),
    }
}

/// The provider code in a reason: its first word of 3 to 5 digits
/// ("550 5.1.1 user unknown" → 550, "Twilio 30006: landline…" → 30006).
fn error_code(reason: &str) -> Option<String> {
    reason
        .split_whitespace()
        .map(|w| w.trim_end_matches([':', ',', '.']))
        .find(|w| (3..=5).contains(&w.len()) && w.chars().all(|ch| ch.is_ascii_digit()))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_codes_are_read_from_reasons() {
        assert_eq!(error_code("550 5.1.1 user unknown").as_deref(), Some("550"));
        assert_eq!(
            error_code("Twilio 30006: landline").as_deref(),
            Some("30006")
        );
        assert_eq!(error_code("mailbox full"), None);
    }
}
