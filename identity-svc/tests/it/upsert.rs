//! `UpsertAccounts` as roster uses it (RO-3, RO-6, ID-2), on both backends.

use std::collections::BTreeSet;

use homeroom_platform::testing::TestDb;
use identity_svc::{
    MIGRATIONS,
    domain::{
        accounts::{AccountKind, AccountStatus, CredentialKind, Names},
        upsert::{Field, Incoming},
    },
    ops::{
        accounts,
        upsert::{ItemRejected, Outcome, UpsertBatch, upsert_accounts},
    },
    store,
};

pub fn guardian(source_id: &str, given: &str, family: &str, email: &str, phone: &str) -> Incoming {
    Incoming {
        source_id: source_id.into(),
        account_id: None,
        kind: AccountKind::Guardian,
        names: Names {
            given: given.into(),
            middle: String::new(),
            family: family.into(),
        },
        language: Some(String::new()),
        email: Some(Some(email.into()).filter(|e: &String| !e.is_empty())),
        mobile_phone: Some(Some(phone.into()).filter(|p: &String| !p.is_empty())),
        home_phone: None,
        roles: BTreeSet::new(),
        contact_managed_by_sync: false,
        linked_students: None,
        sign_in_disabled: false,
    }
}

pub fn smiths() -> Vec<Incoming> {
    vec![
        guardian(
            "p-sarah",
            "Sarah",
            "Smith",
            "smithparent@mail.com",
            "+19876543210",
        ),
        guardian(
            "p-kevin",
            "Kevin",
            "Smith",
            "smithparent@mail.com",
            "+11234567890",
        ),
    ]
}

pub fn batch(items: Vec<Incoming>) -> UpsertBatch {
    UpsertBatch {
        district_id: "district-1".into(),
        source_system: "sis".into(),
        items: items.into_iter().map(Ok).collect(),
        org_labels: vec![("district-1".into(), "Springfield Unified".into())],
        dry_run: false,
    }
}

#[tokio::test]
async fn guardians_sharing_an_email_are_both_created_and_every_read_says_shared_by_two() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let results = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Created),
        "{results:?}"
    );

    for result in &results {
        let account = accounts::get(&test_db.db, result.account_id.clone())
            .await
            .unwrap();
        assert_eq!(account.status, AccountStatus::Invitee);
        let email = account
            .credentials
            .iter()
            .find(|c| c.kind == CredentialKind::Email)
            .unwrap();
        assert_eq!(
            (email.value.as_str(), email.shared_count),
            ("smithparent@mail.com", 2)
        );
        let phone = account
            .credentials
            .iter()
            .find(|c| c.kind == CredentialKind::MobilePhone)
            .unwrap();
        assert_eq!(phone.shared_count, 1);
    }
}

#[tokio::test]
async fn the_same_batch_twice_reports_everything_unchanged() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let first = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    let second = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    assert!(
        second.iter().all(|r| r.outcome == Outcome::Unchanged),
        "{second:?}"
    );
    let ids = |rs: &[identity_svc::ops::upsert::ItemResult]| {
        rs.iter().map(|r| r.account_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&second));
}

