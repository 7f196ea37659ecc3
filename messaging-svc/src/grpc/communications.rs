//! Conversions and caller checks for SendCommunication and PreviewAudience.

use std::collections::BTreeSet;

use homeroom_platform::auth::{Principal, Role};
use homeroom_proto::messaging::v1 as pb;

use crate::{
    domain::{
        error::MessagingError,
        plan::{Channel, SkipReason},
    },
    ops::{communications::Summary, directory::AudienceSpec},
};

/// MS-1: who may send to a district's audience, and as whom. District-wide
/// district and communications administrators send anything in their district;
/// Homeroom services send on behalf of a named sender. Narrower senders
/// (teachers to their classes) need roster's audience scopes.
pub fn sender(
    caller: &Principal,
    district_id: &str,
    named_sender: &str,
) -> Result<String, MessagingError> {
    match caller {
        Principal::Service { .. } if !named_sender.is_empty() => Ok(named_sender.to_string()),
        Principal::Service { .. } => Err(MessagingError::InvalidArgument("sender_account_id: required for service callers".into())),
        Principal::Account { account_id, .. }
            if caller.has_district_role(district_id, Role::DistrictAdmin)
                || caller.has_district_role(district_id, Role::CommunicationsAdmin) =>
        {
            Ok(account_id.clone())
        }
        Principal::Account { .. } => Err(MessagingError::PermissionDenied(
            "sending to this audience needs the district or communications administrator role of the district".into(),
        )),
    }
}

/// Channels of a request; at least one, each known.
pub fn channels(values: &[i32]) -> Result<BTreeSet<Channel>, MessagingError> {
    values
        .iter()
        .map(
            |v| match pb::Channel::try_from(*v).unwrap_or(pb::Channel::Unspecified) {
                pb::Channel::Email => Ok(Channel::Email),
                pb::Channel::Sms => Ok(Channel::Sms),
                pb::Channel::Voice => Ok(Channel::Voice),
                pb::Channel::Unspecified => Err(MessagingError::InvalidArgument(
                    "channels: EMAIL, SMS or VOICE".into(),
                )),
            },
        )
        .collect()
}

/// The audience of a request.
pub fn audience(a: Option<pb::Audience>) -> AudienceSpec {
    let a = a.unwrap_or_default();
    AudienceSpec {
        account_ids: a.account_ids,
        student_ids: a.student_ids,
        class_ids: a.class_ids,
        school_ids: a.school_ids,
        whole_district: a.whole_district,
        roles: a.roles,
    }
}

fn channel_to_pb(c: Channel) -> pb::Channel {
    match c {
        Channel::Email => pb::Channel::Email,
        Channel::Sms => pb::Channel::Sms,
        Channel::Voice => pb::Channel::Voice,
    }
}

fn skip_to_pb(reason: SkipReason) -> pb::SkipReason {
    match reason {
        SkipReason::BadAddress => pb::SkipReason::BadAddress,
        SkipReason::OptedOut => pb::SkipReason::OptedOut,
        SkipReason::NoPreference => pb::SkipReason::NoPreference,
        SkipReason::NoAddress => pb::SkipReason::NoAddress,
    }
}

/// Per-channel counts on the wire.
pub fn channel_counts(summary: &Summary) -> Vec<pb::ChannelCounts> {
    summary
        .channels
        .iter()
        .map(|(channel, s)| pb::ChannelCounts {
            channel: channel_to_pb(*channel) as i32,
            recipients: s.recipients as u64,
            unique_addresses: s.unique_addresses as u64,
            skipped: s
                .skipped
                .iter()
                .map(|(reason, n)| pb::SkipCount {
                    reason: skip_to_pb(*reason) as i32,
                    count: *n as u64,
                })
                .collect(),
            queued: s.queued as u64,
            ..Default::default()
        })
        .collect()
}

/// Preferences on the wire.
pub fn preferences(view: crate::ops::preferences::PreferencesView) -> pb::Preferences {
    pb::Preferences {
        account_id: view.account_id,
        channels: view
            .channels
            .into_iter()
            .map(|(channel, enabled)| pb::ChannelPreference {
                channel: channel_to_pb(channel) as i32,
                enabled,
            })
            .collect(),
        customized: view.customized,
        updated_at: view.updated_at.map(|t| {
            let utc = t.and_utc();
            prost_types::Timestamp {
                seconds: utc.timestamp(),
                nanos: utc.timestamp_subsec_nanos() as i32,
            }
        }),
    }
}

/// A history row on the wire; the address is masked.
pub fn history_entry(row: crate::ops::history::HistoryRow) -> pb::AccountHistoryEntry {
    let ts = |t: chrono::NaiveDateTime| {
        let utc = t.and_utc();
        prost_types::Timestamp {
            seconds: utc.timestamp(),
            nanos: utc.timestamp_subsec_nanos() as i32,
        }
    };
    let status = match row.status.as_str() {
        "queued" => pb::DeliveryStatus::Queued,
        "sending" => pb::DeliveryStatus::Sending,
        "sent" => pb::DeliveryStatus::Sent,
        "delivered" => pb::DeliveryStatus::Delivered,
        "failed" => pb::DeliveryStatus::Failed,
        "bounced" => pb::DeliveryStatus::Bounced,
        "skipped" => pb::DeliveryStatus::Skipped,
        _ => pb::DeliveryStatus::Unspecified,
    };
    let skip = match row.skip_reason.as_deref() {
        Some("bad_address") => pb::SkipReason::BadAddress,
        Some("opted_out") => pb::SkipReason::OptedOut,
        Some("no_preference") => pb::SkipReason::NoPreference,
        Some("no_address") => pb::SkipReason::NoAddress,
        _ => pb::SkipReason::Unspecified,
    };
    pb::AccountHistoryEntry {
        communication_id: row.communication_id,
        subject: row.subject,
        sender_account_id: row.sender_account_id,
        emergency: row.emergency,
        channel: Channel::parse(&row.channel).map_or(pb::Channel::Unspecified, channel_to_pb)
            as i32,
        masked_address: homeroom_platform::telemetry::mask_address(&row.address),
        delivery_id: row.delivery_id,
        status: status as i32,
        skip_reason: skip as i32,
        failure_reason: row.last_error.unwrap_or_default(),
        created_at: Some(ts(row.created_at)),
        updated_at: Some(ts(row.updated_at)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use homeroom_platform::auth::RoleGrant;

    use super::*;

    fn account(role: Role, school: Option<&str>) -> Principal {
        Principal::Account {
            account_id: "me".into(),
            district_id: "d1".into(),
            roles: vec![RoleGrant {
                role,
                school_id: school.map(str::to_owned),
            }],
        }
    }

    #[test]
    fn district_wide_administrators_send_and_teachers_and_guardians_do_not() {
        assert_eq!(
            sender(&account(Role::CommunicationsAdmin, None), "d1", "").unwrap(),
            "me"
        );
        assert_eq!(
            sender(&account(Role::DistrictAdmin, None), "d1", "someone-else").unwrap(),
            "me"
        );
        for p in [
            account(Role::Teacher, None),
            account(Role::Guardian, None),
            account(Role::CommunicationsAdmin, Some("s1")),
        ] {
            assert!(matches!(
                sender(&p, "d1", ""),
                Err(MessagingError::PermissionDenied(_))
            ));
        }
        assert!(sender(&account(Role::CommunicationsAdmin, None), "d2", "").is_err());
        let roster = Principal::Service {
            name: "roster".into(),
        };
        assert_eq!(sender(&roster, "d1", "principal-1").unwrap(), "principal-1");
        assert!(sender(&roster, "d1", "").is_err());
    }
}
