//! RO-8: the duplicate-guardian report against a real database — groups,
//! paging, the school filter, the CSV file, and who may read it.

use std::sync::Arc;

use chrono::Utc;
use diesel::prelude::*;
use homeroom_platform::{
    auth::{Principal, Role, RoleGrant},
    db::Db,
    paging,
    testing::TestDb,
};
use homeroom_proto::roster::v1 as pb;
use roster_svc::{
    MIGRATIONS,
    domain::error::RosterError,
    ops::{
        districts::{self, NewDistrict},
        duplicates,
    },
    store::{
        records::{LinkRow, PersonRow},
        schema::{guardian_links, people},
        sync::{self, SourceRow},
    },
};

struct Fixture {
    _db: TestDb,
    db: Db,
    /// One cache for the fixture's reads: a write between two reads is seen.
    cache: Arc<duplicates::DuplicateCache>,
    district_id: String,
    source_id: String,
}

fn service() -> Principal {
    Principal::Service {
        name: "gateway".into(),
    }
}

fn account(district_id: &str, role: Role, school_id: Option<&str>) -> Principal {
    Principal::Account {
        account_id: "acct-caller".into(),
        district_id: district_id.into(),
        roles: vec![RoleGrant {
            role,
            school_id: school_id.map(String::from),
        }],
    }
}

fn person(f: &Fixture, kind: &str, id: &str, given: &str, family: &str) -> PersonRow {
    let now = Utc::now().naive_utc();
    PersonRow {
        id: id.into(),
        district_id: f.district_id.clone(),
        kind: kind.into(),
        role: if kind == "guardian" { "parent" } else { kind }.into(),
        source_system: f.source_id.clone(),
        source_id: format!("sis-{id}"),
        account_id: None,
        given_name: given.into(),
        middle_name: None,
        family_name: family.into(),
        preferred_given_name: None,
        identifier: None,
        grades: String::new(),
        school_id: None,
        school_ids: String::new(),
        email: None,
        phone: None,
        home_phone: None,
        preferred_language: None,
        source_hash: None,
        sign_in_disabled: false,
        status: "active".into(),
        created_at: now,
        updated_at: now,
    }
}

fn student(
    f: &Fixture,
    id: &str,
    name: (&str, &str),
    code: Option<&str>,
    schools: &str,
) -> PersonRow {
    PersonRow {
        identifier: code.map(String::from),
        school_id: schools.split(' ').next().map(String::from),
        school_ids: schools.into(),
        ..person(f, "student", id, name.0, name.1)
    }
}

fn guardian(
    f: &Fixture,
    id: &str,
    name: (&str, &str),
    email: Option<&str>,
    phone: Option<&str>,
) -> PersonRow {
    PersonRow {
        email: email.map(String::from),
        phone: phone.map(String::from),
        ..person(f, "guardian", id, name.0, name.1)
    }
}

fn link(f: &Fixture, guardian_id: &str, student_id: &str) -> LinkRow {
    let now = Utc::now().naive_utc();
    LinkRow {
        guardian_id: guardian_id.into(),
        student_id: student_id.into(),
        district_id: f.district_id.clone(),
        source_system: f.source_id.clone(),
        relationship: "guardian".into(),
        is_primary: false,
        contact_type: String::new(),
        status: "active".into(),
        created_at: now,
        updated_at: now,
    }
}

fn deactivated(row: PersonRow) -> PersonRow {
    PersonRow {
        status: "deactivated".into(),
        ..row
    }
}

async fn district(db: &Db, name: &str) -> String {
    districts::create(
        db,
        &service(),
        NewDistrict {
            name: name.into(),
            time_zone: None,
            default_phone_region: None,
            supported_languages: vec![],
            idempotency_key: None,
        },
    )
    .await
    .unwrap()
    .id
}