#[tokio::test]
async fn an_active_users_contacts_stay_and_the_difference_is_reported_unless_the_sync_manages_them()
{
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let created = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    let sarah = created[0].account_id.clone();
    let id = sarah.clone();
    test_db
        .db
        .run(move |c| {
            store::accounts::activate_with_password(
                c,
                &id,
                "$argon2id$fake",
                chrono::Utc::now().naive_utc(),
            )
            .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();

    let mut moved = smiths();
    moved[0].email = Some(Some("sarah@new.example".into()));
    moved[1].email = Some(Some("kevin@new.example".into()));
    let results = upsert_accounts(&test_db.db, batch(moved.clone()))
        .await
        .unwrap();
    // Sarah is active: her email stays, the difference is reported.
    assert_eq!(results[0].outcome, Outcome::Unchanged);
    assert_eq!(results[0].not_applied.len(), 1);
    assert_eq!(
        results[0].not_applied[0].field,
        Field::Credential(CredentialKind::Email)
    );
    assert_eq!(results[0].not_applied[0].current, "smithparent@mail.com");
    // Kevin is an invitee: always updated.
    assert_eq!(results[1].outcome, Outcome::Updated);
    assert_eq!(results[1].changed_fields, vec!["email"]);

    let account = accounts::get(&test_db.db, sarah.clone()).await.unwrap();
    let email = account
        .credentials
        .iter()
        .find(|c| c.kind == CredentialKind::Email)
        .unwrap();
    assert_eq!(email.value, "smithparent@mail.com");
    assert_eq!(
        email.shared_count, 1,
        "Kevin moved away from the shared address"
    );

    // With the setting ON the sync takes the new email and says what it changed.
    for item in &mut moved {
        item.contact_managed_by_sync = true;
    }
    let results = upsert_accounts(&test_db.db, batch(moved)).await.unwrap();
    assert_eq!(results[0].outcome, Outcome::Updated);
    assert_eq!(results[0].applied[0].incoming, "sarah@new.example");
    // The change is in the audit log, by the sync, with both addresses masked.
    let audit = crate::support::audit_rows(&test_db.db, "district-1", "credential_changed").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].subject_account_id.as_deref(), Some(sarah.as_str()));
    assert_eq!(audit[0].actor_id.as_deref(), Some("sync:sis"));
    assert!(
        audit[0].detail.starts_with("email=s"),
        "{}",
        audit[0].detail
    );
    assert!(
        !audit[0].detail.contains("sarah@new.example"),
        "{}",
        audit[0].detail
    );
    assert!(
        !audit[0].detail.contains("smithparent@mail.com"),
        "{}",
        audit[0].detail
    );
    let account = accounts::get(&test_db.db, sarah).await.unwrap();
    assert!(
        account
            .credentials
            .iter()
            .any(|c| c.value == "sarah@new.example")
    );
}

#[tokio::test]
async fn a_dry_run_reports_the_same_and_writes_nothing() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut dry = batch(smiths());
    dry.dry_run = true;
    let results = upsert_accounts(&test_db.db, dry).await.unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.outcome == Outcome::Created && r.account_id.is_empty())
    );
    let real = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    assert!(
        real.iter().all(|r| r.outcome == Outcome::Created),
        "the dry run wrote something"
    );
}

#[tokio::test]
async fn a_rejected_item_fails_alone_and_the_rest_applies() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut mixed = batch(smiths());
    mixed.items.insert(
        1,
        Err(ItemRejected {
            source_id: "p-bad".into(),
            message: "email: \"x@\" is not a valid email address".into(),
        }),
    );
    mixed
        .items
        .push(Ok(guardian("p-sarah", "Sarah", "Again", "", "")));
    let results = upsert_accounts(&test_db.db, mixed).await.unwrap();
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Created,
            Outcome::Error,
            Outcome::Created,
            Outcome::Error
        ]
    );
    assert!(results[1].error.contains("email"));
    assert!(results[3].error.contains("twice"));
}

#[tokio::test]
async fn a_source_key_can_be_attached_to_an_account_matched_by_roster() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let created = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    let mut upload = batch(vec![guardian(
        "parent-77",
        "Sarah",
        "Smith",
        "smithparent@mail.com",
        "+19876543210",
    )]);
    upload.source_system = "upload".into();
    if let Ok(item) = &mut upload.items[0] {
        item.account_id = Some(created[0].account_id.clone());
    }
    let results = upsert_accounts(&test_db.db, upload).await.unwrap();
    assert_eq!(results[0].outcome, Outcome::Updated);
    assert_eq!(results[0].account_id, created[0].account_id);
    let account = accounts::get(&test_db.db, created[0].account_id.clone())
        .await
        .unwrap();
    assert_eq!(account.external_ids.len(), 2);
}
