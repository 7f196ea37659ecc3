//! Test doubles: a messenger that records what identity asks messaging to send.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use homeroom_platform::db::Db;
use identity_svc::{
    domain::error::IdentityError,
    ops::{
        Ctx,
        messenger::{Messenger, SystemMessage},
    },
};

/// Records every system message instead of sending it.
#[derive(Debug, Default)]
pub struct RecordingMessenger {
    pub sent: Mutex<Vec<SystemMessage>>,
}

impl RecordingMessenger {
    /// Everything sent so far.
    pub fn sent(&self) -> Vec<SystemMessage> {
        self.sent.lock().unwrap().clone()
    }

    /// The code in the last message sent to `address`.
    pub fn last_code_to(&self, address: &str) -> String {
        self.sent()
            .iter()
            .rev()
            .find(|m| m.address == address)
            .and_then(|m| m.variables.get("code").cloned())
            .unwrap_or_else(|| panic!("no code was sent to {address}"))
    }
}

impl Messenger for RecordingMessenger {
    fn send(&self, message: SystemMessage) -> BoxFuture<'_, Result<(), IdentityError>> {
        self.sent.lock().unwrap().push(message);
        Box::pin(async { Ok(()) })
    }
}

/// A context over `db` whose messages are recorded.
pub fn ctx(db: Db) -> (Ctx, Arc<RecordingMessenger>) {
    let messenger = Arc::new(RecordingMessenger::default());
    let m = messenger.clone();
    (Ctx::new(db, move |_| m).unwrap(), messenger)
}
