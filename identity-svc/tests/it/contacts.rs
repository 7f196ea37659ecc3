//! Who may change contact details (ID-8), the RO-6 flag, invitations and
//! deactivation (RO-3).

use homeroom_platform::auth::{Principal, Role, RoleGrant};
use identity_svc::{
    domain::{
        accounts::{AccountStatus, CredentialKind},
        error::IdentityError,
    },
    ops::{
        accounts,
        contacts::{self, ContactEdit, Deactivation, Invitation},
        upsert::{Outcome, upsert_accounts},
    },
};

use crate::{
    login::world,
    upsert::{batch, smiths},
};

fn staff(role: Role, district: &str) -> Principal {
    Principal::Account {
        account_id: format!("staff-{role:?}"),
        district_id: district.into(),
        roles: vec![RoleGrant {
            role,
            school_id: None,
        }],
    }
}

fn myself(account_id: &str) -> Principal {
    Principal::Account {
        account_id: account_id.into(),
        district_id: "district-1".into(),
        roles: vec![RoleGrant {
            role: Role::Guardian,
            school_id: None,
        }],
    }
}

fn new_email(email: &str) -> ContactEdit {
    ContactEdit {
        contacts: vec![(CredentialKind::Email, Some(email.into()))],
        ..ContactEdit::default()
    }
}

#[tokio::test]
async fn with_the_setting_on_nobody_edits_an_active_users_contacts_and_the_refusal_names_it() {
    let w = world().await;
    let mut items = smiths();
    items[0].contact_managed_by_sync = true;
    let sarah = upsert_accounts(&w.ctx.db, batch(items)).await.unwrap()[0]
        .account_id
        .clone();
    w.set_password(&sarah, "sarah-secret-1").await;
    for caller in [myself(&sarah), staff(Role::UserManager, "district-1")] {
        let err = contacts::update(&w.ctx, &caller, &sarah, new_email("s@new.example"), None)
            .await
            .unwrap_err();
        let IdentityError::FailedPrecondition(message) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("Allow the sync to update contact details of active users"),
            "{message}"
        );
    }
    // The language is not a contact detail.
    let edit = ContactEdit {
        language: Some("es".into()),
        ..ContactEdit::default()
    };
    let (view, _) = contacts::update(&w.ctx, &myself(&sarah), &sarah, edit, None)
        .await
        .unwrap();
    assert_eq!(view.language, "es");
}

