//! The caller's real address across the gateway → service hop.
//!
//! The gateway decides a browser's address once (its TCP peer, or a
//! `Forwarded`/`X-Forwarded-For` entry from a trusted proxy) and sends it to
//! the services in [`CLIENT_ADDRESS`]. A service believes that header only
//! when the gateway proves it sent it: the call's own token is the gateway's
//! service token, or the call carries it in [`FORWARDER`] next to a user's
//! token. Anyone else — a client that reaches a service directly — is keyed on
//! its TCP peer address, so it cannot pick the address its failures count
//! against. [`crate::auth::AuthLayer`] puts the result on every request as a
//! [`ClientAddress`].

use std::net::IpAddr;

/// Metadata with the caller's address, as the gateway decided it.
pub const CLIENT_ADDRESS: &str = "x-homeroom-client-address";

/// Metadata with the gateway's service token (`Bearer …`), proving that the
/// gateway sent [`CLIENT_ADDRESS`] on a call made with a user's token.
pub const FORWARDER: &str = "x-homeroom-forwarder";

/// The one service whose forwarded client address is believed.
pub const FORWARDING_SERVICE: &str = "gateway";

/// The address a call is accounted to (throttles, audit rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The address of the caller of `request`: the gateway's forwarded one when
/// proven, else the TCP peer; `None` when neither is known (an in-process call).
pub fn client_address<T>(request: &tonic::Request<T>) -> Option<String> {
    request
        .extensions()
        .get::<ClientAddress>()
        .map(|c| c.0.to_string())
        .or_else(|| request.remote_addr().map(|a| a.ip().to_string()))
}

/// The forwarded address in `headers`, if it is one.
pub(crate) fn forwarded(headers: &http::HeaderMap) -> Option<IpAddr> {
    headers
        .get(CLIENT_ADDRESS)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Puts the gateway's proof and the client's address on an outgoing call.
pub fn forward<T>(request: &mut tonic::Request<T>, client: Option<IpAddr>, gateway_token: &str) {
    let metadata = request.metadata_mut();
    if let Some(ip) = client
        && let Ok(v) = ip.to_string().parse()
    {
        metadata.insert(CLIENT_ADDRESS, v);
    }
    if !gateway_token.is_empty()
        && let Ok(v) = format!("Bearer {gateway_token}").parse()
    {
        metadata.insert(FORWARDER, v);
    }
}
