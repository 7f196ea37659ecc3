//! The shared outline of a service process: announce the bound address on
//! stdout (launchers and tests read it), serve until shutdown.

use std::{io::Write, net::SocketAddr};

/// Prints `<name> listening on <addr>` to stdout and flushes it.
pub fn announce(name: &str, addr: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    // stdout closed (e.g. a detached process) is not a reason to stop serving.
    let _ = writeln!(out, "{name} listening on {addr}");
    let _ = out.flush();
}

/// Replaces an unspecified bind address (0.0.0.0 / ::) by loopback, for URLs
/// that other components in the same process dial.
pub fn dialable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let ip = match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        };
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    }
}
