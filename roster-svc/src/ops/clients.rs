//! The services a sync talks to: identity-svc (accounts) and messaging-svc
//! (RO-6 notices). Traits, so unit tests can fake them; the gRPC versions carry
//! roster's service token.

use std::sync::Arc;

use futures::future::BoxFuture;
use homeroom_platform::service_token::ServiceTokens;
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb};
use tonic::{Status, transport::Channel};

/// identity-svc's account RPCs roster uses.
pub trait Accounts: Send + Sync + 'static {
    /// RO-3: create or update accounts (≤ 1,000).
    fn upsert(
        &self,
        request: idpb::UpsertAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::UpsertAccountsResponse, Status>>;
    /// RO-3: deactivate accounts a source no longer supplies.
    fn deactivate(
        &self,
        request: idpb::DeactivateAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::DeactivateAccountsResponse, Status>>;
    /// RO-2: invite new accounts.
    fn invite(
        &self,
        request: idpb::InviteAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::InviteAccountsResponse, Status>>;
    /// RO-6: the source's setting changed.
    fn set_contact_managed_by_sync(
        &self,
        request: idpb::SetContactManagedBySyncRequest,
    ) -> BoxFuture<'_, Result<idpb::SetContactManagedBySyncResponse, Status>>;
    /// RO-8: what merging guardian accounts would do.
    fn preview_merge(
        &self,
        _request: idpb::PreviewAccountMergeRequest,
    ) -> BoxFuture<'_, Result<idpb::PreviewAccountMergeResponse, Status>> {
        Box::pin(async { Err(Status::unimplemented("merging is not available here")) })
    }
    /// RO-8: merge guardian accounts.
    fn merge(
        &self,
        _request: idpb::MergeAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::MergeAccountsResponse, Status>> {
        Box::pin(async { Err(Status::unimplemented("merging is not available here")) })
    }
    /// RO-8: undo a merge.
    fn undo_merge(
        &self,
        _request: idpb::UndoAccountMergeRequest,
    ) -> BoxFuture<'_, Result<idpb::UndoAccountMergeResponse, Status>> {
        Box::pin(async { Err(Status::unimplemented("merging is not available here")) })
    }
}

/// messaging-svc's system messages.
pub trait Notices: Send + Sync + 'static {
    /// Sends one system message.
    fn send(
        &self,
        request: mpb::SendSystemMessageRequest,
    ) -> BoxFuture<'_, Result<mpb::SendSystemMessageResponse, Status>>;
}

/// Both over gRPC.
#[derive(Debug)]
pub struct GrpcClients {
    identity: Channel,
    messaging: Channel,
    tokens: ServiceTokens,
}

impl GrpcClients {
    /// Clients over lazily connected channels.
    pub fn new(identity: Channel, messaging: Channel, tokens: ServiceTokens) -> Arc<GrpcClients> {
        Arc::new(GrpcClients {
            identity,
            messaging,
            tokens,
        })
    }

    fn identity(&self) -> idpb::identity_service_client::IdentityServiceClient<Channel> {
        idpb::identity_service_client::IdentityServiceClient::new(self.identity.clone())
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024)
    }
}

impl Accounts for GrpcClients {
    fn upsert(
        &self,
        request: idpb::UpsertAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::UpsertAccountsResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(self.identity().upsert_accounts(request).await?.into_inner())
        })
    }

    fn deactivate(
        &self,
        request: idpb::DeactivateAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::DeactivateAccountsResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(self
                .identity()
                .deactivate_accounts(request)
                .await?
                .into_inner())
        })
    }

    fn invite(
        &self,
        request: idpb::InviteAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::InviteAccountsResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(self.identity().invite_accounts(request).await?.into_inner())
        })
    }

    fn set_contact_managed_by_sync(
        &self,
        request: idpb::SetContactManagedBySyncRequest,
    ) -> BoxFuture<'_, Result<idpb::SetContactManagedBySyncResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(self
                .identity()
                .set_contact_managed_by_sync(request)
                .await?
                .into_inner())
        })
    }

    fn preview_merge(
        &self,
        request: idpb::PreviewAccountMergeRequest,
    ) -> BoxFuture<'_, Result<idpb::PreviewAccountMergeResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(self
                .identity()
                .preview_account_merge(request)
                .await?
                .into_inner())
        })
    }

    fn merge(
        &self,
        request: idpb::MergeAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::MergeAccountsResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(self.identity().merge_accounts(request).await?.into_inner())
        })
    }

    fn undo_merge(
        &self,
        request: idpb::UndoAccountMergeRequest,
    ) -> BoxFuture<'_, Result<idpb::UndoAccountMergeResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(self
                .identity()
                .undo_account_merge(request)
                .await?
                .into_inner())
        })
    }
}

impl Notices for GrpcClients {
    fn send(
        &self,
        request: mpb::SendSystemMessageRequest,
    ) -> BoxFuture<'_, Result<mpb::SendSystemMessageResponse, Status>> {
        Box::pin(async move {
            let request = self.tokens.request(request).await?;
            Ok(
                mpb::messaging_service_client::MessagingServiceClient::new(self.messaging.clone())
                    .send_system_message(request)
                    .await?
                    .into_inner(),
            )
        })
    }
}
