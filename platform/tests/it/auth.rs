//! Access tokens: verification and the tower layer that yields a `Principal`.

use std::convert::Infallible;

use homeroom_platform::{
    auth::{AuthError, AuthLayer, Principal, Role, RoleGrant, StaticKeys, Verifier},
    testing::TestSigner,
};
use std::sync::Arc;
use tower::{Layer, ServiceExt};

fn grants() -> Vec<RoleGrant> {
    vec![RoleGrant {
        role: Role::Teacher,
        school_id: Some("school-1".into()),
    }]
}

#[tokio::test]
async fn a_valid_token_yields_the_account_principal() {
    let signer = TestSigner::new().unwrap();
    let verifier = Verifier::new(StaticKeys(signer.jwks().unwrap()));
    let token = signer
        .sign(&TestSigner::account_claims("acc-1", "dist-1", grants()))
        .unwrap();
    let principal = verifier.verify(&token).await.unwrap();
    assert_eq!(
        principal,
        Principal::Account {
            account_id: "acc-1".into(),
            district_id: "dist-1".into(),
            roles: grants(),
        }
    );
}

#[tokio::test]
async fn expired_foreign_and_tampered_tokens_are_refused() {
    let signer = TestSigner::new().unwrap();
    let stranger = TestSigner::new().unwrap();
    let verifier = Verifier::new(StaticKeys(signer.jwks().unwrap()));

    let mut expired = TestSigner::account_claims("acc-1", "dist-1", grants());
    expired.exp -= 3600;
    let expired = signer.sign(&expired).unwrap();
    assert!(matches!(
        verifier.verify(&expired).await,
        Err(AuthError::Invalid(_))
    ));

    let mut other_audience = TestSigner::account_claims("acc-1", "dist-1", grants());
    other_audience.aud = "someone-else".into();
    let other_audience = signer.sign(&other_audience).unwrap();
    assert!(matches!(
        verifier.verify(&other_audience).await,
        Err(AuthError::Invalid(_))
    ));

    let foreign = stranger
        .sign(&TestSigner::account_claims("acc-1", "dist-1", grants()))
        .unwrap();
    assert!(matches!(
        verifier.verify(&foreign).await,
        Err(AuthError::UnknownKey)
    ));

    let good = signer
        .sign(&TestSigner::account_claims("acc-1", "dist-1", grants()))
        .unwrap();
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert!(verifier.verify(&parts.join(".")).await.is_err());
}

/// A stand-in for a service: answers 200 with the caller's account id in a header.
fn echo_principal() -> impl tower::Service<
    http::Request<()>,
    Response = http::Response<String>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|req: http::Request<()>| async move {
        let who = match req.extensions().get::<Principal>() {
            Some(Principal::Account { account_id, .. }) => account_id.clone(),
            Some(Principal::Service { name }) => format!("service:{name}"),
            None => "anonymous".into(),
        };
        Ok::<_, Infallible>(
            http::Response::builder()
                .header("x-who", who)
                .body(String::new())
                .unwrap(),
        )
    })
}

fn request(path: &str, authorization: Option<String>) -> http::Request<()> {
    let mut builder = http::Request::builder().uri(path);
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    builder.body(()).unwrap()
}

#[tokio::test]
async fn the_layer_attaches_the_principal_or_refuses_with_unauthenticated() {
    let signer = TestSigner::new().unwrap();
    let layer = AuthLayer::new(Arc::new(Verifier::new(StaticKeys(signer.jwks().unwrap()))));
    let token = signer
        .sign(&TestSigner::account_claims("acc-7", "dist-1", grants()))
        .unwrap();
    let path = "/homeroom.identity.v1.IdentityService/GetMe";

    let ok = layer
        .layer(echo_principal())
        .oneshot(request(path, Some(format!("Bearer {token}"))))
        .await
        .unwrap();
    assert_eq!(ok.headers()["x-who"], "acc-7");

    let anonymous = layer
        .layer(echo_principal())
        .oneshot(request(path, None))
        .await
        .unwrap();
    assert_eq!(anonymous.headers()["x-who"], "anonymous");

    let refused = layer
        .layer(echo_principal())
        .oneshot(request(path, Some("Bearer not-a-jwt".into())))
        .await
        .unwrap();
    assert!(refused.headers().get("x-who").is_none());
    assert_eq!(refused.headers()["grpc-status"], "16", "UNAUTHENTICATED");

    // Health checks and reflection never need a token, even a bad one.
    let health = layer
        .layer(echo_principal())
        .oneshot(request(
            "/grpc.health.v1.Health/Check",
            Some("Bearer junk".into()),
        ))
        .await
        .unwrap();
    assert_eq!(health.headers()["x-who"], "anonymous");
}

