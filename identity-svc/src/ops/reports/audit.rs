//! ID-10, the audit log: the kinds of audited events and their stored texts,
//! listing a district's events by page, and recording events from services.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use homeroom_platform::{auth::Principal, db::Db};
use serde_json::{Value, json};

use super::{AUDIT_LOG, PageRequest, admin_district, bad_token, decode_token, encode_token};
use crate::{
    domain::{authz, error::IdentityError},
    store::{self, audit::AuditRow, reports::AuditFilter},
};

/// Services that may record audit events.
pub const AUDIT_RECORDERS: [&str; 2] = ["messaging", "roster"];

macro_rules! audit_kinds {
    ($($variant:ident = $text:literal $(| $alias:literal)*, $summary:literal;)+) => {
        /// Kinds of audited events (ID-10). The first stored text is the one written
        /// for the kind; aliases are texts other code paths already write.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditKind { $(#[doc = $summary] $variant),+ }

        impl AuditKind {
            /// The text written to `audit_events.kind`.
            pub fn as_str(self) -> &'static str {
                match self { $(AuditKind::$variant => $text),+ }
            }

            /// Every stored text read as this kind.
            pub fn stored_texts(self) -> &'static [&'static str] {
                match self { $(AuditKind::$variant => &[$text $(, $alias)*]),+ }
            }

            /// The kind of a stored text, if it is one Homeroom knows.
            pub fn from_stored(text: &str) -> Option<AuditKind> {
                match text { $($text $(| $alias)* => Some(AuditKind::$variant),)+ _ => None }
            }

            /// A summary for rows that carry none.
            pub fn summary(self) -> &'static str {
                match self { $(AuditKind::$variant => $summary),+ }
            }
        }
    };
}

audit_kinds! {
    LoginSucceeded = "login_success", "login succeeded";
    LoginFailed = "login_failure", "login failed";
    LoginThrottled = "login_throttled", "login slowed down by throttling";
    AccountSelected = "account_selected", "account picked from an account choice";
    OneTimeCodeSent = "one_time_code_sent", "one-time code sent";
    InvitationSent = "invitation_sent", "invitation sent";
    InvitationAccepted = "invitation_accepted", "invitation accepted";
    SsoLinked = "sso_linked", "SSO identity linked";
    RefreshTokenReused = "token_reuse", "a rotated refresh token was reused; its sessions were revoked";
    LoggedOut = "logout", "logged out";
    PasswordChanged = "password_changed", "password changed";
    CredentialChanged = "credential_changed" | "contact_details_changed", "contact details changed";
    CredentialConfirmed = "credential_confirmed", "credential confirmed";
    NameChanged = "name_changed", "name changed";
    RoleChanged = "role_changed" | "administrator_created", "role changed";
    StatusChanged = "status_changed" | "account_deactivated", "account status changed";
    AddressStatusReset = "status_reset", "address status reset";
    AccountsMerged = "accounts_merged" | "merge_undone", "accounts merged (or a merge undone)";
    ServiceTokenIssued = "service_token_issued", "service token issued";
}

/// Which audit events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// District; empty means the caller's.
    pub district_id: String,
    /// Only these kinds; empty means any.
    pub kinds: Vec<AuditKind>,
    /// Only events by or about this account.
    pub account_id: Option<String>,
    /// At or after.
    pub since: Option<NaiveDateTime>,
    /// Before.
    pub until: Option<NaiveDateTime>,
}

/// One audit event as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEventView {
    /// Event id.
    pub id: String,
    /// Kind, when the stored text is a known one.
    pub kind: Option<AuditKind>,
    /// When.
    pub occurred_at: NaiveDateTime,
    /// District ('' when unknown).
    pub district_id: String,
    /// Account that acted.
    pub actor_account_id: String,
    /// Service that recorded it.
    pub actor_service: String,
    /// Account it is about.
    pub subject_account_id: String,
    /// "gateway", "messaging", …
    pub source: String,
    /// Client address.
    pub ip_address: String,
    /// Request id.
    pub request_id: String,
    /// Human-readable summary.
    pub summary: String,
    /// Structured details; `kind` holds the stored text of an unknown kind.
    pub details: BTreeMap<String, String>,
}

