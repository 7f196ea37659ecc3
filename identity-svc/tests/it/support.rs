//! Test doubles: a messenger that records what identity asks messaging to send.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use homeroom_platform::db::Db;
use homeroom_platform::{
    config::{ServiceSettings, loopback},
    db::DbSettings,
    testing::TestDb,
};
use homeroom_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use identity_svc::{MIGRATIONS, app::App, config::Config};
use identity_svc::{
    domain::error::IdentityError,
    ops::{
        Ctx,
        messenger::{Messenger, SystemMessage},
    },
};
use tokio_util::sync::CancellationToken;
use tonic::{Request, transport::Channel};

/// Records every system message instead of sending it.
#[derive(Debug, Default)]
pub struct RecordingMessenger {
    pub sent: Mutex<Vec<SystemMessage>>,
}

impl RecordingMessenger {
    /// Everything sent so far.
    pub fn sent(&self) -> Vec<SystemMessage> {
        self.sent.lock().unwrap().clone()
    }

    /// The code in the last message sent to `address`.
    pub fn last_code_to(&self, address: &str) -> String {
        self.sent()
            .iter()
            .rev()
            .find(|m| m.address == address)
            .and_then(|m| m.variables.get("code").cloned())
            .unwrap_or_else(|| panic!("no code was sent to {address}"))
    }
}

impl Messenger for RecordingMessenger {
    fn send_many(&self, messages: Vec<SystemMessage>) -> BoxFuture<'_, Result<(), IdentityError>> {
        self.sent.lock().unwrap().extend(messages);
        Box::pin(async { Ok(()) })
    }
}

/// A context over `db` whose messages are recorded.
pub fn ctx(db: Db) -> (Ctx, Arc<RecordingMessenger>) {
    let messenger = Arc::new(RecordingMessenger::default());
    let m = messenger.clone();
    (Ctx::new(db, move |_| m).unwrap(), messenger)
}

/// The service secret test servers accept.
pub const SECRET: &str = "test-service-secret";

/// identity-svc on a free port with its own database, stopped when dropped.
pub struct Server {
    pub client: IdentityServiceClient<Channel>,
    pub db: TestDb,
    _stop: tokio_util::sync::DropGuard,
}

/// Starts identity-svc for a test.
pub async fn server() -> Server {
    server_with_sso(Vec::new()).await
}

/// Starts identity-svc for a test with these SSO providers (ID-5).
pub async fn server_with_sso(sso: Vec<identity_svc::domain::sso::Provider>) -> Server {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut service = ServiceSettings::defaults("identity", loopback(0));
    service.database = DbSettings::new(test_db.url.clone());
    let app = App::build(Config {
        service,
        service_secret: Some(SECRET.into()),
        messaging_url: "http://127.0.0.1:1".into(),
        sso,
        public_url: None,
    })
    .await
    .unwrap();
    let addr = app.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until(stop.clone().cancelled_owned()));
    // Calls before migrations ran are answered UNAVAILABLE: wait, as clients do.
    homeroom_platform::testing::wait_serving(
        addr,
        homeroom_proto::identity::v1::SERVICE_NAME,
        std::time::Duration::from_secs(30),
    )
    .await
    .unwrap();
    let client = IdentityServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    Server {
        client,
        db: test_db,
        _stop: stop.drop_guard(),
    }
}

impl Server {
    /// A service token for `name` (roster, messaging, gateway).
    pub async fn service_token(&mut self, name: &str) -> String {
        self.client
            .issue_service_token(pb::IssueServiceTokenRequest {
                client_id: name.into(),
                client_secret: SECRET.into(),
                scopes: vec![],
            })
            .await
            .unwrap()
            .into_inner()
            .access_token
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// The district's audit rows of one kind, newest first.
pub async fn audit_rows(
    db: &Db,
    district: &str,
    kind: &'static str,
) -> Vec<identity_svc::store::audit::AuditRow> {
    let district = district.to_owned();
    db.run(move |c| {
        identity_svc::store::audit::list(c, &district, Some(kind), 100)
            .map_err(homeroom_platform::db::DbError::from)
    })
    .await
    .unwrap()
}