#[tokio::test]
async fn with_the_setting_off_the_user_and_user_managers_edit_but_a_teacher_may_not() {
    let w = world().await;
    let sarah = upsert_accounts(&w.ctx.db, batch(smiths())).await.unwrap()[0]
        .account_id
        .clone();
    w.set_password(&sarah, "sarah-secret-1").await;

    let (view, unconfirmed) = contacts::update(
        &w.ctx,
        &myself(&sarah),
        &sarah,
        new_email("sarah@new.example"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(unconfirmed, vec![CredentialKind::Email]);
    let email = view
        .credentials
        .iter()
        .find(|c| c.kind == CredentialKind::Email)
        .unwrap();
    assert_eq!(
        (email.value.as_str(), email.confirmed_at),
        ("sarah@new.example", None)
    );

    contacts::update(
        &w.ctx,
        &staff(Role::UserManager, "district-1"),
        &sarah,
        new_email("s2@new.example"),
        None,
    )
    .await
    .unwrap();
    let teacher = contacts::update(
        &w.ctx,
        &staff(Role::Teacher, "district-1"),
        &sarah,
        new_email("t@x.org"),
        None,
    )
    .await;
    assert!(
        matches!(teacher, Err(IdentityError::PermissionDenied(_))),
        "{teacher:?}"
    );
    let elsewhere = contacts::update(
        &w.ctx,
        &staff(Role::UserManager, "district-2"),
        &sarah,
        new_email("t@x.org"),
        None,
    )
    .await;
    assert!(
        matches!(elsewhere, Err(IdentityError::NotFound(_))),
        "{elsewhere:?}"
    );
}

#[tokio::test]
async fn toggling_the_setting_flips_the_flag_on_the_sources_accounts() {
    let w = world().await;
    upsert_accounts(&w.ctx.db, batch(smiths())).await.unwrap();
    assert_eq!(
        contacts::set_managed_by_sync(&w.ctx, "district-1", "sis", true)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        contacts::set_managed_by_sync(&w.ctx, "district-1", "sis", true)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        contacts::set_managed_by_sync(&w.ctx, "district-1", "other", false)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn invitations_go_to_email_and_phone_once() {
    let w = world().await;
    let ids: Vec<String> = upsert_accounts(&w.ctx.db, batch(smiths()))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.account_id)
        .collect();
    w.set_password(&ids[1], "kevin-secret-2").await;
    let mut asked = ids.clone();
    asked.push("not-an-account".into());
    let results = contacts::invite(&w.ctx, "district-1", asked.clone(), false, "k1")
        .await
        .unwrap();
    assert_eq!(
        results[0].1,
        Invitation::Sent(vec![CredentialKind::Email, CredentialKind::MobilePhone])
    );
    assert_eq!(results[1].1, Invitation::AlreadyActive);
    assert_eq!(results[2].1, Invitation::NotFound);
    let sent = w.messages.sent();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|m| m.first_name == "Sarah"));
    assert!(
        sent.iter()
            .any(|m| m.address == "smithparent@mail.com" && m.address_shared)
    );
    let again = contacts::invite(&w.ctx, "district-1", asked, false, "k2")
        .await
        .unwrap();
    assert_eq!(again[0].1, Invitation::AlreadyInvited);
    assert_eq!(w.messages.sent().len(), 2);
}

#[tokio::test]
async fn deactivation_keeps_the_account_and_a_reappearing_record_brings_it_back() {
    let w = world().await;
    let created = upsert_accounts(&w.ctx.db, batch(smiths())).await.unwrap();
    let sarah = created[0].account_id.clone();
    w.set_password(&sarah, "sarah-secret-1").await;

    let dry = contacts::deactivate(
        &w.ctx,
        "district-1",
        "sis",
        vec!["p-sarah".into()],
        vec![],
        true,
        "dry",
    )
    .await
    .unwrap();
    assert_eq!(dry[0].2, Deactivation::Deactivated);
    assert_eq!(
        accounts::get(&w.ctx.db, sarah.clone())
            .await
            .unwrap()
            .status,
        AccountStatus::Active
    );

    let done = contacts::deactivate(
        &w.ctx,
        "district-1",
        "sis",
        vec!["p-sarah".into(), "p-nobody".into()],
        vec![],
        false,
        "gone from SIS",
    )
    .await
    .unwrap();
    assert_eq!(
        (done[0].2, done[1].2),
        (Deactivation::Deactivated, Deactivation::NotFound)
    );
    let view = accounts::get(&w.ctx.db, sarah.clone()).await.unwrap();
    assert_eq!(view.status, AccountStatus::Deactivated);
    assert_eq!(view.credentials.len(), 2, "history and contacts are kept");
    assert!(w.login("(987) 654-3210", "sarah-secret-1").await.is_err());

    let back = upsert_accounts(&w.ctx.db, batch(smiths())).await.unwrap();
    assert_eq!(
        (back[0].outcome, back[0].account_id.as_str()),
        (Outcome::Updated, sarah.as_str())
    );
    assert_eq!(
        accounts::get(&w.ctx.db, sarah).await.unwrap().status,
        AccountStatus::Active
    );
}

#[tokio::test]
async fn an_account_another_source_still_supplies_is_kept() {
    let w = world().await;
    let created = upsert_accounts(&w.ctx.db, batch(smiths())).await.unwrap();
    let mut other = batch(smiths());
    other.source_system = "upload".into();
    if let Ok(item) = &mut other.items[0] {
        item.account_id = Some(created[0].account_id.clone());
        item.source_id = "parent-1".into();
    }
    other.items.truncate(1);
    upsert_accounts(&w.ctx.db, other).await.unwrap();
    let done = contacts::deactivate(
        &w.ctx,
        "district-1",
        "sis",
        vec!["p-sarah".into()],
        vec![],
        false,
        "x",
    )
    .await
    .unwrap();
    assert_eq!(done[0].2, Deactivation::KeptByOtherSource);
}
