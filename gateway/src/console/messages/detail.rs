//! A communication's page (MS-1, MS-2, MS-5): what was sent to whom, its
//! counts per channel (refreshing while it sends), and its deliveries, one
//! per distinct address, with status, time, error or bounce reason and the
//! accounts each served. Addresses are as messaging answers them: whole for
//! administrators, masked for others.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use homeroom_proto::messaging::v1 as mpb;
use serde::Deserialize;

use super::{
    ChannelRow,
    audience::{self, Choice},
    channel_row, channel_words, encode, reach_sentence, refused, status_words,
};
use crate::{
    api::{error::ApiError, json::timestamp, my_contacts::CHANNELS, params},
    app::AppState,
    console::{Chrome, Signed, render, text::Text, when},
};

/// Delivery statuses by their REST names.
const DELIVERY_STATUSES: [&str; 7] = [
    "queued",
    "sending",
    "sent",
    "delivered",
    "failed",
    "bounced",
    "skipped",
];
/// Deliveries per page.
const PAGE: i32 = 50;
/// How many classes, students or people the audience names before "and
/// N more".
const NAMED: usize = 20;

/// A delivery as the table shows it.
struct DeliveryRow {
    channel: String,
    to: String,
    status: String,
    /// Failed or bounced.
    bad: bool,
    when: String,
    error: String,
    /// (profile, name) of each account it served.
    served: Vec<(String, String)>,
}

