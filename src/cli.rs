//! Command line: `homeroom [run]`, `homeroom serve <svc>`, `homeroom migrate <svc>`,
//! `homeroom generate-roster --out <dir>`.

use std::{path::PathBuf, time::Instant};

use clap::{Parser, Subcommand, ValueEnum};
use homeroom_platform::{config::Env, service::announce, shutdown, telemetry};

use crate::suite::{Suite, SuiteConfig};

/// Homeroom: school-to-family communication back end.
#[derive(Debug, Parser)]
#[command(name = "homeroom", version, about)]
pub struct Cli {
    /// What to do; without one, the whole suite runs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run identity, roster, messaging and the gateway in one process on SQLite
    /// files under HOMEROOM_DATA_DIR (default ./data).
    Run,
    /// Run one service, configured by environment variables as its container is.
    Serve {
        /// The service.
        service: Service,
    },
    /// Apply a service's pending database migrations (DATABASE_URL) and exit.
    Migrate {
        /// The service.
        service: DbService,
    },
    /// Write a realistic OneRoster 1.1 bulk CSV bundle (families with shared
    /// guardians and contacts, staff, classes, enrollments) for load tests.
    GenerateRoster {
        /// Students in the district.
        #[arg(long, default_value_t = 1000)]
        students: usize,
        /// The same seed gives the same bundle.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The folder to write the CSV files into (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// Also write `<out>.zip`, the bundle as one zip file.
        #[arg(long)]
        zip: bool,
    },
}

/// A runnable component.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Service {
    /// identity-svc.
    Identity,
    /// roster-svc.
    Roster,
    /// messaging-svc.
    Messaging,
    /// The HTTP gateway.
    Gateway,
}

/// A component with a database.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DbService {
    /// identity-svc.
    Identity,
    /// roster-svc.
    Roster,
    /// messaging-svc.
    Messaging,
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let env = Env::process();
    telemetry::init(&env)?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let suite = Suite::start(SuiteConfig::from_env(&env)?).await?;
            suite.run_until(shutdown::signal()).await
        }
        Command::Serve { service } => serve(service, &env).await,
        Command::Migrate { service } => {
            let (name, ran) = match service {
                DbService::Identity => (
                    "identity",
                    identity_svc::app::migrate(&identity_svc::config::Config::from_env(&env)?)
                        .await?,
                ),
                DbService::Roster => (
                    "roster",
                    roster_svc::app::migrate(&roster_svc::config::Config::from_env(&env)?).await?,
                ),
                DbService::Messaging => (
                    "messaging",
                    messaging_svc::app::migrate(&messaging_svc::config::Config::from_env(&env)?)
                        .await?,
                ),
            };
            println!("{name}: {ran} migrations applied");
            Ok(())
        }
        Command::GenerateRoster {
            students,
            seed,
            out,
            zip,
        } => generate_roster(students, seed, out, zip),
    }
}

fn generate_roster(students: usize, seed: u64, out: PathBuf, zip: bool) -> anyhow::Result<()> {
    use roster_svc::generator::{GeneratorOptions, write_bundle, write_zip};
    let opts = GeneratorOptions {
        students,
        seed,
        ..GeneratorOptions::default()
    };
    let started = Instant::now();
    let summary = write_bundle(&opts, &out)?;
    println!("wrote {}", out.display());
    if zip {
        let path = out.with_extension("zip");
        write_zip(&opts, &path)?;
        println!("wrote {}", path.display());
    }
    println!("{summary}");
    println!("in {:.2?}", started.elapsed());
    Ok(())
}

async fn serve(service: Service, env: &Env) -> anyhow::Result<()> {
    match service {
        Service::Identity => {
            let app =
                identity_svc::app::App::build(identity_svc::config::Config::from_env(env)?).await?;
            announce("identity", app.local_addr()?);
            app.run_until(shutdown::signal()).await
        }
        Service::Roster => {
            let app =
                roster_svc::app::App::build(roster_svc::config::Config::from_env(env)?).await?;
            announce("roster", app.local_addr()?);
            app.run_until(shutdown::signal()).await
        }
        Service::Messaging => {
            let app = messaging_svc::app::App::build(messaging_svc::config::Config::from_env(env)?)
                .await?;
            announce("messaging", app.local_addr()?);
            app.run_until(shutdown::signal()).await
        }
        Service::Gateway => {
            let app = gateway::app::App::build(gateway::config::Config::from_env(env)?).await?;
            announce("gateway", format!("http://{}", app.local_addr()?));
            app.run_until(shutdown::signal()).await
        }
    }
}
