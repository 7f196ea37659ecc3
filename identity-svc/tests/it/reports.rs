//! The shared-credential report (ID-9) and the audit log (ID-10), through the
//! operations and over gRPC, on both backends.

use std::{collections::BTreeSet, sync::Arc};

use diesel::prelude::*;
use futures::StreamExt;
use homeroom_platform::{
    auth::{Principal, RoleGrant},
    db::{Db, DbError},
    testing::TestDb,
};
use homeroom_proto::identity::v1 as pb;
use identity_svc::{
    MIGRATIONS,
    domain::{
        accounts::{AccountStatus, CredentialKind, LinkedStudent, Role, ScopedRole},
        credential::{Identifier, Region},
        error::IdentityError,
        upsert::Incoming,
    },
    ops::{
        Ctx,
        login::{LoginAttempt, login},
        reports::{
            AuditKind, AuditQuery, PageRequest, SharedCache, SharedFilter, SharedPage,
            list_audit_events, list_shared_credentials, shared_cache,
        },
        upsert::upsert_accounts,
    },
    store,
};
use tonic::Code;

use crate::{
    support::{Server, bearer, server},
    upsert::{batch, guardian, smiths},
};

const DISTRICT: &str = "district-1";

fn account(district_id: &str, roles: &[(Role, Option<&str>)]) -> Principal {
    Principal::Account {
        account_id: "caller".into(),
        district_id: district_id.into(),
        roles: roles
            .iter()
            .map(|&(role, school)| RoleGrant {
                role,
                school_id: school.map(str::to_owned),
            })
            .collect(),
    }
}

fn admin() -> Principal {
    account(DISTRICT, &[(Role::DistrictAdmin, None)])
}

fn with_student(mut item: Incoming, student: &str, school_id: &str) -> Incoming {
    item.linked_students = Some(vec![LinkedStudent {
        student_id: format!("s-{student}"),
        display_name: student.into(),
        school_id: school_id.into(),
    }]);
    item
}

fn everything() -> PageRequest {
    PageRequest::new(500, "").unwrap()
}

async fn ids_of(db: &Db, items: Vec<Incoming>) -> Vec<String> {
    upsert_accounts(db, batch(items))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.account_id)
        .collect()
}

async fn deactivate(db: &Db, id: &str) {
    use identity_svc::store::schema::accounts;
    let id = id.to_string();
    db.run(move |c| {
        diesel::update(accounts::table.filter(accounts::id.eq(id)))
            .set(accounts::status.eq(AccountStatus::Deactivated.as_str()))
            .execute(c)
            .map_err(DbError::from)
    })
    .await
    .unwrap();
}

async fn shared(db: &Db, filter: SharedFilter) -> SharedPage {
    list_shared_credentials(
        db,
        &Arc::new(shared_cache()),
        &admin(),
        filter,
        everything(),
    )
    .await
    .unwrap()
}

fn default_filter() -> SharedFilter {
    SharedFilter::new("", "", [], false)
}

fn values(page: &SharedPage) -> Vec<&str> {
    page.credentials.iter().map(|c| c.value.as_str()).collect()
}

#[tokio::test]
async fn the_smiths_shared_email_is_listed_with_both_holders_and_sarahs_own_phone_is_not() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let ids = ids_of(&test_db.db, smiths()).await;

    let page = shared(&test_db.db, default_filter()).await;
    assert_eq!(values(&page), vec!["smithparent@mail.com"]);
    assert_eq!(page.total_size, 1);
    assert!(page.next_page_token.is_empty());
    let email = &page.credentials[0];
    assert_eq!((email.kind, email.shared_count), (CredentialKind::Email, 2));
    let holders: Vec<(&str, &str)> = email
        .holders
        .iter()
        .map(|h| (h.display_name.as_str(), h.account_id.as_str()))
        .collect();
    assert_eq!(
        holders,
        vec![
            ("Kevin Smith", ids[1].as_str()),
            ("Sarah Smith", ids[0].as_str())
        ]
    );
    assert!(
        email
            .holders
            .iter()
            .all(|h| h.status == AccountStatus::Invitee)
    );
}

