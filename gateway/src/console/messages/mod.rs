//! Messages (MS-1, MS-2, MS-5; seed 000): the district's communications,
//! newest first, filtered by status and channel and searched by subject; a
//! communication's page with its audience, its counts per channel moving
//! while it sends (the page refreshes itself) and its deliveries, each with
//! the accounts it served; and Compose: the audience (district, schools,
//! grades, classes, students' guardians, staff by role, people), channels,
//! subject, body and per-language variants, emergency with its confirmation,
//! a preview of the deduplicated addresses before sending, and a send that a
//! double click or a resubmitted form makes once (its idempotency key).
//! messaging decides who may send and see what; roster and identity fill
//! the pickers with what the sender may see.

mod audience;
mod compose;
mod detail;
mod expand;
mod form;
mod list;

use axum::{http::StatusCode, response::Response};
pub use compose::{compose, preview, send};
pub use detail::detail;
use homeroom_proto::messaging::v1 as mpb;
pub use list::list;

use super::{MessagePage, Signed, render, text::Text};
use crate::api::error::ApiError;

/// A channel's short name: Email, SMS, Voice.
fn channel_words(t: &Text, channel: mpb::Channel) -> String {
    match channel {
        mpb::Channel::Sms => "SMS".to_owned(),
        other => t.staff.enum_name(other.as_str_name(), "CHANNEL_"),
    }
}

/// A communication's status in words.
fn status_words(t: &Text, status: mpb::CommunicationStatus) -> &'static str {
    let m = t.messages;
    match status {
        mpb::CommunicationStatus::Planning => m.planning,
        mpb::CommunicationStatus::Sending => m.sending,
        mpb::CommunicationStatus::Completed => m.completed,
        mpb::CommunicationStatus::Failed => m.failed,
        mpb::CommunicationStatus::Unspecified => "—",
    }
}

/// One channel's counts as the preview and a communication's page show
/// them: people, distinct addresses (one message each), skips by reason and
/// deliveries by status.
pub struct ChannelRow {
    pub channel: String,
    pub people: u64,
    pub addresses: u64,
    pub bad_address: u64,
    pub opted_out: u64,
    pub no_preference: u64,
    pub no_address: u64,
    pub queued: u64,
    pub sending: u64,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub bounced: u64,
}

fn channel_row(t: &Text, c: &mpb::ChannelCounts) -> ChannelRow {
    let skipped = |reason: mpb::SkipReason| {
        c.skipped
            .iter()
            .filter(|s| s.reason() == reason)
            .map(|s| s.count)
            .sum::<u64>()
    };
    ChannelRow {
        channel: channel_words(t, c.channel()),
        people: c.recipients,
        addresses: c.unique_addresses,
        bad_address: skipped(mpb::SkipReason::BadAddress),
        opted_out: skipped(mpb::SkipReason::OptedOut),
        no_preference: skipped(mpb::SkipReason::NoPreference),
        no_address: skipped(mpb::SkipReason::NoAddress),
        queued: c.queued,
        sending: c.sending,
        sent: c.sent,
        delivered: c.delivered,
        failed: c.failed,
        bounced: c.bounced,
    }
}

/// Seed 000's sentence: "2 people → 1 email, 1 text message", each channel
/// counted in distinct addresses.
fn reach_sentence(t: &Text, people: u64, counts: &[mpb::ChannelCounts]) -> String {
    let m = t.messages;
    let count = |n: u64, (one, many): (&str, &str)| {
        if n == 1 {
            one.to_owned()
        } else {
            Text::with_n(many, n)
        }
    };
    let reached: Vec<String> = counts
        .iter()
        .map(|c| {
            let words = match c.channel() {
                mpb::Channel::Email => m.emails,
                mpb::Channel::Sms => m.texts,
                mpb::Channel::Voice => m.calls,
                mpb::Channel::Unspecified => m.addresses,
            };
            count(c.unique_addresses, words)
        })
        .collect();
    format!("{} → {}", count(people, m.people), reached.join(", "))
}

/// A page saying a communication cannot be shown (not found, not allowed,
/// unavailable); messaging answers "not found" for another's.
fn refused(signed: &Signed, e: &ApiError) -> Response {
    let chrome = signed.chrome("messages");
    let t = chrome.t;
    let (status, text) = match e.status.as_u16() {
        403 | 404 => (StatusCode::NOT_FOUND, t.messages.no_such_message.to_owned()),
        400 => (e.status, super::for_people(&e.message)),
        _ => (e.status, t.unavailable.to_owned()),
    };
    render(
        status,
        MessagePage {
            chrome,
            title: t.messages.messages.into(),
            text,
            tone: "bad",
            link: "/messages".into(),
            link_text: t.messages.messages.into(),
        },
    )
}

/// `value` for a link's query string.
fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Who sent each communication, by name: messaging keeps only the sender's
/// account, so the names come from identity in one call (a sender the reader
/// may not list keeps messaging's name, which may be empty).
pub async fn sender_names(
    state: &crate::app::AppState,
    caller: &crate::api::caller::Caller,
    district_id: &str,
    communications: &[mpb::Communication],
) -> std::collections::HashMap<String, String> {
    let mut ids: Vec<String> = communications
        .iter()
        .filter(|c| c.sender_display_name.is_empty() && !c.sender_account_id.is_empty())
        .map(|c| c.sender_account_id.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return std::collections::HashMap::new();
    }
    audience::account_list(state, caller, district_id, &ids)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.account_id, a.display_name))
        .collect()
}

/// The sender's name as [`sender_names`] found it.
pub fn sender_of(
    c: &mpb::Communication,
    names: &std::collections::HashMap<String, String>,
) -> String {
    names
        .get(&c.sender_account_id)
        .cloned()
        .unwrap_or_else(|| c.sender_display_name.clone())
}

#[cfg(test)]
mod tests {
    use homeroom_proto::messaging::v1 as mpb;

    use super::reach_sentence;
    use crate::console::text::{EN, ES};

    fn counts(channel: mpb::Channel, addresses: u64) -> mpb::ChannelCounts {
        mpb::ChannelCounts {
            channel: channel as i32,
            recipients: 2,
            unique_addresses: addresses,
            ..Default::default()
        }
    }

    #[test]
    fn the_preview_says_how_many_addresses_the_people_come_down_to() {
        let seed = [counts(mpb::Channel::Email, 1), counts(mpb::Channel::Sms, 1)];
        assert_eq!(
            reach_sentence(&EN, 2, &seed),
            "2 people → 1 email, 1 text message"
        );
        let district = [
            counts(mpb::Channel::Email, 287),
            counts(mpb::Channel::Sms, 295),
        ];
        assert_eq!(
            reach_sentence(&EN, 312, &district),
            "312 people → 287 emails, 295 text messages"
        );
        assert_eq!(
            reach_sentence(&ES, 1, &[counts(mpb::Channel::Voice, 1)]),
            "1 persona → 1 llamada"
        );
    }
}
