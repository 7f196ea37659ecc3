//! Seed 004: a user's and a student's profile. The user's: status, roles,
//! each email and phone with its shared mark and its delivery state per
//! channel (fine, bad with the bounce reason and date, opted out), the linked
//! students, the communication history; and **Reset Status** for the
//! district's rostering, communications and district administrators and user
//! managers, after a confirmation that says it sends nothing. The student's:
//! grade, school, guardians with their contacts, and the classes the viewer
//! may see. identity and roster decide who may open which profile.

use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::messaging::v1 as mpb;
use serde::Deserialize;

use super::{Chrome, MessagePage, Signed, render, text::Text, when};
use crate::{
    api::{
        addresses::AddressStatusView,
        error::ApiError,
        profiles::{
            AccountProfile, ContactView, StudentProfile, account_profile_of, student_profile_of,
        },
    },
    app::AppState,
};

/// A channel's name: Email, SMS, Voice.
fn channel_name(t: &Text, name: &str) -> String {
    match name {
        "CHANNEL_SMS" | "sms" => "SMS".into(),
        other => t.staff.enum_name(&other.to_uppercase(), "CHANNEL_"),
    }
}

struct StateItem {
    channel: String,
    channel_code: String,
    text: String,
    /// `good`, `bad` or `note`.
    tone: &'static str,
    resettable: bool,
    opted_out: bool,
}

struct ContactItem {
    kind: String,
    value: String,
    others: u32,
    /// "Shared with 2 other accounts".
    shared_text: String,
    states: Vec<StateItem>,
}

fn state_item(t: &Text, s: &AddressStatusView) -> StateItem {
    let bad = s.state != "ADDRESS_STATE_OK" && !s.state.is_empty();
    let text = if s.opted_out {
        t.staff.opted_out.to_owned()
    } else if bad {
        let since = when(s.bad_since.as_deref());
        let reason = if s.reason.is_empty() {
            t.staff.enum_name(&s.cause, "BAD_ADDRESS_CAUSE_")
        } else {
            s.reason.clone()
        };
        t.staff
            .bad_since
            .replace("{since}", &since)
            .replace("{reason}", &reason)
    } else {
        t.staff.fine.to_owned()
    };
    StateItem {
        channel: channel_name(t, &s.channel),
        channel_code: s
            .channel
            .strip_prefix("CHANNEL_")
            .unwrap_or(&s.channel)
            .to_lowercase(),
        text,
        tone: if s.opted_out {
            "note"
        } else if bad {
            "bad"
        } else {
            "good"
        },
        resettable: bad,
        opted_out: s.opted_out,
    }
}

fn contact_item(t: &Text, c: &ContactView) -> ContactItem {
    let mut states: Vec<StateItem> = c.statuses.iter().map(|s| state_item(t, s)).collect();
    if states.is_empty() {
        states.push(StateItem {
            channel: t.staff.delivery.into(),
            channel_code: String::new(),
            text: t.staff.fine_never_bounced.into(),
            tone: "good",
            resettable: false,
            opted_out: false,
        });
    }
    let others = c.credential.shared_count.saturating_sub(1);
    ContactItem {
        kind: t.staff.enum_name(&c.credential.kind, "CREDENTIAL_KIND_"),
        value: c.credential.value.clone(),
        others,
        shared_text: t.shared_with(others),
        states,
    }
}

struct HistoryItem {
    when: String,
    subject: String,
    channel: String,
    to: String,
    status: String,
}

#[derive(askama::Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    chrome: Chrome,
    csrf: String,
    p: AccountProfile,
    kind: String,
    status: String,
    roles: Vec<String>,
    language: String,
    contacts: Vec<ContactItem>,
    history: Vec<HistoryItem>,
    may_reset: bool,
    /// Staff role management, for a district administrator.
    role_admin: Option<super::roles::RoleAdmin>,
    notice: Option<String>,
    error: Option<String>,
}

/// A page saying a profile cannot be shown (not found, not allowed,
/// unavailable), in the words of the service that decided.
fn refused(signed: &Signed, e: &ApiError, title: &str) -> Response {
    let chrome = signed.chrome("");
    let t = chrome.t;
    let text = match e.status.as_u16() {
        403 | 404 => t.staff.no_such_profile.to_owned(),
        400 => super::for_people(&e.message),
        _ => t.unavailable.to_owned(),
    };
    let status = if e.status == StatusCode::FORBIDDEN {
        StatusCode::NOT_FOUND
    } else {
        e.status
    };
    render(
        status,
        MessagePage {
            chrome,
            title: title.into(),
            text,
            tone: "bad",
            link: "/account".into(),
            link_text: t.my_account.into(),
        },
    )
}