#[tokio::test]
async fn deactivated_holders_are_listed_but_never_make_an_address_shared() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut items = smiths();
    items.push(guardian(
        "p-old",
        "Sarah",
        "Smith-Old",
        "smithparent@mail.com",
        "+15550000001",
    ));
    items.push(guardian(
        "p-ann",
        "Ann",
        "Lee",
        "ann@mail.com",
        "+15550000002",
    ));
    items.push(guardian("p-ann-old", "Ann", "Lee-Old", "ann@mail.com", ""));
    let ids = ids_of(&test_db.db, items).await;
    deactivate(&test_db.db, &ids[2]).await;
    deactivate(&test_db.db, &ids[4]).await;
    // The same address in another district is neither counted nor listed.
    let mut elsewhere = batch(vec![guardian(
        "x-1",
        "Xavier",
        "Smith",
        "smithparent@mail.com",
        "",
    )]);
    elsewhere.district_id = "district-2".into();
    upsert_accounts(&test_db.db, elsewhere).await.unwrap();

    let page = shared(&test_db.db, default_filter()).await;
    assert_eq!(
        values(&page),
        vec!["smithparent@mail.com"],
        "Ann's only other holder is deactivated"
    );
    let email = &page.credentials[0];
    assert_eq!(
        email.shared_count, 2,
        "the deactivated holder is not counted"
    );
    let statuses: Vec<(&str, AccountStatus)> = email
        .holders
        .iter()
        .map(|h| (h.display_name.as_str(), h.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("Kevin Smith", AccountStatus::Invitee),
            ("Sarah Smith", AccountStatus::Invitee),
            ("Sarah Smith-Old", AccountStatus::Deactivated),
        ]
    );
}

#[tokio::test]
async fn the_school_filter_keeps_credentials_with_a_holder_in_that_school_and_lists_every_holder() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut items = smiths();
    let sarah = items.remove(0);
    items.insert(0, with_student(sarah, "Ana Smith", "school-1"));
    items.push(with_student(
        guardian("p-jo", "Jo", "Jones", "jones@mail.com", ""),
        "Bo Jones",
        "school-2",
    ));
    items.push(guardian("p-jim", "Jim", "Jones", "jones@mail.com", ""));
    let mut teacher = guardian("t-dana", "Dana", "Lee", "", "+15551230000");
    teacher.kind = identity_svc::domain::accounts::AccountKind::Staff;
    teacher.roles.insert(ScopedRole {
        role: Role::Teacher,
        school_id: "school-1".into(),
    });
    items.push(teacher);
    items.push(guardian(
        "p-dana",
        "Dana",
        "Lee",
        "dana@mail.com",
        "+15551230000",
    ));
    ids_of(&test_db.db, items).await;

    let all = shared(&test_db.db, default_filter()).await;
    assert_eq!(all.total_size, 3);
    let school_1 = shared(&test_db.db, SharedFilter::new("", "school-1", [], false)).await;
    let mut found = values(&school_1);
    found.sort();
    assert_eq!(found, vec!["+15551230000", "smithparent@mail.com"]);
    assert_eq!(school_1.total_size, 2);
    let smiths = school_1
        .credentials
        .iter()
        .find(|c| c.value == "smithparent@mail.com")
        .unwrap();
    assert_eq!(
        smiths.holders.len(),
        2,
        "Kevin is listed though not in the school"
    );
    let sarah = smiths
        .holders
        .iter()
        .find(|h| h.display_name == "Sarah Smith")
        .unwrap();
    assert_eq!(sarah.linked_students[0].display_name, "Ana Smith");
    let phone = school_1
        .credentials
        .iter()
        .find(|c| c.value == "+15551230000")
        .unwrap();
    assert_eq!(phone.kind, CredentialKind::MobilePhone);
    assert!(phone.holders.iter().any(|h| {
        h.roles
            .iter()
            .any(|r| r.role.role == Role::Teacher && r.sync_managed)
    }));
    let school_2 = shared(&test_db.db, SharedFilter::new("", "school-2", [], false)).await;
    assert_eq!(values(&school_2), vec!["jones@mail.com"]);
}

