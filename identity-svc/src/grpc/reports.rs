//! gRPC edge of the reports (ID-9 shared credentials, ID-10 audit): parse the
//! request, call `ops::reports`, build the answer. `service.rs` delegates here.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use futures::StreamExt;
use homeroom_platform::auth::principal;
use homeroom_proto::identity::v1 as pb;
use tonic::{Request, Response, Status, codegen::BoxStream};

use super::convert;
use crate::{
    domain::{accounts::CredentialKind, authz, error::IdentityError},
    ops::{
        Ctx,
        reports::{
            self, AuditEventView, AuditKind, AuditQuery, HolderView, NewAuditEvent, PageRequest,
            SharedCredentialView, SharedFilter,
        },
    },
};

type Answer<T> = Result<Response<T>, Status>;

/// The CSV download's response stream.
pub(super) type CsvStream = BoxStream<pb::DownloadSharedCredentialsReportResponse>;

/// Most events one RecordAuditEvents call may carry.
const MAX_RECORDED: usize = 1_000;

/// ID-9: one page of shared credentials.
pub(super) async fn list_shared_credentials(
    ctx: &Ctx,
    request: Request<pb::ListSharedCredentialsRequest>,
) -> Answer<pb::ListSharedCredentialsResponse> {
    let caller = principal(&request)?;
    let r = request.into_inner();
    let filter = SharedFilter::new(
        &r.district_id,
        &r.school_id,
        credential_kinds(&r.kinds)?,
        r.include_home_phones,
    );
    let page = PageRequest::new(r.page_size, &r.page_token)?;
    let found =
        reports::list_shared_credentials(&ctx.db, &ctx.shared_reports, &caller, filter, page)
            .await?;
    let district_id = caller.district_id().unwrap_or_default();
    Ok(Response::new(pb::ListSharedCredentialsResponse {
        shared_credentials: found
            .credentials
            .into_iter()
            .map(|c| shared_credential(c, district_id))
            .collect(),
        next_page_token: found.next_page_token,
        total_size: i32::try_from(found.total_size).unwrap_or(i32::MAX),
    }))
}

/// ID-9: the report as a CSV stream; the first message names the file.
pub(super) async fn download_shared_credentials_report(
    ctx: &Ctx,
    request: Request<pb::DownloadSharedCredentialsReportRequest>,
) -> Answer<CsvStream> {
    let caller = principal(&request)?;
    let r = request.into_inner();
    let filter = SharedFilter::new(
        &r.district_id,
        &r.school_id,
        credential_kinds(&r.kinds)?,
        r.include_home_phones,
    );
    let csv =
        reports::shared_credentials_csv(&ctx.db, &ctx.shared_reports, &caller, filter).await?;
    let mut first = Some((csv.content_type.to_string(), csv.filename));
    let stream = csv.chunks.map(move |chunk| {
        let (content_type, filename) = first.take().unwrap_or_default();
        Ok(pb::DownloadSharedCredentialsReportResponse {
            content_type,
            filename,
            chunk: chunk.map_err(Status::from)?,
        })
    });
    Ok(Response::new(Box::pin(stream)))
}

/// ID-10: a page of audit events.
pub(super) async fn list_audit_events(
    ctx: &Ctx,
    request: Request<pb::ListAuditEventsRequest>,
) -> Answer<pb::ListAuditEventsResponse> {
    let caller = principal(&request)?;
    let r = request.into_inner();
    let mut kinds = Vec::with_capacity(r.kinds.len());
    for (i, &k) in r.kinds.iter().enumerate() {
        // UNSPECIFIED on a filter means "any kind".
        if let Some(kind) = audit_kind_from_pb(k, &format!("kinds[{i}]"))? {
            kinds.push(kind);
        }
    }
    let since = time(r.since.as_ref(), "since")?;
    let until = time(r.until.as_ref(), "until")?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(IdentityError::InvalidArgument("since: must be before until".into()).into());
    }
    let query = AuditQuery {
        district_id: r.district_id,
        kinds,
        account_id: Some(r.account_id.trim().to_string()).filter(|a| !a.is_empty()),
        since,
        until,
    };
    let page = PageRequest::new(r.page_size, &r.page_token)?;
    let found = reports::list_audit_events(&ctx.db, &caller, query, page).await?;
    Ok(Response::new(pb::ListAuditEventsResponse {
        events: found.events.into_iter().map(audit_event).collect(),
        next_page_token: found.next_page_token,
    }))
}