/// One page of audit events.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditEventView>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// An event another service records (validated at the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// When; `None` is now.
    pub occurred_at: Option<NaiveDateTime>,
    /// District.
    pub district_id: String,
    /// Account on whose behalf the service acted.
    pub actor_account_id: Option<String>,
    /// Account it is about.
    pub subject_account_id: Option<String>,
    /// Where it came from.
    pub source: String,
    /// Client address.
    pub ip_address: Option<String>,
    /// Request id.
    pub request_id: String,
    /// Human-readable summary (masked, no secrets).
    pub summary: String,
    /// Structured details.
    pub details: BTreeMap<String, String>,
}

/// ID-10: a page of the district's audit events, newest first.
#[tracing::instrument(skip_all, fields(district_id = %query.district_id))]
pub async fn list_audit_events(
    db: &Db,
    caller: &Principal,
    query: AuditQuery,
    page: PageRequest,
) -> Result<AuditPage, IdentityError> {
    let district = admin_district(caller, &query.district_id, AUDIT_LOG)?;
    let before = match page.token.as_deref().map(decode_token).transpose()? {
        None => None,
        Some(parts) => match parts.as_slice() {
            [Value::Number(secs), Value::Number(nanos), Value::String(id)] => {
                let at = secs
                    .as_i64()
                    .zip(nanos.as_u64().and_then(|n| u32::try_from(n).ok()))
                    .and_then(|(s, n)| chrono::DateTime::from_timestamp(s, n))
                    .ok_or_else(bad_token)?;
                Some((at.naive_utc(), id.clone()))
            }
            _ => return Err(bad_token()),
        },
    };
    let filter = AuditFilter {
        district_id: district,
        kinds: query
            .kinds
            .iter()
            .flat_map(|k| k.stored_texts())
            .map(|t| t.to_string())
            .collect(),
        account_id: query.account_id,
        since: query.since,
        until: query.until,
        before,
    };
    let limit = i64::try_from(page.size).unwrap_or(500) + 1;
    let mut rows = db
        .run(move |conn| {
            store::reports::audit_page(conn, &filter, limit).map_err(IdentityError::from)
        })
        .await?;
    let next_page_token = if rows.len() > page.size {
        rows.truncate(page.size);
        rows.last().map_or_else(String::new, |last| {
            let at = last.created_at.and_utc();
            encode_token(json!([
                at.timestamp(),
                at.timestamp_subsec_nanos(),
                last.id
            ]))
        })
    } else {
        String::new()
    };
    Ok(AuditPage {
        events: rows.into_iter().map(event_view).collect(),
        next_page_token,
    })
}

/// ID-10: records events from the messaging or roster service, all or none;
/// returns their ids in order.
#[tracing::instrument(skip_all, fields(events = events.len()))]
pub async fn record_audit_events(
    db: &Db,
    caller: &Principal,
    events: Vec<NewAuditEvent>,
) -> Result<Vec<String>, IdentityError> {
    authz::require_service(caller, &AUDIT_RECORDERS)?;
    let service = match caller {
        Principal::Service { name } => name.clone(),
        Principal::Account { .. } => String::new(),
    };
    let now = chrono::Utc::now().naive_utc();
    let rows: Vec<AuditRow> = events
        .into_iter()
        .map(|e| {
            let mut row = AuditRow::new(
                e.kind.as_str(),
                &e.district_id,
                e.occurred_at.unwrap_or(now),
            );
            row.detail = json!({
                "summary": e.summary,
                "source": e.source,
                "request_id": e.request_id,
                "actor_service": service,
                "details": e.details,
            })
            .to_string();
            row.actor_id = e.actor_account_id;
            row.subject_account_id = e.subject_account_id;
            row.client_address = e.ip_address;
            row
        })
        .collect();
    let ids = rows.iter().map(|r| r.id.clone()).collect();
    db.transaction(move |conn| {
        store::reports::insert_audit_rows(conn, &rows).map_err(IdentityError::from)
    })
    .await?;
    Ok(ids)
}

