//! The identity reports: the shared-credential report (ID-9), listed by page or
//! downloaded as CSV, and the audit log (ID-10), listed and recorded by services.
//!
//! **Sharing rule (ID-9).** An address (email or phone) is shared when two or
//! more accounts *of the same district that are not deactivated* hold it as one
//! of the requested credential kinds; `shared_count` counts exactly those, the
//! same number `GetAccount` shows on each credential (ID-2). Deactivated
//! accounts never make an address shared (a parent's old account is not a
//! second person), but when an address is shared they are still listed among
//! its holders with their DEACTIVATED status, so an administrator sees the whole
//! picture. Accounts of other districts neither count nor appear. A phone held
//! as a mobile by one account and as a home phone by another is shared only when
//! home phones are requested.
//!
//! Both reports are for district administrators of the district only (a
//! DISTRICT_ADMIN grant for the whole district); RecordAuditEvents is for the
//! messaging and roster services.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, HashMap},
};

use base64::Engine;
use chrono::NaiveDateTime;
use futures::{StreamExt, stream::BoxStream};
use homeroom_platform::{
    auth::Principal,
    db::{Db, DbConn},
};
use serde_json::{Value, json};

use super::accounts::RoleView;
use crate::{
    domain::{
        accounts::{
            AccountKind, AccountStatus, CredentialKind, LinkedStudent, Names, Role, ScopedRole,
            parse_role, role_str,
        },
        authz,
        error::IdentityError,
    },
    store::{
        self,
        audit::AuditRow,
        reports::{AuditFilter, HolderRow, SharedAddress},
    },
};

/// Services that may record audit events.
pub const AUDIT_RECORDERS: [&str; 2] = ["messaging", "roster"];

const SHARED_REPORT: &str = "shared-credential report";
const AUDIT_LOG: &str = "audit log";

/// The district a report is asked for (the caller's when `requested` is empty),
/// if the caller administers all of it.
fn admin_district(
    caller: &Principal,
    requested: &str,
    report: &str,
) -> Result<String, IdentityError> {
    let requested = requested.trim();
    let district = if requested.is_empty() {
        caller.district_id().unwrap_or_default()
    } else {
        requested
    };
    if !district.is_empty() && caller.has_district_role(district, Role::DistrictAdmin) {
        return Ok(district.to_string());
    }
    let scope = if district.is_empty() {
        "a signed-in account with the DISTRICT_ADMIN role for the whole district".to_string()
    } else {
        format!("the DISTRICT_ADMIN role granted for the whole of district {district:?}")
    };
    Err(IdentityError::PermissionDenied(format!(
        "the {report} is for district administrators: it needs {scope}"
    )))
}

/// How much of a list to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page (1..=500).
    pub size: usize,
    /// Opaque token of the previous page, if any.
    pub token: Option<String>,
}

impl PageRequest {
    /// Rows per page when the caller gives none.
    pub const DEFAULT_SIZE: usize = 50;
    /// Most rows per page.
    pub const MAX_SIZE: usize = 500;

    /// `page_size` 0 means the default; above the maximum, the maximum.
    pub fn new(page_size: i32, page_token: &str) -> Result<PageRequest, IdentityError> {
        let size = match usize::try_from(page_size) {
            Err(_) => {
                return Err(IdentityError::InvalidArgument(
                    "page_size: must not be negative (0 means 50)".into(),
                ));
            }
            Ok(0) => Self::DEFAULT_SIZE,
            Ok(n) => n.min(Self::MAX_SIZE),
        };
        let token = Some(page_token.trim().to_string()).filter(|t| !t.is_empty());
        Ok(PageRequest { size, token })
    }
}

fn encode_token(key: Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_string())
}

fn bad_token() -> IdentityError {
    IdentityError::InvalidArgument(
        "page_token: not a token from a previous page of this list; omit it to start again".into(),
    )
}

fn decode_token(token: &str) -> Result<Vec<Value>, IdentityError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad_token())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Array(parts)) => Ok(parts),
        _ => Err(bad_token()),
    }
}

// ---- ID-9: shared credentials ----

/// Which shared credentials to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFilter {
    /// District; empty means the caller's.
    pub district_id: String,
    /// Only credentials with a (counted) holder in this school.
    pub school_id: Option<String>,
    /// Credential kinds that count.
    pub kinds: BTreeSet<CredentialKind>,
}

