//! The caller's real address, decided once per request: the TCP peer, or —
//! only when the peer is a trusted proxy (`HOMEROOM_TRUSTED_PROXIES`) — the
//! first untrusted address of the forwarding chain, read right to left.
//!
//! That address keys the per-address rate limit and travels to the services
//! (see `homeroom_platform::forwarded`) for their throttles and audit rows.
//!
//! Written by hand: the crates that read `X-Forwarded-For` take a fixed
//! position in the chain (e.g. the rightmost entry) rather than walking it
//! against a list of trusted networks, which is what a multi-hop ingress
//! (CDN → load balancer → ingress controller) needs.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

/// Which header the trusted proxies write. Only that one is read: a proxy
/// passes a header it does not write through untouched, so reading the other
/// would let a client choose its own address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, Envoy, cloud load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:443"`.
    Forwarded,
}

impl std::str::FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(format!(
                "{other:?} is not a forwarding header: use x-forwarded-for or forwarded"
            )),
        }
    }
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl Default for TrustedProxies {
    /// None: every caller is its TCP peer.
    fn default() -> Self {
        TrustedProxies {
            networks: Vec::new(),
            header: ForwardedHeader::XForwardedFor,
        }
    }
}

impl TrustedProxies {
    /// A comma-separated list of CIDRs or single addresses
    /// (`10.0.0.0/8, 192.168.1.7`), read from `header`.
    pub fn parse(list: &str, header: ForwardedHeader) -> Result<TrustedProxies, String> {
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is not a CIDR (10.0.0.0/8) or an address"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies { networks, header })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(&ip))
    }

    /// The caller behind `peer`: `peer` itself unless it is trusted; then
    /// the forwarding chain from right to left, up to the first address that
    /// is not trusted (or the leftmost one, when every hop is trusted). A
    /// hop that is not an address (`unknown`, an obfuscated name) ends the
    /// walk at the last trusted hop.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in chain(headers, self.header).into_iter().rev() {
            let Some(ip) = hop else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// The hops of every `header` line, left to right (`None`: not an address).
fn chain(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let name = match header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        ForwardedHeader::Forwarded => "forwarded",
    };
    headers
        .get_all(name)
        .iter()
        .flat_map(|line| line.to_str().unwrap_or_default().split(','))
        .map(|element| match header {
            ForwardedHeader::XForwardedFor => address(element.trim()),
            ForwardedHeader::Forwarded => element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| address(v.trim().trim_matches('"'))),
        })
        .collect()
}

/// An address with an optional port: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`,
/// `[2001:db8::1]:443`.
fn address(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse::<IpAddr>().ok())
}

/// The address a request is accounted to (an extension every handler can read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Middleware: decides the caller's address before anything else looks at it.
pub async fn decide(
    axum::extract::State(state): axum::extract::State<crate::app::AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let ip = state.config.trusted_proxies.client(peer, request.headers());
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_caller_whatever_it_forwards() {
        let trusted = TrustedProxies::parse("10.0.0.0/8", ForwardedHeader::XForwardedFor).unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(trusted.client(ip("203.0.113.5"), &h), ip("203.0.113.5"));
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn the_chain_is_walked_right_to_left_to_the_first_untrusted_hop() {
        let trusted =
            TrustedProxies::parse("10.0.0.0/8, 192.0.2.9", ForwardedHeader::XForwardedFor).unwrap();
        // A client spoofs the left part; the proxies append what they saw.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1, 198.51.100.7"),
            ("x-forwarded-for", "192.0.2.9"),
        ]);
        assert_eq!(trusted.client(ip("10.1.2.3"), &h), ip("198.51.100.7"));
        // Every hop trusted: the leftmost.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.1")]);
        assert_eq!(trusted.client(ip("10.1.2.3"), &h), ip("10.9.9.9"));
        // No header: the trusted peer itself.
        assert_eq!(
            trusted.client(ip("10.1.2.3"), &HeaderMap::new()),
            ip("10.1.2.3")
        );
        // Garbage ends the walk at the last trusted hop.
        let h = headers(&[("x-forwarded-for", "198.51.100.7, unknown")]);
        assert_eq!(trusted.client(ip("10.1.2.3"), &h), ip("10.1.2.3"));
    }

    #[test]
    fn forwarded_elements_with_ports_and_ipv6_are_read_and_only_the_chosen_header() {
        let trusted = TrustedProxies::parse("10.0.0.0/8", ForwardedHeader::Forwarded).unwrap();
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            (
                "forwarded",
                "for=192.0.2.60;proto=http, For=\"[2001:db8:cafe::17]:4711\"",
            ),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=\"192.0.2.60:8080\";by=10.0.0.1")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("192.0.2.60"));
        // IPv4-mapped IPv6 peers are their IPv4 address.
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_bad_entry_in_the_setting_is_named() {
        let e = TrustedProxies::parse("10.0.0.0/8, nonsense", ForwardedHeader::XForwardedFor)
            .unwrap_err();
        assert!(e.contains("\"nonsense\""), "{e}");
    }
}