/// `?done=reset`.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /accounts/{id}`: a user's profile.
pub async fn account(
    State(state): State<AppState>,
    signed: Signed,
    Path(account_id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let t = super::language(&signed.headers);
    let notice = match done.done.as_str() {
        "reset" => Some(t.staff.reset_done),
        "roles" => Some(t.staff.roles_done),
        _ => None,
    }
    .map(str::to_owned);
    show_account(&state, &signed, account_id, StatusCode::OK, notice, None).await
}

/// The profile again after a form with an expired or forged CSRF field.
pub(super) async fn expired_form(
    state: &AppState,
    signed: &Signed,
    account_id: String,
) -> Response {
    let t = super::language(&signed.headers);
    show_account(
        state,
        signed,
        account_id,
        StatusCode::FORBIDDEN,
        None,
        Some(t.expired_form.into()),
    )
    .await
}

/// The profile page, with `notice` or `error` (also after a roles form).
pub(super) async fn show_account(
    state: &AppState,
    signed: &Signed,
    account_id: String,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let t = super::language(&signed.headers);
    let p = match account_profile_of(state, &signed.caller, account_id).await {
        Ok(p) => p,
        Err(e) => return refused(signed, &e, t.staff.profile),
    };
    // A guardian's one role only repeats their type.
    let roles = p
        .account
        .roles
        .iter()
        .filter(|r| r.role != "ROLE_GUARDIAN")
        .map(|r| t.staff.enum_name(&r.role, "ROLE_"))
        .collect();
    let role_admin = super::roles::admin_of(state, signed, &p.account).await;
    let history = p
        .history
        .entries
        .iter()
        .map(|h| HistoryItem {
            when: when(h.sent_at.as_deref().or(h.created_at.as_deref())),
            subject: if h.subject.is_empty() {
                if h.system_message_kind.ends_with("UNSPECIFIED") {
                    t.staff.message_from_homeroom.to_owned()
                } else {
                    t.staff
                        .enum_name(&h.system_message_kind, "SYSTEM_MESSAGE_KIND_")
                }
            } else {
                h.subject.clone()
            },
            channel: channel_name(t, &h.channel),
            to: h.masked_address.clone(),
            status: {
                let s = t.staff.enum_name(&h.status, "DELIVERY_STATUS_");
                let why = [&h.failure_reason, &h.skip_reason]
                    .into_iter()
                    .find(|r| !r.is_empty() && !r.ends_with("UNSPECIFIED"))
                    .map(|r| t.staff.enum_name(r, "SKIP_REASON_"));
                match why {
                    Some(why) => format!("{s}: {why}"),
                    None => s,
                }
            },
        })
        .collect();
    let page = ProfilePage {
        chrome: signed.chrome(""),
        csrf: signed.csrf.clone(),
        kind: t.staff.enum_name(&p.account.kind, "ACCOUNT_KIND_"),
        status: t.staff.enum_name(&p.account.status, "ACCOUNT_STATUS_"),
        roles,
        language: if p.account.preferred_language.is_empty() {
            "English".into()
        } else {
            p.account.preferred_language.clone()
        },
        contacts: p.contacts.iter().map(|c| contact_item(t, c)).collect(),
        history,
        may_reset: signed
            .caller
            .principal
            .may_reset_addresses(&p.account.district_id),
        role_admin,
        notice,
        error,
        p,
    };
    render(status, page)
}

#[derive(askama::Template)]
#[template(path = "reset_confirm.html")]
struct ResetConfirmPage {
    chrome: Chrome,
    csrf: String,
    account_id: String,
    channel: String,
    channel_name: String,
    address: String,
}

/// The Reset Status form (from the profile, then from the confirmation).
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    address: String,
    /// Set by the confirmation page.
    #[serde(default)]
    confirmed: String,
}