impl SharedFilter {
    /// No kinds means email and mobile phone; `include_home_phones` adds home phones.
    pub fn new(
        district_id: &str,
        school_id: &str,
        kinds: impl IntoIterator<Item = CredentialKind>,
        include_home_phones: bool,
    ) -> SharedFilter {
        let mut kinds: BTreeSet<CredentialKind> = kinds.into_iter().collect();
        if kinds.is_empty() {
            kinds.extend([CredentialKind::Email, CredentialKind::MobilePhone]);
        }
        if include_home_phones {
            kinds.insert(CredentialKind::HomePhone);
        }
        SharedFilter {
            district_id: district_id.trim().to_string(),
            school_id: Some(school_id.trim().to_string()).filter(|s| !s.is_empty()),
            kinds,
        }
    }

    fn kind_texts(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|k| k.as_str()).collect()
    }
}

/// One account holding a shared credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderView {
    /// The account.
    pub account_id: String,
    /// "Sarah Smith".
    pub display_name: String,
    /// Kind.
    pub kind: AccountKind,
    /// Status (DEACTIVATED holders are listed but not counted).
    pub status: AccountStatus,
    /// Roles with scope.
    pub roles: Vec<RoleView>,
    /// Linked students.
    pub linked_students: Vec<LinkedStudent>,
    /// Whether this holder confirmed the credential (ID-7).
    pub confirmed: bool,
}

/// One address held by two or more accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedCredentialView {
    /// Email, mobile phone or (only held as such) home phone.
    pub kind: CredentialKind,
    /// Normalised address.
    pub value: String,
    /// Counted holders (see the module doc).
    pub shared_count: u32,
    /// Every holder in the district, by name.
    pub holders: Vec<HolderView>,
}

/// One page of the report.
#[derive(Debug, Clone)]
pub struct SharedPage {
    /// Most shared first, then by address.
    pub credentials: Vec<SharedCredentialView>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Shared credentials matching the filter.
    pub total_size: usize,
}

/// Report order: most shared first, then by address (bytewise, so the same on
/// both backends whatever their collation), then by id.
type SharedKey = (Reverse<i64>, String, String);

fn shared_key(a: &SharedAddress) -> SharedKey {
    (Reverse(a.holders), a.value.clone(), a.address_id.clone())
}

fn decode_shared_token(token: &str) -> Result<SharedKey, IdentityError> {
    match decode_token(token)?.as_slice() {
        [Value::Number(n), Value::String(value), Value::String(id)] => Ok((
            Reverse(n.as_i64().ok_or_else(bad_token)?),
            value.clone(),
            id.clone(),
        )),
        _ => Err(bad_token()),
    }
}

/// The district's shared addresses matching the filter, in report order.
fn shared_in(
    conn: &mut DbConn,
    district_id: &str,
    filter: &SharedFilter,
) -> Result<Vec<SharedAddress>, IdentityError> {
    let kinds = filter.kind_texts();
    let mut found = store::reports::shared_addresses(conn, district_id, &kinds)?;
    if let Some(school_id) = &filter.school_id {
        let in_school = store::reports::addresses_in_school(conn, district_id, school_id, &kinds)?;
        found.retain(|a| in_school.contains(&a.address_id));
    }
    found.sort_by_cached_key(shared_key);
    Ok(found)
}

/// ID-9: one page of the district's shared credentials with their holders.
#[tracing::instrument(skip_all, fields(district_id = %filter.district_id))]
pub async fn list_shared_credentials(
    db: &Db,
    caller: &Principal,
    filter: SharedFilter,
    page: PageRequest,
) -> Result<SharedPage, IdentityError> {
    let district = admin_district(caller, &filter.district_id, SHARED_REPORT)?;
    let after = page.token.as_deref().map(decode_shared_token).transpose()?;
    db.run(move |conn| {
        let found = shared_in(conn, &district, &filter)?;
        let start = after.map_or(0, |key| found.partition_point(|a| shared_key(a) <= key));
        let end = found.len().min(start + page.size);
        let slice = found.get(start..end).unwrap_or_default();
        let next_page_token = match slice.last() {
            Some(last) if end < found.len() => {
                encode_token(json!([last.holders, last.value, last.address_id]))
            }
            _ => String::new(),
        };
        Ok(SharedPage {
            credentials: with_holders(conn, &district, slice, &filter.kind_texts())?,
            next_page_token,
            total_size: found.len(),
        })
    })
    .await
}

