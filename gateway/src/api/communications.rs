//! GW-1: preview an audience and send a communication (MS-1..MS-5), then
//! follow it: the communication with its counts per channel, and its
//! deliveries.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use homeroom_proto::messaging::v1 as mpb;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    caller::Caller,
    error::ApiError,
    json::{enum_value, listed, page_size, timestamp},
    my_contacts::CHANNELS,
};
use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(preview))
        .routes(routes!(send, list))
        .routes(routes!(get))
        .routes(routes!(deliveries))
}

const ROLES: &[&str] = &["guardian", "student", "teacher", "staff"];
const GUARDIAN_CONTACTS: &[&str] = &["all", "primary_only", "without_emergency"];
const COMMUNICATION_STATUSES: &[&str] = &["planning", "sending", "completed", "failed"];
const DELIVERY_STATUSES: &[&str] = &[
    "queued",
    "sending",
    "sent",
    "delivered",
    "failed",
    "bounced",
    "skipped",
];

/// Who a communication is for: the union of what is named, limited to
/// `roles` when given.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AudienceBody {
    #[serde(default)]
    pub account_ids: Vec<String>,
    #[serde(default)]
    pub student_ids: Vec<String>,
    #[serde(default)]
    pub class_ids: Vec<String>,
    #[serde(default)]
    pub school_ids: Vec<String>,
    #[serde(default)]
    pub whole_district: bool,
    /// `guardian`, `student`, `teacher`, `staff`; empty: everyone named.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Which guardians of each student: `all` (the default), `primary_only`
    /// (a student whose source marks no primary contact: every guardian who
    /// is not an emergency-only contact) or `without_emergency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_contacts: Option<String>,
}

/// The content in one more language.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantBody {
    /// BCP 47 code, e.g. `es`.
    pub language: String,
    #[serde(default)]
    pub subject: String,
    pub body: String,
}

/// `POST /api/v1/communications/preview`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewBody {
    pub district_id: String,
    pub audience: AudienceBody,
    /// `email`, `sms`, `voice`.
    pub channels: Vec<String>,
    #[serde(default)]
    pub emergency: bool,
}

/// `POST /api/v1/communications`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendBody {
    /// A retry with the same key returns the first communication and sends
    /// nothing again.
    pub idempotency_key: String,
    pub district_id: String,
    #[serde(default)]
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub variants: Vec<VariantBody>,
    /// `email`, `sms`, `voice`.
    pub channels: Vec<String>,
    pub audience: AudienceBody,
    #[serde(default)]
    pub emergency: bool,
}

/// Recipients not sent to on a channel, by reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkipCountView {
    pub reason: String,
    pub count: u64,
}

/// A channel's counts: recipients, distinct addresses (each sent once),
/// skips, and deliveries by status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelCountsView {
    pub channel: String,
    pub recipients: u64,
    pub unique_addresses: u64,
    pub skipped: Vec<SkipCountView>,
    pub queued: u64,
    pub sending: u64,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub bounced: u64,
}

/// Who would be reached, before sending.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewView {
    pub recipient_count: u64,
    pub channel_counts: Vec<ChannelCountsView>,
    /// Ids named that do not exist.
    pub not_found_ids: Vec<String>,
    /// Ids named that the sender may not message.
    pub out_of_scope_ids: Vec<String>,
    /// People in the audience without an account (nothing reaches them).
    pub people_without_account: u64,
    /// Students named without an account of their own: their guardians
    /// receive it instead.
    pub students_without_account: u64,
}

/// A communication and its progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationView {
    pub communication_id: String,
    pub district_id: String,
    pub sender_account_id: String,
    pub sender_display_name: String,
    pub subject: String,
    pub body: String,
    pub variants: Vec<VariantBody>,
    pub channels: Vec<String>,
    pub audience: AudienceBody,
    pub emergency: bool,
    pub status: String,
    pub recipient_count: u64,
    pub channel_counts: Vec<ChannelCountsView>,
    pub failure_message: String,
    pub created_at: Option<String>,
    pub planned_at: Option<String>,
    pub completed_at: Option<String>,
}

/// The answer to a send: the communication, and whether this was a retry of
/// an earlier send with the same key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentView {
    pub communication: CommunicationView,
    pub replayed: bool,
}

/// A page of communications, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationPage {
    pub communications: Vec<CommunicationView>,
    pub next_page_token: String,
}