#[derive(askama::Template)]
#[template(path = "communication.html")]
struct DetailPage {
    chrome: Chrome,
    id: String,
    subject: String,
    body: String,
    status: String,
    /// Planning or sending: the page refreshes itself.
    running: bool,
    failure: String,
    emergency: bool,
    sender: String,
    sent_at: String,
    channels: String,
    /// Other languages it was written in.
    variants: String,
    /// "2 people → 1 email, 1 text message".
    reach: String,
    /// (heading, who): the audience in words.
    audience: Vec<(&'static str, String)>,
    rows: Vec<ChannelRow>,
    deliveries: Vec<DeliveryRow>,
    total: i64,
    /// (REST name, words) of the filters.
    statuses: Vec<(&'static str, String)>,
    channel_options: Vec<(&'static str, String)>,
    status_filter: String,
    channel_filter: String,
    next: Option<String>,
    deliveries_error: Option<&'static str>,
}

/// The deliveries' filters and page.
#[derive(Debug, Default, Deserialize)]
pub struct DeliveryQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    page: String,
}

/// `GET /messages/{id}`: the communication, its counts and its deliveries.
pub async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<DeliveryQuery>,
) -> Response {
    let (id, page_token) = match (
        params::id("id", &id),
        params::optional_id("page", Some(&query.page)),
    ) {
        (Ok(id), Ok(page)) => (id, page),
        (Err(e), _) | (_, Err(e)) => return refused(&signed, &e),
    };
    let chrome = signed.chrome("messages");
    let t = chrome.t;
    let status = mpb::DeliveryStatus::from_str_name(&format!(
        "DELIVERY_STATUS_{}",
        query.status.to_ascii_uppercase()
    ))
    .filter(|_| DELIVERY_STATUSES.contains(&query.status.as_str()));
    let channel =
        mpb::Channel::from_str_name(&format!("CHANNEL_{}", query.channel.to_ascii_uppercase()))
            .filter(|_| CHANNELS.contains(&query.channel.as_str()));
    let (mut one, mut many) = (state.messaging(), state.messaging());
    let (got, listed) = tokio::join!(
        one.get_communication(signed.caller.request(mpb::GetCommunicationRequest {
            communication_id: id.clone(),
        })),
        many.list_deliveries(signed.caller.request(mpb::ListDeliveriesRequest {
            communication_id: id.clone(),
            statuses: status.map(|s| s as i32).into_iter().collect(),
            channel: channel.map_or(mpb::Channel::Unspecified as i32, |c| c as i32),
            page_size: PAGE,
            page_token,
        })),
    );
    let c = match got.map(|a| a.into_inner().communication) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return refused(
                &signed,
                &ApiError::new(tonic::Code::NotFound, "no such communication"),
            );
        }
        Err(e) => return refused(&signed, &ApiError::from(e)),
    };
    let district_id = signed.district_id();
    let (deliveries, total, next, deliveries_error) = match listed {
        Ok(answer) => {
            let answer = answer.into_inner();
            let mut ids: Vec<String> = answer
                .deliveries
                .iter()
                .flat_map(|d| d.recipient_account_ids.iter().cloned())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            // Names for the accounts the reader may list; the others stay
            // "an account", a link identity decides on.
            let names: HashMap<String, String> =
                audience::account_list(&state, &signed.caller, &district_id, &ids)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| (a.account_id, a.display_name))
                    .collect();
            let next = (!answer.next_page_token.is_empty()).then(|| {
                format!(
                    "/messages/{}?status={}&channel={}&page={}",
                    encode(&id),
                    encode(&query.status),
                    encode(&query.channel),
                    encode(&answer.next_page_token)
                )
            });
            (
                answer
                    .deliveries
                    .into_iter()
                    .map(|d| delivery_row(t, d, &names))
                    .collect(),
                answer.total_size,
                next,
                None,
            )
        }
        Err(_) => (Vec::new(), 0, None, Some(t.messages.deliveries_unavailable)),
    };
    let senders = super::sender_names(
        &state,
        &signed.caller,
        &district_id,
        std::slice::from_ref(&c),
    )
    .await;
    let sender = super::sender_of(&c, &senders);
    let wanted = c.audience.clone().unwrap_or_default();
    let audience_lines = audience_words(&state, &signed, t, &wanted).await;
    let page = DetailPage {
        status: status_words(t, c.status()).to_owned(),
        running: matches!(
            c.status(),
            mpb::CommunicationStatus::Planning | mpb::CommunicationStatus::Sending
        ),
        sent_at: when(c.created_at.as_ref().and_then(timestamp).as_deref()),
        channels: c
            .channels()
            .map(|ch| channel_words(t, ch))
            .collect::<Vec<_>>()
            .join(", "),
        variants: c
            .variants
            .iter()
            .map(|v| audience::language_name(t, &v.language))
            .collect::<Vec<_>>()
            .join(", "),
        reach: reach_sentence(t, c.recipient_count, &c.channel_counts),
        rows: c.channel_counts.iter().map(|x| channel_row(t, x)).collect(),
        statuses: DELIVERY_STATUSES
            .iter()
            .map(|s| (*s, t.staff.enum_name(s, "DELIVERY_STATUS_")))
            .collect(),
        channel_options: [
            ("email", mpb::Channel::Email),
            ("sms", mpb::Channel::Sms),
            ("voice", mpb::Channel::Voice),
        ]
        .into_iter()
        .map(|(name, ch)| (name, channel_words(t, ch)))
        .collect(),
        status_filter: query.status,
        channel_filter: query.channel,
        subject: if c.subject.trim().is_empty() {
            t.messages.no_subject_shown.to_owned()
        } else {
            c.subject
        },
        body: c.body,
        failure: c.failure_message,
        emergency: c.emergency,
        sender,
        audience: audience_lines,
        deliveries,
        total,
        next,
        deliveries_error,
        id,
        chrome,
    };
    render(StatusCode::OK, page)
}

