//! The address RPCs over gRPC with real tokens: provider events from the
//! gateway only, Reset Status refused to a teacher, a STOP visible in
//! GetAddressStatus, the district's bad addresses for its staff only.

use std::{net::SocketAddr, time::Duration};

use diesel::connection::SimpleConnection;

use homeroom_platform::{
    auth::{AccessClaims, Role, RoleGrant},
    config::loopback,
    db::DbSettings,
    testing::{TestDb, TestSigner, wait_serving},
};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as pb};
use messaging_svc::{app::App, config::Config};
use pb::messaging_service_client::MessagingServiceClient;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, transport::Channel};

use super::PHONE;

/// identity-svc as far as these calls need it: GetJwks for tokens, a
/// service token for messaging, and ListAccounts and FilterHeldAddresses
/// saying that an account of district-1 holds [`PHONE`].
struct Keys(Vec<idpb::Jwk>, String);

#[tonic::async_trait]
impl idpb::identity_service_server::IdentityService for Keys {
    async fn get_jwks(
        &self,
        _: tonic::Request<idpb::GetJwksRequest>,
    ) -> Result<tonic::Response<idpb::GetJwksResponse>, tonic::Status> {
        Ok(tonic::Response::new(idpb::GetJwksResponse {
            keys: self.0.clone(),
        }))
    }

    async fn issue_service_token(
        &self,
        _: tonic::Request<idpb::IssueServiceTokenRequest>,
    ) -> Result<tonic::Response<idpb::IssueServiceTokenResponse>, tonic::Status> {
        Ok(tonic::Response::new(idpb::IssueServiceTokenResponse {
            access_token: self.1.clone(),
            ..Default::default()
        }))
    }

    async fn filter_held_addresses(
        &self,
        request: tonic::Request<idpb::FilterHeldAddressesRequest>,
    ) -> Result<tonic::Response<idpb::FilterHeldAddressesResponse>, tonic::Status> {
        let r = request.into_inner();
        let holds = r.district_id == "district-1" && r.addresses.iter().any(|a| a == PHONE);
        Ok(tonic::Response::new(idpb::FilterHeldAddressesResponse {
            addresses: holds.then(|| PHONE.to_string()).into_iter().collect(),
        }))
    }