/// One address a communication went to (or was skipped for).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub delivery_id: String,
    pub channel: String,
    pub masked_address: String,
    pub status: String,
    pub skip_reason: String,
    pub failure_reason: String,
    pub provider_error_code: String,
    pub attempt_count: u32,
    pub recipient_account_ids: Vec<String>,
    pub language: String,
    pub created_at: Option<String>,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
}

/// A page of deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    pub next_page_token: String,
    pub total_size: i64,
}

/// `GET /api/v1/communications`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub district_id: String,
    /// Only these statuses, comma separated: `planning`, `sending`,
    /// `completed`, `failed`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub emergency_only: bool,
    /// Words of the subject.
    #[serde(default)]
    pub query: String,
    /// 1–100; default 25.
    #[serde(default)]
    pub page_size: Option<i32>,
    #[serde(default)]
    pub page_token: String,
}

/// `GET /api/v1/communications/{communicationId}/deliveries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only these statuses, comma separated: `queued`, `sending`, `sent`,
    /// `delivered`, `failed`, `bounced`, `skipped`.
    #[serde(default)]
    pub status: String,
    /// Only this channel: `email`, `sms`, `voice`.
    #[serde(default)]
    pub channel: String,
    /// 1–500; default 100.
    #[serde(default)]
    pub page_size: Option<i32>,
    #[serde(default)]
    pub page_token: String,
}

/// The channels named (`email`, `sms`, `voice`) as wire values; the console's
/// compose form reads them the same way.
pub(crate) fn channels(names: &[String]) -> Result<Vec<i32>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::bad_request(
            "channels: name at least one of email, sms, voice",
        ));
    }
    names
        .iter()
        .map(|c| {
            enum_value(
                "channels",
                c,
                "CHANNEL_",
                CHANNELS,
                mpb::Channel::from_str_name,
            )
        })
        .collect()
}

/// An audience as the wire takes it, its roles and guardian contacts read
/// by name (the console's compose form builds one too).
pub(crate) fn audience(a: AudienceBody) -> Result<mpb::Audience, ApiError> {
    Ok(mpb::Audience {
        roles: a
            .roles
            .iter()
            .map(|r| {
                enum_value(
                    "audience.roles",
                    r,
                    "AUDIENCE_ROLE_",
                    ROLES,
                    mpb::AudienceRole::from_str_name,
                )
            })
            .collect::<Result<_, _>>()?,
        guardian_contacts: match a.guardian_contacts.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(c) if c.eq_ignore_ascii_case("all") => 0,
            Some(c) => enum_value(
                "audience.guardianContacts",
                c,
                "GUARDIAN_CONTACTS_",
                GUARDIAN_CONTACTS,
                mpb::GuardianContacts::from_str_name,
            )?,
        },
        account_ids: a.account_ids,
        student_ids: a.student_ids,
        class_ids: a.class_ids,
        school_ids: a.school_ids,
        whole_district: a.whole_district,
    })
}

fn audience_view(a: mpb::Audience) -> AudienceBody {
    AudienceBody {
        roles: a.roles().map(|r| r.as_str_name().to_string()).collect(),
        guardian_contacts: match a.guardian_contacts() {
            mpb::GuardianContacts::Unspecified => None,
            mpb::GuardianContacts::PrimaryOnly => Some("primary_only".into()),
            mpb::GuardianContacts::WithoutEmergency => Some("without_emergency".into()),
        },
        account_ids: a.account_ids,
        student_ids: a.student_ids,
        class_ids: a.class_ids,
        school_ids: a.school_ids,
        whole_district: a.whole_district,
    }
}

fn counts(c: mpb::ChannelCounts) -> ChannelCountsView {
    ChannelCountsView {
        channel: c.channel().as_str_name().to_string(),
        skipped: c
            .skipped
            .iter()
            .map(|s| SkipCountView {
                reason: s.reason().as_str_name().to_string(),
                count: s.count,
            })
            .collect(),
        recipients: c.recipients,
        unique_addresses: c.unique_addresses,
        queued: c.queued,
        sending: c.sending,
        sent: c.sent,
        delivered: c.delivered,
        failed: c.failed,
        bounced: c.bounced,
    }
}

