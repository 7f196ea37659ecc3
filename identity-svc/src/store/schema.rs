//! The portable diesel schema of identity-svc (the same on PostgreSQL and SQLite).

diesel::table! {
    accounts (id) {
        id -> Text,
        district_id -> Text,
        kind -> Text,
        status -> Text,
        given_name -> Text,
        middle_name -> Text,
        family_name -> Text,
        preferred_language -> Text,
        contact_managed_by_sync -> Bool,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
        deactivated_at -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        invited_at -> Nullable<Timestamp>,
        sign_in_disabled -> Bool,
    }
}

diesel::table! {
    account_sources (district_id, source_system, source_id) {
        district_id -> Text,
        source_system -> Text,
        source_id -> Text,
        account_id -> Text,
        merged_from -> Nullable<Text>,
    }
}

diesel::table! {
    account_merges (id) {
        id -> Text,
        district_id -> Text,
        survivor_id -> Text,
        merged_ids -> Text,
        undo -> Text,
        actor_id -> Text,
        created_at -> Timestamp,
        undone_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    merged_links (account_id, bucket, student_id) {
        account_id -> Text,
        bucket -> Text,
        student_id -> Text,
        display_name -> Text,
        school_id -> Text,
    }
}

diesel::table! {
    addresses (id) {
        id -> Text,
        kind -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    account_credentials (account_id, kind) {
        account_id -> Text,
        kind -> Text,
        address_id -> Text,
        confirmed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_grants (account_id, role, school_id, source_system) {
        account_id -> Text,
        role -> Text,
        school_id -> Text,
        source_system -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    linked_students (account_id, student_id) {
        account_id -> Text,
        student_id -> Text,
        display_name -> Text,
        school_id -> Text,
    }
}

diesel::table! {
    org_labels (org_id) {
        org_id -> Text,
        name -> Text,
    }
}

diesel::table! {
    sso_links (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        account_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        private_pkcs8 -> Text,
        public_x -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    selection_tokens (token_hash) {
        token_hash -> Text,
        account_ids -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        sso_issuer -> Nullable<Text>,
        sso_subject -> Nullable<Text>,
    }
}

diesel::table! {
    sso_pending_logins (state_hash) {
        state_hash -> Text,
        provider_id -> Text,
        nonce -> Text,
        code_verifier -> Text,
        redirect_uri -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    one_time_codes (id) {
        id -> Text,
        address_id -> Text,
        account_id -> Nullable<Text>,
        purpose -> Text,
        code_hash -> Text,
        attempts -> Integer,
        idempotency_key -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttles (key) {
        key -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitation_links (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    known_devices (token_hash, account_id) {
        token_hash -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        district_id -> Text,
        kind -> Text,
        actor_id -> Nullable<Text>,
        subject_account_id -> Nullable<Text>,
        client_address -> Nullable<Text>,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(account_sources -> accounts (account_id));
diesel::joinable!(account_credentials -> accounts (account_id));
diesel::joinable!(account_credentials -> addresses (address_id));
diesel::joinable!(role_grants -> accounts (account_id));
diesel::joinable!(sso_links -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    account_merges,
    merged_links,
    account_sources,
    addresses,
    account_credentials,
    role_grants,
    linked_students,
    org_labels,
    sso_links,
);
