//! The messaging-svc binary as a process: health and reflection as any gRPC
//! client sees them, and no start without a way to deliver.

use std::{process::Stdio, time::Duration};

use homeroom_platform::testing::assert_binary_serves;
use homeroom_proto::messaging::v1 as pb;

#[tokio::test]
async fn the_binary_reaches_serving_and_lists_its_service_by_reflection() {
    let outbox = tempfile::tempdir().unwrap();
    assert_binary_serves(
        env!("CARGO_BIN_EXE_messaging-svc"),
        "messaging",
        pb::SERVICE_NAME,
        &[
            ("HOMEROOM_DELIVERY", "outbox"),
            ("HOMEROOM_OUTBOX_DIR", outbox.path().to_str().unwrap()),
        ],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn without_providers_or_the_outbox_chosen_the_binary_refuses_to_start_and_says_what_to_set() {
    let outbox = tempfile::tempdir().unwrap();
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_messaging-svc"));
        cmd.env_clear()
            .env("HOMEROOM_LISTEN_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", outbox.path().join("m.db"))
            .env("HOMEROOM_OUTBOX_DIR", outbox.path())
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        async move { tokio::time::timeout(Duration::from_secs(30), cmd.output()).await }
    };

    let refused = run(&[]).await.unwrap().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    for named in [
        "HOMEROOM_SMTP_HOST",
        "HOMEROOM_TWILIO_ACCOUNT_SID",
        "HOMEROOM_DELIVERY=outbox",
    ] {
        assert!(said.contains(named), "names {named}: {said}");
    }

    // Email configured, phones not: still refused, for the phones only.
    let half = run(&[("HOMEROOM_SMTP_HOST", "smtp.example.org")])
        .await
        .unwrap()
        .unwrap();
    assert!(!half.status.success());
    let said = String::from_utf8_lossy(&half.stderr);
    assert!(said.contains("HOMEROOM_TWILIO_ACCOUNT_SID"), "{said}");
    assert!(!said.contains("HOMEROOM_SMTP_HOST"), "{said}");
    assert!(
        std::fs::read_dir(outbox.path())
            .unwrap()
            .all(|e| e.unwrap().file_name() != "sms.jsonl"),
        "nothing was written"
    );
}
