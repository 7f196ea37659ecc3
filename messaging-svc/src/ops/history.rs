//! An account's communication history (MS-5, ID-11): every recipient sharing an
//! address sees the communication; addresses are masked.

use homeroom_platform::{
    auth::{Principal, Role},
    db::Db,
};

use super::directory::Directory;
use crate::{domain::error::MessagingError, store::history};

pub use crate::store::history::HistoryRow;

/// Staff allowed to see communication history.
const STAFF: [Role; 4] = [
    Role::DistrictAdmin,
    Role::CommunicationsAdmin,
    Role::UserManager,
    Role::RosteringAdmin,
];

/// What page of whose history.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// The account.
    pub account_id: String,
    /// Only this channel (`email`, `sms`, `voice`).
    pub channel: Option<&'static str>,
    /// Include codes, invitations and notices.
    pub include_system: bool,
    /// Entries per page (0 → 50, at most 500).
    pub page_size: i32,
    /// From a previous page; empty for the first.
    pub page_token: String,
}

/// One page of history and the token of the next (empty on the last page).
pub async fn page(
    db: &Db,
    directory: &dyn Directory,
    caller: &Principal,
    query: HistoryQuery,
) -> Result<(Vec<HistoryRow>, String), MessagingError> {
    super::access::account_or_staff(directory, caller, &query.account_id, &STAFF).await?;
    let page = super::paging::Page::new(query.page_size, &query.page_token, 50, 500)?;
    let (before, limit) = (page.after.clone(), page.limit());
    // RO-8: a merged survivor's history holds the merged accounts' too.
    let mut accounts = directory.merged_into(&query.account_id).await?;
    accounts.push(query.account_id.clone());
    let mut rows = db
        .run(move |c| {
            history::page(
                c,
                &accounts,
                query.channel,
                query.include_system,
                before.as_deref(),
                limit,
            )
            .map_err(MessagingError::from)
        })
        .await?;
    let next = page.cut(&mut rows, |r| &r.delivery_id);
    Ok((rows, next))
}