async fn generation(db: &Db, district_id: &str) -> i64 {
    let district_id = district_id.to_string();
    db.run(move |c| {
        homeroom_platform::report_cache::generation(c, &district_id).map_err(DbError::from)
    })
    .await
    .unwrap()
}

async fn cached(db: &Db, cache: &Arc<SharedCache>, filter: SharedFilter) -> Vec<String> {
    let page = list_shared_credentials(db, cache, &admin(), filter, everything())
        .await
        .unwrap();
    values(&page).into_iter().map(String::from).collect()
}

/// The report is computed once per change of the district: reading it moves
/// nothing, and every write it depends on (a new holder, a deactivation, a
/// linked student in a school) is in the next page read through the same cache.
#[tokio::test]
async fn the_cached_report_follows_every_write_it_depends_on_and_nothing_else() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let cache = Arc::new(shared_cache());
    ids_of(db, smiths()).await;
    assert_eq!(
        cached(db, &cache, default_filter()).await,
        ["smithparent@mail.com"]
    );
    let school_1 = || SharedFilter::new("", "school-1", [], false);
    assert!(cached(db, &cache, school_1()).await.is_empty());

    let before = generation(db, DISTRICT).await;
    cached(db, &cache, default_filter()).await;
    assert_eq!(
        generation(db, DISTRICT).await,
        before,
        "reading changes nothing"
    );
    // Signing in writes the account, not what the report reads.
    db.run(|c| {
        use identity_svc::store::schema::accounts;
        diesel::update(accounts::table)
            .set(accounts::last_login_at.eq(chrono::Utc::now().naive_utc()))
            .execute(c)
            .map_err(DbError::from)
    })
    .await
    .unwrap();
    assert_eq!(
        generation(db, DISTRICT).await,
        before,
        "a sign-in is not a change"
    );
    let mut elsewhere = batch(vec![guardian("x-1", "Xavier", "Smith", "x@mail.com", "")]);
    elsewhere.district_id = "district-2".into();
    upsert_accounts(db, elsewhere).await.unwrap();
    assert_eq!(
        generation(db, DISTRICT).await,
        before,
        "another district's write"
    );

    let ann = ids_of(
        db,
        vec![
            guardian("p-ann", "Ann", "Lee", "ann@mail.com", ""),
            guardian("p-ann-old", "Ann", "Lee-Old", "ann@mail.com", ""),
        ],
    )
    .await;
    assert_eq!(
        cached(db, &cache, default_filter()).await,
        ["ann@mail.com", "smithparent@mail.com"]
    );
    deactivate(db, &ann[1]).await;
    assert_eq!(
        cached(db, &cache, default_filter()).await,
        ["smithparent@mail.com"]
    );

    let sarah = smiths().remove(0);
    ids_of(db, vec![with_student(sarah, "Ana Smith", "school-1")]).await;
    assert_eq!(
        cached(db, &cache, school_1()).await,
        ["smithparent@mail.com"]
    );
}