/// ID-10: events recorded by the messaging or roster service.
pub(super) async fn record_audit_events(
    ctx: &Ctx,
    request: Request<pb::RecordAuditEventsRequest>,
) -> Answer<pb::RecordAuditEventsResponse> {
    let caller = principal(&request)?;
    // Who may call comes before what was sent.
    authz::require_service(&caller, &reports::AUDIT_RECORDERS)?;
    let r = request.into_inner();
    if r.events.len() > MAX_RECORDED {
        return Err(IdentityError::InvalidArgument(format!(
            "events: at most {MAX_RECORDED} per call, got {}; send them in several calls",
            r.events.len()
        ))
        .into());
    }
    let events = r
        .events
        .into_iter()
        .enumerate()
        .map(|(i, e)| new_audit_event(e, i))
        .collect::<Result<Vec<_>, _>>()?;
    let event_ids = reports::record_audit_events(&ctx.db, &caller, events).await?;
    Ok(Response::new(pb::RecordAuditEventsResponse { event_ids }))
}

fn credential_kinds(kinds: &[i32]) -> Result<Vec<CredentialKind>, IdentityError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            convert::credential_kind_from_pb(k).map_err(|_| {
                IdentityError::InvalidArgument(format!(
                    "kinds[{i}]: EMAIL, MOBILE_PHONE or HOME_PHONE (no kinds means email and mobile phone)"
                ))
            })
        })
        .collect()
}

fn shared_credential(c: SharedCredentialView, district_id: &str) -> pb::SharedCredential {
    pb::SharedCredential {
        kind: convert::credential_kind(c.kind) as i32,
        value: c.value,
        shared_count: c.shared_count,
        holders: c
            .holders
            .into_iter()
            .map(|h| holder(h, district_id))
            .collect(),
    }
}

fn holder(h: HolderView, district_id: &str) -> pb::SharedCredentialHolder {
    pb::SharedCredentialHolder {
        account_id: h.account_id,
        display_name: h.display_name,
        kind: convert::kind_to_pb(h.kind) as i32,
        status: convert::status_to_pb(h.status) as i32,
        roles: h
            .roles
            .into_iter()
            .map(|r| pb::RoleAssignment {
                role: convert::role_to_pb(r.role.role) as i32,
                district_id: district_id.to_string(),
                school_id: r.role.school_id,
                sync_managed: r.sync_managed,
            })
            .collect(),
        linked_students: h
            .linked_students
            .into_iter()
            .map(|s| pb::LinkedStudent {
                student_id: s.student_id,
                display_name: s.display_name,
                school_id: s.school_id,
            })
            .collect(),
        confirmed: h.confirmed,
    }
}

/// A wire kind; `None` for UNSPECIFIED.
fn audit_kind_from_pb(value: i32, field: &str) -> Result<Option<AuditKind>, IdentityError> {
    use pb::AuditEventKind as K;
    let kind = K::try_from(value)
        .map_err(|_| IdentityError::InvalidArgument(format!("{field}: unknown kind {value}")))?;
    Ok(Some(match kind {
        K::Unspecified => return Ok(None),
        K::LoginSucceeded => AuditKind::LoginSucceeded,
        K::LoginFailed => AuditKind::LoginFailed,
        K::LoginThrottled => AuditKind::LoginThrottled,
        K::AccountSelected => AuditKind::AccountSelected,
        K::OneTimeCodeSent => AuditKind::OneTimeCodeSent,
        K::InvitationSent => AuditKind::InvitationSent,
        K::InvitationAccepted => AuditKind::InvitationAccepted,
        K::SsoLinked => AuditKind::SsoLinked,
        K::RefreshTokenReused => AuditKind::RefreshTokenReused,
        K::LoggedOut => AuditKind::LoggedOut,
        K::PasswordChanged => AuditKind::PasswordChanged,
        K::CredentialChanged => AuditKind::CredentialChanged,
        K::CredentialConfirmed => AuditKind::CredentialConfirmed,
        K::NameChanged => AuditKind::NameChanged,
        K::RoleChanged => AuditKind::RoleChanged,
        K::StatusChanged => AuditKind::StatusChanged,
        K::AddressStatusReset => AuditKind::AddressStatusReset,
        K::AccountsMerged => AuditKind::AccountsMerged,
        K::ServiceTokenIssued => AuditKind::ServiceTokenIssued,
    }))
}

