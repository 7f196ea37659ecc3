//! End-to-end harness: every service for real, on loopback ports, each on its
//! own fresh database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).

use std::net::SocketAddr;

use homeroom_platform::{
    config::{ServiceSettings, loopback},
    grpc::bind,
    testing::TestDb,
};
use tokio_util::sync::CancellationToken;

pub mod browser;
pub mod district;
pub mod invitations;
pub mod oidc;
pub mod sync;
pub mod webhooks;

/// The console's address as the stack's invitations name it (join links).
pub const PUBLIC_URL: &str = "https://homeroom.e2e.test";

/// The secret the stack's services share for service tokens.
pub const SERVICE_SECRET: &str = "e2e-service-secret";

/// The running stack; stops (and drops its databases) when dropped.
pub struct Stack {
    /// identity-svc's address.
    pub identity: SocketAddr,
    /// roster-svc's address.
    pub roster: SocketAddr,
    /// messaging-svc's address.
    pub messaging: SocketAddr,
    /// The gateway's address.
    pub gateway: SocketAddr,
    /// Where messaging-svc writes email (`.eml`) and SMS (`sms.jsonl`).
    pub outbox: std::path::PathBuf,
    stop: CancellationToken,
    _dbs: Vec<TestDb>,
    _outbox: tempfile::TempDir,
    imports: tempfile::TempDir,
}

fn settings(name: &'static str, db: &TestDb) -> ServiceSettings {
    let mut s = ServiceSettings::defaults(name, loopback(0));
    s.database.url = db.url.clone();
    s.database.max_connections = 5;
    s
}

impl Stack {
    /// Starts identity, roster, messaging and the gateway.
    pub async fn start() -> anyhow::Result<Stack> {
        let (identity_db, roster_db, messaging_db) = (
            TestDb::empty().await?,
            TestDb::empty().await?,
            TestDb::empty().await?,
        );
        let stop = CancellationToken::new();
        let outbox = tempfile::tempdir()?;
        let imports = tempfile::tempdir()?;

        let (identity_settings, roster_settings, messaging_settings) = (
            settings("identity", &identity_db),
            settings("roster", &roster_db),
            settings("messaging", &messaging_db),
        );
        let identity_listener = bind(&identity_settings).await?;
        let roster_listener = bind(&roster_settings).await?;
        let messaging_listener = bind(&messaging_settings).await?;
        let messaging_url = format!("http://{}", messaging_listener.local_addr()?);
        let identity_url = format!("http://{}", identity_listener.local_addr()?);
        let roster_url = format!("http://{}", roster_listener.local_addr()?);
        let identity = identity_svc::app::App::build_on(
            identity_listener,
            identity_svc::config::Config {
                service: identity_settings,
                service_secret: Some(SERVICE_SECRET.into()),
                messaging_url: messaging_url.clone(),
                sso: Default::default(),
                public_url: Some(PUBLIC_URL.into()),
            },
        )
        .await?;
        let roster = roster_svc::app::App::build_on(
            roster_listener,
            roster_svc::config::Config {
                service: roster_settings,
                identity_url: identity_url.clone(),
                messaging_url: messaging_url.clone(),
                service_secret: Some(SERVICE_SECRET.into()),
                sync_workers: 1,
                secrets_key: None,
                boundary: boundary(imports.path()),
            },
        )
        .await?;
        let messaging = messaging_svc::app::App::build_on(
            messaging_listener,
            messaging_svc::config::Config {
                service: messaging_settings,
                identity_url,
                outbox_dir: outbox.path().to_path_buf(),
                roster_url: roster_url.clone(),
                service_secret: Some(SERVICE_SECRET.into()),
                ..messaging_svc::config::Config::defaults()
            },
        )
        .await?;
        let (identity_addr, roster_addr, messaging_addr) = (
            identity.local_addr()?,
            roster.local_addr()?,
            messaging.local_addr()?,
        );
        let gateway =
            gateway::app::App::build(gateway_config(identity_addr, roster_addr, messaging_addr))
                .await?;
        let gateway_addr = gateway.local_addr()?;

        tokio::spawn(identity.run_until(stop.clone().cancelled_owned()));
        tokio::spawn(roster.run_until(stop.clone().cancelled_owned()));
        tokio::spawn(messaging.run_until(stop.clone().cancelled_owned()));
        tokio::spawn(gateway.run_until(stop.clone().cancelled_owned()));
        let stack = Stack {
            identity: identity_addr,
            roster: roster_addr,
            messaging: messaging_addr,
            gateway: gateway_addr,
            outbox: outbox.path().to_path_buf(),
            stop,
            _dbs: vec![identity_db, roster_db, messaging_db],
            _outbox: outbox,
            imports,
        };
        // A service answers UNAVAILABLE until its migrations ran.
        stack.wait_serving().await?;
        Ok(stack)
    }
}