async fn insert(db: &Db, persons: Vec<PersonRow>, links: Vec<LinkRow>) {
    db.run(move |c| {
        homeroom_platform::bulk_insert!(&mut *c, people::table, &persons, 100)?;
        homeroom_platform::bulk_insert!(&mut *c, guardian_links::table, &links, 100)?;
        Ok::<_, RosterError>(())
    })
    .await
    .unwrap();
}

impl Fixture {
    /// Two groups — the Smiths (a shared email and a shared student) and the
    /// Reeds (a shared phone) — among look-alikes that must not be grouped.
    async fn new() -> Fixture {
        let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
        let db = test_db.db.clone();
        let district_id = district(&db, "Springfield").await;
        let now = Utc::now().naive_utc();
        let source = SourceRow {
            id: uuid::Uuid::now_v7().to_string(),
            district_id: district_id.clone(),
            school_id: None,
            kind: "oneroster_csv".into(),
            name: "SIS".into(),
            config: "{}".into(),
            secret_ciphertext: None,
            daily_at: None,
            paused: false,
            manages_guardians: true,
            send_invitations: false,
            unarchive_classes: true,
            update_active_user_contacts: false,
            deactivation_threshold_percent: 10,
            deleted: false,
            student_account_grades: String::new(),
            created_at: now,
            updated_at: now,
        };
        let source_id = source.id.clone();
        db.run(move |c| sync::insert_source(c, &source).map_err(RosterError::from))
            .await
            .unwrap();
        let f = Fixture {
            _db: test_db,
            db,
            cache: Arc::new(duplicates::cache()),
            district_id,
            source_id,
        };
        let mut g1 = guardian(&f, "g1", ("Sarah", "Smith"), Some("sarah@mail.com"), None);
        g1.account_id = Some("acct-g1".into());
        let persons = vec![
            student(&f, "s1", ("Ana", "Smith"), Some("1001"), "sch-a"),
            student(&f, "s2", ("Ben", "Smith"), None, "sch-b"),
            student(&f, "s3", ("Cal", "Reed"), Some("1003"), "sch-c sch-b"),
            deactivated(student(&f, "s9", ("Dee", "Park"), Some("1009"), "sch-a")),
            g1,
            guardian(&f, "g2", ("SARAH ", " smith"), Some("Sarah@Mail.com"), None),
            guardian(&f, "g3", ("Sarah", "Smith"), Some("other@mail.com"), None),
            guardian(&f, "g4", ("Sarah", "Smith"), Some("four@mail.com"), None),
            guardian(&f, "g5", ("Tom", "Reed"), None, Some("+15550001111")),
            guardian(&f, "g6", ("tom", "reed"), None, Some("+15550001111")),
            deactivated(guardian(
                &f,
                "g7",
                ("Tom", "Reed"),
                None,
                Some("+15550001111"),
            )),
            guardian(&f, "g8", ("Ann", "Lee"), Some("lee@mail.com"), None),
            guardian(&f, "g9", ("Bob", "Lee"), Some("lee@mail.com"), None),
            guardian(&f, "g10", ("Kim", "Park"), None, None),
            guardian(&f, "g11", ("Kim", "Park"), None, None),
            guardian(&f, "g12", ("Joe", "Diaz"), None, None),
            guardian(&f, "g13", ("Joe", "Diaz"), None, None),
        ];
        let links = vec![
            link(&f, "g1", "s1"),
            link(&f, "g2", "s2"),
            link(&f, "g3", "s1"),
            link(&f, "g5", "s3"),
            link(&f, "g8", "s1"),
            link(&f, "g9", "s1"),
            // The Parks share only a deactivated student, the Diazes only a
            // deactivated link.
            link(&f, "g10", "s9"),
            link(&f, "g11", "s9"),
            link(&f, "g12", "s2"),
            LinkRow {
                status: "deactivated".into(),
                ..link(&f, "g13", "s2")
            },
        ];
        insert(&f.db, persons, links).await;
        f
    }

    fn admin(&self) -> Principal {
        account(&self.district_id, Role::RosteringAdmin, None)
    }

