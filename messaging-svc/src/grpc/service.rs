//! `homeroom.messaging.v1.MessagingService`: convert, call the operation, convert back.
//!
//! RPCs not implemented here yet answer UNIMPLEMENTED (the generated defaults).

use homeroom_platform::{auth::principal, db::Db};
use homeroom_proto::messaging::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    domain::{error::MessagingError, plan::Channel, system_messages::SystemKind},
    ops,
};

/// The messaging service's gRPC face.
#[derive(Clone)]
pub struct MessagingApi {
    db: Db,
    directory: std::sync::Arc<dyn ops::directory::Directory>,
    audit: ops::audit::AuditOutbox,
}

impl MessagingApi {
    /// A service over the given database and directory, auditing through `audit`.
    pub fn new(
        db: Db,
        directory: std::sync::Arc<dyn ops::directory::Directory>,
        audit: ops::audit::AuditOutbox,
    ) -> MessagingApi {
        MessagingApi {
            db,
            directory,
            audit,
        }
    }
}

#[tonic::async_trait]
impl pb::messaging_service_server::MessagingService for MessagingApi {
    async fn send_system_message(
        &self,
        request: Request<pb::SendSystemMessageRequest>,
    ) -> Result<Response<pb::SendSystemMessageResponse>, Status> {
        system_caller(&request)?;
        let m = system_message(request.into_inner())?;
        let queued = ops::system::send(&self.db, m).await?;
        Ok(Response::new(system_answer(queued)))
    }

    async fn send_system_messages(
        &self,
        request: Request<pb::SendSystemMessagesRequest>,
    ) -> Result<Response<pb::SendSystemMessagesResponse>, Status> {
        system_caller(&request)?;
        let messages = request.into_inner().messages;
        if messages.len() > ops::system::MAX_BATCH {
            return Err(MessagingError::InvalidArgument(format!(
                "messages: at most {} per request",
                ops::system::MAX_BATCH
            ))
            .into());
        }
        let messages = messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                system_message(m)
                    .map_err(|s| Status::invalid_argument(format!("messages[{i}].{}", s.message())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let queued = ops::system::send_many(&self.db, messages).await?;
        Ok(Response::new(pb::SendSystemMessagesResponse {
            results: queued.into_iter().map(system_answer).collect(),
        }))
    }

    // -- provider events and address status (MS-5, MS-6, MS-7, GW-2): delegations to grpc/events.rs go here --
    async fn get_address_status(
        &self,
        request: Request<pb::GetAddressStatusRequest>,
    ) -> Result<Response<pb::GetAddressStatusResponse>, Status> {
        let caller = principal(&request)?;
        let (district_id, addresses) = super::events::address_refs(request.into_inner())?;
        let views = ops::status::get(
            &self.db,
            self.directory.as_ref(),
            &caller,
            &district_id,
            addresses,
        )
        .await?;
        Ok(Response::new(pb::GetAddressStatusResponse {
            statuses: views
                .into_iter()
                .map(super::events::address_status)
                .collect(),
        }))
    }

    async fn list_bad_addresses(
        &self,
        request: Request<pb::ListBadAddressesRequest>,
    ) -> Result<Response<pb::ListBadAddressesResponse>, Status> {
        let caller = principal(&request)?;
        let district_id = request.into_inner().district_id.trim().to_owned();
        if district_id.is_empty() {
            return Err(Status::invalid_argument("district_id: required"));
        }
        let bad =
            ops::status::bad_in_district(&self.db, self.directory.as_ref(), &caller, &district_id)
                .await?;
        Ok(Response::new(super::events::bad_addresses(bad)))
    }

    async fn reset_address_status(
        &self,
        request: Request<pb::ResetAddressStatusRequest>,
    ) -> Result<Response<pb::ResetAddressStatusResponse>, Status> {
        let caller = principal(&request)?;
        // The audit row's address is the one the gateway proves, else the
        // peer's: a caller cannot choose it (the field is informational).
        let client = homeroom_platform::forwarded::client_address(&request);
        let mut reset = super::events::reset_request(request.into_inner())?;
        reset.ip_address = client.unwrap_or_default();
        let outcome = ops::status::reset(&self.db, &self.audit, &caller, reset).await?;
        Ok(Response::new(super::events::reset_answer(outcome)))
    }

    async fn record_twilio_status_callback(
        &self,
        request: Request<pb::RecordTwilioStatusCallbackRequest>,
    ) -> Result<Response<pb::RecordTwilioStatusCallbackResponse>, Status> {
        super::events::gateway_only(&principal(&request)?)?;
        let callback = super::events::twilio_callback(request.into_inner())?;
        let outcome = ops::events::twilio_status(&self.db, callback).await?;
        Ok(Response::new(super::events::twilio_answer(outcome)))
    }

    async fn record_inbound_sms(
        &self,
        request: Request<pb::RecordInboundSmsRequest>,
    ) -> Result<Response<pb::RecordInboundSmsResponse>, Status> {
        super::events::gateway_only(&principal(&request)?)?;
        let sms = super::events::inbound_sms(request.into_inner())?;
        let answer = ops::events::inbound_sms(&self.db, sms).await?;
        Ok(Response::new(super::events::inbound_answer(answer)))
    }

    async fn record_email_events(
        &self,
        request: Request<pb::RecordEmailEventsRequest>,
    ) -> Result<Response<pb::RecordEmailEventsResponse>, Status> {
        super::events::gateway_only(&principal(&request)?)?;
        let (provider, events) = super::events::email_events(request.into_inner())?;
        let outcome = ops::events::email_events(&self.db, provider, events).await?;
        Ok(Response::new(super::events::email_answer(outcome)))
    }

    // -- communications, preferences, history (MS-1, MS-2, MS-3, MS-5): delegations go here --

    async fn get_account_history(
        &self,
        request: Request<pb::GetAccountHistoryRequest>,
    ) -> Result<Response<pb::GetAccountHistoryResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let query = ops::history::HistoryQuery {
            account_id: r.account_id,
            channel: super::convert::channel_filter(r.channel, "channel")?.map(Channel::as_str),
            include_system: r.include_system_messages,
            page_size: r.page_size,
            page_token: r.page_token,
        };
        let (rows, next_page_token) =
            ops::history::page(&self.db, self.directory.as_ref(), &caller, query).await?;
        Ok(Response::new(pb::GetAccountHistoryResponse {
            entries: rows
                .into_iter()
                .map(super::communications::history_entry)
                .collect(),
            next_page_token,
        }))
    }

    async fn get_preferences(
        &self,
        request: Request<pb::GetPreferencesRequest>,
    ) -> Result<Response<pb::GetPreferencesResponse>, Status> {
        let caller = principal(&request)?;
        let view = ops::preferences::get(
            &self.db,
            self.directory.as_ref(),
            &caller,
            &request.into_inner().account_id,
        )
        .await?;
        Ok(Response::new(pb::GetPreferencesResponse {
            preferences: Some(super::communications::preferences(view)),
        }))
    }

    async fn update_preferences(
        &self,
        request: Request<pb::UpdatePreferencesRequest>,
    ) -> Result<Response<pb::UpdatePreferencesResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let changes = r
            .channels
            .iter()
            .map(|p| {
                Ok((
                    super::communications::channels(&[p.channel])?
                        .into_iter()
                        .next()
                        .unwrap_or(Channel::Email),
                    p.enabled,
                ))
            })
            .collect::<Result<Vec<_>, MessagingError>>()?;
        let view = ops::preferences::update(
            &self.db,
            self.directory.as_ref(),
            &caller,
            &r.account_id,
            changes,
        )
        .await?;
        Ok(Response::new(pb::UpdatePreferencesResponse {
            preferences: Some(super::communications::preferences(view)),
        }))
    }

