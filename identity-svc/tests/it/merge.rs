//! RO-8: merging duplicate guardian accounts — preview, merge, later syncs
//! through the merged record, replay, undo and who may do it.

use std::collections::BTreeMap;

use homeroom_platform::auth::{Principal, Role, RoleGrant};
use identity_svc::{
    domain::{
        accounts::{AccountStatus, CredentialKind, LinkedStudent},
        error::IdentityError,
        upsert::Incoming,
    },
    ops::{
        accounts::{self, AccountView},
        merge::{self, MergeRequest},
        upsert::upsert_accounts,
    },
    store,
};

use crate::{
    login::{World, world},
    upsert::{batch, guardian},
};

fn admin() -> Principal {
    Principal::Account {
        account_id: "admin-1".into(),
        district_id: "district-1".into(),
        roles: vec![RoleGrant {
            role: Role::DistrictAdmin,
            school_id: None,
        }],
    }
}

fn with_student(mut item: Incoming, student: &str) -> Incoming {
    item.linked_students = Some(vec![LinkedStudent {
        student_id: format!("s-{student}"),
        display_name: student.into(),
        school_id: "school-1".into(),
    }]);
    item
}

/// Sarah's second SIS record: Ben's mother, another mobile phone.
fn second_record() -> Incoming {
    with_student(
        guardian(
            "p-sarah-2",
            "Sarah",
            "Smith",
            "sarah@mail.com",
            "+15551230000",
        ),
        "Ben",
    )
}

