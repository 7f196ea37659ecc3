//! The enum and time conversions every handler shares: channels, skip
//! reasons, delivery statuses and timestamps, both ways.

use chrono::NaiveDateTime;
use homeroom_proto::messaging::v1 as pb;

use crate::{
    domain::{
        error::MessagingError,
        plan::{Channel, SkipReason},
    },
    ops::events::DeliveryStatus,
};

/// A required channel; `field` names it in the error.
pub fn channel(value: i32, field: &str) -> Result<Channel, MessagingError> {
    match pb::Channel::try_from(value).unwrap_or(pb::Channel::Unspecified) {
        pb::Channel::Email => Ok(Channel::Email),
        pb::Channel::Sms => Ok(Channel::Sms),
        pb::Channel::Voice => Ok(Channel::Voice),
        pb::Channel::Unspecified => Err(MessagingError::InvalidArgument(format!(
            "{field}: EMAIL, SMS or VOICE"
        ))),
    }
}

/// An optional channel filter: UNSPECIFIED means any.
pub fn channel_filter(value: i32, field: &str) -> Result<Option<Channel>, MessagingError> {
    if value == pb::Channel::Unspecified as i32 {
        Ok(None)
    } else {
        channel(value, field).map(Some)
    }
}

/// A channel on the wire.
pub fn channel_to_pb(channel: Channel) -> pb::Channel {
    match channel {
        Channel::Email => pb::Channel::Email,
        Channel::Sms => pb::Channel::Sms,
        Channel::Voice => pb::Channel::Voice,
    }
}

/// A stored channel name on the wire (UNSPECIFIED if unknown).
pub fn stored_channel_to_pb(channel: &str) -> pb::Channel {
    Channel::parse(channel).map_or(pb::Channel::Unspecified, channel_to_pb)
}

/// A skip reason on the wire.
pub fn skip_to_pb(reason: SkipReason) -> pb::SkipReason {
    match reason {
        SkipReason::BadAddress => pb::SkipReason::BadAddress,
        SkipReason::OptedOut => pb::SkipReason::OptedOut,
        SkipReason::NoPreference => pb::SkipReason::NoPreference,
        SkipReason::NoAddress => pb::SkipReason::NoAddress,
    }
}

/// A stored skip reason on the wire (UNSPECIFIED when none).
pub fn stored_skip_to_pb(reason: Option<&str>) -> pb::SkipReason {
    reason
        .and_then(SkipReason::parse)
        .map_or(pb::SkipReason::Unspecified, skip_to_pb)
}

/// A delivery status on the wire.
pub fn status_to_pb(status: DeliveryStatus) -> pb::DeliveryStatus {
    match status {
        DeliveryStatus::Queued => pb::DeliveryStatus::Queued,
        DeliveryStatus::Sending => pb::DeliveryStatus::Sending,
        DeliveryStatus::Sent => pb::DeliveryStatus::Sent,
        DeliveryStatus::Delivered => pb::DeliveryStatus::Delivered,
        DeliveryStatus::Failed => pb::DeliveryStatus::Failed,
        DeliveryStatus::Bounced => pb::DeliveryStatus::Bounced,
        DeliveryStatus::Skipped => pb::DeliveryStatus::Skipped,
    }
}

/// A stored delivery status on the wire (UNSPECIFIED if unknown).
pub fn stored_status_to_pb(status: &str) -> pb::DeliveryStatus {
    DeliveryStatus::parse(status).map_or(pb::DeliveryStatus::Unspecified, status_to_pb)
}

/// Delivery statuses of a filter; UNSPECIFIED entries mean "any" and drop out.
pub fn status_filter(values: &[i32], field: &str) -> Result<Vec<DeliveryStatus>, MessagingError> {
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let status = match pb::DeliveryStatus::try_from(*value) {
            Ok(pb::DeliveryStatus::Unspecified) => continue,
            Ok(pb::DeliveryStatus::Queued) => DeliveryStatus::Queued,
            Ok(pb::DeliveryStatus::Sending) => DeliveryStatus::Sending,
            Ok(pb::DeliveryStatus::Sent) => DeliveryStatus::Sent,
            Ok(pb::DeliveryStatus::Delivered) => DeliveryStatus::Delivered,
            Ok(pb::DeliveryStatus::Failed) => DeliveryStatus::Failed,
            Ok(pb::DeliveryStatus::Bounced) => DeliveryStatus::Bounced,
            Ok(pb::DeliveryStatus::Skipped) => DeliveryStatus::Skipped,
            Err(_) => {
                return Err(MessagingError::InvalidArgument(format!(
                    "{field}[{i}]: not a delivery status"
                )));
            }
        };
        out.push(status);
    }
    Ok(out)
}

/// A stored UTC time on the wire.
pub fn time_to_pb(t: NaiveDateTime) -> prost_types::Timestamp {
    let utc = t.and_utc();
    prost_types::Timestamp {
        seconds: utc.timestamp(),
        nanos: i32::try_from(utc.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// An optional time from the wire; out of range is INVALID_ARGUMENT naming `field`.
pub fn time_from_pb(
    t: Option<&prost_types::Timestamp>,
    field: &str,
) -> Result<Option<NaiveDateTime>, MessagingError> {
    t.map(|t| {
        u32::try_from(t.nanos)
            .ok()
            .and_then(|nanos| chrono::DateTime::from_timestamp(t.seconds, nanos))
            .map(|at| at.naive_utc())
            .ok_or_else(|| {
                MessagingError::InvalidArgument(format!("{field}: not a valid timestamp"))
            })
    })
    .transpose()
}