    async fn send_communication(
        &self,
        request: Request<pb::SendCommunicationRequest>,
    ) -> Result<Response<pb::SendCommunicationResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let sender = super::communications::sender(&caller, &r.district_id, &r.sender_account_id)?;
        if r.idempotency_key.trim().is_empty() {
            return Err(MessagingError::InvalidArgument(
                "idempotency_key: required, so a retry never sends twice".into(),
            )
            .into());
        }
        if r.body.trim().is_empty() {
            return Err(MessagingError::InvalidArgument("body: required".into()).into());
        }
        super::communications::lengths(&r)?;
        let summary = ops::communications::send(
            &self.db,
            self.directory.as_ref(),
            ops::communications::NewCommunication {
                idempotency_key: r.idempotency_key,
                district_id: r.district_id.clone(),
                sender_account_id: sender.clone(),
                subject: r.subject.clone(),
                body: r.body.clone(),
                variants: r
                    .variants
                    .iter()
                    .map(|v| (v.language.clone(), v.subject.clone(), v.body.clone()))
                    .collect(),
                channels: super::communications::channels(&r.channels)?,
                audience: super::communications::audience(r.audience.clone()),
                emergency: r.emergency,
            },
        )
        .await?;
        let communication = pb::Communication {
            communication_id: summary.communication_id.clone(),
            district_id: r.district_id,
            sender_account_id: sender,
            subject: r.subject,
            body: r.body,
            variants: r.variants,
            channels: r.channels,
            audience: r.audience,
            emergency: r.emergency,
            status: pb::CommunicationStatus::Sending as i32,
            recipient_count: summary.recipients as u64,
            channel_counts: super::communications::channel_counts(&summary.channels),
            ..Default::default()
        };
        Ok(Response::new(pb::SendCommunicationResponse {
            communication_id: summary.communication_id,
            communication: Some(communication),
            replayed: summary.replayed,
        }))
    }

    async fn get_communication(
        &self,
        request: Request<pb::GetCommunicationRequest>,
    ) -> Result<Response<pb::GetCommunicationResponse>, Status> {
        let caller = principal(&request)?;
        let id = request.into_inner().communication_id;
        let (view, _) = ops::communications::get(&self.db, &caller, &id).await?;
        Ok(Response::new(pb::GetCommunicationResponse {
            communication: Some(super::listings::communication(view)),
        }))
    }

    async fn list_communications(
        &self,
        request: Request<pb::ListCommunicationsRequest>,
    ) -> Result<Response<pb::ListCommunicationsResponse>, Status> {
        let caller = principal(&request)?;
        let query = super::listings::list_query(request.into_inner())?;
        let (views, next_page_token) = ops::communications::list(&self.db, &caller, query).await?;
        Ok(Response::new(pb::ListCommunicationsResponse {
            communications: views
                .into_iter()
                .map(super::listings::communication)
                .collect(),
            next_page_token,
        }))
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let caller = principal(&request)?;
        let query = super::listings::delivery_query(request.into_inner())?;
        let page = ops::communications::list_deliveries(&self.db, &caller, query).await?;
        Ok(Response::new(super::listings::deliveries_answer(page)))
    }

    async fn preview_audience(
        &self,
        request: Request<pb::PreviewAudienceRequest>,
    ) -> Result<Response<pb::PreviewAudienceResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        super::communications::sender(&caller, &r.district_id, "preview")?;
        let summary = ops::communications::preview(
            &self.db,
            self.directory.as_ref(),
            &r.district_id,
            &super::communications::audience(r.audience),
            &super::communications::channels(&r.channels)?,
            r.emergency,
        )
        .await?;
        Ok(Response::new(pb::PreviewAudienceResponse {
            recipient_count: summary.recipients as u64,
            channel_counts: super::communications::channel_counts(&summary.channels),
            not_found_ids: summary.unreached.not_found_ids,
            out_of_scope_ids: Vec::new(),
            people_without_account: summary.unreached.people_without_account,
            students_without_account: summary.unreached.students_without_account,
        }))
    }
}

