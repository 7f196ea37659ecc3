//! A communication's deliveries (MS-5) for those who may see the
//! communication: paged, filtered by status and channel, each with the
//! accounts it serves; full addresses for administrators only, masked ones
//! (in failure reasons too) for its sender.

use std::collections::BTreeMap;

use homeroom_platform::{auth::Principal, db::Db, telemetry::mask_address};

use super::view::{Viewer, not_found, viewer};
use crate::{
    domain::{error::MessagingError, masking::redact, plan::Channel},
    ops::{events::DeliveryStatus, paging::Page},
    store::{
        communications as store,
        delivery_views::{self, DeliveryFilter, DeliveryRecord},
    },
};

/// Which deliveries of a communication to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    /// The communication.
    pub communication_id: String,
    /// Only these statuses; empty means any.
    pub statuses: Vec<DeliveryStatus>,
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Per page (0 → 100, at most 1,000).
    pub page_size: i32,
    /// From the previous page.
    pub page_token: String,
}

/// One delivery as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryView {
    /// The stored delivery; its address is empty unless the caller is an administrator.
    pub record: DeliveryRecord,
    /// The masked address.
    pub masked_address: String,
    /// Why it failed, bounced or was skipped; the address masked for non-administrators.
    pub failure_reason: String,
    /// The accounts it serves.
    pub recipient_account_ids: Vec<String>,
}

/// One page of deliveries.
#[derive(Debug, Clone)]
pub struct DeliveryPage {
    /// In the order they were planned.
    pub deliveries: Vec<DeliveryView>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Deliveries matching the filter, all pages.
    pub total: i64,
}

/// MS-5: a page of a communication's deliveries, for those who may see it.
pub async fn deliveries(
    db: &Db,
    caller: &Principal,
    query: DeliveryQuery,
) -> Result<DeliveryPage, MessagingError> {
    let page = Page::new(query.page_size, &query.page_token, 100, 1_000)?;
    let viewer = access(db, caller, &query.communication_id).await?;
    let filter = DeliveryFilter {
        communication_id: query.communication_id.trim().to_string(),
        statuses: query.statuses.iter().map(|s| s.as_str()).collect(),
        channel: query.channel.map(Channel::as_str),
    };
    let (after, limit) = (page.after.clone(), page.limit());
    let (mut records, total, recipients) = db
        .run(move |c| {
            let records = delivery_views::page(c, &filter, after.as_deref(), limit)?;
            let total = delivery_views::count(c, &filter)?;
            let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
            let recipients = delivery_views::recipients_of(c, &ids)?;
            Ok::<_, MessagingError>((records, total, recipients))
        })
        .await?;
    let next_page_token = page.cut(&mut records, |r| &r.id);
    let mut by_delivery: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (delivery, account) in recipients {
        by_delivery.entry(delivery).or_default().push(account);
    }
    let deliveries = records
        .into_iter()
        .map(|record| {
            let accounts = by_delivery.remove(&record.id).unwrap_or_default();
            delivery_view(record, viewer, accounts)
        })
        .collect();
    Ok(DeliveryPage {
        deliveries,
        next_page_token,
        total,
    })
}

/// How `caller` may see the communication, if at all.
async fn access(
    db: &Db,
    caller: &Principal,
    communication_id: &str,
) -> Result<Viewer, MessagingError> {
    let id = communication_id.trim().to_string();
    if id.is_empty() {
        return Err(MessagingError::InvalidArgument(
            "communication_id: required".into(),
        ));
    }
    let record = db
        .run(move |c| store::by_id(c, &id).map_err(MessagingError::from))
        .await?
        .ok_or_else(not_found)?;
    viewer(caller, &record.district_id, &record.sender_account_id)
}

fn delivery_view(
    mut record: DeliveryRecord,
    viewer: Viewer,
    accounts: Vec<String>,
) -> DeliveryView {
    let masked_address = mask_address(&record.address);
    let reason = record.last_error.clone().unwrap_or_default();
    let failure_reason = match viewer {
        Viewer::Administrator => reason,
        Viewer::Sender => {
            let redacted = redact(&reason, &record.address);
            record.address.clear();
            redacted
        }
    };
    DeliveryView {
        record,
        masked_address,
        failure_reason,
        recipient_account_ids: accounts,
    }
}
