//! `roster-svc`: organisations, people, guardian links, syncs and uploads.

use homeroom_platform::{config::Env, service::announce, shutdown, telemetry};
use roster_svc::{app::App, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::process();
    telemetry::init(&env, "roster")?;
    let config = Config::from_env(&env)?;
    let app = App::build(config).await?;
    announce("roster", app.local_addr()?);
    let result = app.run_until(shutdown::signal()).await;
    telemetry::shutdown().await;
    result
}
