//! ID-11 / RO-8 / RO-1 over the gRPC API: a student's profile, their
//! guardians, a guardian's students, and lists of students — each as the
//! district sees it, as a school, a teacher, a guardian, another district.

use homeroom_platform::{auth::Role, paging};
use homeroom_proto::roster::v1::{self as pb, roster_service_server::RosterService};
use tonic::Code;

use crate::reads_fixture::{District, refused, req};

fn names(students: &[pb::Student]) -> Vec<&str> {
    students.iter().map(|s| s.display_name.as_str()).collect()
}

#[tokio::test]
async fn a_student_profile_shows_the_school_the_guardians_primary_first_and_the_classes_by_title() {
    let d = District::new().await;
    for caller in [d.admin(Role::CommunicationsAdmin), d.service()] {
        let p = d.student(&caller, "s1").await.unwrap();
        let ana = p.student.unwrap();
        assert_eq!(ana.display_name, "Ana Smith");
        assert_eq!(ana.grade, "03");
        assert_eq!(ana.student_code, "1001");
        assert_eq!(ana.school_id, d.id("sch1"));
        assert_eq!(ana.school_ids, [d.id("sch1")]);
        assert_eq!(ana.status(), pb::RecordStatus::Active);
        assert_eq!(ana.sources[0].source_id, "s1");
        assert_eq!(ana.sources[0].kind(), pb::SyncSourceKind::OnerosterCsv);
        assert_eq!(p.school.unwrap().name, "Lincoln Elementary");
        let guardians: Vec<(&str, pb::GuardianRelationship, &str)> = p
            .guardians
            .iter()
            .map(|g| {
                let (guardian, link) = (g.guardian.as_ref().unwrap(), g.link.as_ref().unwrap());
                (
                    guardian.display_name.as_str(),
                    link.relationship(),
                    guardian.account_id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            guardians,
            [
                ("Kevin Smith", pb::GuardianRelationship::Guardian, "acct-g2"),
                ("Sarah Smith", pb::GuardianRelationship::Parent, "acct-g1"),
            ]
        );
        let classes: Vec<(&str, u32, &[String])> = p
            .classes
            .iter()
            .map(|c| {
                (
                    c.title.as_str(),
                    c.student_count,
                    c.teacher_names.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            classes,
            [
                ("Grade 3 Homeroom", 2, &["Tom Reed".to_string()][..]),
                ("Math 3", 2, &["Val Moss".to_string()][..]),
            ]
        );
        let math = &p.classes[1];
        assert_eq!(math.course_title, "Mathematics 3");
        assert_eq!(math.academic_session_ids, [d.id("f26"), d.id("s27")]);
    }
}

#[tokio::test]
async fn a_teacher_sees_the_students_of_their_classes_and_of_those_only_the_classes_they_teach() {
    let d = District::new().await;
    let val = d.teacher("t3");
    let ana = d.student(&val, "s1").await.unwrap();
    let titles: Vec<&str> = ana.classes.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Math 3"], "not Tom's homeroom");
    assert_eq!(ana.guardians.len(), 2);
    refused(d.student(&val, "s4").await, Code::NotFound);
    refused(d.student(&d.teacher("t1"), "s2").await, Code::NotFound);

    let page = d
        .api
        .list_students(req(
            &d.teacher("t1"),
            pb::ListStudentsRequest {
                district_id: d.district_id(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&page.students), ["Cal Jones", "Ana Smith"]);
    assert_eq!(page.total_size, 2);
}

#[tokio::test]
async fn a_guardian_sees_their_own_children_and_nobody_else() {
    let d = District::new().await;
    let sarah = d.guardian("g1");
    let ana = d.student(&sarah, "s1").await.unwrap();
    assert_eq!(ana.classes.len(), 2, "a guardian sees every class");
    d.student(&sarah, "s2").await.unwrap();
    let message = refused(d.student(&sarah, "s3").await, Code::NotFound);
    assert_eq!(message, "no such student");

    let mine = d
        .api
        .list_guardian_students(req(
            &sarah,
            pb::ListGuardianStudentsRequest {
                account_id: "acct-g1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<(&str, &str, bool)> = mine
        .students
        .iter()
        .map(|s| {
            (
                s.student.as_ref().unwrap().display_name.as_str(),
                s.school.as_ref().unwrap().name.as_str(),
                s.link.as_ref().unwrap().guardian_id == d.id("g1"),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("Ana Smith", "Lincoln Elementary", true),
            ("Ben Smith", "Washington Middle", true)
        ]
    );

    for key in [
        pb::ListGuardianStudentsRequest {
            account_id: "acct-g3".into(),
            ..Default::default()
        },
        pb::ListGuardianStudentsRequest {
            guardian_id: d.id("g3"),
            ..Default::default()
        },
    ] {
        refused(
            d.api.list_guardian_students(req(&sarah, key)).await,
            Code::NotFound,
        );
    }
    let message = refused(
        d.api
            .list_students(req(
                &sarah,
                pb::ListStudentsRequest {
                    district_id: d.district_id(),
                    ..Default::default()
                },
            ))
            .await,
        Code::PermissionDenied,
    );
    assert!(message.contains("administrators"), "{message}");
}

#[tokio::test]
async fn another_districts_administrator_finds_none_of_this_districts_records() {
    let d = District::new().await;
    let olga = d.outsider();
    refused(d.student(&olga, "s1").await, Code::NotFound);
    refused(
        d.api
            .list_student_guardians(req(
                &olga,
                pb::ListStudentGuardiansRequest {
                    student_id: d.id("s1"),
                    include_inactive: true,
                },
            ))
            .await,
        Code::NotFound,
    );
    refused(
        d.api
            .list_guardian_students(req(
                &olga,
                pb::ListGuardianStudentsRequest {
                    guardian_id: d.id("g1"),
                    ..Default::default()
                },
            ))
            .await,
        Code::NotFound,
    );
    let theirs = d
        .api
        .list_guardian_students(req(
            &olga,
            pb::ListGuardianStudentsRequest {
                account_id: "acct-g1".into(),
                ..Default::default()
            },
        ))
        .await;
    refused(theirs, Code::NotFound);
    refused(
        d.api
            .list_students(req(
                &olga,
                pb::ListStudentsRequest {
                    district_id: d.district_id(),
                    ..Default::default()
                },
            ))
            .await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn a_school_scoped_user_manager_sees_only_the_students_of_their_school() {
    let d = District::new().await;
    let washington = d.account("acct-um", &[(Role::UserManager, Some("sch2"))]);
    d.student(&washington, "s2").await.unwrap();
    refused(d.student(&washington, "s1").await, Code::NotFound);
    refused(
        d.api
            .list_student_guardians(req(
                &washington,
                pb::ListStudentGuardiansRequest {
                    student_id: d.id("s1"),
                    include_inactive: false,
                },
            ))
            .await,
        Code::NotFound,
    );
    let page = d
        .api
        .list_students(req(
            &washington,
            pb::ListStudentsRequest {
                district_id: d.district_id(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&page.students), ["Ben Smith"]);
    let sarahs = d
        .api
        .list_guardian_students(req(
            &washington,
            pb::ListGuardianStudentsRequest {
                guardian_id: d.id("g1"),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<&str> = sarahs
        .students
        .iter()
        .map(|s| s.student.as_ref().unwrap().display_name.as_str())
        .collect();
    assert_eq!(listed, ["Ben Smith"], "Ana is at another school");
}

#[tokio::test]
async fn a_students_guardians_include_deactivated_links_only_when_asked() {
    let d = District::new().await;
    let (kevin, ana) = (d.id("g2"), d.id("s1"));
    d.f.ctx
        .db
        .run(move |c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::guardian_links as l;
            diesel::update(l::table.find((kevin, ana)))
                .set(l::status.eq("deactivated"))
                .execute(c)
                .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap();
    let list = |include_inactive| {
        d.api.list_student_guardians(req(
            &d.admin(Role::DistrictAdmin),
            pb::ListStudentGuardiansRequest {
                student_id: d.id("s1"),
                include_inactive,
            },
        ))
    };
    let active = list(false).await.unwrap().into_inner();
    let shown: Vec<&str> = active
        .guardians
        .iter()
        .map(|g| g.guardian.as_ref().unwrap().display_name.as_str())
        .collect();
    assert_eq!(shown, ["Sarah Smith"]);
    let all = list(true).await.unwrap().into_inner();
    let shown: Vec<(&str, pb::RecordStatus)> = all
        .guardians
        .iter()
        .map(|g| {
            (
                g.guardian.as_ref().unwrap().display_name.as_str(),
                g.link.as_ref().unwrap().status(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("Sarah Smith", pb::RecordStatus::Active),
            ("Kevin Smith", pb::RecordStatus::Deactivated)
        ],
        "active links first"
    );
    let profile = d.student(&d.service(), "s1").await.unwrap();
    assert_eq!(
        profile.guardians.len(),
        1,
        "a profile shows active guardians"
    );
    // Kevin's own list: Ana only with include_inactive.
    let kevins = |include_inactive| {
        d.api.list_guardian_students(req(
            &d.guardian("g2"),
            pb::ListGuardianStudentsRequest {
                account_id: "acct-g2".into(),
                include_inactive,
                ..Default::default()
            },
        ))
    };
    assert!(
        kevins(false)
            .await
            .unwrap()
            .into_inner()
            .students
            .is_empty()
    );
    assert_eq!(kevins(true).await.unwrap().into_inner().students.len(), 1);
}

#[tokio::test]
async fn bad_ids_and_keys_are_refused_with_the_field_named() {
    let d = District::new().await;
    let admin = d.admin(Role::DistrictAdmin);
    let message = refused(
        d.api
            .get_student(req(
                &admin,
                pb::GetStudentRequest {
                    student_id: "s1".into(),
                },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert!(
        message.starts_with("student_id: \"s1\" is not a roster id"),
        "{message}"
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    refused(
        d.api
            .get_student(req(
                &admin,
                pb::GetStudentRequest {
                    student_id: unknown,
                },
            ))
            .await,
        Code::NotFound,
    );
    let message = refused(
        d.api
            .list_guardian_students(req(&admin, pb::ListGuardianStudentsRequest::default()))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(message, "guardian_id or account_id: required");
    let message = refused(
        d.api
            .list_guardian_students(req(
                &admin,
                pb::ListGuardianStudentsRequest {
                    guardian_id: d.id("g1"),
                    account_id: "acct-g1".into(),
                    include_inactive: false,
                },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(
        message,
        "guardian_id, account_id: set one of them, not both"
    );
    // A student's id is not a guardian's.
    refused(
        d.api
            .list_guardian_students(req(
                &admin,
                pb::ListGuardianStudentsRequest {
                    guardian_id: d.id("s1"),
                    ..Default::default()
                },
            ))
            .await,
        Code::NotFound,
    );
    let message = refused(
        d.api
            .list_students(req(
                &admin,
                pb::ListStudentsRequest {
                    district_id: d.district_id(),
                    page_token: "not-a-token".into(),
                    ..Default::default()
                },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(message, paging::BAD_TOKEN);
    let message = refused(
        d.api
            .list_students(req(&admin, pb::ListStudentsRequest::default()))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(message, "district_id: required");
}

#[tokio::test]
async fn students_page_by_name_and_filter_by_school_class_grade_code_text_and_status() {
    let d = District::new().await;
    let admin = d.admin(Role::RosteringAdmin);
    let list = |r: pb::ListStudentsRequest| {
        let request = req(
            &admin,
            pb::ListStudentsRequest {
                district_id: d.district_id(),
                ..r
            },
        );
        async { d.api.list_students(request).await.unwrap().into_inner() }
    };
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(pb::ListStudentsRequest {
            page_size: 2,
            page_token: token.clone(),
            ..Default::default()
        })
        .await;
        assert_eq!(page.total_size, 5);
        assert!(page.students.len() <= 2);
        seen.extend(page.students.iter().map(|s| s.display_name.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        [
            "Cal Jones",
            "Dee Jones",
            "Eve Park",
            "Ana Smith",
            "Ben Smith"
        ]
    );

    let cases = [
        (
            pb::ListStudentsRequest {
                school_id: d.id("sch2"),
                ..Default::default()
            },
            vec!["Ben Smith"],
        ),
        (
            pb::ListStudentsRequest {
                class_id: d.id("c3"),
                ..Default::default()
            },
            vec!["Cal Jones", "Ana Smith"],
        ),
        (
            pb::ListStudentsRequest {
                grade: "03".into(),
                ..Default::default()
            },
            vec!["Cal Jones", "Ana Smith"],
        ),
        (
            pb::ListStudentsRequest {
                student_codes: vec!["1004".into(), "1005".into(), "9999".into()],
                ..Default::default()
            },
            vec!["Dee Jones", "Eve Park"],
        ),
        (
            pb::ListStudentsRequest {
                query: " SMI ".into(),
                ..Default::default()
            },
            vec!["Ana Smith", "Ben Smith"],
        ),
        (
            pb::ListStudentsRequest {
                query: "ana smith".into(),
                ..Default::default()
            },
            vec!["Ana Smith"],
        ),
        (
            pb::ListStudentsRequest {
                query: "1003".into(),
                ..Default::default()
            },
            vec!["Cal Jones"],
        ),
        (
            pb::ListStudentsRequest {
                query: "%".into(),
                ..Default::default()
            },
            vec![],
        ),
        (
            pb::ListStudentsRequest {
                school_id: d.id("sch1"),
                grade: "03".into(),
                query: "jones".into(),
                ..Default::default()
            },
            vec!["Cal Jones"],
        ),
    ];
    for (filter, expected) in cases {
        let shown = format!("{filter:?}");
        let page = list(filter).await;
        assert_eq!(names(&page.students), expected, "{shown}");
        assert_eq!(page.total_size as usize, expected.len(), "{shown}");
    }

    // SQLite searches through a trigram index of people: what a VACUUM may
    // do to it (every row another rowid) is found and mended at start.
    if d.f.ctx.db.backend() == homeroom_platform::db::Backend::Sqlite {
        use diesel::connection::SimpleConnection;
        d.f.ctx
            .db
            .run(|c| {
                c.batch_execute("UPDATE people SET rowid = rowid + 1000")
                    .map_err(homeroom_platform::db::DbError::from)
            })
            .await
            .unwrap();
        let stale = list(pb::ListStudentsRequest {
            query: "smith".into(),
            ..Default::default()
        })
        .await;
        assert!(stale.students.is_empty(), "the index is stale");
        d.f.ctx.db.migrate(&roster_svc::MIGRATIONS).await.unwrap();
    }
    let found = list(pb::ListStudentsRequest {
        query: "smith".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(names(&found.students), ["Ana Smith", "Ben Smith"]);

    d.set_person_status("s5", "deactivated").await;
    let active = list(pb::ListStudentsRequest::default()).await;
    assert_eq!(active.total_size, 4);
    let gone = list(pb::ListStudentsRequest {
        statuses: vec![pb::RecordStatus::Deactivated.into()],
        ..Default::default()
    })
    .await;
    assert_eq!(names(&gone.students), ["Eve Park"]);
    assert_eq!(gone.students[0].status(), pb::RecordStatus::Deactivated);
    let both = list(pb::ListStudentsRequest {
        statuses: vec![
            pb::RecordStatus::Active.into(),
            pb::RecordStatus::Deactivated.into(),
        ],
        ..Default::default()
    })
    .await;
    assert_eq!(both.total_size, 5);
}
