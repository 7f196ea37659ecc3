//! The `homeroom` binary as a user runs it: the whole suite in one process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use homeroom_platform::testing::{ServiceProcess, http_get};

const BIN: &str = env!("CARGO_BIN_EXE_homeroom");

async fn wait_ready(gateway: std::net::SocketAddr) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = http_get(gateway, "/readyz").await.unwrap();
        if answer.0 == 200 || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_suite_starts_all_four_and_stops_cleanly_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let mut suite = ServiceProcess::spawn(
        BIN,
        &[],
        &[
            ("HOMEROOM_DATA_DIR", data_dir),
            ("HOMEROOM_IDENTITY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_ROSTER_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_MESSAGING_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_GATEWAY_ADDR", "127.0.0.1:0"),
            ("HOMEROOM_DRAIN_SECONDS", "5"),
        ],
        &["identity", "roster", "messaging", "gateway"],
    )
    .await
    .unwrap();

    let (status, body) = wait_ready(suite.addr("gateway").unwrap()).await;
    assert_eq!(status, 200, "{body}");
    for db in ["identity.db", "roster.db", "messaging.db"] {
        assert!(data.path().join(db).exists(), "{db} was not created");
    }

    let pid = suite.child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let exit = tokio::time::timeout(Duration::from_secs(5 + 2), suite.child.wait())
        .await
        .expect("the suite did not exit within the drain deadline")
        .unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    assert!(started.elapsed() < Duration::from_secs(7));
}

#[tokio::test]
async fn migrate_applies_a_services_migrations_once() {
    let data = tempfile::tempdir().unwrap();
    let url = data.path().join("roster.db");
    let url = url.to_str().unwrap();
    let run = || {
        std::process::Command::new(BIN)
            .args(["migrate", "roster"])
            .env("DATABASE_URL", url)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let first = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.starts_with("roster: ") && !first.starts_with("roster: 0 "),
        "{first}"
    );
    let second = run();
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "roster: 0 migrations applied"
    );
}

#[test]
fn an_unknown_service_is_refused_with_the_valid_names() {
    let out = std::process::Command::new(BIN)
        .args(["serve", "payroll"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("identity") && err.contains("gateway"), "{err}");
}
