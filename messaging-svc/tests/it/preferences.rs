//! Notification preferences (MS-3): the account and its district's user
//! managers may change them; everything is on until turned off.

use homeroom_platform::{
    auth::{Principal, Role, RoleGrant},
    testing::TestDb,
};
use messaging_svc::{
    MIGRATIONS,
    domain::{error::MessagingError, plan::Channel},
    ops::preferences::{get, update},
};

use crate::communications::Smiths;

fn account(id: &str, district: &str, role: Role) -> Principal {
    Principal::Account {
        account_id: id.into(),
        district_id: district.into(),
        roles: vec![RoleGrant {
            role,
            school_id: None,
        }],
    }
}

#[tokio::test]
async fn sarah_turns_texts_off_and_a_user_manager_sees_it() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let sarah = account("sarah", "district-1", Role::Guardian);
    let fresh = get(&test_db.db, &Smiths, &sarah, "sarah").await.unwrap();
    assert!(fresh.channels.iter().all(|(_, on)| *on) && !fresh.customized);
    let after = update(
        &test_db.db,
        &Smiths,
        &sarah,
        "sarah",
        vec![(Channel::Sms, false)],
    )
    .await
    .unwrap();
    assert!(
        after.channels.contains(&(Channel::Sms, false))
            && after.channels.contains(&(Channel::Email, true))
    );
    assert!(after.customized);
    let manager = account("m", "district-1", Role::UserManager);
    assert_eq!(
        get(&test_db.db, &Smiths, &manager, "sarah")
            .await
            .unwrap()
            .channels,
        after.channels
    );
}

#[tokio::test]
async fn others_may_not_read_or_change_them() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    for caller in [
        account("kevin", "district-1", Role::Guardian),
        account("t", "district-1", Role::Teacher),
        account("m", "district-2", Role::UserManager),
        Principal::Service {
            name: "gateway".into(),
        },
    ] {
        let denied = update(
            &test_db.db,
            &Smiths,
            &caller,
            "sarah",
            vec![(Channel::Email, false)],
        )
        .await;
        assert!(
            matches!(denied, Err(MessagingError::PermissionDenied(_))),
            "{caller:?}: {denied:?}"
        );
    }
}
