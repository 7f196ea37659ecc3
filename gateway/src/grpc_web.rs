//! GW-1: gRPC-Web for browsers on the gateway's port. A grpc-web call to
//! `/<package>.<Service>/<Method>` is translated to gRPC (tonic-web) and sent
//! to the service, headers and all — the caller's `authorization` is the
//! caller's token, so each service checks who is calling as for any client.
//! Only the RPCs a browser should call pass: service-only RPCs (account
//! upserts, system messages, provider events, service tokens …) answer
//! PERMISSION_DENIED without reaching any service.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use std::sync::Arc;

use homeroom_platform::{forwarded, service_token::ServiceTokens};
use http::{HeaderValue, Request, Response};
use tonic::{body::Body, transport::Channel};
use tower::Service;

use crate::upstream::Upstreams;

/// The RPCs browsers may call, by full path.
pub const BROWSER_RPCS: &[&str] = &[
    // identity-svc
    "/homeroom.identity.v1.IdentityService/Login",
    "/homeroom.identity.v1.IdentityService/SelectAccount",
    "/homeroom.identity.v1.IdentityService/SendOneTimeCode",
    "/homeroom.identity.v1.IdentityService/VerifyOneTimeCode",
    "/homeroom.identity.v1.IdentityService/AcceptInvitation",
    "/homeroom.identity.v1.IdentityService/ChangePassword",
    "/homeroom.identity.v1.IdentityService/RefreshToken",
    "/homeroom.identity.v1.IdentityService/Logout",
    "/homeroom.identity.v1.IdentityService/GetJwks",
    "/homeroom.identity.v1.IdentityService/ListSsoProviders",
    "/homeroom.identity.v1.IdentityService/GetAccount",
    "/homeroom.identity.v1.IdentityService/GetMe",
    "/homeroom.identity.v1.IdentityService/ListAccounts",
    "/homeroom.identity.v1.IdentityService/InviteAccounts",
    "/homeroom.identity.v1.IdentityService/AssignRoles",
    "/homeroom.identity.v1.IdentityService/UpdateContactDetails",
    "/homeroom.identity.v1.IdentityService/SendCredentialConfirmationCode",
    "/homeroom.identity.v1.IdentityService/ConfirmCredential",
    "/homeroom.identity.v1.IdentityService/ListSharedCredentials",
    "/homeroom.identity.v1.IdentityService/DownloadSharedCredentialsReport",
    "/homeroom.identity.v1.IdentityService/ListAuditEvents",
    // roster-svc
    "/homeroom.roster.v1.RosterService/GetDistrict",
    "/homeroom.roster.v1.RosterService/ListDistricts",
    "/homeroom.roster.v1.RosterService/GetDistrictSettings",
    "/homeroom.roster.v1.RosterService/UpdateDistrictSettings",
    "/homeroom.roster.v1.RosterService/GetSchool",
    "/homeroom.roster.v1.RosterService/ListSchools",
    "/homeroom.roster.v1.RosterService/ListAcademicSessions",
    "/homeroom.roster.v1.RosterService/GetClass",
    "/homeroom.roster.v1.RosterService/ListClasses",
    "/homeroom.roster.v1.RosterService/ListEnrollments",
    "/homeroom.roster.v1.RosterService/GetStudent",
    "/homeroom.roster.v1.RosterService/ListStudents",
    "/homeroom.roster.v1.RosterService/GetStaff",
    "/homeroom.roster.v1.RosterService/ListStaff",
    "/homeroom.roster.v1.RosterService/GetGuardian",
    "/homeroom.roster.v1.RosterService/ListStudentGuardians",
    "/homeroom.roster.v1.RosterService/ListGuardianStudents",
    "/homeroom.roster.v1.RosterService/CreateSyncSource",
    "/homeroom.roster.v1.RosterService/UpdateSyncSource",
    "/homeroom.roster.v1.RosterService/GetSyncSource",
    "/homeroom.roster.v1.RosterService/ListSyncSources",
    "/homeroom.roster.v1.RosterService/DeleteSyncSource",
    "/homeroom.roster.v1.RosterService/StartSync",
    "/homeroom.roster.v1.RosterService/GetSyncRun",
    "/homeroom.roster.v1.RosterService/ListSyncRuns",
    "/homeroom.roster.v1.RosterService/ListSyncReportRows",
    "/homeroom.roster.v1.RosterService/DownloadSyncReport",
    "/homeroom.roster.v1.RosterService/GetGuardianUpload",
    "/homeroom.roster.v1.RosterService/ListGuardianUploads",
    "/homeroom.roster.v1.RosterService/ListGuardianUploadRows",
    "/homeroom.roster.v1.RosterService/DownloadGuardianUploadResult",
    "/homeroom.roster.v1.RosterService/ListDuplicateGuardians",
    "/homeroom.roster.v1.RosterService/DownloadDuplicateGuardians",
    "/homeroom.roster.v1.RosterService/PreviewGuardianMerge",
    "/homeroom.roster.v1.RosterService/MergeGuardians",
    "/homeroom.roster.v1.RosterService/UndoGuardianMerge",
    // messaging-svc
    "/homeroom.messaging.v1.MessagingService/SendCommunication",
    "/homeroom.messaging.v1.MessagingService/PreviewAudience",
    "/homeroom.messaging.v1.MessagingService/GetCommunication",
    "/homeroom.messaging.v1.MessagingService/ListCommunications",
    "/homeroom.messaging.v1.MessagingService/ListDeliveries",
    "/homeroom.messaging.v1.MessagingService/GetPreferences",
    "/homeroom.messaging.v1.MessagingService/UpdatePreferences",
    "/homeroom.messaging.v1.MessagingService/GetAccountHistory",
    "/homeroom.messaging.v1.MessagingService/GetAddressStatus",
    "/homeroom.messaging.v1.MessagingService/ListBadAddresses",
    "/homeroom.messaging.v1.MessagingService/ResetAddressStatus",
];

