//! The portable diesel schema of messaging-svc (the same on PostgreSQL and SQLite).

diesel::table! {
    communications (id) {
        id -> Text,
        district_id -> Text,
        kind -> Text,
        sender_account_id -> Text,
        idempotency_key -> Text,
        request_fingerprint -> Text,
        subject -> Text,
        body -> Text,
        variants -> Text,
        channels -> Text,
        emergency -> Bool,
        status -> Text,
        created_at -> Timestamp,
        audience -> Text,
        planned_counts -> Text,
    }
}

diesel::table! {
    communication_recipients (communication_id, account_id) {
        communication_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        communication_id -> Text,
        channel -> Text,
        address -> Text,
        language -> Text,
        subject -> Nullable<Text>,
        body -> Nullable<Text>,
        status -> Text,
        skip_reason -> Nullable<Text>,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        provider_message_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        sending_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    delivery_workers (owner) {
        owner -> Text,
        heartbeat_at -> Timestamp,
    }
}

diesel::table! {
    delivery_recipients (delivery_id, account_id) {
        delivery_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    address_status (channel, address) {
        channel -> Text,
        address -> Text,
        bad -> Bool,
        bad_reason -> Nullable<Text>,
        bad_since -> Nullable<Timestamp>,
        opted_out -> Bool,
        opted_out_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    address_events (id) {
        id -> Text,
        channel -> Text,
        address -> Text,
        kind -> Text,
        reason -> Text,
        delivery_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    preferences (account_id, channel) {
        account_id -> Text,
        channel -> Text,
        enabled -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_outbox (id) {
        id -> Text,
        event -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(deliveries -> communications (communication_id));
diesel::joinable!(delivery_recipients -> deliveries (delivery_id));
diesel::joinable!(communication_recipients -> communications (communication_id));

diesel::allow_tables_to_appear_in_same_query!(
    communications,
    communication_recipients,
    deliveries,
    delivery_recipients,
    address_status,
    preferences,
);