    async fn list(
        &self,
        caller: &Principal,
        school_id: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<pb::ListDuplicateGuardiansResponse, RosterError> {
        duplicates::list(
            &self.db,
            &self.cache,
            caller,
            pb::ListDuplicateGuardiansRequest {
                district_id: self.district_id.clone(),
                school_id: school_id.into(),
                page_size,
                page_token: page_token.into(),
            },
        )
        .await
    }

    async fn download(
        &self,
        caller: &Principal,
        school_id: &str,
    ) -> Result<roster_svc::ops::runs::ReportFile, RosterError> {
        duplicates::download(
            &self.db,
            &self.cache,
            caller,
            pb::DownloadDuplicateGuardiansRequest {
                district_id: self.district_id.clone(),
                school_id: school_id.into(),
            },
        )
        .await
    }
}

fn keys(page: &pb::ListDuplicateGuardiansResponse) -> Vec<(&str, Vec<&str>)> {
    page.groups
        .iter()
        .map(|g| {
            (
                g.group_key.as_str(),
                g.guardians.iter().map(|m| m.guardian_id.as_str()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn guardians_with_one_name_and_a_shared_email_phone_or_student_are_grouped_with_their_students()
 {
    let f = Fixture::new().await;
    let page = f.list(&f.admin(), "", 0, "").await.unwrap();
    assert_eq!(
        keys(&page),
        [("g1", vec!["g1", "g2", "g3"]), ("g5", vec!["g5", "g6"])]
    );
    assert_eq!(page.total_size, 2);
    assert_eq!(page.next_page_token, "");

    let smiths = &page.groups[0];
    assert_eq!(smiths.normalized_name, "sarah smith");
    assert_eq!(
        smiths.reasons,
        [
            i32::from(pb::DuplicateGuardianReason::SameNameSharedCredential),
            i32::from(pb::DuplicateGuardianReason::SameNameSameStudent),
        ]
    );
    assert_eq!(smiths.shared_values, ["sarah@mail.com"]);
    let g1 = &smiths.guardians[0];
    assert_eq!(g1.account_id, "acct-g1");
    assert_eq!(g1.display_name, "Sarah Smith");
    assert_eq!(g1.email, "sarah@mail.com");
    assert_eq!(g1.status, i32::from(pb::RecordStatus::Active));
    assert_eq!(
        g1.sources,
        [pb::SourceRef {
            sync_source_id: f.source_id.clone(),
            kind: pb::SyncSourceKind::OnerosterCsv.into(),
            source_id: "sis-g1".into(),
        }]
    );
    assert_eq!(
        g1.students,
        [pb::DuplicateGuardianStudent {
            student_id: "s1".into(),
            display_name: "Ana Smith".into(),
            student_code: "1001".into(),
            school_id: "sch-a".into(),
        }]
    );
    // Without an identifier the student code is the SIS sourcedId.
    assert_eq!(smiths.guardians[1].students[0].student_code, "sis-s2");

    let reeds = &page.groups[1];
    assert_eq!(reeds.normalized_name, "tom reed");
    assert_eq!(
        reeds.reasons,
        [i32::from(
            pb::DuplicateGuardianReason::SameNameSharedCredential
        )]
    );
    assert_eq!(reeds.shared_values, ["+15550001111"]);
    assert_eq!(reeds.guardians[0].mobile_phone, "+15550001111");
    assert!(reeds.guardians[1].students.is_empty());
}

#[tokio::test]
async fn guardians_of_another_district_are_never_grouped_with_this_one() {
    let f = Fixture::new().await;
    let other = district(&f.db, "Shelbyville").await;
    let mut twin = guardian(&f, "x1", ("Sarah", "Smith"), Some("four@mail.com"), None);
    twin.district_id = other;
    insert(&f.db, vec![twin], vec![]).await;
    let page = f.list(&f.admin(), "", 0, "").await.unwrap();
    assert_eq!(
        keys(&page),
        [("g1", vec!["g1", "g2", "g3"]), ("g5", vec!["g5", "g6"])]
    );
}

async fn set_person(db: &Db, id: &str, column: &'static str, value: &str) {
    let (id, value) = (id.to_string(), value.to_string());
    db.run(move |c| {
        let target = people::table.filter(people::id.eq(id));
        match column {
            "email" => diesel::update(target)
                .set(people::email.eq(value))
                .execute(c),
            "status" => diesel::update(target)
                .set(people::status.eq(value))
                .execute(c),
            "school_ids" => diesel::update(target)
                .set(people::school_ids.eq(value))
                .execute(c),
            _ => diesel::update(target)
                .set(people::updated_at.eq(Utc::now().naive_utc()))
                .execute(c),
        }
        .map_err(RosterError::from)
    })
    .await
    .unwrap();
}

async fn generation(db: &Db, district_id: &str) -> i64 {
    let district_id = district_id.to_string();
    db.run(move |c| {
        homeroom_platform::report_cache::generation(c, &district_id).map_err(RosterError::from)
    })
    .await
    .unwrap()
}

/// The report is computed once per change of the district: reading it or
/// writing a column it does not read moves nothing, and every write it reads
/// is in the next page read through the same cache.
#[tokio::test]
async fn the_cached_report_follows_every_write_it_reads_and_nothing_else() {
    let f = Fixture::new().await;
    let admin = f.admin();
    let groups = async |school: &str| {
        let page = f.list(&admin, school, 0, "").await.unwrap();
        keys(&page)
            .into_iter()
            .map(|(k, m)| (k.to_string(), m.join(" ")))
            .collect::<Vec<_>>()
    };
    let pair = |k: &str, m: &str| (k.to_string(), m.to_string());
    assert_eq!(
        groups("").await,
        [pair("g1", "g1 g2 g3"), pair("g5", "g5 g6")]
    );

    let before = generation(&f.db, &f.district_id).await;
    groups("").await;
    set_person(&f.db, "g4", "updated_at", "").await;
    let mut twin = guardian(&f, "x1", ("Tom", "Reed"), None, Some("+15550001111"));
    twin.district_id = district(&f.db, "Shelbyville").await;
    insert(&f.db, vec![twin], vec![]).await;
    assert_eq!(generation(&f.db, &f.district_id).await, before);

    set_person(&f.db, "g4", "email", "sarah@mail.com").await;
    assert_eq!(
        groups("").await,
        [pair("g1", "g1 g2 g3 g4"), pair("g5", "g5 g6")]
    );
    set_person(&f.db, "g6", "status", "deactivated").await;
    assert_eq!(groups("").await, [pair("g1", "g1 g2 g3 g4")]);
    assert_eq!(groups("sch-c").await, Vec::<(String, String)>::new());
    set_person(&f.db, "s1", "school_ids", "sch-a sch-c").await;
    assert_eq!(groups("sch-c").await, [pair("g1", "g1 g2 g3 g4")]);
}

#[tokio::test]
async fn groups_page_by_name_and_a_foreign_token_is_refused() {
    let f = Fixture::new().await;
    let first = f.list(&f.admin(), "", 1, "").await.unwrap();
    assert_eq!(keys(&first), [("g1", vec!["g1", "g2", "g3"])]);
    assert_eq!(first.total_size, 2);
    assert!(!first.next_page_token.is_empty());

    let second = f
        .list(&f.admin(), "", 1, &first.next_page_token)
        .await
        .unwrap();
    assert_eq!(keys(&second), [("g5", vec!["g5", "g6"])]);
    assert_eq!(second.total_size, 2);
    assert_eq!(second.next_page_token, "");

    for junk in ["!!".to_string(), paging::encode(&["a", "b", "c"])] {
        let err = f.list(&f.admin(), "", 1, &junk).await.unwrap_err();
        assert!(matches!(err, RosterError::InvalidArgument(_)), "{err:?}");
    }
}

#[tokio::test]
async fn a_school_filter_keeps_groups_with_a_student_in_that_school() {
    let f = Fixture::new().await;
    let admin = f.admin();
    let by_school = async |school: &str| {
        let page = f.list(&admin, school, 0, "").await.unwrap();
        page.groups
            .iter()
            .map(|g| g.group_key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(by_school("sch-a").await, ["g1"]);
    // s3's primary school is sch-c; it is also in sch-b.
    assert_eq!(by_school("sch-b").await, ["g1", "g5"]);
    assert_eq!(by_school("sch-c").await, ["g5"]);
    assert!(by_school("sch-z").await.is_empty());
}

#[tokio::test]
async fn the_csv_has_one_row_per_guardian_per_group() {
    let f = Fixture::new().await;
    let file = f.download(&f.admin(), "").await.unwrap();
    assert_eq!(file.content_type, "text/csv; charset=utf-8");
    assert_eq!(
        file.filename,
        format!("duplicate-guardians-{}.csv", f.district_id)
    );
    let text = String::from_utf8(file.bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        duplicates::CSV_HEADER
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let guardians: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(guardians, ["g1", "g2", "g3", "g5", "g6"]);
    assert_eq!(
        rows[0],
        [
            "g1",
            "same_name_shared_credential; same_name_same_student",
            "sarah smith",
            "sarah@mail.com",
            "g1",
            "acct-g1",
            "Sarah Smith",
            "sarah@mail.com",
            "",
            &format!("{}:sis-g1", f.source_id),
            "Ana Smith (1001)",
        ]
    );
    // Phone numbers start with "+", so the report keeps them as text.
    assert_eq!(rows[3][3], "'+15550001111");
    assert_eq!(rows[3][8], "'+15550001111");
    assert_eq!(rows[3][10], "Cal Reed (1003)");

    let school = f.download(&f.admin(), "sch-c").await.unwrap();
    let text = String::from_utf8(school.bytes).unwrap();
    assert_eq!(text.lines().count(), 3, "header and the two Reeds");
}

#[tokio::test]
async fn only_roster_admins_of_the_district_or_school_may_read_the_report() {
    let f = Fixture::new().await;
    let teacher = account(&f.district_id, Role::Teacher, None);
    let elsewhere = account("another-district", Role::RosteringAdmin, None);
    for caller in [&teacher, &elsewhere] {
        let err = f.list(caller, "", 0, "").await.unwrap_err();
        assert!(matches!(err, RosterError::PermissionDenied(_)), "{err:?}");
        let err = f.download(caller, "").await.unwrap_err();
        assert!(matches!(err, RosterError::PermissionDenied(_)), "{err:?}");
    }

    let school_admin = account(&f.district_id, Role::RosteringAdmin, Some("sch-a"));
    let page = f.list(&school_admin, "sch-a", 0, "").await.unwrap();
    assert_eq!(keys(&page), [("g1", vec!["g1", "g2", "g3"])]);
    let err = f.list(&school_admin, "", 0, "").await.unwrap_err();
    assert!(matches!(err, RosterError::PermissionDenied(_)), "{err:?}");
    let err = f.list(&school_admin, "sch-b", 0, "").await.unwrap_err();
    assert!(matches!(err, RosterError::PermissionDenied(_)), "{err:?}");

    let district_admin = account(&f.district_id, Role::DistrictAdmin, None);
    assert_eq!(
        f.list(&district_admin, "", 0, "").await.unwrap().total_size,
        2
    );
}

#[tokio::test]
async fn a_request_without_a_district_is_refused() {
    let f = Fixture::new().await;
    let err = duplicates::list(
        &f.db,
        &f.cache,
        &f.admin(),
        pb::ListDuplicateGuardiansRequest::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RosterError::InvalidArgument(_)), "{err:?}");
}