/// `POST /accounts/{id}/reset-status`: first the confirmation, then the
/// reset (messaging-svc decides who may; it is in the audit log).
pub async fn reset_status(
    State(state): State<AppState>,
    signed: Signed,
    Path(account_id): Path<String>,
    Form(form): Form<ResetForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return expired_form(&state, &signed, account_id).await;
    }
    let t = super::language(&signed.headers);
    let channel = match crate::api::addresses::channel(&form.channel) {
        Ok(c) => c,
        Err(e) => return refused(&signed, &e, t.staff.reset_status),
    };
    if form.confirmed.is_empty() {
        let page = ResetConfirmPage {
            chrome: signed.chrome(""),
            csrf: signed.csrf.clone(),
            channel_name: channel_name(t, &form.channel),
            account_id,
            channel: form.channel,
            address: form.address,
        };
        return render(StatusCode::OK, page);
    }
    let district_id = signed.district_id();
    let id = signed.caller.request_id();
    let answer = state
        .messaging()
        .reset_address_status(signed.caller.request(mpb::ResetAddressStatusRequest {
            district_id,
            target: Some(mpb::reset_address_status_request::Target::Address(
                mpb::AddressRef {
                    channel,
                    address: form.address,
                },
            )),
            note: "console: Reset Status".into(),
            ip_address: id.client.map(|ip| ip.to_string()).unwrap_or_default(),
            request_id: id.id.clone(),
        }))
        .await
        .map_err(ApiError::from);
    match answer {
        Ok(_) => Redirect::to(&format!("/accounts/{account_id}?done=reset")).into_response(),
        // messaging-svc says why (the role, or an address the district
        // never sent to) in words for people.
        Err(e) => {
            let text = super::for_people(&e.message);
            render(
                e.status,
                MessagePage {
                    chrome: signed.chrome(""),
                    title: t.staff.reset_status.into(),
                    text,
                    tone: "bad",
                    link: format!("/accounts/{account_id}"),
                    link_text: t.staff.back_to_profile.into(),
                },
            )
        }
    }
}

struct GuardianItem {
    account_id: String,
    name: String,
    relationship: String,
    primary: bool,
    status: String,
    contacts: Vec<GuardianContact>,
}

struct GuardianContact {
    value: String,
    text: String,
    tone: &'static str,
}

#[derive(askama::Template)]
#[template(path = "student.html")]
struct StudentPage {
    chrome: Chrome,
    s: StudentProfile,
    guardians: Vec<GuardianItem>,
}

/// `GET /students/{id}`: a student's profile.
pub async fn student(
    State(state): State<AppState>,
    signed: Signed,
    Path(student_id): Path<String>,
) -> Response {
    let t = super::language(&signed.headers);
    let s = match student_profile_of(&state, &signed.caller, student_id).await {
        Ok(s) => s,
        Err(e) => return refused(&signed, &e, t.staff.student),
    };
    let guardians = s
        .guardians
        .iter()
        .map(|g| GuardianItem {
            account_id: g.account_id.clone(),
            name: g.display_name.clone(),
            relationship: t.staff.enum_name(&g.relationship, "GUARDIAN_RELATIONSHIP_"),
            primary: g.primary,
            status: t.staff.enum_name(&g.account_status, "ACCOUNT_STATUS_"),
            contacts: g
                .contacts
                .iter()
                .map(|c| {
                    let item = contact_item(t, c);
                    let worst = item
                        .states
                        .iter()
                        .find(|s| s.tone != "good")
                        .or(item.states.first());
                    GuardianContact {
                        text: worst.map(|s| s.text.clone()).unwrap_or_default(),
                        tone: worst.map_or("good", |s| s.tone),
                        value: item.value,
                    }
                })
                .collect(),
        })
        .collect();
    let page = StudentPage {
        chrome: signed.chrome(""),
        guardians,
        s,
    };
    render(StatusCode::OK, page)
}

#[cfg(test)]
mod tests {
    use super::super::{text, words};

    #[test]
    fn enum_names_read_as_words() {
        assert_eq!(words("ACCOUNT_STATUS_ACTIVE", "ACCOUNT_STATUS_"), "Active");
        assert_eq!(super::channel_name(&text::EN, "CHANNEL_SMS"), "SMS");
        assert_eq!(super::channel_name(&text::EN, "email"), "Email");
        assert_eq!(super::channel_name(&text::ES, "CHANNEL_EMAIL"), "Correo");
        assert_eq!(words("", "X_"), "—");
    }
}
