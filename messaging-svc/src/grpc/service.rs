//! `homeroom.messaging.v1.MessagingService`: convert, call the operation, convert back.
//!
//! RPCs not implemented here yet answer UNIMPLEMENTED (the generated defaults).

use homeroom_platform::{auth::principal, db::Db};
use homeroom_proto::messaging::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        error::MessagingError,
        plan::{Channel, SkipReason},
        system_messages::SystemKind,
    },
    ops,
};

/// The messaging service's gRPC face.
#[derive(Debug, Clone)]
pub struct MessagingApi {
    db: Db,
}

impl MessagingApi {
    /// A service over the given database.
    pub fn new(db: Db) -> MessagingApi {
        MessagingApi { db }
    }
}

fn channel(value: i32) -> Result<Channel, MessagingError> {
    match pb::Channel::try_from(value).unwrap_or(pb::Channel::Unspecified) {
        pb::Channel::Email => Ok(Channel::Email),
        pb::Channel::Sms => Ok(Channel::Sms),
        pb::Channel::Voice => Ok(Channel::Voice),
        pb::Channel::Unspecified => Err(MessagingError::InvalidArgument(
            "channel: EMAIL, SMS or VOICE is required".into(),
        )),
    }
}

fn skip_reason(reason: SkipReason) -> pb::SkipReason {
    match reason {
        SkipReason::BadAddress => pb::SkipReason::BadAddress,
        SkipReason::OptedOut => pb::SkipReason::OptedOut,
        SkipReason::NoPreference => pb::SkipReason::NoPreference,
        SkipReason::NoAddress => pb::SkipReason::NoAddress,
    }
}

#[tonic::async_trait]
impl pb::messaging_service_server::MessagingService for MessagingApi {
    async fn send_system_message(
        &self,
        request: Request<pb::SendSystemMessageRequest>,
    ) -> Result<Response<pb::SendSystemMessageResponse>, Status> {
        if !principal(&request)?.is_service(&["identity", "roster"]) {
            return Err(MessagingError::PermissionDenied(
                "only identity-svc and roster-svc send system messages".into(),
            )
            .into());
        }
        let r = request.into_inner();
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
        let queued = ops::system::send(
            &self.db,
            ops::system::SystemMessage {
                idempotency_key: r.idempotency_key,
                district_id: r.district_id,
                kind,
                account_id: r.account_id,
                first_name: r.first_name,
                channel: channel(r.channel)?,
                address: r.address.trim().to_string(),
                address_shared: r.address_shared,
                language: r.language,
                variables: r.variables.into_iter().collect(),
            },
        )
        .await?;
        let status = if queued.skip.is_some() {
            pb::DeliveryStatus::Skipped
        } else {
            pb::DeliveryStatus::Queued
        };
        Ok(Response::new(pb::SendSystemMessageResponse {
            delivery_id: queued.delivery_id,
            status: status as i32,
            skip_reason: queued.skip.map_or(pb::SkipReason::Unspecified, skip_reason) as i32,
            replayed: queued.replayed,
        }))
    }

    // -- provider events and address status (MS-5, MS-6, MS-7, GW-2): delegations to grpc/events.rs go here --

    // -- communications, preferences, history (MS-1, MS-2, MS-3, MS-5): delegations go here --
}
