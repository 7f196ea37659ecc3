//! identity-svc's public signing keys, fetched over gRPC (`GetJwks`), as the
//! key source every other service verifies access tokens with.

use futures::future::BoxFuture;
use homeroom_proto::identity::v1 as pb;
use jsonwebtoken::jwk::JwkSet;
use tonic::transport::Channel;

use crate::auth::KeySource;

/// Fetches identity-svc's JWKS; the `Verifier` caches it by `kid`.
#[derive(Debug, Clone)]
pub struct IdentityKeys {
    channel: Channel,
}

impl IdentityKeys {
    /// Keys from identity-svc at `url` (connected lazily, so services start in any order).
    pub fn new(url: &str) -> anyhow::Result<IdentityKeys> {
        Ok(IdentityKeys {
            channel: crate::grpc::lazy_channel(url)?,
        })
    }

    /// A token verifier over identity-svc's keys at `url`.
    pub fn verifier(url: &str) -> anyhow::Result<std::sync::Arc<crate::auth::Verifier>> {
        Ok(std::sync::Arc::new(crate::auth::Verifier::new(
            IdentityKeys::new(url)?,
        )))
    }
}

impl KeySource for IdentityKeys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        Box::pin(async move {
            let answer =
                pb::identity_service_client::IdentityServiceClient::new(self.channel.clone())
                    .get_jwks(pb::GetJwksRequest {})
                    .await
                    .map_err(|s| anyhow::anyhow!("GetJwks failed: {}", s.message()))?
                    .into_inner();
            let keys: Vec<serde_json::Value> = answer
                .keys
                .into_iter()
                .map(|k| {
                    let mut jwk = serde_json::json!({
                        "kty": k.kty, "crv": k.crv, "x": k.x, "kid": k.kid, "alg": k.alg, "use": k.r#use,
                    });
                    if !k.y.is_empty() {
                        jwk["y"] = serde_json::Value::String(k.y);
                    }
                    jwk
                })
                .collect();
            Ok(serde_json::from_value(serde_json::json!({ "keys": keys }))?)
        })
    }
}
