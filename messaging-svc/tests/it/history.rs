//! An account's history (MS-5): everyone sharing an address sees the
//! communication, addresses masked, paged newest first, for the account and
//! authorised staff only.

use homeroom_platform::{
    auth::{Principal, Role, RoleGrant},
    testing::TestDb,
};
use messaging_svc::{
    MIGRATIONS,
    domain::error::MessagingError,
    ops::{
        communications::send,
        history::{HistoryQuery, page},
    },
};

use crate::communications::Smiths;

fn q(
    account: &str,
    channel: Option<&'static str>,
    page_size: i32,
    page_token: &str,
) -> HistoryQuery {
    HistoryQuery {
        account_id: account.into(),
        channel,
        include_system: false,
        page_size,
        page_token: page_token.into(),
    }
}

fn who(id: &str, role: Role) -> Principal {
    Principal::Account {
        account_id: id.into(),
        district_id: "district-1".into(),
        roles: vec![RoleGrant {
            role,
            school_id: None,
        }],
    }
}

#[tokio::test]
async fn both_smiths_see_the_shared_email_and_only_their_own_text() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    for key in ["h1", "h2"] {
        send(&test_db.db, &Smiths, crate::communications::snow_day(key))
            .await
            .unwrap();
    }
    let kevin = who("kevin", Role::Guardian);
    let (rows, next) = page(&test_db.db, &Smiths, &kevin, q("kevin", None, 0, ""))
        .await
        .unwrap();
    assert!(next.is_empty());
    assert_eq!(
        rows.len(),
        4,
        "two communications × (shared email + his text)"
    );
    assert!(
        rows.iter()
            .any(|r| r.channel == "email" && r.address == "smithparent@mail.com")
    );
    assert!(
        rows.iter()
            .filter(|r| r.channel == "sms")
            .all(|r| r.address == "+11234567890")
    );
    let sarah = who("sarah", Role::Guardian);
    let (theirs, _) = page(
        &test_db.db,
        &Smiths,
        &sarah,
        q("sarah", Some("email"), 0, ""),
    )
    .await
    .unwrap();
    assert_eq!(theirs.len(), 2);

    // Paged newest first, each entry exactly once.
    let (first, token) = page(&test_db.db, &Smiths, &kevin, q("kevin", None, 3, ""))
        .await
        .unwrap();
    let (rest, last) = page(&test_db.db, &Smiths, &kevin, q("kevin", None, 3, &token))
        .await
        .unwrap();
    assert_eq!((first.len(), rest.len(), last.as_str()), (3, 1, ""));
    assert!(
        first
            .windows(2)
            .all(|w| w[0].delivery_id > w[1].delivery_id)
    );
}

#[tokio::test]
async fn staff_with_the_right_role_see_it_and_others_do_not() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    send(&test_db.db, &Smiths, crate::communications::snow_day("h3"))
        .await
        .unwrap();
    let admin = who("admin", Role::CommunicationsAdmin);
    assert_eq!(
        page(&test_db.db, &Smiths, &admin, q("sarah", None, 0, ""))
            .await
            .unwrap()
            .0
            .len(),
        2
    );
    for caller in [who("kevin", Role::Guardian), who("t", Role::Teacher)] {
        let denied = page(&test_db.db, &Smiths, &caller, q("sarah", None, 0, "")).await;
        assert!(
            matches!(denied, Err(MessagingError::PermissionDenied(_))),
            "{caller:?}"
        );
    }
}