fn communication(c: mpb::Communication) -> CommunicationView {
    CommunicationView {
        channels: c
            .channels()
            .map(|ch| ch.as_str_name().to_string())
            .collect(),
        status: c.status().as_str_name().to_string(),
        created_at: c.created_at.as_ref().and_then(timestamp),
        planned_at: c.planned_at.as_ref().and_then(timestamp),
        completed_at: c.completed_at.as_ref().and_then(timestamp),
        audience: audience_view(c.audience.unwrap_or_default()),
        variants: c
            .variants
            .into_iter()
            .map(|v| VariantBody {
                language: v.language,
                subject: v.subject,
                body: v.body,
            })
            .collect(),
        channel_counts: c.channel_counts.into_iter().map(counts).collect(),
        communication_id: c.communication_id,
        district_id: c.district_id,
        sender_account_id: c.sender_account_id,
        sender_display_name: c.sender_display_name,
        subject: c.subject,
        body: c.body,
        emergency: c.emergency,
        recipient_count: c.recipient_count,
        failure_message: c.failure_message,
    }
}

/// `POST /api/v1/communications/preview`: how many people and distinct
/// addresses each channel would reach, and who would be skipped and why.
/// Sends nothing.
#[utoipa::path(
    operation_id = "preview_communication",
    post,
    path = "/communications/preview",
    tag = "communications",
    request_body = PreviewBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The audience's counts", body = PreviewView),
        (status = 400, description = "The body cannot be read or names an unknown channel or role", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not send to this audience", body = super::error::ErrorBody),
    )
)]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<PreviewBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<PreviewView>, ApiError> {
    let Json(body) = body?;
    let answer = state
        .messaging()
        .preview_audience(caller.request(mpb::PreviewAudienceRequest {
            channels: channels(&body.channels)?,
            audience: Some(audience(body.audience)?),
            district_id: body.district_id,
            emergency: body.emergency,
        }))
        .await?
        .into_inner();
    Ok(Json(PreviewView {
        recipient_count: answer.recipient_count,
        channel_counts: answer.channel_counts.into_iter().map(counts).collect(),
        not_found_ids: answer.not_found_ids,
        out_of_scope_ids: answer.out_of_scope_ids,
        people_without_account: answer.people_without_account,
        students_without_account: answer.students_without_account,
    }))
}

/// `POST /api/v1/communications`: sends a communication; each distinct
/// address gets it once, bad and opted-out addresses are skipped. 201 when
/// created, 200 when the idempotency key was seen before.
#[utoipa::path(
    operation_id = "send_communication",
    post,
    path = "/communications",
    tag = "communications",
    request_body = SendBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Sent (planning and delivery go on in the background)", body = SentView),
        (status = 200, description = "A retry: the first send with this key", body = SentView),
        (status = 400, description = "The body cannot be read or is not a valid communication", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not send to this audience", body = super::error::ErrorBody),
        (status = 409, description = "The idempotency key was used for another communication", body = super::error::ErrorBody),
    )
)]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<SendBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<SentView>), ApiError> {
    let Json(body) = body?;
    let answer = state
        .messaging()
        .send_communication(
            caller.request(mpb::SendCommunicationRequest {
                channels: channels(&body.channels)?,
                audience: Some(audience(body.audience)?),
                variants: body
                    .variants
                    .into_iter()
                    .map(|v| mpb::ContentVariant {
                        language: v.language,
                        subject: v.subject,
                        body: v.body,
                    })
                    .collect(),
                idempotency_key: body.idempotency_key,
                district_id: body.district_id,
                sender_account_id: String::new(),
                subject: body.subject,
                body: body.body,
                emergency: body.emergency,
            }),
        )
        .await?
        .into_inner();
    let status = if answer.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let sent = answer
        .communication
        .ok_or_else(|| ApiError::new(tonic::Code::Internal, "the send gave no communication"))?;
    Ok((
        status,
        Json(SentView {
            communication: communication(sent),
            replayed: answer.replayed,
        }),
    ))
}