/// Forwards allowed gRPC calls to their service.
#[derive(Debug, Clone)]
pub struct GrpcProxy {
    upstreams: Upstreams,
    service_tokens: Arc<ServiceTokens>,
}

impl GrpcProxy {
    /// A proxy over the gateway's upstream channels; the gateway's service
    /// tokens prove the caller's address to the services.
    pub fn new(upstreams: Upstreams, service_tokens: Arc<ServiceTokens>) -> GrpcProxy {
        GrpcProxy {
            upstreams,
            service_tokens,
        }
    }

    fn channel(&self, path: &str) -> Option<Channel> {
        let service = path.trim_start_matches('/').split('/').next()?;
        self.upstreams
            .all()
            .into_iter()
            .find(|u| u.service == service)
            .map(|u| u.channel.clone())
    }
}

/// A trailers-only gRPC answer with `code` and `message`.
fn status(code: tonic::Code, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::default());
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", HeaderValue::from(code as i32));
    if let Ok(m) = HeaderValue::from_str(message) {
        headers.insert("grpc-message", m);
    }
    response
}

impl Service<Request<Body>> for GrpcProxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let path = request.uri().path().to_string();
        let channel = BROWSER_RPCS
            .contains(&path.as_str())
            .then(|| self.channel(&path))
            .flatten();
        let tokens = self.service_tokens.clone();
        Box::pin(async move {
            let Some(mut channel) = channel else {
                return Ok(status(
                    tonic::Code::PermissionDenied,
                    "this RPC is not open to browsers",
                ));
            };
            // Only the gateway says where a call comes from.
            let client = request
                .extensions()
                .get::<crate::client_ip::ClientIp>()
                .map(|c| c.0);
            let headers = request.headers_mut();
            headers.remove(forwarded::CLIENT_ADDRESS);
            headers.remove(forwarded::FORWARDER);
            if let Some(ip) = client
                && let Ok(v) = HeaderValue::from_str(&ip.to_string())
            {
                headers.insert(forwarded::CLIENT_ADDRESS, v);
            }
            if let Ok(token) = tokens.token().await
                && let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}"))
            {
                headers.insert(forwarded::FORWARDER, v);
            }
            // A channel is a buffered service: it must be ready before a call.
            let forwarded = match tower::ServiceExt::ready(&mut channel).await {
                Ok(ready) => ready.call(request).await,
                Err(e) => Err(e),
            };
            match forwarded {
                Ok(response) => Ok(response),
                Err(e) => {
                    tracing::warn!(path = %path, error = %e, "grpc-web upstream unreachable");
                    Ok(status(
                        tonic::Code::Unavailable,
                        "the service is unavailable; try again shortly",
                    ))
                }
            }
        })
    }
}
