//! MS-6 / MS-7 over REST: an address's status, and Reset Status.

use axum::{
    Json,
    extract::{Query, State},
};
use homeroom_proto::messaging::v1 as mpb;
use serde::{Deserialize, Serialize};

use super::{caller::Caller, error::ApiError, json::timestamp};
use crate::app::AppState;

/// One email or phone on a channel.
#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AddressQuery {
    /// The district whose accounts hold the address.
    pub district_id: String,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    /// The email address or E.164 phone number.
    pub address: String,
}

/// `POST /api/v1/address-status/reset`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetBody {
    /// The district whose accounts hold the address.
    pub district_id: String,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    /// The email address or E.164 phone number.
    pub address: String,
    /// Why (kept in the audit log).
    #[serde(default)]
    pub note: String,
}

/// Whether an address is sent to, and if not why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressStatusView {
    pub channel: String,
    pub address: String,
    pub state: String,
    pub cause: String,
    pub reason: String,
    pub provider_error_code: String,
    pub bad_since: Option<String>,
    /// The person texted STOP (SMS only; only START clears it, never a reset).
    pub opted_out: bool,
}

/// The answer of a lookup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressStatusAnswer {
    pub status: Option<AddressStatusView>,
}

/// The answer of a reset: what was cleared and what holds now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetAnswer {
    pub cleared: Option<AddressStatusView>,
    pub current: Option<AddressStatusView>,
}

/// A channel named in a request (`email`, `sms`, `voice`), as its wire value.
pub(crate) fn channel(name: &str) -> Result<i32, ApiError> {
    super::json::enum_value(
        "channel",
        name,
        "CHANNEL_",
        &["email", "sms", "voice"],
        mpb::Channel::from_str_name,
    )
}

pub(crate) fn view(s: mpb::AddressStatus) -> AddressStatusView {
    AddressStatusView {
        channel: s.channel().as_str_name().to_string(),
        state: s.state().as_str_name().to_string(),
        cause: s.cause().as_str_name().to_string(),
        bad_since: s.bad_since.as_ref().and_then(timestamp),
        opted_out: s.opted_out,
        address: s.address,
        reason: s.reason,
        provider_error_code: s.provider_error_code,
    }
}

/// `GET /api/v1/address-status`: whether an address is sent to.
#[utoipa::path(
    get,
    path = "/address-status",
    tag = "addresses",
    params(AddressQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The address's status", body = AddressStatusAnswer),
        (status = 400, description = "A parameter is missing or not valid", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "The caller may not see it", body = super::error::ErrorBody),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AddressQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AddressStatusAnswer>, ApiError> {
    let q = super::params::query(query)?;
    let answer = state
        .messaging()
        .get_address_status(caller.request(mpb::GetAddressStatusRequest {
            district_id: q.district_id,
            addresses: vec![mpb::AddressRef {
                channel: channel(&q.channel)?,
                address: q.address,
            }],
        }))
        .await?
        .into_inner();
    Ok(Json(AddressStatusAnswer {
        status: answer.statuses.into_iter().next().map(view),
    }))
}

/// `POST /api/v1/address-status/reset`: Reset Status (MS-7) — clears a bad
/// address so it is sent to again; sends nothing, keeps the history, never
/// clears a STOP, and is audited.
#[utoipa::path(
    post,
    path = "/address-status/reset",
    tag = "addresses",
    request_body = ResetBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Reset", body = ResetAnswer),
        (status = 400, description = "The body cannot be read", body = super::error::ErrorBody),
        (status = 401, description = "No valid access token", body = super::error::ErrorBody),
        (status = 403, description = "Only rostering, communications and district administrators and user managers may reset", body = super::error::ErrorBody),
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    id: super::caller::RequestId,
    body: Result<Json<ResetBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ResetAnswer>, ApiError> {
    let Json(body) = body?;
    let answer = state
        .messaging()
        .reset_address_status(caller.request(mpb::ResetAddressStatusRequest {
            district_id: body.district_id,
            target: Some(mpb::reset_address_status_request::Target::Address(
                mpb::AddressRef {
                    channel: channel(&body.channel)?,
                    address: body.address,
                },
            )),
            note: body.note,
            ip_address: id.client.map(|ip| ip.to_string()).unwrap_or_default(),
            request_id: id.id,
        }))
        .await?
        .into_inner();
    Ok(Json(ResetAnswer {
        cleared: answer.cleared.map(view),
        current: answer.current.map(view),
    }))
}
