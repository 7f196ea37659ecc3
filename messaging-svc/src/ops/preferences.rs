//! Notification preferences per account and channel (MS-3): everything is on
//! until the account turns a channel off.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use homeroom_platform::{
    auth::{Principal, Role},
    db::Db,
};

use super::directory::Directory;
use crate::{
    domain::{error::MessagingError, plan::Channel},
    store::preferences,
};

/// An account's preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferencesView {
    /// The account.
    pub account_id: String,
    /// Each channel and whether it is on.
    pub channels: Vec<(Channel, bool)>,
    /// Whether the account changed anything.
    pub customized: bool,
    /// Last change.
    pub updated_at: Option<NaiveDateTime>,
}

const CHANNELS: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Voice];

/// The account itself, and user managers and district administrators of its
/// district, may read and change its preferences.
const STAFF: [Role; 2] = [Role::UserManager, Role::DistrictAdmin];

async fn authorise(
    directory: &dyn Directory,
    caller: &Principal,
    account_id: &str,
) -> Result<(), MessagingError> {
    super::access::account_or_staff(directory, caller, account_id, &STAFF).await
}

/// Reads an account's preferences.
pub async fn get(
    db: &Db,
    directory: &dyn Directory,
    caller: &Principal,
    account_id: &str,
) -> Result<PreferencesView, MessagingError> {
    authorise(directory, caller, account_id).await?;
    view(db, account_id).await
}

/// Changes some of an account's preferences; returns all of them.
pub async fn update(
    db: &Db,
    directory: &dyn Directory,
    caller: &Principal,
    account_id: &str,
    changes: Vec<(Channel, bool)>,
) -> Result<PreferencesView, MessagingError> {
    authorise(directory, caller, account_id).await?;
    let id = account_id.to_string();
    db.transaction(move |c| {
        let now = chrono::Utc::now().naive_utc();
        for (channel, enabled) in &changes {
            preferences::set(c, &id, *channel, *enabled, now)?;
        }
        Ok::<_, MessagingError>(())
    })
    .await?;
    view(db, account_id).await
}

async fn view(db: &Db, account_id: &str) -> Result<PreferencesView, MessagingError> {
    let id = account_id.to_string();
    let rows = db
        .run(move |c| preferences::of(c, &id).map_err(MessagingError::from))
        .await?;
    let off: BTreeSet<Channel> = rows
        .iter()
        .filter(|(_, on, _)| !on)
        .map(|(c, _, _)| *c)
        .collect();
    Ok(PreferencesView {
        account_id: account_id.to_string(),
        channels: CHANNELS.iter().map(|c| (*c, !off.contains(c))).collect(),
        customized: !rows.is_empty(),
        updated_at: rows.iter().map(|(_, _, at)| *at).max(),
    })
}
