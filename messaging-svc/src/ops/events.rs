//! Provider events passed in by the gateway (GW-2): Twilio status callbacks
//! and inbound SMS (`twilio`) and email events (`email`) move deliveries
//! forward and mark addresses bad or opted out (MS-3, MS-5, MS-6). Bounces go
//! through the queue's one `bounce()` rule; statuses never move backwards.

mod email;
mod twilio;

use homeroom_platform::db::DbConn;

pub use self::{
    email::{EmailEvent, EmailEventKind, EmailOutcome, email_events},
    twilio::{
        CallbackOutcome, HELP_REPLY, InboundAction, InboundSms, Sid, TwilioCallback, inbound_sms,
        twilio_status,
    },
};
use crate::{
    domain::{error::MessagingError, plan::Channel},
    store::addresses,
};

/// MS-5: where a delivery stands. Ordered: an event moves a delivery only to a
/// later status (callbacks arrive out of order; SES sends Delivery then Bounce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryStatus {
    /// Waiting in the queue.
    Queued,
    /// Claimed by a worker.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// The provider confirmed delivery.
    Delivered,
    /// Failed for good, not the address's fault.
    Failed,
    /// Bounced: the address is (or was) bad.
    Bounced,
    /// Never attempted (bad, opted out, no preference); final.
    Skipped,
}

const ALL: [DeliveryStatus; 7] = [
    DeliveryStatus::Queued,
    DeliveryStatus::Sending,
    DeliveryStatus::Sent,
    DeliveryStatus::Delivered,
    DeliveryStatus::Failed,
    DeliveryStatus::Bounced,
    DeliveryStatus::Skipped,
];

impl DeliveryStatus {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Bounced => "bounced",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// The statuses a delivery may move to this one from.
    fn earlier(self) -> Vec<&'static str> {
        ALL.into_iter()
            .filter(|s| *s < self)
            .map(DeliveryStatus::as_str)
            .collect()
    }
}

fn is_bad(c: &mut DbConn, channel: Channel, address: &str) -> Result<bool, MessagingError> {
    let address = address.to_string();
    let states = addresses::states(c, std::slice::from_ref(&address))?;
    Ok(states.get(&(channel, address)).is_some_and(|s| s.bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_ordered_so_a_late_sent_cannot_follow_delivered() {
        assert!(!DeliveryStatus::Sent.earlier().contains(&"delivered"));
        assert!(DeliveryStatus::Delivered.earlier().contains(&"sent"));
        assert!(DeliveryStatus::Bounced.earlier().contains(&"delivered"));
        assert!(
            DeliveryStatus::Bounced
                .earlier()
                .iter()
                .all(|s| *s != "skipped")
        );
        assert_eq!(
            DeliveryStatus::parse("bounced"),
            Some(DeliveryStatus::Bounced)
        );
    }
}