/// Many writing transactions (PostgreSQL folds its change rows past a few
/// hundred): the generation still moves on every one, never back.
#[tokio::test]
async fn the_generation_moves_on_every_writing_transaction_across_folds() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let db = &test_db.db;
    let ids = ids_of(db, smiths()).await;
    let mut last = generation(db, DISTRICT).await;
    for round in 0..300 {
        let status = if round % 2 == 0 {
            AccountStatus::Deactivated
        } else {
            AccountStatus::Invitee
        };
        let id = ids[1].clone();
        db.run(move |c| {
            use identity_svc::store::schema::accounts;
            diesel::update(accounts::table.filter(accounts::id.eq(id)))
                .set(accounts::status.eq(status.as_str()))
                .execute(c)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
        let now = generation(db, DISTRICT).await;
        assert!(now > last, "round {round}: {now} after {last}");
        last = now;
    }
}

#[tokio::test]
async fn home_phones_count_only_when_asked_for() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let mut a = guardian("p-a", "Al", "Ng", "al@mail.com", "");
    a.home_phone = Some(Some("+15557770000".into()));
    let mut b = guardian("p-b", "Bea", "Ng", "bea@mail.com", "");
    b.home_phone = Some(Some("+15557770000".into()));
    ids_of(&test_db.db, vec![a, b]).await;

    assert!(
        shared(&test_db.db, default_filter())
            .await
            .credentials
            .is_empty()
    );
    let with_home = shared(&test_db.db, SharedFilter::new("", "", [], true)).await;
    assert_eq!(values(&with_home), vec!["+15557770000"]);
    assert_eq!(with_home.credentials[0].kind, CredentialKind::HomePhone);
}

#[tokio::test]
async fn paging_returns_every_shared_credential_exactly_once_most_shared_first() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    // Family f holds family{f}@mail.com on f % 3 + 2 accounts.
    let mut items = Vec::new();
    for family in 0..7 {
        for member in 0..(family % 3 + 2) {
            items.push(guardian(
                &format!("p-{family}-{member}"),
                &format!("Member{member}"),
                &format!("Family{family}"),
                &format!("family{family}@mail.com"),
                "",
            ));
        }
    }
    ids_of(&test_db.db, items).await;

    let cache = Arc::new(shared_cache());
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = list_shared_credentials(
            &test_db.db,
            &cache,
            &admin(),
            default_filter(),
            PageRequest::new(3, &token).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(page.total_size, 7);
        assert!(page.credentials.len() <= 3);
        seen.extend(
            page.credentials
                .into_iter()
                .map(|c| (c.shared_count, c.value)),
        );
        pages += 1;
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    let distinct: BTreeSet<&String> = seen.iter().map(|(_, v)| v).collect();
    assert_eq!((seen.len(), distinct.len()), (7, 7), "{seen:?}");
    let counts: Vec<u32> = seen.iter().map(|(n, _)| *n).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");

    let junk = PageRequest::new(3, "not-a-token").unwrap();
    let err = list_shared_credentials(&test_db.db, &cache, &admin(), default_filter(), junk)
        .await
        .unwrap_err();
    assert!(matches!(err, IdentityError::InvalidArgument(m) if m.contains("page_token")));
}

async fn set_password(ctx: &Ctx, account_id: &str, password: &str) {
    let hash = ctx.passwords.hash(password).unwrap();
    let id = account_id.to_string();
    ctx.db
        .run(move |c| {
            store::accounts::activate_with_password(c, &id, &hash, chrono::Utc::now().naive_utc())
                .map_err(DbError::from)
        })
        .await
        .unwrap();
}

async fn login_as(ctx: &Ctx, identifier: &str, password: &str) -> Result<(), IdentityError> {
    let attempt = LoginAttempt {
        identifier: Identifier::parse(identifier, Region::US).unwrap(),
        password: password.into(),
        district_id: None,
        client_address: Some("203.0.113.7".into()),
        device_token: None,
    };
    login(ctx, attempt).await.map(|_| ())
}

