//! `GET /messages`: the district's communications, newest first, filtered
//! by status and channel and searched by subject, paged; Compose from here.
//! messaging decides whose the reader may see (a teacher, their own).

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use homeroom_proto::messaging::v1 as mpb;
use serde::Deserialize;

use super::{channel_words, encode, status_words};
use crate::{
    api::{error::ApiError, json::timestamp, my_contacts::CHANNELS, params},
    app::AppState,
    console::{Chrome, Signed, for_people, render, text::Text, when},
};

/// Communication statuses by their REST names.
const STATUSES: [&str; 4] = ["planning", "sending", "completed", "failed"];
/// Communications per page.
const PAGE: i32 = 25;

/// A communication as the list shows it.
struct Row {
    id: String,
    subject: String,
    status: String,
    emergency: bool,
    channels: String,
    people: u64,
    sender: String,
    when: String,
}

#[derive(askama::Template)]
#[template(path = "messages.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    status: String,
    channel: String,
    /// (REST name, words) of the filters.
    statuses: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, String)>,
    next: Option<String>,
    error: Option<String>,
}

/// The list's filters and page.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

fn row(t: &Text, c: mpb::Communication, senders: &HashMap<String, String>) -> Row {
    Row {
        sender: super::sender_of(&c, senders),
        status: status_words(t, c.status()).to_owned(),
        channels: c
            .channels()
            .map(|ch| channel_words(t, ch))
            .collect::<Vec<_>>()
            .join(", "),
        when: when(c.created_at.as_ref().and_then(timestamp).as_deref()),
        people: c.recipient_count,
        emergency: c.emergency,
        subject: if c.subject.trim().is_empty() {
            t.messages.no_subject_shown.to_owned()
        } else {
            c.subject
        },
        id: c.communication_id,
    }
}

/// `GET /messages?status=&channel=&q=&page=`.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(filter): Query<ListQuery>,
) -> Response {
    let chrome = signed.chrome("messages");
    let t = chrome.t;
    let status = mpb::CommunicationStatus::from_str_name(&format!(
        "COMMUNICATION_STATUS_{}",
        filter.status.to_ascii_uppercase()
    ))
    .filter(|_| STATUSES.contains(&filter.status.as_str()));
    let channel =
        mpb::Channel::from_str_name(&format!("CHANNEL_{}", filter.channel.to_ascii_uppercase()))
            .filter(|_| CHANNELS.contains(&filter.channel.as_str()));
    let page_token = params::optional_id("page", Some(&filter.page)).unwrap_or_default();
    let answer = state
        .messaging()
        .list_communications(signed.caller.request(mpb::ListCommunicationsRequest {
            district_id: signed.district_id(),
            statuses: status.map(|s| s as i32).into_iter().collect(),
            query: filter.q.trim().chars().take(200).collect(),
            page_size: PAGE,
            page_token,
            ..Default::default()
        }))
        .await;
    let (rows, next, error, code) = match answer {
        Ok(answer) => {
            let answer = answer.into_inner();
            let next = (!answer.next_page_token.is_empty()).then(|| {
                format!(
                    "/messages?status={}&channel={}&q={}&page={}",
                    encode(&filter.status),
                    encode(&filter.channel),
                    encode(&filter.q),
                    encode(&answer.next_page_token)
                )
            });
            let shown: Vec<mpb::Communication> = answer
                .communications
                .into_iter()
                // ListCommunications has no channel filter: the page's
                // communications are filtered here.
                .filter(|c| channel.is_none_or(|wanted| c.channels().any(|ch| ch == wanted)))
                .collect();
            let senders =
                super::sender_names(&state, &signed.caller, &signed.district_id(), &shown).await;
            let rows = shown.into_iter().map(|c| row(t, c, &senders)).collect();
            (rows, next, None, StatusCode::OK)
        }
        Err(e) => {
            let e = ApiError::from(e);
            let text = match e.status.as_u16() {
                403 => t.messages.list_forbidden.to_owned(),
                400 => for_people(&e.message),
                _ => t.unavailable.to_owned(),
            };
            (Vec::new(), None, Some(text), e.status)
        }
    };
    let m = t.messages;
    let page = ListPage {
        statuses: STATUSES
            .iter()
            .copied()
            .zip([m.planning, m.sending, m.completed, m.failed])
            .collect(),
        channels: [
            ("email", mpb::Channel::Email),
            ("sms", mpb::Channel::Sms),
            ("voice", mpb::Channel::Voice),
        ]
        .into_iter()
        .map(|(name, ch)| (name, channel_words(t, ch)))
        .collect(),
        q: filter.q,
        status: filter.status,
        channel: filter.channel,
        rows,
        next,
        error,
        chrome,
    };
    render(code, page)
}
