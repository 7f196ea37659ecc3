//! Conversions and caller checks for SendCommunication and PreviewAudience.

use std::collections::{BTreeMap, BTreeSet};

use homeroom_platform::{
    auth::{Principal, Role},
    telemetry::mask_address,
};
use homeroom_proto::messaging::v1 as pb;

use super::convert::{
    channel_to_pb, skip_to_pb, stored_channel_to_pb, stored_skip_to_pb, stored_status_to_pb,
    time_to_pb,
};
use crate::{
    domain::{error::MessagingError, masking::redact, plan::Channel},
    ops::{communications::ChannelSummary, directory::AudienceSpec},
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

/// Channels of a request, each known.
pub fn channels(values: &[i32]) -> Result<BTreeSet<Channel>, MessagingError> {
    values
        .iter()
        .map(|v| super::convert::channel(*v, "channels"))
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
        guardian_contacts: a.guardian_contacts,
    }
}

/// Per-channel counts on the wire.
pub fn channel_counts(channels: &BTreeMap<Channel, ChannelSummary>) -> Vec<pb::ChannelCounts> {
    let n = |v: usize| v as u64;
    channels
        .iter()
        .map(|(channel, s)| pb::ChannelCounts {
            channel: channel_to_pb(*channel) as i32,
            recipients: n(s.recipients),
            unique_addresses: n(s.unique_addresses),
            skipped: s
                .skipped
                .iter()
                .map(|(reason, count)| pb::SkipCount {
                    reason: skip_to_pb(*reason) as i32,
                    count: n(*count),
                })
                .collect(),
            queued: n(s.queued),
            sending: n(s.sending),
            sent: n(s.sent),
            delivered: n(s.delivered),
            failed: n(s.failed),
            bounced: n(s.bounced),
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
        updated_at: view.updated_at.map(time_to_pb),
    }
}

/// A history row on the wire; the address is masked, in the failure reason too.
pub fn history_entry(row: crate::ops::history::HistoryRow) -> pb::AccountHistoryEntry {
    let failure_reason = redact(row.last_error.as_deref().unwrap_or_default(), &row.address);
    pb::AccountHistoryEntry {
        communication_id: row.communication_id,
        subject: row.subject,
        sender_account_id: row.sender_account_id,
        emergency: row.emergency,
        channel: stored_channel_to_pb(&row.channel) as i32,
        masked_address: mask_address(&row.address),
        delivery_id: row.delivery_id,
        status: stored_status_to_pb(&row.status) as i32,
        skip_reason: stored_skip_to_pb(row.skip_reason.as_deref()) as i32,
        failure_reason,
        created_at: Some(time_to_pb(row.created_at)),
        updated_at: Some(time_to_pb(row.updated_at)),
        ..Default::default()
    }
}

/// Every text a sender sets has a length limit, named by its field.
pub fn lengths(r: &pb::SendCommunicationRequest) -> Result<(), MessagingError> {
    use homeroom_platform::text::{BODY, SHORT, SUBJECT, within};
    let mut checks = vec![
        (
            "idempotency_key".to_string(),
            r.idempotency_key.as_str(),
            SHORT,
        ),
        ("subject".to_string(), r.subject.as_str(), SUBJECT),
        ("body".to_string(), r.body.as_str(), BODY),
    ];
    for (i, v) in r.variants.iter().enumerate() {
        checks.push((format!("variants[{i}].language"), v.language.as_str(), 35));
        checks.push((
            format!("variants[{i}].subject"),
            v.subject.as_str(),
            SUBJECT,
        ));
        checks.push((format!("variants[{i}].body"), v.body.as_str(), BODY));
    }
    checks
        .into_iter()
        .try_for_each(|(field, value, max)| within(&field, value, max))
        .map_err(MessagingError::InvalidArgument)
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
