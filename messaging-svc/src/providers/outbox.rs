//! The embedded phone provider: SMS and calls are appended as JSON lines to a
//! file (`sms.jsonl`) instead of a carrier, for a laptop or a test. Email has
//! its own file provider (`.eml` files, see `smtp.rs`).

use std::{io::Write, path::PathBuf, sync::Mutex};

use futures::future::BoxFuture;

use super::{OutgoingCall, OutgoingSms, PhoneProvider, SendOutcome};

/// Appends every SMS and call to a JSON-lines file.
#[derive(Debug)]
pub struct OutboxPhoneProvider {
    path: PathBuf,
    lock: Mutex<()>,
}

impl OutboxPhoneProvider {
    /// Writes to `<dir>/sms.jsonl` (the folder is created).
    pub fn new(dir: impl Into<PathBuf>) -> anyhow::Result<OutboxPhoneProvider> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("cannot create the outbox {}: {e}", dir.display()))?;
        Ok(OutboxPhoneProvider {
            path: dir.join("sms.jsonl"),
            lock: Mutex::new(()),
        })
    }

    /// The file it writes.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn append(&self, delivery_id: &str, line: serde_json::Value) -> SendOutcome {
        let written = self
            .lock
            .lock()
            .map_err(|_| "outbox lock poisoned".to_string())
            .and_then(|_guard| {
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
                    .map_err(|e| e.to_string())?;
                writeln!(file, "{line}").map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => SendOutcome::Sent {
                provider_message_id: format!("outbox-{delivery_id}"),
            },
            Err(reason) => SendOutcome::Transient {
                reason: format!("writing the outbox failed: {reason}"),
                retry_after: None,
            },
        }
    }
}

impl PhoneProvider for OutboxPhoneProvider {
    fn send_sms(&self, sms: OutgoingSms) -> BoxFuture<'_, SendOutcome> {
        let line = serde_json::json!({ "kind": "sms", "delivery_id": sms.delivery_id, "to": sms.to, "body": sms.body });
        let outcome = self.append(&sms.delivery_id, line);
        Box::pin(async move { outcome })
    }

    fn place_call(&self, call: OutgoingCall) -> BoxFuture<'_, SendOutcome> {
        let line = serde_json::json!({
            "kind": "call", "delivery_id": call.delivery_id, "to": call.to, "say": call.text, "language": call.language,
        });
        let outcome = self.append(&call.delivery_id, line);
        Box::pin(async move { outcome })
    }
}