/// The addresses with every holder's roles and linked students.
fn with_holders(
    conn: &mut DbConn,
    district_id: &str,
    addresses: &[SharedAddress],
    kinds: &[&str],
) -> Result<Vec<SharedCredentialView>, IdentityError> {
    let ids: Vec<String> = addresses.iter().map(|a| a.address_id.clone()).collect();
    let rows = store::reports::holders(conn, district_id, &ids, kinds)?;
    let account_ids: Vec<String> = rows
        .iter()
        .map(|r| r.account_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Per role and scope: managed by a sync unless an administrator granted it too.
    let mut grants: HashMap<String, BTreeMap<ScopedRole, bool>> = HashMap::new();
    for (account_id, role, school_id, source) in store::reports::grants_of(conn, &account_ids)? {
        if let Ok(role) = parse_role(&role) {
            let managed = grants
                .entry(account_id)
                .or_default()
                .entry(ScopedRole { role, school_id })
                .or_insert(true);
            *managed &= !source.is_empty();
        }
    }
    let mut students: HashMap<String, Vec<LinkedStudent>> = HashMap::new();
    for (account_id, student_id, display_name, school_id) in
        store::reports::students_of(conn, &account_ids)?
    {
        students.entry(account_id).or_default().push(LinkedStudent {
            student_id,
            display_name,
            school_id,
        });
    }
    let mut by_address: HashMap<String, BTreeMap<String, HolderView>> = HashMap::new();
    for row in rows {
        let holders = by_address.entry(row.address_id.clone()).or_default();
        if let Some(seen) = holders.get_mut(&row.account_id) {
            // The same address as mobile and home phone of one account.
            seen.confirmed |= row.confirmed;
            continue;
        }
        let view = holder_view(row, &grants, &students);
        holders.insert(view.account_id.clone(), view);
    }
    Ok(addresses
        .iter()
        .map(|a| {
            let mut holders: Vec<HolderView> = by_address
                .remove(&a.address_id)
                .unwrap_or_default()
                .into_values()
                .collect();
            holders.sort_by(|x, y| {
                (&x.display_name, &x.account_id).cmp(&(&y.display_name, &y.account_id))
            });
            SharedCredentialView {
                kind: a.credential_kind.parse().unwrap_or(CredentialKind::Email),
                value: a.value.clone(),
                shared_count: u32::try_from(a.holders).unwrap_or(u32::MAX),
                holders,
            }
        })
        .collect())
}

fn holder_view(
    row: HolderRow,
    grants: &HashMap<String, BTreeMap<ScopedRole, bool>>,
    students: &HashMap<String, Vec<LinkedStudent>>,
) -> HolderView {
    let names = Names {
        given: row.given_name,
        middle: row.middle_name,
        family: row.family_name,
    };
    let mut linked = students.get(&row.account_id).cloned().unwrap_or_default();
    linked.sort();
    HolderView {
        display_name: names.display(),
        kind: row.account_kind.parse().unwrap_or(AccountKind::Guardian),
        status: row.status.parse().unwrap_or(AccountStatus::Invitee),
        roles: grants
            .get(&row.account_id)
            .map(|g| {
                g.iter()
                    .map(|(role, managed)| RoleView {
                        role: role.clone(),
                        sync_managed: *managed,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        linked_students: linked,
        confirmed: row.confirmed,
        account_id: row.account_id,
    }
}

// ---- ID-9: the CSV download ----

/// The media type of the download.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// Addresses rendered per streamed chunk.
const CSV_BATCH: usize = 200;

const CSV_HEADER: [&str; 10] = [
    "Credential kind",
    "Value",
    "Shared count",
    "Account id",
    "Name",
    "Account kind",
    "Status",
    "Roles",
    "Linked students",
    "Confirmed",
];

/// A CSV file as a stream of chunks.
pub struct CsvDownload {
    /// Suggested file name.
    pub filename: String,
    /// [`CSV_CONTENT_TYPE`].
    pub content_type: &'static str,
    /// The bytes: a UTF-8 BOM and the header first, then rows.
    pub chunks: BoxStream<'static, Result<Vec<u8>, IdentityError>>,
}

impl std::fmt::Debug for CsvDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvDownload")
            .field("filename", &self.filename)
            .finish_non_exhaustive()
    }
}

/// ID-9: the whole report as CSV, one row per (address, holder). The caller is
/// checked and the shared addresses found before the first byte; holders are
/// loaded batch by batch as the stream is read.
#[tracing::instrument(skip_all, fields(district_id = %filter.district_id))]
pub async fn shared_credentials_csv(
    db: &Db,
    caller: &Principal,
    filter: SharedFilter,
) -> Result<CsvDownload, IdentityError> {
    let district = admin_district(caller, &filter.district_id, SHARED_REPORT)?;
    let kinds = filter.kind_texts();
    let found = {
        let district = district.clone();
        db.run(move |conn| shared_in(conn, &district, &filter))
            .await?
    };
    tracing::info!(shared = found.len(), "shared-credential report downloaded");
    let mut head = String::from("\u{feff}");
    csv_line(&mut head, &CSV_HEADER);
    let batches: Vec<Vec<SharedAddress>> = found.chunks(CSV_BATCH).map(<[_]>::to_vec).collect();
    let db = db.clone();
    let body = futures::stream::iter(batches).then(move |batch| {
        let (db, district, kinds) = (db.clone(), district.clone(), kinds.clone());
        async move {
            db.run(move |conn| {
                let views = with_holders(conn, &district, &batch, &kinds)?;
                let schools: Vec<String> = views
                    .iter()
                    .flat_map(|v| &v.holders)
                    .flat_map(|h| {
                        let roles = h.roles.iter().map(|r| r.role.school_id.clone());
                        roles.chain(h.linked_students.iter().map(|s| s.school_id.clone()))
                    })
                    .filter(|s| !s.is_empty())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let names = store::accounts::org_names(conn, &schools)?;
                let mut out = String::new();
                for view in &views {
                    csv_rows(&mut out, view, &names);
                }
                Ok::<_, IdentityError>(out.into_bytes())
            })
            .await
        }
    });
    Ok(CsvDownload {
        filename: format!(
            "shared-credentials-{}.csv",
            chrono::Utc::now().format("%Y-%m-%d")
        ),
        content_type: CSV_CONTENT_TYPE,
        chunks: futures::stream::once(async move { Ok(head.into_bytes()) })
            .chain(body)
            .boxed(),
    })
}

fn csv_rows(out: &mut String, view: &SharedCredentialView, school_names: &HashMap<String, String>) {
    let school = |id: &str| {
        school_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let count = view.shared_count.to_string();
    for h in &view.holders {
        let roles: Vec<String> = h
            .roles
            .iter()
            .map(|r| match r.role.school_id.as_str() {
                "" => role_str(r.role.role).to_string(),
                id => format!("{} at {}", role_str(r.role.role), school(id)),
            })
            .collect();
        let students: Vec<String> = h
            .linked_students
            .iter()
            .map(|s| match s.school_id.as_str() {
                "" => s.display_name.clone(),
                id => format!("{} ({})", s.display_name, school(id)),
            })
            .collect();
        csv_line(
            out,
            &[
                view.kind.as_str(),
                &view.value,
                &count,
                &h.account_id,
                &h.display_name,
                h.kind.as_str(),
                h.status.as_str(),
                &roles.join("; "),
                &students.join("; "),
                if h.confirmed { "yes" } else { "no" },
            ],
        );
    }
}

/// One CSV record (RFC 4180, CRLF).
fn csv_line(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// A cell, quoted when needed; a cell a spreadsheet would read as a formula
/// (starting with = + - @, tab or CR) is prefixed with `'` so it stays text.
fn csv_cell(out: &mut String, cell: &str) {
    let neutralised;
    let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        neutralised = format!("'{cell}");
        neutralised.as_str()
    } else {
        cell
    };
    if cell.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

// ---- ID-10: the audit log ----

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
    RoleChanged = "role_changed", "role changed";
    StatusChanged = "status_changed" | "account_deactivated", "account status changed";
    AddressStatusReset = "status_reset", "address status reset";
    AccountsMerged = "accounts_merged", "accounts merged";
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

    fn cell(s: &str) -> String {
        let mut out = String::new();
        csv_cell(&mut out, s);
        out
    }

    #[test]
    fn formula_like_cells_are_neutralised_and_special_characters_quoted() {
        assert_eq!(cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(cell("+19876543210"), "'+19876543210");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Smith, Sarah"), "\"Smith, Sarah\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("plain"), "plain");
    }

    #[test]
    fn page_sizes_default_clamp_and_refuse_negatives() {
        assert_eq!(PageRequest::new(0, "").unwrap().size, 50);
        assert_eq!(PageRequest::new(9999, "").unwrap().size, 500);
        assert!(PageRequest::new(-1, "").is_err());
    }

    #[test]
    fn tokens_round_trip_and_junk_is_invalid_argument() {
        let token = encode_token(json!([3, "a@b.org", "id-1"]));
        assert_eq!(
            decode_shared_token(&token).unwrap(),
            (Reverse(3), "a@b.org".into(), "id-1".into())
        );
        for junk in ["!!", "e30", &encode_token(json!([1, 2]))] {
            assert!(matches!(
                decode_shared_token(junk),
                Err(IdentityError::InvalidArgument(_))
            ));
        }
    }

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
