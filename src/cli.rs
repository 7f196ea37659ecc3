//! Command line: `homeroom [run]`, `homeroom serve <svc>`, `homeroom migrate <svc>`,
//! `homeroom generate-roster --out <dir>`, `homeroom import-roster <bundle>`,
//! `homeroom upload-guardians <file.csv>`.

use std::{path::PathBuf, time::Instant};

use clap::{Parser, Subcommand, ValueEnum};
use homeroom_platform::{config::Env, service::announce, shutdown, telemetry};

use homeroom_proto::roster::v1::upload_guardians_options::Scope as UploadScope;

use crate::{
    roster_client::{RosterClient, summary, upload_summary},
    suite::{Suite, SuiteConfig},
};

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
    /// Push a OneRoster CSV bundle (a .zip, or a folder) into a sync source of
    /// a running roster-svc and follow the run. Needs HOMEROOM_SERVICE_SECRET.
    ImportRoster {
        /// The bundle: a .zip file or a folder of CSV files.
        path: PathBuf,
        /// The ONEROSTER_CSV sync source to import into.
        #[arg(long)]
        source: String,
        /// Report what would happen and write nothing (RO-4).
        #[arg(long)]
        dry_run: bool,
        /// Apply even if the deactivation guard trips (RO-3).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Create a district administrator (the first one of a district, say) in a
    /// running suite and print a single-use join link, valid 24 hours, with
    /// which they set their password. Needs HOMEROOM_SERVICE_SECRET.
    CreateAdmin {
        /// The district: its id, or its name.
        #[arg(long)]
        district: String,
        /// Create the district, named as --district says, if none has that id or name.
        #[arg(long)]
        create_district: bool,
        /// The administrator's email; they sign in with it.
        #[arg(long)]
        email: String,
        /// Their name, "Given Family" (default "District Administrator").
        #[arg(long, default_value = "District Administrator")]
        name: String,
        /// The role.
        #[arg(long, value_enum, default_value_t = crate::admin::AdminRole::DistrictAdmin)]
        role: crate::admin::AdminRole,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Print a service token of a running identity-svc (for grpcurl, or to
    /// drive the REST API as a service in tests). Needs HOMEROOM_SERVICE_SECRET.
    ServiceToken {
        /// The client the token is for: roster, messaging or gateway.
        #[arg(default_value = "gateway")]
        client: String,
        /// identity-svc's gRPC URL.
        #[arg(
            long,
            env = "HOMEROOM_IDENTITY_URL",
            default_value = "http://127.0.0.1:50051"
        )]
        identity_url: String,
    },
    /// Print the gateway's OpenAPI 3.1 document (the REST API under /api/v1).
    Openapi,
    /// Upload a guardian CSV (RO-7) for a district or a school of a running
    /// roster-svc, follow it, and save the result file. Needs
    /// HOMEROOM_SERVICE_SECRET.
    UploadGuardians {
        /// The CSV: student_code,parent_code,first_name,last_name,email,phone,home_phone,language.
        path: PathBuf,
        /// The district whose guardians these are.
        #[arg(long, conflicts_with = "school", required_unless_present = "school")]
        district: Option<String>,
        /// Or the school.
        #[arg(long)]
        school: Option<String>,
        /// Produce the result file and change nothing (RO-4).
        #[arg(long)]
        dry_run: bool,
        /// The file is the whole guardian list: links earlier uploads made that
        /// it no longer lists are removed.
        #[arg(long)]
        abandon: bool,
        /// With --abandon, apply even if the deactivation guard trips.
        #[arg(long)]
        force: bool,
        /// Where to save the result (.xlsx or .csv); default `<file>-result.xlsx`.
        #[arg(long)]
        result: Option<PathBuf>,
        #[command(flatten)]
        endpoints: Endpoints,
    },
}

/// Where the running services are.
#[derive(Debug, clap::Args)]
pub struct Endpoints {
    /// roster-svc's gRPC URL.
    #[arg(
        long,
        env = "HOMEROOM_ROSTER_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    roster_url: String,
    /// identity-svc's gRPC URL (for the service token).
    #[arg(
        long,
        env = "HOMEROOM_IDENTITY_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    identity_url: String,
}

impl Endpoints {
    /// A roster client acting as the operator.
    async fn connect(&self, env: &Env) -> anyhow::Result<RosterClient> {
        let secret = self.secret(env)?;
        RosterClient::connect(&self.roster_url, &self.identity_url, &secret).await
    }

