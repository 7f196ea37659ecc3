//! ID-5: a provider's signing keys are cached by `kid` and fetched again when
//! a token names a key not seen yet (the provider rotated its keys), but an
//! unknown `kid` cannot make identity-svc fetch them over and over.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use identity_svc::ops::oidc::OidcClient;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A provider's JWKS endpoint: serves whatever `keys` holds, counting fetches.
struct Jwks {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl Jwks {
    async fn serve(kids: &[&str]) -> Jwks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jwks = Jwks {
            url: format!("http://{}/jwks", listener.local_addr().unwrap()),
            keys: Arc::new(Mutex::new(Value::Null)),
            fetches: Arc::new(AtomicUsize::new(0)),
        };
        jwks.rotate(kids);
        let (keys, fetches) = (jwks.keys.clone(), jwks.fetches.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                fetches.fetch_add(1, Ordering::SeqCst);
                let body = keys.lock().unwrap().to_string();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        jwks
    }

    /// The provider now signs with keys of these ids (an encryption key and a
    /// key of an unknown type come along and are skipped).
    fn rotate(&self, kids: &[&str]) {
        let mut keys: Vec<Value> = kids
            .iter()
            .map(|kid| {
                json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "kid": kid,
                       "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
            })
            .collect();
        keys.push(
            json!({"kty": "OKP", "crv": "X25519", "use": "enc", "kid": "enc",
                         "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        );
        keys.push(json!({"kty": "unknown", "kid": "odd"}));
        *self.keys.lock().unwrap() = json!({ "keys": keys });
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn kid_of(key: Option<jsonwebtoken::jwk::Jwk>) -> Option<String> {
    key.and_then(|k| k.common.key_id)
}

#[tokio::test]
async fn a_known_key_is_served_from_the_cache() {
    let jwks = Jwks::serve(&["k1", "k2"]).await;
    let client = OidcClient::default();
    for kid in ["k1", "k2", "k1"] {
        let key = client.key(&jwks.url, Some(kid)).await.unwrap();
        assert_eq!(kid_of(key).as_deref(), Some(kid));
    }
    assert_eq!(jwks.fetches(), 1);
    assert_eq!(
        kid_of(client.key(&jwks.url, Some("enc")).await.unwrap()),
        None
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let jwks = Jwks::serve(&["k1"]).await;
    let client = OidcClient::new(Duration::ZERO);
    assert!(client.key(&jwks.url, Some("k1")).await.unwrap().is_some());
    jwks.rotate(&["k2"]);
    let key = client.key(&jwks.url, Some("k2")).await.unwrap();
    assert_eq!(kid_of(key).as_deref(), Some("k2"));
    assert_eq!(jwks.fetches(), 2);
    // A token without a kid is only accepted when there is one signing key.
    assert_eq!(
        kid_of(client.key(&jwks.url, None).await.unwrap()).as_deref(),
        Some("k2")
    );
}

#[tokio::test]
async fn unknown_kids_do_not_make_the_keys_fetched_over_and_over() {
    let jwks = Jwks::serve(&["k1"]).await;
    let client = OidcClient::default();
    assert!(client.key(&jwks.url, Some("k1")).await.unwrap().is_some());
    for forged in ["x1", "x2", "x3"] {
        assert!(client.key(&jwks.url, Some(forged)).await.unwrap().is_none());
    }
    assert_eq!(jwks.fetches(), 1);
}
