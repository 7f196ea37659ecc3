//! `identity-svc`: accounts, credentials, login, sessions and audit.

use homeroom_platform::{config::Env, service::announce, shutdown, telemetry};
use identity_svc::{app::App, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::process();
    telemetry::init(&env, "identity")?;
    let config = Config::from_env(&env)?;
    let app = App::build(config).await?;
    announce("identity", app.local_addr()?);
    let result = app.run_until(shutdown::signal()).await;
    telemetry::shutdown().await;
    result
}
