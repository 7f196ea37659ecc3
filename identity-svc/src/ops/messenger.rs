//! The way out to messaging-svc: system messages (codes, invitations, notices)
//! sent with `SendSystemMessages` under identity's own service token.

use std::{collections::BTreeMap, sync::Arc};

use futures::future::BoxFuture;
use homeroom_proto::messaging::v1 as mpb;
use tonic::transport::Channel;

use super::tokens::Tokens;
use crate::domain::error::IdentityError;

/// Which system message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A one-time code.
    OneTimeCode,
    /// An invitation to join.
    Invitation,
    /// "Your contact details changed."
    ContactChanged,
}

/// Email or SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageChannel {
    /// Email.
    Email,
    /// SMS.
    Sms,
}

/// One system message to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemMessage {
    /// Retries with the same key send once.
    pub idempotency_key: String,
    /// District of the account.
    pub district_id: String,
    /// What it is.
    pub kind: MessageKind,
    /// The account it is for.
    pub account_id: String,
    /// For the `For <first name>:` prefix on a shared phone.
    pub first_name: String,
    /// Email or SMS.
    pub channel: MessageChannel,
    /// Normalised address.
    pub address: String,
    /// Several accounts hold the address.
    pub address_shared: bool,
    /// BCP 47; '' = English.
    pub language: String,
    /// Template variables (codes among them: never logged).
    pub variables: BTreeMap<String, String>,
}

/// Sends system messages.
pub trait Messenger: Send + Sync + 'static {
    /// Queues messages with messaging-svc (any number; sent in batches).
    fn send_many(&self, messages: Vec<SystemMessage>) -> BoxFuture<'_, Result<(), IdentityError>>;

    /// Queues one message with messaging-svc.
    fn send(&self, message: SystemMessage) -> BoxFuture<'_, Result<(), IdentityError>> {
        self.send_many(vec![message])
    }
}

/// Messages per SendSystemMessages call (messaging's limit).
const BATCH: usize = 1_000;

/// messaging-svc over gRPC.
pub struct GrpcMessenger {
    channel: Channel,
    tokens: Arc<Tokens>,
}

impl GrpcMessenger {
    /// A messenger over a (lazily connected) channel to messaging-svc.
    pub fn new(channel: Channel, tokens: Arc<Tokens>) -> GrpcMessenger {
        GrpcMessenger { channel, tokens }
    }
}

fn request(m: SystemMessage) -> mpb::SendSystemMessageRequest {
    let kind = match m.kind {
        MessageKind::OneTimeCode => mpb::SystemMessageKind::OneTimeCode,
        MessageKind::Invitation => mpb::SystemMessageKind::Invitation,
        MessageKind::ContactChanged => mpb::SystemMessageKind::ContactChangedNotice,
    };
    let channel = match m.channel {
        MessageChannel::Email => mpb::Channel::Email,
        MessageChannel::Sms => mpb::Channel::Sms,
    };
    mpb::SendSystemMessageRequest {
        idempotency_key: m.idempotency_key,
        district_id: m.district_id,
        kind: kind as i32,
        account_id: m.account_id,
        first_name: m.first_name,
        channel: channel as i32,
        address: m.address,
        address_shared: m.address_shared,
        language: m.language,
        variables: m.variables.into_iter().collect(),
    }
}

impl Messenger for GrpcMessenger {
    fn send_many(&self, messages: Vec<SystemMessage>) -> BoxFuture<'_, Result<(), IdentityError>> {
        Box::pin(async move {
            let (token, _) = self.tokens.service_token("identity").await?;
            let bearer: tonic::metadata::MetadataValue<_> =
                format!("Bearer {token}").parse().map_err(|_| {
                    IdentityError::Internal(anyhow::anyhow!("service token is not a header value"))
                })?;
            let mut client =
                mpb::messaging_service_client::MessagingServiceClient::new(self.channel.clone());
            let mut messages = messages.into_iter().peekable();
            while messages.peek().is_some() {
                let batch: Vec<_> = messages.by_ref().take(BATCH).map(request).collect();
                let mut call =
                    tonic::Request::new(mpb::SendSystemMessagesRequest { messages: batch });
                call.metadata_mut().insert("authorization", bearer.clone());
                homeroom_platform::request_context::tag(&mut call);
                client.send_system_messages(call).await.map_err(|status| {
                    tracing::warn!(code = ?status.code(), "messaging refused system messages");
                    IdentityError::Unavailable(
                        "messages cannot be sent right now; try again in a minute".into(),
                    )
                })?;
            }
            Ok(())
        })
    }
}