fn audit_kind_to_pb(kind: Option<AuditKind>) -> pb::AuditEventKind {
    use pb::AuditEventKind as K;
    match kind {
        None => K::Unspecified,
        Some(AuditKind::LoginSucceeded) => K::LoginSucceeded,
        Some(AuditKind::LoginFailed) => K::LoginFailed,
        Some(AuditKind::LoginThrottled) => K::LoginThrottled,
        Some(AuditKind::AccountSelected) => K::AccountSelected,
        Some(AuditKind::OneTimeCodeSent) => K::OneTimeCodeSent,
        Some(AuditKind::InvitationSent) => K::InvitationSent,
        Some(AuditKind::InvitationAccepted) => K::InvitationAccepted,
        Some(AuditKind::SsoLinked) => K::SsoLinked,
        Some(AuditKind::RefreshTokenReused) => K::RefreshTokenReused,
        Some(AuditKind::LoggedOut) => K::LoggedOut,
        Some(AuditKind::PasswordChanged) => K::PasswordChanged,
        Some(AuditKind::CredentialChanged) => K::CredentialChanged,
        Some(AuditKind::CredentialConfirmed) => K::CredentialConfirmed,
        Some(AuditKind::NameChanged) => K::NameChanged,
        Some(AuditKind::RoleChanged) => K::RoleChanged,
        Some(AuditKind::StatusChanged) => K::StatusChanged,
        Some(AuditKind::AddressStatusReset) => K::AddressStatusReset,
        Some(AuditKind::AccountsMerged) => K::AccountsMerged,
        Some(AuditKind::ServiceTokenIssued) => K::ServiceTokenIssued,
    }
}

/// A wire time; `None` when unset.
fn time(
    t: Option<&prost_types::Timestamp>,
    field: &str,
) -> Result<Option<NaiveDateTime>, IdentityError> {
    t.map(|t| {
        u32::try_from(t.nanos)
            .ok()
            .and_then(|nanos| chrono::DateTime::from_timestamp(t.seconds, nanos))
            .map(|at| at.naive_utc())
            .ok_or_else(|| IdentityError::InvalidArgument(format!("{field}: not a valid time")))
    })
    .transpose()
}

fn audit_event(e: AuditEventView) -> pb::AuditEvent {
    pb::AuditEvent {
        event_id: e.id,
        kind: audit_kind_to_pb(e.kind) as i32,
        occurred_at: Some(convert::timestamp(e.occurred_at)),
        district_id: e.district_id,
        actor_account_id: e.actor_account_id,
        actor_service: e.actor_service,
        subject_account_id: e.subject_account_id,
        source: e.source,
        ip_address: e.ip_address,
        user_agent: String::new(),
        request_id: e.request_id,
        summary: e.summary,
        details: e.details.into_iter().collect(),
    }
}

fn new_audit_event(e: pb::AuditEventInput, i: usize) -> Result<NewAuditEvent, IdentityError> {
    let field = |name: &str| format!("events[{i}].{name}");
    let kind = audit_kind_from_pb(e.kind, &field("kind"))?.ok_or_else(|| {
        IdentityError::InvalidArgument(format!("{}: a kind is required", field("kind")))
    })?;
    let district_id = e.district_id.trim().to_string();
    if district_id.is_empty() {
        return Err(IdentityError::InvalidArgument(format!(
            "{}: the event's district is required",
            field("district_id")
        )));
    }
    let text = |v: String| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    if e.summary.chars().count() > 1_000 || e.details.len() > 50 {
        return Err(IdentityError::InvalidArgument(format!(
            "{}: at most 1,000 characters of summary and 50 details per event",
            field("summary")
        )));
    }
    Ok(NewAuditEvent {
        kind,
        occurred_at: time(e.occurred_at.as_ref(), &field("occurred_at"))?,
        district_id,
        actor_account_id: text(e.actor_account_id),
        subject_account_id: text(e.subject_account_id),
        source: e.source.trim().to_string(),
        ip_address: text(e.ip_address),
        request_id: e.request_id.trim().to_string(),
        summary: e.summary.trim().to_string(),
        details: e.details.into_iter().collect::<BTreeMap<_, _>>(),
    })
}
