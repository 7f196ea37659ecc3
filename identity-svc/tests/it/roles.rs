//! Role changes by district administrators, audited (ID-1, ID-10).

use homeroom_platform::auth::{Principal, Role, RoleGrant};
use identity_svc::{
    domain::{accounts::ScopedRole, error::IdentityError},
    ops::{roles, upsert::upsert_accounts},
};

use crate::{
    login::world,
    upsert::{batch, smiths},
};

fn caller(id: &str, district: &str, role: Role) -> Principal {
    Principal::Account {
        account_id: id.into(),
        district_id: district.into(),
        roles: vec![RoleGrant {
            role,
            school_id: None,
        }],
    }
}

fn teacher_at(school: &str) -> ScopedRole {
    ScopedRole {
        role: Role::Teacher,
        school_id: school.into(),
    }
}

#[tokio::test]
async fn a_district_admin_grants_and_revokes_roles_and_each_change_is_audited() {
    let w = world().await;
    let sarah = upsert_accounts(&w.ctx.db, batch(smiths())).await.unwrap()[0]
        .account_id
        .clone();
    let admin = caller("admin-1", "district-1", Role::DistrictAdmin);

    let view = roles::assign(
        &w.ctx,
        &admin,
        &sarah,
        vec![teacher_at("school-1")],
        vec![],
        None,
    )
    .await
    .unwrap();
    assert!(
        view.roles
            .iter()
            .any(|r| r.role == teacher_at("school-1") && !r.sync_managed)
    );
    let view = roles::assign(
        &w.ctx,
        &admin,
        &sarah,
        vec![],
        vec![teacher_at("school-1")],
        None,
    )
    .await
    .unwrap();
    assert!(view.roles.is_empty());

    let rows = crate::support::audit_rows(&w.ctx.db, "district-1", "role_changed").await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.actor_id.as_deref() == Some("admin-1")
        && r.subject_account_id.as_deref() == Some(sarah.as_str())));
    assert!(
        rows.iter()
            .any(|r| r.detail == "granted teacher for school school-1")
    );
}

#[tokio::test]
async fn only_a_district_admin_of_the_district_changes_roles() {
    let w = world().await;
    let sarah = upsert_accounts(&w.ctx.db, batch(smiths())).await.unwrap()[0]
        .account_id
        .clone();
    let teacher = roles::assign(
        &w.ctx,
        &caller("t", "district-1", Role::Teacher),
        &sarah,
        vec![teacher_at("s")],
        vec![],
        None,
    )
    .await;
    assert!(
        matches!(teacher, Err(IdentityError::PermissionDenied(_))),
        "{teacher:?}"
    );
    let stranger = roles::assign(
        &w.ctx,
        &caller("a", "district-2", Role::DistrictAdmin),
        &sarah,
        vec![teacher_at("s")],
        vec![],
        None,
    )
    .await;
    assert!(
        matches!(stranger, Err(IdentityError::NotFound(_))),
        "{stranger:?}"
    );
    let own = ScopedRole {
        role: Role::DistrictAdmin,
        school_id: String::new(),
    };
    let me = caller(&sarah, "district-1", Role::DistrictAdmin);
    let selfish = roles::assign(&w.ctx, &me, &sarah, vec![], vec![own], None).await;
    assert!(
        matches!(selfish, Err(IdentityError::FailedPrecondition(_))),
        "{selfish:?}"
    );
}