#[tokio::test]
async fn the_audit_log_shows_logins_newest_first_and_is_denied_to_a_guardian() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let (ctx, _) = crate::support::ctx(test_db.db.clone());
    let ids = ids_of(&ctx.db, smiths()).await;
    set_password(&ctx, &ids[0], "sarah-secret-1").await;
    login_as(&ctx, "(987) 654-3210", "sarah-secret-1")
        .await
        .unwrap();
    login_as(&ctx, "(987) 654-3210", "wrong-password")
        .await
        .unwrap_err();

    let query = AuditQuery {
        account_id: Some(ids[0].clone()),
        ..AuditQuery::default()
    };
    let page = list_audit_events(&ctx.db, &admin(), query.clone(), everything())
        .await
        .unwrap();
    let kinds: Vec<Option<AuditKind>> = page.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Some(AuditKind::LoginFailed),
            Some(AuditKind::LoginSucceeded)
        ]
    );
    assert!(page.events.iter().all(|e| e.subject_account_id == ids[0]));
    assert_eq!(page.events[0].ip_address, "203.0.113.7");
    assert_eq!(
        page.events[1].details.get("method").map(String::as_str),
        Some("password")
    );

    // One per page, then the kind filter.
    let first = list_audit_events(
        &ctx.db,
        &admin(),
        query.clone(),
        PageRequest::new(1, "").unwrap(),
    )
    .await
    .unwrap();
    let second = list_audit_events(
        &ctx.db,
        &admin(),
        query.clone(),
        PageRequest::new(1, &first.next_page_token).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(first.events[0].id, page.events[0].id);
    assert_eq!(second.events[0].id, page.events[1].id);
    let failures = AuditQuery {
        kinds: vec![AuditKind::LoginFailed],
        ..query
    };
    let page = list_audit_events(&ctx.db, &admin(), failures, everything())
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);

    let guardian = account(DISTRICT, &[(Role::Guardian, None)]);
    let err = list_audit_events(&ctx.db, &guardian, AuditQuery::default(), everything())
        .await
        .unwrap_err();
    assert!(matches!(err, IdentityError::PermissionDenied(m) if m.contains("DISTRICT_ADMIN")));
}

// ---- over gRPC ----

impl Server {
    /// An access token signed with the server's key (made by the first service token).
    pub(crate) async fn account_token(
        &mut self,
        district_id: &str,
        grants: &[(Role, Option<&str>)],
    ) -> String {
        self.service_token("gateway").await;
        let (ctx, _) = crate::support::ctx(self.db.db.clone());
        let Principal::Account { roles, .. } = account(district_id, grants) else {
            unreachable!()
        };
        ctx.tokens
            .access_token("caller", district_id, roles)
            .await
            .unwrap()
            .0
    }
}

