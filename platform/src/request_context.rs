//! The caller's `x-request-id` and W3C `traceparent`, carried on every hop:
//! the gRPC host makes them current for the task serving a call (a tokio
//! task-local, set by [`RequestContextLayer`]), and every call a service makes
//! to another while serving it ([`tag`], used by the service-token client)
//! sends them on. So one request id and one trace id name a request from the
//! gateway through every service it touches, in each service's request span.
//!
//! Work a service hands to another task (background sends, sync runs) starts
//! a new context: it is not part of the request any more.

use std::task::{Context, Poll};

use futures::future::BoxFuture;

/// The header names carried.
pub const REQUEST_ID: &str = "x-request-id";
/// W3C Trace Context.
pub const TRACEPARENT: &str = "traceparent";

/// What travels with a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `x-request-id`, as the gateway set it.
    pub request_id: Option<String>,
    /// `traceparent` (`00-<trace id>-<parent id>-<flags>`), when well formed.
    pub traceparent: Option<String>,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

impl RequestContext {
    /// The context a request's headers carry.
    pub fn of_headers(headers: &http::HeaderMap) -> RequestContext {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        RequestContext {
            request_id: text(REQUEST_ID).filter(|id| !id.is_empty() && id.len() <= 200),
            traceparent: text(TRACEPARENT).filter(|t| is_traceparent(t)),
        }
    }

    /// The trace id of the `traceparent`, if any.
    pub fn trace_id(&self) -> Option<&str> {
        self.traceparent.as_deref().and_then(|t| t.get(3..35))
    }
}

/// The context of the call the current task serves, if any.
pub fn current() -> Option<RequestContext> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Adds the current request id and traceparent to an outgoing call (unless
/// it carries its own). With traces exported, the parent is the span making
/// the call, so the callee's span is its child.
pub fn tag<T>(request: &mut tonic::Request<T>) {
    let Some(context) = current() else {
        return;
    };
    let traceparent = crate::telemetry::current_traceparent().or(context.traceparent);
    let metadata = request.metadata_mut();
    for (name, value) in [(REQUEST_ID, context.request_id), (TRACEPARENT, traceparent)] {
        if let Some(value) = value.and_then(|v| v.parse().ok())
            && !metadata.contains_key(name)
        {
            metadata.insert(name, value);
        }
    }
}

/// `00-<32 hex>-<16 hex>-<2 hex>`, not all-zero ids (W3C Trace Context, version 00).
pub fn is_traceparent(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    matches!(parts.as_slice(), [version, trace, parent, flags]
        if hex(version, 2) && *version != "ff" && hex(trace, 32) && hex(parent, 16) && hex(flags, 2)
            && trace.bytes().any(|b| b != b'0') && parent.bytes().any(|b| b != b'0'))
}

/// A fresh `traceparent` (sampled) starting a trace, for an edge that
/// received none.
pub fn new_traceparent() -> String {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let parent = &uuid::Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{parent}-01")
}

/// Makes each call's [`RequestContext`] current while it is served.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContextLayer;

impl<S> tower::Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;

    fn layer(&self, inner: S) -> RequestContextService<S> {
        RequestContextService { inner }
    }
}

/// The service [`RequestContextLayer`] wraps around.
#[derive(Debug, Clone)]
pub struct RequestContextService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for RequestContextService<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let context = RequestContext::of_headers(request.headers());
        Box::pin(CURRENT.scope(context, self.inner.call(request)))
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{Layer, ServiceExt};

    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn only_well_formed_traceparents_are_carried() {
        assert!(is_traceparent(PARENT));
        assert!(is_traceparent(&new_traceparent()));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
        ] {
            assert!(!is_traceparent(bad), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_call_served_under_the_layer_sends_its_request_id_and_trace_on() {
        let handler = tower::service_fn(|_request: http::Request<()>| async {
            // The handler calls another service.
            let mut outgoing = tonic::Request::new(());
            tag(&mut outgoing);
            let metadata = outgoing.metadata();
            let text = |n: &str| {
                metadata
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            Ok::<_, Infallible>((text(REQUEST_ID), text(TRACEPARENT)))
        });
        let service = RequestContextLayer.layer(handler);
        let request = http::Request::builder()
            .header(REQUEST_ID, "req-42")
            .header(TRACEPARENT, PARENT)
            .body(())
            .unwrap_or_default();
        let sent = service.clone().oneshot(request).await.unwrap_or_default();
        assert_eq!(sent, (Some("req-42".into()), Some(PARENT.into())));

        // A malformed traceparent is dropped; nothing is made up.
        let request = http::Request::builder()
            .header(TRACEPARENT, "junk")
            .body(())
            .unwrap_or_default();
        assert_eq!(
            service.oneshot(request).await.unwrap_or_default(),
            (None, None)
        );
        // Outside any call, nothing is current.
        assert_eq!(current(), None);
    }
}
