//! What a district's settings may reach over the network: every URL a
//! district sets (OneRoster REST base and token URLs, Clever's base URL,
//! bundle URLs) goes only to public addresses over `https`, so a district
//! administrator cannot make roster-svc call the cluster's internal services,
//! the host, or a cloud metadata endpoint.
//!
//! The check is made on the addresses a name resolves to, by the HTTP
//! client's own resolver at connect time — so a name that resolves to a
//! public address when checked and to `127.0.0.1` when used (DNS rebinding)
//! still cannot connect — and on every URL before a request or redirect is
//! sent (an address written in a URL is never resolved). An operator (or a
//! test with local mock servers) allows ranges or hosts with
//! `HOMEROOM_OUTBOUND_ALLOW`; `http` is accepted only for those.
//!
//! Written by hand: the standard library's `is_global` is unstable, and the
//! crates that filter addresses for reqwest do not take an allow-list.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use ipnet::IpNet;
use reqwest::Url;

/// Networks that are not on the public internet (loopback, private,
/// link-local and cloud metadata, CGNAT, unique-local, documentation,
/// multicast, reserved …).
const NOT_PUBLIC: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// Why a URL may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not `https` (and not allowed otherwise).
    #[error("{0}: only https URLs are allowed")]
    Scheme(String),
    /// The URL has no host.
    #[error("{0}: the URL has no host")]
    NoHost(String),
    /// The host is, or resolves only to, an address that is not public.
    #[error(
        "{0}: the host is not on the public internet (loopback, private, link-local or metadata addresses are refused)"
    )]
    NotPublic(String),
}

/// The operator's allow-list; everything public is allowed anyway.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    networks: Vec<IpNet>,
    hosts: Vec<String>,
}

impl OutboundPolicy {
    /// Reads `HOMEROOM_OUTBOUND_ALLOW`: comma-separated CIDRs, addresses or
    /// host names (`10.20.0.0/16, sis.internal.example`).
    pub fn parse(list: &str) -> Result<OutboundPolicy, String> {
        let mut policy = OutboundPolicy::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Ok(net) = item.parse::<IpNet>() {
                policy.networks.push(net);
            } else if let Ok(ip) = item.parse::<IpAddr>() {
                policy.networks.push(IpNet::from(ip));
            } else if item
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                policy.hosts.push(item.to_ascii_lowercase());
            } else {
                return Err(format!("{item:?} is not a CIDR, an address or a host name"));
            }
        }
        Ok(policy)
    }

    /// Allows everything (a test's own mock servers on loopback).
    pub fn allow_all() -> OutboundPolicy {
        OutboundPolicy::parse("0.0.0.0/0, ::/0").unwrap_or_default()
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// May roster-svc connect to `ip`?
    pub fn address_allowed(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|n| n.contains(&ip)) || is_public(ip)
    }

    /// Checks a URL before it is requested (and each redirect): `https` (or
    /// `http` to an allowed host), and an address written in it must be
    /// allowed. Names are checked when they resolve ([`Self::resolver`]).
    pub fn check(&self, url: &Url) -> Result<(), Refused> {
        let shown = shown(url);
        let Some(text) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(Refused::NoHost(shown));
        };
        let bare = text.trim_start_matches('[').trim_end_matches(']');
        let host = match bare.parse::<IpAddr>() {
            Ok(ip) => Host::Address(ip),
            Err(_) => Host::Name(text.to_string()),
        };
        let allowed = match &host {
            Host::Name(name) => self.host_allowed(name),
            Host::Address(ip) => self.networks.iter().any(|n| n.contains(&ip.to_canonical())),
        };
        match url.scheme() {
            "https" => {}
            "http" if allowed => {}
            _ => return Err(Refused::Scheme(shown)),
        }
        match host {
            Host::Address(ip) if !self.address_allowed(ip) => Err(Refused::NotPublic(shown)),
            _ => Ok(()),
        }
    }

    /// A resolver for reqwest that drops every address the policy refuses
    /// (and fails when none is left), so the check holds at connect time.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            policy: self.clone(),
        })
    }

    /// A redirect policy that checks every hop and follows at most `max`.
    pub fn redirects(&self, max: usize) -> reqwest::redirect::Policy {
        let policy = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= max {
                attempt.error(format!("more than {max} redirects"))
            } else if let Err(e) = policy.check(attempt.url()) {
                attempt.error(e)
            } else {
                attempt.follow()
            }
        })
    }
}

enum Host {
    Name(String),
    Address(IpAddr),
}

/// A URL as errors show it: scheme, host and port, never a path or query
/// that may carry a secret.
fn shown(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", url.scheme()),
        (Some(h), None) => format!("{}://{h}", url.scheme()),
        _ => url.scheme().to_string(),
    }
}

/// Is `ip` an address of the public internet?
pub fn is_public(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    if let IpAddr::V6(v6) = ip
        && let Some(v4) = embedded_v4(v6)
    {
        return is_public(IpAddr::V4(v4));
    }
    !NOT_PUBLIC
        .iter()
        .filter_map(|n| n.parse::<IpNet>().ok())
        .any(|n| n.contains(&ip))
}

/// The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let octets = v6.octets();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(Ipv4Addr::new(
            octets[12], octets[13], octets[14], octets[15],
        ));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

/// The policy's refusal inside a failed request's chain of causes, if that
/// is why it failed.
pub fn refused_in(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        cause = e.source();
    }
    None
}

/// reqwest's resolver under the policy.
#[derive(Debug)]
pub struct GuardedResolver {
    policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = if policy.host_allowed(&host) {
                resolved
            } else {
                resolved
                    .into_iter()
                    .filter(|a| policy.address_allowed(a.ip()))
                    .collect()
            };
            if kept.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(Refused::NotPublic(host));
                return Err(refused);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_must_be_https_to_a_public_address_unless_allowed() {
        let strict = OutboundPolicy::default();
        assert!(strict.check(&url("https://sis.example.org/x")).is_ok());
        assert_eq!(
            strict.check(&url("http://sis.example.org/x?token=secret")),
            Err(Refused::Scheme("http://sis.example.org".into()))
        );
        assert!(matches!(
            strict.check(&url("https://127.0.0.1:8443/")),
            Err(Refused::NotPublic(_))
        ));
        assert!(matches!(
            strict.check(&url("https://[::1]/")),
            Err(Refused::NotPublic(_))
        ));
        assert!(matches!(
            strict.check(&url("https://169.254.169.254/latest/meta-data")),
            Err(Refused::NotPublic(_))
        ));
        assert!(strict.check(&url("file:///etc/passwd")).is_err());

        let allowed = OutboundPolicy::parse("127.0.0.0/8, sis.internal").unwrap();
        assert!(allowed.check(&url("http://127.0.0.1:8080/")).is_ok());
        assert!(allowed.check(&url("http://sis.internal/")).is_ok());
        assert!(allowed.check(&url("http://10.0.0.1/")).is_err());
        assert!(OutboundPolicy::parse("not a host!").is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_when_it_is_resolved() {
        use reqwest::dns::Resolve;
        let strict = OutboundPolicy::default().resolver();
        let refused = strict.resolve("localhost".parse().unwrap()).await;
        assert!(refused.is_err(), "localhost resolves only to loopback");
        let allowed = OutboundPolicy::parse("localhost").unwrap().resolver();
        let addrs: Vec<SocketAddr> = allowed
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