#[tokio::test]
async fn another_districts_admin_and_a_teacher_are_denied_the_reports() {
    let mut s = server().await;
    ids_of(&s.db.db, smiths()).await;
    let outsider = s
        .account_token("district-2", &[(Role::DistrictAdmin, None)])
        .await;
    let teacher = s
        .account_token(DISTRICT, &[(Role::Teacher, Some("school-1"))])
        .await;
    let school_admin = s
        .account_token(DISTRICT, &[(Role::DistrictAdmin, Some("school-1"))])
        .await;
    for token in [&outsider, &teacher, &school_admin] {
        let list = pb::ListSharedCredentialsRequest {
            district_id: DISTRICT.into(),
            ..Default::default()
        };
        let err = s
            .client
            .list_shared_credentials(bearer(list, token))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        assert!(
            err.message().contains("DISTRICT_ADMIN"),
            "{}",
            err.message()
        );
        let download = pb::DownloadSharedCredentialsReportRequest {
            district_id: DISTRICT.into(),
            ..Default::default()
        };
        let err = s
            .client
            .download_shared_credentials_report(bearer(download, token))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        let audit = pb::ListAuditEventsRequest {
            district_id: DISTRICT.into(),
            ..Default::default()
        };
        let err = s
            .client
            .list_audit_events(bearer(audit, token))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    // The outsider asking for its own district sees nothing of district-1.
    let own = s
        .client
        .list_shared_credentials(bearer(
            pb::ListSharedCredentialsRequest::default(),
            &outsider,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(own.shared_credentials.is_empty());
}

#[tokio::test]
async fn the_csv_download_starts_with_a_bom_lists_both_holders_and_neutralises_formulas() {
    let mut s = server().await;
    let mut items = smiths();
    items.push(guardian(
        "p-evil",
        "=cmd",
        "Smith",
        "smithparent@mail.com",
        "",
    ));
    ids_of(&s.db.db, items).await;
    let admin = s
        .account_token(DISTRICT, &[(Role::DistrictAdmin, None)])
        .await;

    let listed = s
        .client
        .list_shared_credentials(bearer(pb::ListSharedCredentialsRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 1);
    assert_eq!(listed.shared_credentials[0].shared_count, 3);
    assert_eq!(
        listed.shared_credentials[0].kind,
        pb::CredentialKind::Email as i32
    );

    let mut stream = s
        .client
        .download_shared_credentials_report(bearer(
            pb::DownloadSharedCredentialsReportRequest::default(),
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.next().await {
        messages.push(message.unwrap());
    }
    assert_eq!(messages[0].content_type, "text/csv; charset=utf-8");
    assert!(messages[0].filename.starts_with("shared-credentials-"));
    assert!(messages[0].filename.ends_with(".csv"));
    assert!(messages[1..].iter().all(|m| m.filename.is_empty()));
    let bytes: Vec<u8> = messages.into_iter().flat_map(|m| m.chunk).collect();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("Credential kind,Value,Shared count,Account id,Name"));
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines.iter().any(|l| l.contains(",Sarah Smith,")));
    assert!(lines.iter().any(|l| l.contains(",Kevin Smith,")));
    assert!(lines.iter().any(|l| l.contains(",'=cmd Smith,")), "{text}");
    assert!(!text.contains(",=cmd"));
    assert!(lines[1].starts_with("email,smithparent@mail.com,3,"));
}

#[tokio::test]
async fn record_audit_events_is_refused_to_accounts_and_accepted_from_messaging() {
    let mut s = server().await;
    let admin = s
        .account_token(DISTRICT, &[(Role::DistrictAdmin, None)])
        .await;
    let reset = || pb::RecordAuditEventsRequest {
        events: vec![pb::AuditEventInput {
            kind: pb::AuditEventKind::AddressStatusReset as i32,
            district_id: DISTRICT.into(),
            actor_account_id: "staff-1".into(),
            subject_account_id: "guardian-1".into(),
            source: "messaging".into(),
            summary: "email status reset for s***@mail.com".into(),
            details: [("channel".to_string(), "email".to_string())].into(),
            ..Default::default()
        }],
    };
    let err = s
        .client
        .record_audit_events(bearer(reset(), &admin))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let messaging = s.service_token("messaging").await;
    let recorded = s
        .client
        .record_audit_events(bearer(reset(), &messaging))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recorded.event_ids.len(), 1);

    let mut junk = reset();
    junk.events[0].kind = pb::AuditEventKind::Unspecified as i32;
    let err = s
        .client
        .record_audit_events(bearer(junk, &messaging))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("events[0].kind"),
        "{}",
        err.message()
    );

    let listed = s
        .client
        .list_audit_events(bearer(
            pb::ListAuditEventsRequest {
                kinds: vec![pb::AuditEventKind::AddressStatusReset as i32],
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let event = &listed.events[0];
    assert_eq!(event.event_id, recorded.event_ids[0]);
    assert_eq!(
        (
            event.actor_account_id.as_str(),
            event.actor_service.as_str(),
            event.source.as_str(),
            event.summary.as_str(),
        ),
        (
            "staff-1",
            "messaging",
            "messaging",
            "email status reset for s***@mail.com"
        )
    );
    assert_eq!(
        event.details.get("channel").map(String::as_str),
        Some("email")
    );
}
