//! `messaging-svc`: communications, deduplicated deliveries, bounces and preferences.

use homeroom_platform::{config::Env, service::announce, shutdown, telemetry};
use messaging_svc::{app::App, config::Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::process();
    telemetry::init(&env, "messaging")?;
    let config = Config::from_env(&env)?;
    let app = App::build(config).await?;
    announce("messaging", app.local_addr()?);
    let result = app.run_until(shutdown::signal()).await;
    telemetry::shutdown().await;
    result
}