    async fn list_accounts(
        &self,
        request: tonic::Request<idpb::ListAccountsRequest>,
    ) -> Result<tonic::Response<idpb::ListAccountsResponse>, tonic::Status> {
        let r = request.into_inner();
        let holds = r.district_id == "district-1" && r.addresses.iter().any(|a| a == PHONE);
        let accounts = holds
            .then(|| idpb::Account {
                account_id: "acc-2".into(),
                credentials: vec![idpb::Credential {
                    kind: idpb::CredentialKind::MobilePhone as i32,
                    value: PHONE.into(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .into_iter()
            .collect();
        Ok(tonic::Response::new(idpb::ListAccountsResponse {
            accounts,
            ..Default::default()
        }))
    }
}

async fn fake_identity(signer: &TestSigner) -> SocketAddr {
    let jwks = serde_json::to_value(signer.jwks().unwrap()).unwrap();
    let text = |k: &serde_json::Value, f: &str| k[f].as_str().unwrap_or_default().to_string();
    let keys = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| idpb::Jwk {
            kid: text(k, "kid"),
            kty: text(k, "kty"),
            crv: text(k, "crv"),
            x: text(k, "x"),
            y: String::new(),
            alg: text(k, "alg"),
            r#use: text(k, "use"),
        })
        .collect();
    let listener = tokio::net::TcpListener::bind(loopback(0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(idpb::identity_service_server::IdentityServiceServer::new(
                Keys(keys, service_token(signer, "messaging")),
            ))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    addr
}

async fn messaging(
    test_db: &TestDb,
    identity: SocketAddr,
    outbox: &std::path::Path,
) -> (SocketAddr, CancellationToken) {
    let mut config = Config::defaults();
    config.service.listen_addr = loopback(0);
    config.service.database = DbSettings::new(test_db.url.clone());
    config.identity_url = format!("http://{identity}");
    config.workers = 0;
    config.outbox_dir = outbox.to_path_buf();
    config.service_secret = Some("fake-identity-takes-any-secret".into());
    let app = App::build(config).await.unwrap();
    let addr = app.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until(stop.clone().cancelled_owned()));
    wait_serving(addr, pb::SERVICE_NAME, Duration::from_secs(30))
        .await
        .unwrap();
    (addr, stop)
}

fn service_token(signer: &TestSigner, name: &str) -> String {
    let mut claims: AccessClaims = TestSigner::account_claims(name, "", Vec::new());
    claims.district_id = None;
    claims.service = Some(name.into());
    signer.sign(&claims).unwrap()
}

fn account_token(signer: &TestSigner, role: Role) -> String {
    let grants = vec![RoleGrant {
        role,
        school_id: None,
    }];
    signer
        .sign(&TestSigner::account_claims("acc-1", "district-1", grants))
        .unwrap()
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn provider_events_only_from_the_gateway_and_reset_refused_to_a_teacher() {
    let test_db = TestDb::migrated(&messaging_svc::MIGRATIONS).await.unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let signer = TestSigner::new().unwrap();
    let identity = fake_identity(&signer).await;
    let (addr, _stop) = messaging(&test_db, identity, outbox.path()).await;
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = MessagingServiceClient::new(channel);
    let gateway = service_token(&signer, "gateway");
    let stop = || pb::RecordInboundSmsRequest {
        message_sid: "SMgrpc".into(),
        from: PHONE.into(),
        body: "stop".into(),
        ..Default::default()
    };

    for token in [
        service_token(&signer, "identity"),
        account_token(&signer, Role::DistrictAdmin),
    ] {
        let refused = client
            .record_inbound_sms(with_token(stop(), &token))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let refused = client
            .record_twilio_status_callback(with_token(
                pb::RecordTwilioStatusCallbackRequest {
                    message_sid: "SM1".into(),
                    status: "delivered".into(),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let refused = client
            .record_email_events(with_token(
                pb::RecordEmailEventsRequest {
                    provider: "ses".into(),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }

    let answer = client
        .record_inbound_sms(with_token(stop(), &gateway))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.action, pb::InboundSmsAction::OptedOut as i32);
    let unknown = client
        .record_twilio_status_callback(with_token(
            pb::RecordTwilioStatusCallbackRequest {
                message_sid: "SMnobody".into(),
                status: "delivered".into(),
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!unknown.matched);

    let phone = pb::AddressRef {
        channel: pb::Channel::Sms as i32,
        address: PHONE.into(),
    };
    let statuses = client
        .get_address_status(with_token(
            pb::GetAddressStatusRequest {
                district_id: "district-1".into(),
                addresses: vec![phone.clone()],
            },
            &account_token(&signer, Role::Teacher),
        ))
        .await
        .unwrap()
        .into_inner()
        .statuses;
    assert!(statuses[0].opted_out);
    assert_eq!(statuses[0].state, pb::AddressState::Ok as i32);

    let refused = client
        .reset_address_status(with_token(
            pb::ResetAddressStatusRequest {
                district_id: "district-1".into(),
                target: Some(pb::reset_address_status_request::Target::Address(phone)),
                ..Default::default()
            },
            &account_token(&signer, Role::Teacher),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_district_s_bad_addresses_are_listed_to_its_staff_and_nobody_else() {
    let test_db = TestDb::migrated(&messaging_svc::MIGRATIONS).await.unwrap();
    // PHONE (held in district-1) bounced on SMS; another address, held by
    // no account of district-1, bounced too.
    test_db
        .db
        .run(|c| {
            c.batch_execute(&format!(
                "INSERT INTO address_status (channel, address, bad, bad_reason, bad_since, opted_out, updated_at) VALUES \
                 ('sms', '{PHONE}', TRUE, 'undeliverable', '2026-12-01 08:00:00', FALSE, '2026-12-01 08:00:00'), \
                 ('email', 'elsewhere@mail.com', TRUE, '550 5.1.1', '2026-12-01 08:00:00', FALSE, '2026-12-01 08:00:00'), \
                 ('email', 'fine@mail.com', FALSE, NULL, NULL, FALSE, '2026-12-01 08:00:00')"
            ))
            .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let signer = TestSigner::new().unwrap();
    let identity = fake_identity(&signer).await;
    let (addr, _stop) = messaging(&test_db, identity, outbox.path()).await;
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = MessagingServiceClient::new(channel);
    let list = |district: &str| pb::ListBadAddressesRequest {
        district_id: district.into(),
    };

    let listed = client
        .list_bad_addresses(with_token(
            list("district-1"),
            &account_token(&signer, Role::UserManager),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.addresses,
        [pb::AddressRef {
            channel: pb::Channel::Sms as i32,
            address: PHONE.into(),
        }]
    );
    assert!(!listed.truncated);

    for (district, role) in [
        ("district-1", Role::Guardian),
        ("district-2", Role::DistrictAdmin),
    ] {
        let refused = client
            .list_bad_addresses(with_token(list(district), &account_token(&signer, role)))
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "{district} {role:?}"
        );
    }
}