fn delivery_row(t: &Text, d: mpb::Delivery, names: &HashMap<String, String>) -> DeliveryRow {
    let status = d.status();
    let mut words = t.staff.enum_name(status.as_str_name(), "DELIVERY_STATUS_");
    if status == mpb::DeliveryStatus::Skipped && d.skip_reason() != mpb::SkipReason::Unspecified {
        words = format!(
            "{words}: {}",
            t.staff
                .enum_name(d.skip_reason().as_str_name(), "SKIP_REASON_")
        );
    }
    let at = d
        .delivered_at
        .as_ref()
        .or(d.sent_at.as_ref())
        .or(d.updated_at.as_ref())
        .or(d.created_at.as_ref());
    let error = if d.failure_reason.is_empty() {
        d.provider_error_code.clone()
    } else {
        d.failure_reason.clone()
    };
    DeliveryRow {
        channel: channel_words(t, d.channel()),
        to: if d.address.is_empty() {
            d.masked_address.clone()
        } else {
            d.address.clone()
        },
        status: words,
        bad: matches!(
            status,
            mpb::DeliveryStatus::Failed | mpb::DeliveryStatus::Bounced
        ),
        when: when(at.and_then(timestamp).as_deref()),
        error,
        served: d
            .recipient_account_ids
            .iter()
            .map(|id| {
                let name = names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| t.staff.an_account.to_owned());
                (format!("/accounts/{}", encode(id)), name)
            })
            .collect(),
    }
}

/// The audience in words: the district, the schools, classes, students and
/// people named (the first few of each), who of them, which guardians.
async fn audience_words(
    state: &AppState,
    signed: &Signed,
    t: &Text,
    a: &mpb::Audience,
) -> Vec<(&'static str, String)> {
    let m = t.messages;
    let district_id = signed.district_id();
    let first = |ids: &[String]| ids.iter().take(NAMED).cloned().collect::<Vec<_>>();
    let (class_ids, student_ids, account_ids) = (
        first(a.class_ids.as_slice()),
        first(a.student_ids.as_slice()),
        first(a.account_ids.as_slice()),
    );
    let (schools, classes, students, accounts) = tokio::join!(
        crate::console::roles::schools(state, &signed.caller, &district_id),
        audience::class_labels(state, &signed.caller, t, &class_ids),
        audience::student_labels(state, &signed.caller, t, &student_ids),
        audience::account_labels(state, &signed.caller, &district_id, t, &account_ids),
    );
    let named = |choices: Vec<Choice>, all: usize| {
        let mut names: Vec<String> = choices.into_iter().map(|c| c.label).collect();
        if all > names.len() {
            names.push(Text::with_n(m.and_more, (all - names.len()) as u64));
        }
        names.join(", ")
    };
    let mut lines = Vec::new();
    if a.whole_district {
        lines.push((m.audience_district, t.staff.whole_district.to_owned()));
    }
    if !a.school_ids.is_empty() {
        let names: Vec<String> = a
            .school_ids
            .iter()
            .map(|id| {
                schools
                    .iter()
                    .find(|(s, _)| s == id)
                    .map_or_else(|| id.clone(), |(_, name)| name.clone())
            })
            .collect();
        lines.push((m.schools, names.join(", ")));
    }
    if !a.class_ids.is_empty() {
        lines.push((m.classes, named(classes, a.class_ids.len())));
    }
    if !a.student_ids.is_empty() {
        lines.push((m.students, named(students, a.student_ids.len())));
    }
    if !a.account_ids.is_empty() {
        lines.push((m.named_people, named(accounts, a.account_ids.len())));
    }
    let roles: Vec<&str> = a
        .roles()
        .map(|r| match r {
            mpb::AudienceRole::Guardian => m.role_guardians,
            mpb::AudienceRole::Student => m.role_students,
            mpb::AudienceRole::Teacher => m.role_teachers,
            mpb::AudienceRole::Staff => m.role_staff,
            mpb::AudienceRole::Unspecified => "—",
        })
        .collect();
    lines.push((
        m.who,
        if roles.is_empty() {
            m.role_guardians.to_owned()
        } else {
            roles.join(", ")
        },
    ));
    match a.guardian_contacts() {
        mpb::GuardianContacts::PrimaryOnly => {
            lines.push((m.which_guardians, m.contacts_primary.to_owned()));
        }
        mpb::GuardianContacts::WithoutEmergency => {
            lines.push((m.which_guardians, m.contacts_without_emergency.to_owned()));
        }
        mpb::GuardianContacts::Unspecified => {}
    }
    lines
}