/// Sarah as the SIS has her twice: her own record (Ana's mother, a joined
/// account with a password) and a second one for Ben with another mobile
/// phone and an SSO identity.
async fn duplicates(w: &World) -> (String, String) {
    let results = upsert_accounts(
        &w.ctx.db,
        batch(vec![
            with_student(
                guardian(
                    "p-sarah",
                    "Sarah",
                    "Smith",
                    "sarah@mail.com",
                    "+19876543210",
                ),
                "Ana",
            ),
            second_record(),
        ]),
    )
    .await
    .unwrap();
    let (sarah, twin) = (results[0].account_id.clone(), results[1].account_id.clone());
    w.set_password(&sarah, "sarah-secret-1").await;
    let id = twin.clone();
    w.ctx
        .db
        .run(move |c| {
            store::sso::link(
                c,
                "https://sso.example",
                "sub-42",
                &id,
                chrono::Utc::now().naive_utc(),
            )
            .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();
    (sarah, twin)
}

fn request(survivor: &str, merged: &str) -> MergeRequest {
    MergeRequest {
        district_id: "district-1".into(),
        survivor_id: survivor.into(),
        merged_ids: vec![merged.into()],
        ..MergeRequest::default()
    }
}

async fn view(w: &World, id: &str) -> AccountView {
    accounts::get(&w.ctx.db, id.to_owned()).await.unwrap()
}

fn credential(v: &AccountView, kind: CredentialKind) -> Option<&str> {
    v.credentials
        .iter()
        .find(|c| c.kind == kind)
        .map(|c| c.value.as_str())
}

fn students(v: &AccountView) -> Vec<&str> {
    let mut names: Vec<&str> = v
        .linked_students
        .iter()
        .map(|s| s.display_name.as_str())
        .collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn a_preview_shows_what_moves_and_which_phones_conflict_and_changes_nothing() {
    let w = world().await;
    let (sarah, twin) = duplicates(&w).await;
    let plan = merge::preview(&w.ctx, &admin(), request(&sarah, &twin))
        .await
        .unwrap();
    assert_eq!(plan.survivor.id, sarah);
    assert_eq!(plan.merged[0].id, twin);
    let field = |kind: CredentialKind| plan.fields.iter().find(|f| f.kind == kind).unwrap();
    let email = field(CredentialKind::Email);
    assert!(!email.conflict);
    assert_eq!(
        email.candidates[0].account_ids,
        [sarah.clone(), twin.clone()]
    );
    let mobile = field(CredentialKind::MobilePhone);
    assert!(mobile.conflict);
    assert_eq!(mobile.chosen.as_deref(), Some("+19876543210"));
    // The other mobile phone becomes the home (secondary) phone by default.
    assert_eq!(
        field(CredentialKind::HomePhone).chosen.as_deref(),
        Some("+15551230000")
    );
    let names: Vec<&str> = plan.linked_students.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(names, ["Ana", "Ben"]);
    assert_eq!(plan.sso_links_moved, 1);
    assert_eq!(plan.source_records_moved, 1);
    assert_eq!(view(&w, &twin).await.status, AccountStatus::Invitee);
}

#[tokio::test]
async fn a_merge_moves_everything_to_the_survivor_later_syncs_keep_it_and_undo_puts_it_back() {
    let w = world().await;
    let (sarah, twin) = duplicates(&w).await;
    let mut req = request(&sarah, &twin);
    // The administrator keeps the second phone as the mobile one.
    req.choices = BTreeMap::from([(CredentialKind::MobilePhone, "+15551230000".to_owned())]);
    let merged = merge::merge(&w.ctx, &admin(), req.clone(), Some("203.0.113.5".into()))
        .await
        .unwrap();
    assert!(!merged.replayed);

    let survivor = view(&w, &sarah).await;
    assert_eq!(
        credential(&survivor, CredentialKind::MobilePhone),
        Some("+15551230000")
    );
    assert_eq!(
        credential(&survivor, CredentialKind::HomePhone),
        Some("+19876543210")
    );
    assert_eq!(
        credential(&survivor, CredentialKind::Email),
        Some("sarah@mail.com")
    );
    assert_eq!(students(&survivor), ["Ana", "Ben"]);
    assert_eq!(survivor.sso_issuers, ["https://sso.example"]);
    assert_eq!(survivor.status, AccountStatus::Active);
    assert_eq!(view(&w, &twin).await.status, AccountStatus::Deactivated);
    // The shared email now counts one account.
    let email = survivor
        .credentials
        .iter()
        .find(|c| c.kind == CredentialKind::Email)
        .unwrap();
    assert_eq!(email.shared_count, 1);
    // One audit event names both accounts, by the administrator, from their address.
    let audit = crate::support::audit_rows(&w.ctx.db, "district-1", "accounts_merged").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id.as_deref(), Some("admin-1"));
    assert_eq!(audit[0].subject_account_id.as_deref(), Some(sarah.as_str()));
    assert_eq!(audit[0].client_address.as_deref(), Some("203.0.113.5"));
    assert!(audit[0].detail.contains(&twin) && audit[0].detail.contains(&sarah));
    assert!(
        !audit[0].detail.contains("sarah@mail.com"),
        "{}",
        audit[0].detail
    );

    // The next sync still sends both records: the second one updates Sarah's
    // account (say so) and cannot change her name or contacts; its students follow.
    let mut again = with_student(
        guardian("p-sarah-2", "S.", "Smith", "other@mail.com", "+15550000000"),
        "Ben",
    );
    again.linked_students.as_mut().unwrap().push(LinkedStudent {
        student_id: "s-Cal".into(),
        display_name: "Cal".into(),
        school_id: "school-1".into(),
    });
    let own = with_student(
        guardian(
            "p-sarah",
            "Sarah",
            "Smith",
            "sarah@mail.com",
            "+19876543210",
        ),
        "Ana",
    );
    let results = upsert_accounts(&w.ctx.db, batch(vec![own, again]))
        .await
        .unwrap();
    assert_eq!(results[1].account_id, sarah);
    assert_eq!(results[1].merged_into.as_deref(), Some("Sarah Smith"));
    let survivor = view(&w, &sarah).await;
    assert_eq!(survivor.names.given, "Sarah");
    assert_eq!(
        credential(&survivor, CredentialKind::Email),
        Some("sarah@mail.com")
    );
    assert_eq!(students(&survivor), ["Ana", "Ben", "Cal"]);
    // Her own record's next run does not drop the merged record's students.
    let own = with_student(
        guardian(
            "p-sarah",
            "Sarah",
            "Smith",
            "sarah@mail.com",
            "+19876543210",
        ),
        "Ana",
    );
    let results = upsert_accounts(&w.ctx.db, batch(vec![own])).await.unwrap();
    assert!(results[0].changed_fields.is_empty(), "{:?}", results[0]);
    assert_eq!(students(&view(&w, &sarah).await), ["Ana", "Ben", "Cal"]);

    // The same merge again is the first one.
    let replay = merge::merge(&w.ctx, &admin(), req, None).await.unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.merge_id, merged.merge_id);

    // Undo: both accounts as they were; the second record has its own account again.
    merge::undo(&w.ctx, &admin(), "district-1", &merged.merge_id, None, None)
        .await
        .unwrap();
    let survivor = view(&w, &sarah).await;
    assert_eq!(
        credential(&survivor, CredentialKind::MobilePhone),
        Some("+19876543210")
    );
    assert_eq!(credential(&survivor, CredentialKind::HomePhone), None);
    assert_eq!(students(&survivor), ["Ana"]);
    assert!(survivor.sso_issuers.is_empty());
    let back = view(&w, &twin).await;
    assert_eq!(back.status, AccountStatus::Invitee);
    assert_eq!(back.sso_issuers, ["https://sso.example"]);
    let results = upsert_accounts(&w.ctx.db, batch(vec![second_record()]))
        .await
        .unwrap();
    assert_eq!(results[0].account_id, twin);
    assert_eq!(results[0].merged_into, None);
    assert_eq!(
        crate::support::audit_rows(&w.ctx.db, "district-1", "merge_undone")
            .await
            .len(),
        1
    );
    let again = merge::undo(&w.ctx, &admin(), "district-1", &merged.merge_id, None, None).await;
    assert!(
        matches!(again, Err(IdentityError::FailedPrecondition(_))),
        "{again:?}"
    );
}

#[tokio::test]
async fn only_district_administrators_merge_guardians_and_only_guardians() {
    let w = world().await;
    let (sarah, twin) = duplicates(&w).await;
    let teacher = Principal::Account {
        account_id: "teacher-1".into(),
        district_id: "district-1".into(),
        roles: vec![RoleGrant {
            role: Role::Teacher,
            school_id: None,
        }],
    };
    let refused = merge::merge(&w.ctx, &teacher, request(&sarah, &twin), None).await;
    assert!(
        matches!(refused, Err(IdentityError::PermissionDenied(_))),
        "{refused:?}"
    );
    // Another district's administrator does not even learn the accounts exist.
    let mut other = request(&sarah, &twin);
    other.district_id = "district-2".into();
    let other_admin = Principal::Account {
        account_id: "admin-2".into(),
        district_id: "district-2".into(),
        roles: vec![RoleGrant {
            role: Role::DistrictAdmin,
            school_id: None,
        }],
    };
    let hidden = merge::preview(&w.ctx, &other_admin, other).await;
    assert!(
        matches!(hidden, Err(IdentityError::NotFound(_))),
        "{hidden:?}"
    );
    // A survivor named among the merged ones is refused naming the field.
    let mut twice = request(&sarah, &twin);
    twice.merged_ids.push(sarah.clone());
    let err = merge::preview(&w.ctx, &admin(), twice).await.unwrap_err();
    assert!(err.to_string().contains("merged_account_ids"), "{err}");
    assert_eq!(view(&w, &twin).await.status, AccountStatus::Invitee);
}