/// `GET /api/v1/communications`: a district's communications, newest first.
#[utoipa::path(
    operation_id = "list_communications",
    get,
    path = "/communications",
    tag = "communications",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of communications", body = CommunicationPage),
        (status = 400, description = "A parameter is missing or not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not see this district's communications", body = super::error::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CommunicationPage>, ApiError> {
    let q = super::params::query(query)?;
    let answer = state
        .messaging()
        .list_communications(caller.request(mpb::ListCommunicationsRequest {
            statuses: listed(
                "status",
                &q.status,
                "COMMUNICATION_STATUS_",
                COMMUNICATION_STATUSES,
                mpb::CommunicationStatus::from_str_name,
            )?,
            page_size: page_size(q.page_size, 25, 100)?,
            district_id: q.district_id,
            emergency_only: q.emergency_only,
            query: q.query,
            page_token: q.page_token,
            ..Default::default()
        }))
        .await?
        .into_inner();
    Ok(Json(CommunicationPage {
        communications: answer
            .communications
            .into_iter()
            .map(communication)
            .collect(),
        next_page_token: answer.next_page_token,
    }))
}

/// `GET /api/v1/communications/{communicationId}`: one communication with
/// its counts per channel.
#[utoipa::path(
    operation_id = "get_communication",
    get,
    path = "/communications/{communicationId}",
    tag = "communications",
    params(("communicationId" = String, Path, description = "The communication")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The communication", body = CommunicationView),
        (status = 400, description = "The id is not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 404, description = "No such communication in the caller's scope", body = super::error::ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<CommunicationView>, ApiError> {
    let communication_id = super::params::path_id(path, "communicationId")?;
    let answer = state
        .messaging()
        .get_communication(caller.request(mpb::GetCommunicationRequest { communication_id }))
        .await?
        .into_inner();
    answer
        .communication
        .map(|c| Json(communication(c)))
        .ok_or_else(|| ApiError::new(tonic::Code::NotFound, "no such communication"))
}

/// `GET /api/v1/communications/{communicationId}/deliveries`: where it went,
/// one row per distinct address, with masked addresses.
#[utoipa::path(
    operation_id = "list_deliveries",
    get,
    path = "/communications/{communicationId}/deliveries",
    tag = "communications",
    params(("communicationId" = String, Path, description = "The communication"), DeliveriesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 400, description = "A parameter is not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 404, description = "No such communication in the caller's scope", body = super::error::ErrorBody),
    )
)]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: Result<Query<DeliveriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let communication_id = super::params::path_id(path, "communicationId")?;
    let q = super::params::query(query)?;
    let channel = if q.channel.trim().is_empty() {
        mpb::Channel::Unspecified as i32
    } else {
        enum_value(
            "channel",
            &q.channel,
            "CHANNEL_",
            CHANNELS,
            mpb::Channel::from_str_name,
        )?
    };
    let answer = state
        .messaging()
        .list_deliveries(caller.request(mpb::ListDeliveriesRequest {
            communication_id,
            statuses: listed(
                "status",
                &q.status,
                "DELIVERY_STATUS_",
                DELIVERY_STATUSES,
                mpb::DeliveryStatus::from_str_name,
            )?,
            channel,
            page_size: page_size(q.page_size, 100, 500)?,
            page_token: q.page_token,
        }))
        .await?
        .into_inner();
    Ok(Json(DeliveryPage {
        deliveries: answer
            .deliveries
            .into_iter()
            .map(|d| DeliveryView {
                channel: d.channel().as_str_name().to_string(),
                status: d.status().as_str_name().to_string(),
                skip_reason: d.skip_reason().as_str_name().to_string(),
                created_at: d.created_at.as_ref().and_then(timestamp),
                sent_at: d.sent_at.as_ref().and_then(timestamp),
                delivered_at: d.delivered_at.as_ref().and_then(timestamp),
                delivery_id: d.delivery_id,
                masked_address: d.masked_address,
                failure_reason: d.failure_reason,
                provider_error_code: d.provider_error_code,
                attempt_count: d.attempt_count,
                recipient_account_ids: d.recipient_account_ids,
                language: d.language,
            })
            .collect(),
        next_page_token: answer.next_page_token,
        total_size: answer.total_size,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_communication_routes_are_documented() {
        super::super::assert_documents(
            &super::super::document(),
            &[
                "/communications",
                "/communications/preview",
                "/communications/{communicationId}",
                "/communications/{communicationId}/deliveries",
            ],
        );
    }

    #[test]
    fn an_unknown_channel_or_role_is_a_clear_error() {
        let e = super::channels(&["fax".into()]).unwrap_err();
        assert_eq!(e.message, "channels: one of email, sms, voice");
        assert!(super::channels(&[]).is_err());
        let e = super::audience(super::AudienceBody {
            roles: vec!["principal".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            e.message,
            "audience.roles: one of guardian, student, teacher, staff"
        );
    }
}