impl std::fmt::Debug for MessagingApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessagingApi").finish_non_exhaustive()
    }
}

/// Only identity-svc and roster-svc send system messages.
fn system_caller<T>(request: &Request<T>) -> Result<(), Status> {
    if principal(request)?.is_service(&["identity", "roster"]) {
        Ok(())
    } else {
        Err(MessagingError::PermissionDenied(
            "only identity-svc and roster-svc send system messages".into(),
        )
        .into())
    }
}

/// A system message request, validated.
fn system_message(r: pb::SendSystemMessageRequest) -> Result<ops::system::SystemMessage, Status> {
    let kind = match pb::SystemMessageKind::try_from(r.kind)
        .unwrap_or(pb::SystemMessageKind::Unspecified)
    {
        pb::SystemMessageKind::OneTimeCode => SystemKind::OneTimeCode,
        pb::SystemMessageKind::Invitation => SystemKind::Invitation,
        pb::SystemMessageKind::ContactChangedNotice => SystemKind::ContactChanged,
        pb::SystemMessageKind::Unspecified => {
            return Err(MessagingError::InvalidArgument(
                "kind: a system message kind is required".into(),
            )
            .into());
        }
    };
    for (field, value) in [
        ("idempotency_key", &r.idempotency_key),
        ("district_id", &r.district_id),
        ("address", &r.address),
    ] {
        if value.trim().is_empty() {
            return Err(MessagingError::InvalidArgument(format!("{field}: required")).into());
        }
    }
    Ok(ops::system::SystemMessage {
        idempotency_key: r.idempotency_key,
        district_id: r.district_id,
        kind,
        account_id: r.account_id,
        first_name: r.first_name,
        channel: super::convert::channel(r.channel, "channel")?,
        address: r.address.trim().to_string(),
        address_shared: r.address_shared,
        language: r.language,
        variables: r.variables.into_iter().collect(),
    })
}

fn system_answer(queued: ops::system::Queued) -> pb::SendSystemMessageResponse {
    let status = if queued.skip.is_some() {
        pb::DeliveryStatus::Skipped
    } else {
        pb::DeliveryStatus::Queued
    };
    pb::SendSystemMessageResponse {
        delivery_id: queued.delivery_id,
        status: status as i32,
        skip_reason: queued
            .skip
            .map_or(pb::SkipReason::Unspecified, super::convert::skip_to_pb)
            as i32,
        replayed: queued.replayed,
    }
}