/// Reads a stored row. `detail` is a JSON object for rows recorded through
/// RecordAuditEvents; identity's own rows hold `key=value` pairs or a sentence.
fn event_view(row: AuditRow) -> AuditEventView {
    let kind = AuditKind::from_stored(&row.kind);
    let mut view = AuditEventView {
        id: row.id,
        kind,
        occurred_at: row.created_at,
        district_id: row.district_id,
        actor_account_id: String::new(),
        actor_service: String::new(),
        subject_account_id: row.subject_account_id.unwrap_or_default(),
        source: String::new(),
        ip_address: row.client_address.unwrap_or_default(),
        request_id: String::new(),
        summary: String::new(),
        details: BTreeMap::new(),
    };
    // Services acting on their own are stored as `service:<name>[:<source system>]`.
    match row
        .actor_id
        .as_deref()
        .map(|a| (a, a.strip_prefix("service:")))
    {
        Some((_, Some(service))) => {
            let (name, source_system) = service.split_once(':').unwrap_or((service, ""));
            view.actor_service = name.to_string();
            if !source_system.is_empty() {
                view.details
                    .insert("source_system".into(), source_system.into());
            }
        }
        Some((account, None)) => view.actor_account_id = account.to_string(),
        None => {}
    }
    match serde_json::from_str::<Value>(&row.detail) {
        Ok(Value::Object(fields)) => {
            let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default();
            view.summary = text("summary").to_string();
            view.source = text("source").to_string();
            view.request_id = text("request_id").to_string();
            view.actor_service = text("actor_service").to_string();
            if let Some(Value::Object(details)) = fields.get("details") {
                for (k, v) in details {
                    if let Some(v) = v.as_str() {
                        view.details.insert(k.clone(), v.to_string());
                    }
                }
            }
        }
        // `method=password`, `email=s***@mail.com names`: pairs (bare words as
        // flags) under the kind's summary; anything else is a sentence.
        _ if row.detail.contains('=') => {
            for token in row.detail.split_whitespace() {
                let (k, v) = token.split_once('=').unwrap_or((token, ""));
                view.details.insert(k.into(), v.into());
            }
        }
        _ => view.summary = row.detail,
    }
    if view.summary.is_empty() {
        view.summary = kind.map_or_else(|| row.kind.replace('_', " "), |k| k.summary().into());
    }
    if kind.is_none() {
        view.details.insert("kind".into(), row.kind);
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_details_read_as_pairs_or_summary_and_unknown_kinds_keep_their_text() {
        let now = chrono::Utc::now().naive_utc();
        let mut row = AuditRow::new("login_success", "d1", now);
        row.detail = "method=password".into();
        let view = event_view(row);
        assert_eq!(view.kind, Some(AuditKind::LoginSucceeded));
        assert_eq!(
            view.details.get("method").map(String::as_str),
            Some("password")
        );
        assert_eq!(view.summary, "login succeeded");

        let mut row = AuditRow::new("account_deactivated", "d1", now);
        row.actor_id = Some("service:roster:sis".into());
        row.detail = "missing from the bulk sync".into();
        let view = event_view(row);
        assert_eq!(view.kind, Some(AuditKind::StatusChanged));
        assert_eq!(
            (view.actor_account_id.as_str(), view.actor_service.as_str()),
            ("", "roster")
        );
        assert_eq!(view.summary, "missing from the bulk sync");

        let mut row = AuditRow::new("contact_details_changed", "d1", now);
        row.detail = "email=s***@mail.com names".into();
        let view = event_view(row);
        assert_eq!(view.kind, Some(AuditKind::CredentialChanged));
        assert_eq!(
            view.details.get("email").map(String::as_str),
            Some("s***@mail.com")
        );
        assert!(view.details.contains_key("names"));

        let mut row = AuditRow::new("merged_by_hand", "d1", now);
        row.detail = "two accounts were merged by support".into();
        let view = event_view(row);
        assert_eq!(view.kind, None);
        assert_eq!(view.summary, "two accounts were merged by support");
        assert_eq!(
            view.details.get("kind").map(String::as_str),
            Some("merged_by_hand")
        );
    }
}
