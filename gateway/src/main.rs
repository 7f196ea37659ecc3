//! `gateway`: the edge for web clients.

use gateway::{app::App, config::Config};
use homeroom_platform::{config::Env, service::announce, shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = Env::process();
    telemetry::init(&env, "gateway")?;
    let config = Config::from_env(&env)?;
    let app = App::build(config).await?;
    announce("gateway", format!("http://{}", app.local_addr()?));
    let result = app.run_until(shutdown::signal()).await;
    telemetry::shutdown().await;
    result
}
