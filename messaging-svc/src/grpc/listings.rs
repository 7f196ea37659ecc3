//! Conversions for GetCommunication, ListCommunications and ListDeliveries
//! (MS-1, MS-5): requests to queries, views back to proto.

use homeroom_proto::messaging::v1 as pb;

use super::convert::{
    channel_filter, channel_to_pb, status_filter, stored_channel_to_pb, stored_skip_to_pb,
    stored_status_to_pb, time_from_pb, time_to_pb,
};
use crate::{
    domain::error::MessagingError,
    ops::communications::{
        CommunicationState, CommunicationView, DeliveryPage, DeliveryQuery, DeliveryView, ListQuery,
    },
};

/// ListCommunications' filters.
pub fn list_query(r: pb::ListCommunicationsRequest) -> Result<ListQuery, MessagingError> {
    let mut states = Vec::with_capacity(r.statuses.len());
    for (i, value) in r.statuses.iter().enumerate() {
        let state = match pb::CommunicationStatus::try_from(*value) {
            // UNSPECIFIED on a filter means "any".
            Ok(pb::CommunicationStatus::Unspecified) => continue,
            Ok(pb::CommunicationStatus::Planning) => CommunicationState::Planning,
            Ok(pb::CommunicationStatus::Sending) => CommunicationState::Sending,
            Ok(pb::CommunicationStatus::Completed) => CommunicationState::Completed,
            Ok(pb::CommunicationStatus::Failed) => CommunicationState::Failed,
            Err(_) => {
                return Err(MessagingError::InvalidArgument(format!(
                    "statuses[{i}]: not a communication status"
                )));
            }
        };
        states.push(state);
    }
    let since = time_from_pb(r.since.as_ref(), "since")?;
    let until = time_from_pb(r.until.as_ref(), "until")?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(MessagingError::InvalidArgument(
            "since: must be before until".into(),
        ));
    }
    let sender = r.sender_account_id.trim();
    Ok(ListQuery {
        district_id: r.district_id,
        sender_account_id: (!sender.is_empty()).then(|| sender.to_string()),
        states,
        emergency_only: r.emergency_only,
        since,
        until,
        query: r.query,
        page_size: r.page_size,
        page_token: r.page_token,
    })
}

/// ListDeliveries' filters.
pub fn delivery_query(r: pb::ListDeliveriesRequest) -> Result<DeliveryQuery, MessagingError> {
    Ok(DeliveryQuery {
        statuses: status_filter(&r.statuses, "statuses")?,
        channel: channel_filter(r.channel, "channel")?,
        communication_id: r.communication_id,
        page_size: r.page_size,
        page_token: r.page_token,
    })
}

fn state_to_pb(state: CommunicationState) -> pb::CommunicationStatus {
    match state {
        CommunicationState::Planning => pb::CommunicationStatus::Planning,
        CommunicationState::Sending => pb::CommunicationStatus::Sending,
        CommunicationState::Completed => pb::CommunicationStatus::Completed,
        CommunicationState::Failed => pb::CommunicationStatus::Failed,
    }
}

/// A communication with its counts on the wire.
pub fn communication(v: CommunicationView) -> pb::Communication {
    let a = v.audience;
    pb::Communication {
        communication_id: v.id,
        district_id: v.district_id,
        sender_account_id: v.sender_account_id,
        sender_display_name: String::new(),
        subject: v.subject,
        body: v.body,
        variants: v
            .variants
            .into_iter()
            .map(|(language, subject, body)| pb::ContentVariant {
                language,
                subject,
                body,
            })
            .collect(),
        channels: v
            .channels
            .iter()
            .map(|c| channel_to_pb(*c) as i32)
            .collect(),
        audience: Some(pb::Audience {
            account_ids: a.account_ids,
            student_ids: a.student_ids,
            class_ids: a.class_ids,
            school_ids: a.school_ids,
            whole_district: a.whole_district,
            roles: a.roles,
            guardian_contacts: a.guardian_contacts,
        }),
        emergency: v.emergency,
        status: state_to_pb(v.state) as i32,
        recipient_count: v.recipients,
        channel_counts: super::communications::channel_counts(&v.counts),
        failure_message: String::new(),
        created_at: Some(time_to_pb(v.created_at)),
        // Planning is part of SendCommunication: stored means planned.
        planned_at: Some(time_to_pb(v.created_at)),
        completed_at: v.completed_at.map(time_to_pb),
    }
}

fn delivery(v: DeliveryView) -> pb::Delivery {
    let d = v.record;
    let queued = d.status == "queued";
    pb::Delivery {
        delivery_id: d.id,
        communication_id: d.communication_id,
        channel: stored_channel_to_pb(&d.channel) as i32,
        address: d.address,
        masked_address: v.masked_address,
        status: stored_status_to_pb(&d.status) as i32,
        skip_reason: stored_skip_to_pb(d.skip_reason.as_deref()) as i32,
        failure_reason: v.failure_reason,
        provider_error_code: String::new(),
        provider_message_id: d.provider_message_id.unwrap_or_default(),
        attempt_count: u32::try_from(d.attempts).unwrap_or(0),
        recipient_account_ids: v.recipient_account_ids,
        language: d.language,
        created_at: Some(time_to_pb(d.created_at)),
        sent_at: d.sent_at.map(time_to_pb),
        delivered_at: d.delivered_at.map(time_to_pb),
        updated_at: Some(time_to_pb(d.updated_at)),
        next_attempt_at: (queued && d.attempts > 0).then(|| time_to_pb(d.next_attempt_at)),
    }
}

/// A page of deliveries on the wire.
pub fn deliveries_answer(page: DeliveryPage) -> pb::ListDeliveriesResponse {
    pb::ListDeliveriesResponse {
        deliveries: page.deliveries.into_iter().map(delivery).collect(),
        next_page_token: page.next_page_token,
        total_size: page.total,
    }
}