/// What the stack's districts may reach: bundle folders under `imports`,
/// and the tests' own mock servers on loopback.
pub fn boundary(imports: &std::path::Path) -> roster_svc::connectors::location::Boundary {
    roster_svc::connectors::location::Boundary {
        import_root: Some(imports.to_path_buf()),
        outbound: roster_svc::connectors::outbound::OutboundPolicy::parse("127.0.0.0/8")
            .unwrap_or_default(),
    }
}

impl Stack {
    /// A new folder for a bundle inside `district_id`'s import folder (the
    /// only place a district's folder source may read), removed when dropped.
    pub fn bundle_dir(&self, district_id: &str) -> tempfile::TempDir {
        let district = self.imports.path().join(district_id);
        std::fs::create_dir_all(&district)
            .and_then(|()| tempfile::tempdir_in(&district))
            .unwrap_or_else(|e| panic!("no bundle folder for {district_id}: {e}"))
    }
}

/// A gateway in front of the three services, with the stack's secrets.
fn gateway_config(
    identity: SocketAddr,
    roster: SocketAddr,
    messaging: SocketAddr,
) -> gateway::config::Config {
    gateway::config::Config {
        listen_addr: loopback(0),
        identity_url: format!("http://{identity}"),
        roster_url: format!("http://{roster}"),
        messaging_url: format!("http://{messaging}"),
        service_secret: Some(SERVICE_SECRET.into()),
        twilio_auth_token: Some(TWILIO_AUTH_TOKEN.into()),
        sendgrid_webhook_key: Some(SENDGRID_WEBHOOK_KEY.into()),
        ..gateway::config::Config::defaults()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

impl Stack {
    /// roster-svc's database.
    pub fn roster_db(&self) -> &homeroom_platform::db::Db {
        &self._dbs[1].db
    }

    /// identity-svc's database.
    pub fn identity_db(&self) -> &homeroom_platform::db::Db {
        &self._dbs[0].db
    }

    /// messaging-svc's database.
    pub fn messaging_db(&self) -> &homeroom_platform::db::Db {
        &self._dbs[2].db
    }

    /// A client of roster-svc.
    pub async fn roster_client(
        &self,
    ) -> anyhow::Result<
        homeroom_proto::roster::v1::roster_service_client::RosterServiceClient<
            tonic::transport::Channel,
        >,
    > {
        Ok(
            homeroom_proto::roster::v1::roster_service_client::RosterServiceClient::connect(
                format!("http://{}", self.roster),
            )
            .await?,
        )
    }

    /// Waits until identity, roster and messaging report SERVING.
    pub async fn wait_serving(&self) -> anyhow::Result<()> {
        use homeroom_proto::{
            identity::v1 as identity, messaging::v1 as messaging, roster::v1 as roster,
        };
        let timeout = std::time::Duration::from_secs(30);
        homeroom_platform::testing::wait_serving(self.identity, identity::SERVICE_NAME, timeout)
            .await?;
        homeroom_platform::testing::wait_serving(self.roster, roster::SERVICE_NAME, timeout)
            .await?;
        homeroom_platform::testing::wait_serving(self.messaging, messaging::SERVICE_NAME, timeout)
            .await
    }

    /// A client of identity-svc.
    pub async fn identity_client(
        &self,
    ) -> anyhow::Result<
        homeroom_proto::identity::v1::identity_service_client::IdentityServiceClient<
            tonic::transport::Channel,
        >,
    > {
        Ok(
            homeroom_proto::identity::v1::identity_service_client::IdentityServiceClient::connect(
                format!("http://{}", self.identity),
            )
            .await?,
        )
    }

    /// A service token for `name` (roster, messaging, gateway).
    pub async fn service_token(&self, name: &str) -> anyhow::Result<String> {
        let answer = self
            .identity_client()
            .await?
            .issue_service_token(homeroom_proto::identity::v1::IssueServiceTokenRequest {
                client_id: name.into(),
                client_secret: SERVICE_SECRET.into(),
                scopes: vec![],
            })
            .await?;
        Ok(answer.into_inner().access_token)
    }
}

/// The Twilio auth token the stack's gateway verifies webhooks with.
pub const TWILIO_AUTH_TOKEN: &str = "e2e-twilio-auth-token";

/// The SendGrid signed-event-webhook public key (base64 DER, P-256) the
/// stack's gateway verifies email events with; `gateway_webhooks.rs` holds
/// its private half.
pub const SENDGRID_WEBHOOK_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELEXtkEEG12WhcpqcWzEbOK71IT6x2rnQooCa807PDlMuVtrYQSKKYdFw8VLMVNUWRP/zWZEWPUGAOKe5/hzMzg==";

/// An email of the outbox as a person reads it: quoted-printable undone
/// (soft line breaks joined, `=XX` decoded).
pub fn readable(email: &str) -> String {
    let joined = email.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits (up to 20 s) until `check` finds something.
pub async fn until<T>(mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for the outbox"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

impl Stack {
    /// Files of the outbox: `.eml` texts, and SMS lines.
    pub fn outbox(&self) -> (Vec<String>, Vec<serde_json::Value>) {
        let mut emails = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&self.outbox) {
            for entry in entries.flatten() {
                if entry.path().extension().is_some_and(|e| e == "eml") {
                    emails.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        let sms = std::fs::read_to_string(self.outbox.join("sms.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (emails, sms)
    }

    /// The code of the newest email to `email` that carries one (waits for it).
    pub async fn emailed_code(&self, email: &str) -> String {
        let text = until(|| {
            let mut emails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&self.outbox)
                .ok()?
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| {
                    let modified = e.metadata().ok()?.modified().ok()?;
                    Some((modified, std::fs::read_to_string(e.path()).ok()?))
                })
                .filter(|(_, text)| text.contains(email) && text.contains("code is "))
                .collect();
            emails.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
            emails.into_iter().next().map(|(_, text)| text)
        })
        .await;
        let at = text.find("code is ").unwrap_or_default() + "code is ".len();
        text[at..]
            .chars()
            .filter(char::is_ascii_digit)
            .take(6)
            .collect()
    }

    /// An invited account with this email joins: asks for an invitation
    /// code, reads it from the outbox and sets `password`; its tokens.
    pub async fn join(
        &self,
        identity: &mut homeroom_proto::identity::v1::identity_service_client::IdentityServiceClient<
            tonic::transport::Channel,
        >,
        email: &str,
        password: &str,
    ) -> homeroom_proto::identity::v1::AuthTokens {
        use homeroom_proto::identity::v1 as idpb;
        identity
            .send_one_time_code(idpb::SendOneTimeCodeRequest {
                identifier: email.into(),
                purpose: idpb::OneTimeCodePurpose::Invitation as i32,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("no invitation code for {email}: {s:?}"));
        let code = self.emailed_code(email).await;
        identity
            .accept_invitation(idpb::AcceptInvitationRequest {
                identifier: email.into(),
                code,
                new_password: password.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("{email} could not join: {s:?}"))
            .into_inner()
            .tokens
            .unwrap_or_default()
    }
}

impl Stack {
    /// A staff member of `district-1` with `role`, rostered by the SIS and
    /// joined with `password`; their tokens.
    pub async fn staff_member(
        &self,
        source_id: &str,
        name: (&str, &str),
        email: &str,
        role: homeroom_proto::identity::v1::Role,
        password: &str,
    ) -> homeroom_proto::identity::v1::AuthTokens {
        self.staff_member_in("district-1", source_id, name, email, role, password)
            .await
    }

    /// A staff member of `district_id` with `role` (district-wide), rostered
    /// by the SIS and joined with `password`; their tokens.
    pub async fn staff_member_in(
        &self,
        district_id: &str,
        source_id: &str,
        (given, family): (&str, &str),
        email: &str,
        role: homeroom_proto::identity::v1::Role,
        password: &str,
    ) -> homeroom_proto::identity::v1::AuthTokens {
        use homeroom_proto::identity::v1 as idpb;
        let mut identity = self
            .identity_client()
            .await
            .unwrap_or_else(|e| panic!("identity-svc: {e}"));
        let roster = self
            .service_token("roster")
            .await
            .unwrap_or_else(|e| panic!("no roster token: {e}"));
        identity
            .upsert_accounts(bearer(
                idpb::UpsertAccountsRequest {
                    district_id: district_id.into(),
                    source_system: "sis".into(),
                    accounts: vec![idpb::AccountUpsert {
                        source_id: source_id.into(),
                        kind: idpb::AccountKind::Staff as i32,
                        given_name: given.into(),
                        family_name: family.into(),
                        email: Some(email.into()),
                        roles: vec![idpb::RoleAssignment {
                            role: role as i32,
                            district_id: district_id.into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                &roster,
            ))
            .await
            .unwrap_or_else(|s| panic!("{email} was not rostered: {s:?}"));
        self.join(&mut identity, email, password).await
    }
}

/// A REST client of the stack's gateway (`/api/v1`).
pub struct Api {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// `http://<gateway>/api/v1`.
    pub base: String,
}

impl Api {
    /// A client of `stack`'s gateway.
    pub fn new(stack: &Stack) -> Api {
        // reqwest is built without a default TLS provider: the project's one is ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            http: reqwest::Client::new(),
            base: format!("http://{}/api/v1", stack.gateway),
        }
    }

    /// A client of `stack`'s gateway whose connections come from `local`, one
    /// of the loopback addresses (127.0.0.2, 127.0.0.3 …): another caller as
    /// the gateway's TCP peer sees it.
    pub fn from_address(stack: &Stack, local: std::net::IpAddr) -> Api {
        Api::at_from(stack.gateway, local)
    }

    /// A client of the gateway at `gateway` whose connections come from `local`.
    pub fn at_from(gateway: SocketAddr, local: std::net::IpAddr) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            http: reqwest::Client::builder()
                .local_address(local)
                .build()
                .unwrap_or_else(|e| panic!("a client from {local}: {e}")),
            base: format!("http://{gateway}/api/v1"),
        }
    }

    /// `POST <path>` with a JSON body and no token: status and JSON answer.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    /// `GET <path>`, with a bearer token if given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Any method with a bearer token and an optional JSON body: status and
    /// JSON answer (`null` when the answer is not JSON).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut r = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

impl Stack {
    /// The stack with an identity-svc that knows these SSO providers (ID-5)
    /// and a gateway at `public_url` (providers send browsers back to
    /// `<public_url>/api/v1/sso/callback`): both start after [`Stack::start`]
    /// on the same identity database and take the place of the first ones.
    pub async fn start_with_sso(
        sso: Vec<identity_svc::domain::sso::Provider>,
        public_url: &str,
    ) -> anyhow::Result<Stack> {
        let mut stack = Stack::start().await?;
        // The first identity-svc migrates the database; this one starts after.
        homeroom_platform::testing::wait_serving(
            stack.identity,
            homeroom_proto::identity::v1::SERVICE_NAME,
            std::time::Duration::from_secs(30),
        )
        .await?;
        let identity = identity_svc::app::App::build(identity_svc::config::Config {
            service: settings("identity", &stack._dbs[0]),
            service_secret: Some(SERVICE_SECRET.into()),
            messaging_url: format!("http://{}", stack.messaging),
            sso,
            public_url: Some(PUBLIC_URL.into()),
        })
        .await?;
        stack.identity = identity.local_addr()?;
        tokio::spawn(identity.run_until(stack.stop.clone().cancelled_owned()));
        stack.wait_serving().await?;
        stack.gateway = stack
            .start_gateway(gateway::config::Config {
                public_url: Some(public_url.trim_end_matches('/').into()),
                ..stack.gateway_config()
            })
            .await?;
        Ok(stack)
    }

    /// The configuration of a gateway in front of this stack's services, as
    /// the stack's own gateway has it: a test changes what it needs and
    /// starts it with [`Stack::start_gateway`].
    pub fn gateway_config(&self) -> gateway::config::Config {
        gateway_config(self.identity, self.roster, self.messaging)
    }

    /// Starts a gateway with `config`, stopped with the stack; its address.
    pub async fn start_gateway(
        &self,
        config: gateway::config::Config,
    ) -> anyhow::Result<SocketAddr> {
        let gateway = gateway::app::App::build(config).await?;
        let addr = gateway.local_addr()?;
        tokio::spawn(gateway.run_until(self.stop.clone().cancelled_owned()));
        Ok(addr)
    }
}
