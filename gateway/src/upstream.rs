//! Channels to the three gRPC services, connected lazily so the gateway starts
//! (and answers `/healthz`) before its upstreams do.

use anyhow::Context;
use tonic::transport::Channel;

use crate::config::Config;

/// One upstream service.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Short name (`identity`, `roster`, `messaging`).
    pub name: &'static str,
    /// Fully qualified gRPC service name, as health checks use it.
    pub service: &'static str,
    /// The lazily connected channel.
    pub channel: Channel,
}

/// The gateway's upstreams.
#[derive(Debug, Clone)]
pub struct Upstreams {
    /// identity-svc.
    pub identity: Upstream,
    /// roster-svc.
    pub roster: Upstream,
    /// messaging-svc.
    pub messaging: Upstream,
}

impl Upstreams {
    /// Lazy channels to the configured URLs.
    pub fn connect_lazy(config: &Config) -> anyhow::Result<Upstreams> {
        use homeroom_proto::{
            identity::v1 as identity, messaging::v1 as messaging, roster::v1 as roster,
        };
        let lazy =
            |name: &'static str, service: &'static str, url: &str| -> anyhow::Result<Upstream> {
                let channel = homeroom_platform::grpc::lazy_channel(url)
                    .with_context(|| format!("the {name} upstream"))?;
                Ok(Upstream {
                    name,
                    service,
                    channel,
                })
            };
        Ok(Upstreams {
            identity: lazy("identity", identity::SERVICE_NAME, &config.identity_url)?,
            roster: lazy("roster", roster::SERVICE_NAME, &config.roster_url)?,
            messaging: lazy("messaging", messaging::SERVICE_NAME, &config.messaging_url)?,
        })
    }

    /// All three, in a fixed order.
    pub fn all(&self) -> [&Upstream; 3] {
        [&self.identity, &self.roster, &self.messaging]
    }
}