#[tokio::test]
async fn a_remembered_token_stops_being_accepted_when_it_expires() {
    let signer = TestSigner::new().unwrap();
    let verifier = Verifier::new(StaticKeys(signer.jwks().unwrap()));
    // Expired 29 s ago: still inside the 30 s leeway for about a second.
    let mut claims = TestSigner::account_claims("acc-1", "dist-1", grants());
    claims.exp = chrono::Utc::now().timestamp() - 29;
    let token = signer.sign(&claims).unwrap();
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok(), "remembered");
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert!(
        matches!(verifier.verify(&token).await, Err(AuthError::Invalid(_))),
        "the remembered token expired with its claims"
    );
}

/// A JWKS endpoint that counts its fetches and whose keys can change.
#[derive(Clone, Default)]
struct CountingKeys {
    keys: Arc<std::sync::Mutex<Vec<jsonwebtoken::jwk::Jwk>>>,
    fetches: Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingKeys {
    fn publish(&self, signer: &TestSigner) {
        self.keys
            .lock()
            .unwrap()
            .extend(signer.jwks().unwrap().keys);
    }

    fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl homeroom_platform::auth::KeySource for CountingKeys {
    fn fetch(&self) -> futures::future::BoxFuture<'_, anyhow::Result<jsonwebtoken::jwk::JwkSet>> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let keys = self.keys.lock().unwrap().clone();
        Box::pin(async move { Ok(jsonwebtoken::jwk::JwkSet { keys }) })
    }
}

#[tokio::test]
async fn keys_are_cached_by_kid_and_fetched_again_only_for_an_unknown_kid() {
    let (first, second, stranger) = (
        TestSigner::new().unwrap(),
        TestSigner::new().unwrap(),
        TestSigner::new().unwrap(),
    );
    let source = CountingKeys::default();
    source.publish(&first);
    let verifier = Verifier::new(source.clone());
    let claims = || TestSigner::account_claims("acc-1", "dist-1", grants());

    for _ in 0..3 {
        let token = first.sign(&claims()).unwrap();
        assert!(verifier.verify(&token).await.is_ok());
    }
    assert_eq!(
        source.fetches(),
        1,
        "the key is fetched once and cached by kid"
    );

    // identity rotates: a token names a key the verifier has not seen yet.
    source.publish(&second);
    assert!(
        verifier
            .verify(&second.sign(&claims()).unwrap())
            .await
            .is_ok()
    );
    assert_eq!(source.fetches(), 2, "an unknown kid fetches the keys again");
    assert!(
        verifier
            .verify(&first.sign(&claims()).unwrap())
            .await
            .is_ok()
    );

    // A key nobody publishes: refused, and it cannot make the verifier
    // fetch over and over.
    for _ in 0..5 {
        assert!(
            verifier
                .verify(&stranger.sign(&claims()).unwrap())
                .await
                .is_err()
        );
    }
    assert_eq!(
        source.fetches(),
        3,
        "one refetch for the unknown kid, then none for a while"
    );
    // A rotation right after that miss waits out the pause.
    let third = TestSigner::new().unwrap();
    source.publish(&third);
    assert!(
        verifier
            .verify(&third.sign(&claims()).unwrap())
            .await
            .is_err()
    );
    assert_eq!(source.fetches(), 3);
}
