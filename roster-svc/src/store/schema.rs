//! The portable diesel schema of roster-svc (the same on PostgreSQL and SQLite).

diesel::table! {
    districts (id) {
        id -> Text,
        name -> Text,
        time_zone -> Text,
        default_phone_region -> Text,
        supported_languages -> Text,
        status -> Text,
        idempotency_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    schools (id) {
        id -> Text,
        district_id -> Text,
        source_system -> Text,
        source_id -> Text,
        name -> Text,
        identifier -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    academic_sessions (id) {
        id -> Text,
        district_id -> Text,
        source_system -> Text,
        source_id -> Text,
        title -> Text,
        kind -> Text,
        start_date -> Nullable<Text>,
        end_date -> Nullable<Text>,
        parent_source_id -> Nullable<Text>,
        school_year -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    courses (id) {
        id -> Text,
        district_id -> Text,
        source_system -> Text,
        source_id -> Text,
        title -> Text,
        course_code -> Nullable<Text>,
        org_source_id -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    classes (id) {
        id -> Text,
        district_id -> Text,
        school_id -> Text,
        source_system -> Text,
        source_id -> Text,
        title -> Text,
        class_code -> Nullable<Text>,
        class_type -> Nullable<Text>,
        course_source_id -> Nullable<Text>,
        term_source_ids -> Text,
        grades -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    people (id) {
        id -> Text,
        district_id -> Text,
        kind -> Text,
        role -> Text,
        source_system -> Text,
        source_id -> Text,
        account_id -> Nullable<Text>,
        given_name -> Text,
        middle_name -> Nullable<Text>,
        family_name -> Text,
        preferred_given_name -> Nullable<Text>,
        identifier -> Nullable<Text>,
        grades -> Text,
        school_id -> Nullable<Text>,
        school_ids -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        home_phone -> Nullable<Text>,
        preferred_language -> Nullable<Text>,
        source_hash -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sign_in_disabled -> Bool,
    }
}

diesel::table! {
    enrollments (id) {
        id -> Text,
        district_id -> Text,
        source_system -> Text,
        source_id -> Text,
        class_id -> Text,
        person_id -> Text,
        role -> Text,
        is_primary -> Bool,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    guardian_merges (merge_id, person_id) {
        merge_id -> Text,
        person_id -> Text,
        previous_account_id -> Text,
    }
}

diesel::table! {
    guardian_links (guardian_id, student_id) {
        guardian_id -> Text,
        student_id -> Text,
        district_id -> Text,
        source_system -> Text,
        relationship -> Text,
        is_primary -> Bool,
        contact_type -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sync_sources (id) {
        id -> Text,
        district_id -> Text,
        school_id -> Nullable<Text>,
        kind -> Text,
        name -> Text,
        config -> Text,
        secret_ciphertext -> Nullable<Text>,
        daily_at -> Nullable<Text>,
        paused -> Bool,
        manages_guardians -> Bool,
        send_invitations -> Bool,
        unarchive_classes -> Bool,
        update_active_user_contacts -> Bool,
        deactivation_threshold_percent -> Integer,
        deleted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        student_account_grades -> Text,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> Text,
        source_id -> Text,
        district_id -> Text,
        status -> Text,
        trigger_kind -> Text,
        mode -> Nullable<Text>,
        dry_run -> Bool,
        forced -> Bool,
        full_sync -> Bool,
        idempotency_key -> Nullable<Text>,
        requested_by -> Nullable<Text>,
        phase -> Text,
        records_done -> BigInt,
        records_total -> BigInt,
        totals -> Text,
        guard -> Nullable<Text>,
        failure_kind -> Nullable<Text>,
        failure_message -> Nullable<Text>,
        oneroster_version -> Nullable<Text>,
        filename -> Nullable<Text>,
        upload_id -> Nullable<Text>,
        attempts -> Integer,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sync_run_inputs (run_id) {
        run_id -> Text,
        content -> Binary,
    }
}

diesel::table! {
    sync_leases (source_id) {
        source_id -> Text,
        run_id -> Text,
        owner -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sync_report_rows (run_id, seq) {
        run_id -> Text,
        seq -> BigInt,
        entity -> Text,
        source_id -> Text,
        name -> Text,
        action -> Text,
        changed_fields -> Text,
        notes -> Text,
        record_id -> Nullable<Text>,
        account_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// RO-7: what only an upload has; the rest is its sync run (same id).
    guardian_uploads (run_id) {
        run_id -> Text,
        district_id -> Text,
        school_id -> Nullable<Text>,
        source_id -> Text,
        filename -> Text,
        size_bytes -> BigInt,
        encoding -> Text,
        abandon -> Bool,
        counts -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// RO-7: one line of an upload's result file, numbered in file order
    /// (abandoned links last).
    guardian_upload_rows (run_id, seq) {
        run_id -> Text,
        seq -> BigInt,
        line_number -> BigInt,
        student_code -> Text,
        parent_code -> Text,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        phone -> Text,
        home_phone -> Text,
        language -> Text,
        result -> Text,
        action -> Nullable<Text>,
        error -> Text,
        account_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Invitations a run owes identity (sent after the run, retried).
    pending_invitations (run_id, account_id) {
        run_id -> Text,
        account_id -> Text,
        district_id -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    districts,
    schools,
    academic_sessions,
    courses,
    classes,
    people,
    enrollments,
    guardian_links,
    sync_sources,
    sync_runs,
    sync_run_inputs,
    sync_leases,
    sync_report_rows,
    guardian_uploads,
    guardian_upload_rows,
    pending_invitations,
);
