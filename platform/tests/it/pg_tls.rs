//! PostgreSQL over TLS: the pool's libpq verifies a server's certificate
//! (`sslmode=verify-full`) and refuses one its CA did not sign, with libpq's
//! reason in the error.
//!
//! The test runs its own PostgreSQL (initdb and pg_ctl of the machine's
//! server packages, in a temporary directory, as the `postgres` user when run
//! as root) with `ssl = on` and certificates made by the `openssl` command.
//! Without the server binaries it is skipped with a notice, except under
//! `CI=true`, where it fails: CI must prove TLS.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use homeroom_platform::db::{Db, DbSettings};

/// The newest installed server's `bin` directory.
fn server_bin() -> Option<PathBuf> {
    let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    bins.sort();
    bins.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a server binary, as `postgres` when we are root (initdb refuses root).
fn run_pg(bin: &Path, program: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    };
    let out = cmd.args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "{program} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn openssl(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// A CA (`<name>.crt`, `<name>.key`) in `dir`.
fn make_ca(dir: &Path, name: &str) -> anyhow::Result<()> {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ],
    )
}

/// A server certificate for `localhost` signed by the CA `ca`.
fn make_server_cert(dir: &Path, ca: &str) -> anyhow::Result<()> {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    )?;
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    )
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A PostgreSQL with `ssl = on`, stopped on drop.
struct TlsServer {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl TlsServer {
    fn start(bin: PathBuf) -> anyhow::Result<TlsServer> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().to_path_buf();
        make_ca(&dir, "ca")?;
        make_ca(&dir, "other-ca")?;
        make_server_cert(&dir, "ca")?;
        let data = dir.join("data");
        if is_root() {
            let out = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .output()?;
            anyhow::ensure!(out.status.success(), "chown failed");
        }
        let data_s = data.to_string_lossy().into_owned();
        run_pg(
            &bin,
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        )?;
        let port = free_port()?;
        let dir_s = dir.to_string_lossy();
        let conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{dir_s}'\n\
             ssl = on\nssl_cert_file = '{dir_s}/server.crt'\nssl_key_file = '{dir_s}/server.key'\n"
        );
        std::fs::write(data.join("postgresql.auto.conf"), conf)?;
        // Only TLS connections are accepted over TCP.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )?;
        if is_root() {
            Command::new("chmod")
                .args(["600"])
                .arg(dir.join("server.key"))
                .output()?;
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .output()?;
        }
        let log = dir.join("server.log").to_string_lossy().into_owned();
        run_pg(&bin, "pg_ctl", &["-D", &data_s, "-l", &log, "-w", "start"])?;
        Ok(TlsServer {
            bin,
            data,
            port,
            dir,
            _tmp: tmp,
        })
    }

    fn url(&self, sslmode: &str, root_cert: &str) -> String {
        format!(
            "postgres://postgres@localhost:{}/postgres?sslmode={sslmode}&sslrootcert={}",
            self.port,
            self.dir.join(root_cert).display()
        )
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        if let Err(e) = run_pg(
            &self.bin,
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "stop"],
        ) {
            eprintln!("stopping the test's PostgreSQL failed: {e:#}");
        }
    }
}

fn db(url: String) -> anyhow::Result<Db> {
    let mut settings = DbSettings::new(url);
    settings.connect_timeout = Duration::from_secs(3);
    Db::new(&settings)
}

#[tokio::test]
async fn the_pool_connects_over_verified_tls_and_refuses_a_certificate_of_another_ca() {
    let Some(bin) = server_bin() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs PostgreSQL's server binaries under /usr/lib/postgresql to prove TLS"
        );
        eprintln!("notice: no PostgreSQL server binaries; skipping the TLS test");
        return;
    };
    let server = TlsServer::start(bin).expect("starting a PostgreSQL with ssl = on");

    let verified = db(server.url("verify-full", "ca.crt")).unwrap();
    verified
        .ping()
        .await
        .expect("verify-full with the server's CA connects");
    let in_tls: bool = verified
        .run(|conn| {
            use diesel::{RunQueryDsl, sql_types::Bool};
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = Bool)]
                ssl: bool,
            }
            let homeroom_platform::db::DbConn::Pg(c) = conn else {
                unreachable!("a postgres:// URL opens PostgreSQL")
            };
            diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .get_result::<Row>(c)
                .map(|r| r.ssl)
                .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();
    assert!(in_tls, "the session runs over TLS");

    let wrong_ca = db(server.url("verify-full", "other-ca.crt")).unwrap();
    let refused = wrong_ca
        .ping()
        .await
        .expect_err("a certificate of another CA is refused");
    let message = refused.to_string();
    assert!(
        message.contains("certificate verify failed"),
        "the error says why: {message}"
    );

    // Without TLS the server (hostssl only) refuses: TLS is what connected.
    let plain = db(format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
        server.port
    ))
    .unwrap();
    assert!(plain.ping().await.is_err(), "plain TCP is refused");
}
