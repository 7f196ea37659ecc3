//! ID-1: listing a district's accounts — filters, text search, school scope,
//! paging — through the operation and over gRPC, on both backends.

use diesel::connection::SimpleConnection;
use homeroom_platform::{
    db::{Backend, DbError},
    testing::TestDb,
};
use homeroom_proto::identity::v1 as pb;
use identity_svc::{
    MIGRATIONS,
    domain::accounts::{AccountKind, LinkedStudent},
    ops::{
        accounts::{AccountFilter, list},
        upsert::upsert_accounts,
    },
};
use tonic::Code;

use crate::{
    support::{bearer, server},
    upsert::{batch, guardian, smiths},
};

fn names(page: &identity_svc::ops::accounts::AccountPage) -> Vec<String> {
    page.accounts.iter().map(|a| a.names.display()).collect()
}

fn district() -> AccountFilter {
    AccountFilter {
        district_id: "district-1".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn accounts_are_listed_by_name_filtered_searched_and_paged() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut items = smiths();
    let mut ann = guardian("p-ann", "Ann", "Lee", "ann@mail.com", "+15550000002");
    ann.linked_students = Some(vec![LinkedStudent {
        student_id: "s-1".into(),
        display_name: "Tim Lee".into(),
        school_id: "sch-2".into(),
    }]);
    items.push(ann);
    items.push(guardian("p-bo", "Bo", "Adams", "bo@mail.com", ""));
    upsert_accounts(&test_db.db, batch(items)).await.unwrap();
    let run = |filter: AccountFilter, after: Option<[String; 3]>, size: i64| {
        let db = test_db.db.clone();
        async move {
            db.run(move |c| list(c, &filter, after, size))
                .await
                .unwrap()
        }
    };

    let all = run(district(), None, 50).await;
    assert_eq!(
        names(&all),
        ["Bo Adams", "Ann Lee", "Kevin Smith", "Sarah Smith"]
    );
    assert_eq!(all.total, 4);
    assert!(all.next.is_none());
    let sarah = &all.accounts[3];
    assert_eq!(
        sarah.credentials[0].shared_count, 2,
        "the batch counts holders too"
    );

    let first = run(district(), None, 3).await;
    assert_eq!(names(&first), ["Bo Adams", "Ann Lee", "Kevin Smith"]);
    let rest = run(district(), first.next.clone(), 3).await;
    assert_eq!(names(&rest), ["Sarah Smith"]);
    assert!(rest.next.is_none());

    let search = |query: &str| AccountFilter {
        query: query.into(),
        ..district()
    };
    assert_eq!(
        names(&run(search("SMITH"), None, 50).await),
        ["Kevin Smith", "Sarah Smith"]
    );
    assert_eq!(names(&run(search("ann@"), None, 50).await), ["Ann Lee"]);
    assert_eq!(
        names(&run(search("sarah smith"), None, 50).await),
        ["Sarah Smith"]
    );
    assert!(
        run(search("100%_"), None, 50).await.accounts.is_empty(),
        "wildcards are literal"
    );
    let school = AccountFilter {
        schools: Some(vec!["sch-2".into()]),
        ..district()
    };
    assert_eq!(names(&run(school, None, 50).await), ["Ann Lee"]);
    let staff = AccountFilter {
        kinds: vec![AccountKind::Staff],
        ..district()
    };
    assert!(run(staff, None, 50).await.accounts.is_empty());
    let ids = AccountFilter {
        account_ids: vec![sarah.id.clone(), "no-such-id".into()],
        ..district()
    };
    assert_eq!(names(&run(ids, None, 50).await), ["Sarah Smith"]);
    let holding = AccountFilter {
        addresses: vec!["smithparent@mail.com".into(), "+15550000002".into()],
        ..district()
    };
    assert_eq!(
        names(&run(holding, None, 50).await),
        ["Ann Lee", "Kevin Smith", "Sarah Smith"],
        "exact addresses, any credential"
    );
    let partial = AccountFilter {
        addresses: vec!["smithparent".into()],
        ..district()
    };
    assert_eq!(run(partial, None, 50).await.total, 0);
    let other = AccountFilter {
        district_id: "district-2".into(),
        ..Default::default()
    };
    assert_eq!(run(other, None, 50).await.total, 0);
}

#[tokio::test]
async fn list_accounts_over_grpc_pages_and_refuses_callers_who_may_not_list() {
    let mut server = server().await;
    upsert_accounts(&server.db.db, batch(smiths()))
        .await
        .unwrap();
    let gateway = server.service_token("gateway").await;
    let page = server
        .client
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                district_id: "district-1".into(),
                page_size: 1,
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.accounts.len(), 1);
    assert_eq!(page.total_size, 2);
    assert_eq!(page.accounts[0].credentials[0].shared_count, 2);
    let next = server
        .client
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                district_id: "district-1".into(),
                page_size: 1,
                page_token: page.next_page_token.clone(),
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.accounts[0].given_name, "Sarah");
    assert!(next.next_page_token.is_empty());

    let refused = server
        .client
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                district_id: "district-1".into(),
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let refused = server
        .client
        .list_accounts(pb::ListAccountsRequest {
            district_id: "district-1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let refused = server
        .client
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                district_id: "district-1".into(),
                statuses: vec![99],
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_deactivated_holder_no_longer_makes_an_address_shared() {
    use diesel::prelude::*;
    use identity_svc::{ops::accounts, store::schema::accounts as table};

    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let results = upsert_accounts(&test_db.db, batch(smiths())).await.unwrap();
    let (sarah, kevin) = (results[0].account_id.clone(), results[1].account_id.clone());
    let email_count = |view: &accounts::AccountView| {
        view.credentials
            .iter()
            .find(|c| c.value == "smithparent@mail.com")
            .map(|c| c.shared_count)
    };
    let views = |ids: Vec<String>| {
        let db = test_db.db.clone();
        async move { db.run(move |c| accounts::views(c, &ids)).await.unwrap() }
    };
    let both = views(vec![sarah.clone(), kevin.clone()]).await;
    assert_eq!(
        both.iter().map(email_count).collect::<Vec<_>>(),
        [Some(2), Some(2)]
    );

    let gone = kevin.clone();
    test_db
        .db
        .run(move |c| {
            diesel::update(table::table.find(gone))
                .set(table::status.eq("deactivated"))
                .execute(c)
                .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap();
    let after = views(vec![sarah, kevin]).await;
    assert_eq!(
        after.iter().map(email_count).collect::<Vec<_>>(),
        [Some(1), Some(1)],
        "Sarah holds it alone now; Kevin's own view never says fewer than one"
    );
}

#[tokio::test]
async fn people_search_finds_renamed_accounts_phones_in_any_form_and_survives_renumbered_rows() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut items = smiths();
    items.push(guardian(
        "p-bo",
        "Bo",
        "Adams",
        "bo@mail.com",
        "+15550000777",
    ));
    upsert_accounts(&test_db.db, batch(items)).await.unwrap();
    let search = |query: &'static str| {
        let db = test_db.db.clone();
        let filter = AccountFilter {
            query: query.into(),
            ..district()
        };
        async move { names(&db.run(move |c| list(c, &filter, None, 50)).await.unwrap()) }
    };
    assert_eq!(search("(555) 000-0777").await, ["Bo Adams"]);
    assert_eq!(search("bo").await, ["Bo Adams"], "shorter than a trigram");
    assert_eq!(search("dams").await, ["Bo Adams"]);

    // A sync renames Bo: the index follows the name.
    let renamed = vec![guardian(
        "p-bo",
        "Robert",
        "Addams",
        "bo@mail.com",
        "+15550000777",
    )];
    upsert_accounts(&test_db.db, batch(renamed)).await.unwrap();
    assert_eq!(search("ddams").await, ["Robert Addams"]);
    assert!(search("Bo Adams").await.is_empty());

    if test_db.db.backend() == Backend::Sqlite {
        // What a VACUUM may do to a table without an INTEGER PRIMARY KEY:
        // every row gets another rowid, and the index points at none of them.
        test_db
            .db
            .run(|c| {
                c.batch_execute(
                    "UPDATE accounts SET rowid = rowid + 1000; \
                     UPDATE addresses SET rowid = rowid + 1000;",
                )
                .map_err(DbError::from)
            })
            .await
            .unwrap();
        assert!(search("Smith").await.is_empty(), "the index is stale");
        test_db.db.migrate(&MIGRATIONS).await.unwrap();
    }
    assert_eq!(search("smith").await, ["Kevin Smith", "Sarah Smith"]);
    assert_eq!(search("0777").await, ["Robert Addams"]);
}

#[tokio::test]
async fn filter_held_addresses_answers_services_with_the_district_s_addresses_only() {
    let mut server = server().await;
    upsert_accounts(&server.db.db, batch(smiths()))
        .await
        .unwrap();
    let messaging = server.service_token("messaging").await;
    let ask = |district: &str| pb::FilterHeldAddressesRequest {
        district_id: district.into(),
        addresses: vec!["smithparent@mail.com".into(), "nobody@mail.com".into()],
    };
    let held = server
        .client
        .filter_held_addresses(bearer(ask("district-1"), &messaging))
        .await
        .unwrap()
        .into_inner()
        .addresses;
    assert_eq!(held, ["smithparent@mail.com"]);
    let elsewhere = server
        .client
        .filter_held_addresses(bearer(ask("district-2"), &messaging))
        .await
        .unwrap()
        .into_inner()
        .addresses;
    assert!(elsewhere.is_empty());
    let refused = server
        .client
        .filter_held_addresses(ask("district-1"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    // Not even the district's own administrator: it answers services.
    let admin = server
        .account_token(
            "district-1",
            &[(identity_svc::domain::accounts::Role::DistrictAdmin, None)],
        )
        .await;
    let refused = server
        .client
        .filter_held_addresses(bearer(ask("district-1"), &admin))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}
