//! GW-1: rate limits per client address and per signed-in account (token
//! buckets refilled continuously; 429 with `Retry-After` when empty).

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{api::error::ApiError, app::AppState};

/// Buckets kept before idle, full ones are forgotten.
const PRUNE_AT: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets of `per_minute` requests, one per key.
#[derive(Debug)]
pub struct RateLimiter<K> {
    per_minute: u32,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Eq + Hash + Clone> RateLimiter<K> {
    /// `per_minute` requests per key (0 turns the limit off).
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request for `key` at `now`: `Err(wait)` when its bucket is empty.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = (bucket.tokens
            + now.saturating_duration_since(bucket.at).as_secs_f64() * per_second)
            .min(capacity);
        bucket.at = now;
        if refilled >= 1.0 {
            bucket.tokens = refilled - 1.0;
            Ok(())
        } else {
            bucket.tokens = refilled;
            Err(Duration::from_secs_f64((1.0 - refilled) / per_second))
        }
    }
}

/// The gateway's two limits.
#[derive(Debug)]
pub struct Limits {
    /// Per client address.
    pub per_ip: RateLimiter<IpAddr>,
    /// Per signed-in account.
    pub per_account: RateLimiter<String>,
}

impl Limits {
    /// Limits of `per_ip` and `per_account` requests per minute.
    pub fn new(per_ip: u32, per_account: u32) -> Limits {
        Limits {
            per_ip: RateLimiter::new(per_ip),
            per_account: RateLimiter::new(per_account),
        }
    }
}

/// 429 with the wait in whole seconds.
pub fn too_many(wait: Duration) -> ApiError {
    let mut e = ApiError::new(
        tonic::Code::ResourceExhausted,
        "too many requests; try again shortly",
    );
    e.retry_after = Some(wait.as_secs().max(1));
    e
}

/// Middleware: the per-address limit, keyed on the caller's real address
/// ([`crate::client_ip`]; behind a trusted proxy, not the proxy's). Health probes are not limited, nor are
/// provider webhooks (a provider calls from a few addresses at its own rate;
/// their signatures are what protects them).
pub async fn per_ip(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let probe = path == "/healthz" || path == "/readyz" || path.starts_with("/webhooks/");
    let ip = request
        .extensions()
        .get::<crate::client_ip::ClientIp>()
        .map(|c| c.0);
    if let (false, Some(ip)) = (probe, ip)
        && let Err(wait) = state.limits.per_ip.take(&ip, Instant::now())
    {
        return too_many(wait).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_rate_then_refuses_until_it_refills() {
        let limiter = RateLimiter::new(60);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(limiter.take(&"a", t0).is_ok());
        }
        let wait = limiter.take(&"a", t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limiter.take(&"b", t0).is_ok(), "keys are separate");
        assert!(limiter.take(&"a", t0 + Duration::from_secs(1)).is_ok());
        assert!(limiter.take(&"a", t0 + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn a_zero_rate_is_no_limit() {
        let limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..1_000 {
            assert!(limiter.take(&1, t0).is_ok());
        }
    }
}
