//! A real SMTP server for tests: Python's aiosmtpd, keeping mail in a Maildir.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// A Python with aiosmtpd (CI installs it in `.ci/.tools/venv`;
/// `HOMEROOM_TEST_PYTHON` names another); `None` when there is none, which
/// fails under `CI=true` (naming `what` needs it) and is a notice otherwise.
pub fn python_with_aiosmtpd(what: &str) -> anyhow::Result<Option<String>> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/.tools/venv/bin/python");
    let candidates = std::env::var("HOMEROOM_TEST_PYTHON")
        .into_iter()
        .chain([venv.to_string(), "python3".to_string()]);
    for python in candidates {
        let ok = std::process::Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(Some(python));
        }
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        bail!("CI needs Python's aiosmtpd (pip install aiosmtpd) for {what}");
    }
    eprintln!(
        "skipped {what}: no Python with aiosmtpd (pip install aiosmtpd, or set HOMEROOM_TEST_PYTHON)"
    );
    Ok(None)
}

/// aiosmtpd on a free port, keeping mail in `maildir`; killed when dropped.
pub async fn smtp_server(
    python: &str,
    maildir: &Path,
) -> anyhow::Result<(tokio::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = tokio::process::Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .kill_on_drop(true)
        .spawn()
        .context("starting aiosmtpd")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            bail!("aiosmtpd did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((child, port))
}

/// The text of every mail in a Maildir.
pub fn mails(maildir: &Path) -> Vec<String> {
    std::fs::read_dir(maildir.join("new"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}