    /// The services' shared secret, which these commands need.
    fn secret(&self, env: &Env) -> anyhow::Result<String> {
        env.get("SERVICE_SECRET").ok_or_else(|| {
            anyhow::anyhow!(
                "HOMEROOM_SERVICE_SECRET is not set: the command needs the services' shared secret"
            )
        })
    }
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
    telemetry::init(&env, "homeroom")?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let config = SuiteConfig::from_env(&env)?;
            let suite = Suite::start(config.clone()).await?;
            if config.demo_students > 0 {
                tokio::spawn(load_demo(config, suite.addrs()?));
            }
            let result = suite.run_until(shutdown::signal()).await;
            telemetry::shutdown().await;
            result
        }
        Command::ImportRoster {
            path,
            source,
            dry_run,
            force,
            endpoints,
        } => {
            let mut client = endpoints.connect(&env).await?;
            let run = client.import(&source, &path, dry_run, force).await?;
            println!("queued run {}", run.sync_run_id);
            let run = client.wait(&run.sync_run_id).await?;
            println!("{}", summary(&run));
            if run.status() == homeroom_proto::roster::v1::SyncRunStatus::Failed {
                anyhow::bail!("the sync failed");
            }
            Ok(())
        }
        Command::UploadGuardians {
            path,
            district,
            school,
            dry_run,
            abandon,
            force,
            result,
            endpoints,
        } => {
            let mut client = endpoints.connect(&env).await?;
            let scope = match (district, school) {
                (_, Some(school)) => UploadScope::SchoolId(school),
                (Some(district), None) => UploadScope::DistrictId(district),
                (None, None) => anyhow::bail!("give --district or --school"),
            };
            let options = homeroom_proto::roster::v1::UploadGuardiansOptions {
                scope: Some(scope),
                dry_run,
                abandon,
                force,
                ..Default::default()
            };
            let upload = client.upload_guardians(&path, options).await?;
            println!("queued upload {}", upload.upload_id);
            let upload = client.wait_upload(&upload.upload_id).await?;
            println!("{}", upload_summary(&upload));
            if upload.status() == homeroom_proto::roster::v1::GuardianUploadStatus::Failed {
                anyhow::bail!("the upload failed: {}", upload.failure_message);
            }
            let out = result.unwrap_or_else(|| {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                path.with_file_name(format!("{stem}-result.xlsx"))
            });
            let xlsx = !out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let bytes = client.upload_result(&upload.upload_id, xlsx).await?;
            std::fs::write(&out, bytes)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            println!("result saved to {}", out.display());
            Ok(())
        }
        Command::Openapi => {
            println!("{}", gateway::api::openapi_json());
            Ok(())
        }
        Command::CreateAdmin {
            district,
            create_district,
            email,
            name,
            role,
            endpoints,
        } => {
            let secret = endpoints.secret(&env)?;
            let (given, family) = name
                .trim()
                .split_once(' ')
                .map_or((name.trim(), ""), |(g, f)| (g, f.trim()));
            let request = crate::admin::AdminRequest {
                district,
                create_district,
                email,
                name: (given.to_string(), family.to_string()),
                role,
            };
            let created = crate::admin::create_admin(
                &endpoints.roster_url,
                &endpoints.identity_url,
                &secret,
                &request,
            )
            .await?;
            print!("{}", crate::admin::describe(&request, &created));
            Ok(())
        }
        Command::ServiceToken {
            client,
            identity_url,
        } => {
            let secret = env.get("SERVICE_SECRET").ok_or_else(|| {
                anyhow::anyhow!("HOMEROOM_SERVICE_SECRET is not set: the token needs the services' shared secret")
            })?;
            println!(
                "{}",
                crate::roster_client::service_token(&identity_url, &client, &secret).await?
            );
            Ok(())
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

/// Loads the demo district into a fresh suite (retrying while the services
/// finish their migrations) and says so.
async fn load_demo(config: SuiteConfig, addrs: crate::suite::SuiteAddrs) {
    use secrecy::ExposeSecret as _;
    let imports = config
        .roster
        .boundary
        .import_root
        .clone()
        .unwrap_or_default();
    let (roster, identity) = (
        format!(
            "http://{}",
            homeroom_platform::service::dialable(addrs.roster)
        ),
        format!(
            "http://{}",
            homeroom_platform::service::dialable(addrs.identity)
        ),
    );
    let mut last = None;
    for _ in 0..60 {
        let attempt = async {
            let mut client =
                RosterClient::connect(&roster, &identity, config.service_secret.expose_secret())
                    .await?;
            client.load_demo(&imports, config.demo_students).await
        };
        match attempt.await {
            Ok(Some(run)) => {
                println!("demo district loaded\n{}", summary(&run));
                let admin = crate::admin::demo_admin(
                    &roster,
                    &identity,
                    config.service_secret.expose_secret(),
                    &run.district_id,
                )
                .await;
                let gateway = format!(
                    "http://{}",
                    homeroom_platform::service::dialable(addrs.gateway)
                );
                match admin {
                    Ok((email, password)) => println!(
                        "\nSign in at {gateway}/ as the demo district's administrator:\n  \
                         email:    {email}\n  password: {password}\n(printed once; \
                         `homeroom create-admin` adds administrators)"
                    ),
                    Err(e) => tracing::warn!(
                        error = %format!("{e:#}"),
                        "the demo administrator was not created"
                    ),
                }
                return;
            }
            Ok(None) => return,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    if let Some(e) = last {
        tracing::warn!(error = %format!("{e:#}"), "the demo district was not loaded");
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
