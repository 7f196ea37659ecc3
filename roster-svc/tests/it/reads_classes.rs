//! RO-1 over the gRPC API: schools, academic sessions, classes and
//! enrollments — paged, filtered, and limited to what the caller may see.

use homeroom_platform::auth::{Principal, Role};
use homeroom_proto::roster::v1::{self as pb, roster_service_server::RosterService};
use tonic::Code;

use crate::reads_fixture::{District, refused, req};

#[tokio::test]
async fn a_school_is_read_by_any_account_of_its_district_and_listed_by_its_staff() {
    let d = District::new().await;
    for caller in [d.guardian("g3"), d.teacher("t1"), d.service()] {
        let school = d
            .api
            .get_school(req(
                &caller,
                pb::GetSchoolRequest {
                    school_id: d.id("sch2"),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .school
            .unwrap();
        assert_eq!(school.name, "Washington Middle");
        assert_eq!(school.school_number, "102");
        assert_eq!(school.sources[0].source_id, "sch2");
    }
    refused(
        d.api
            .get_school(req(
                &d.outsider(),
                pb::GetSchoolRequest {
                    school_id: d.id("sch2"),
                },
            ))
            .await,
        Code::NotFound,
    );

    let list = |caller: Principal, r: pb::ListSchoolsRequest| {
        let request = req(
            &caller,
            pb::ListSchoolsRequest {
                district_id: d.district_id(),
                ..r
            },
        );
        async { d.api.list_schools(request).await.map(|r| r.into_inner()) }
    };
    let names = |page: &pb::ListSchoolsResponse| -> Vec<String> {
        page.schools.iter().map(|s| s.name.clone()).collect()
    };
    let admin = d.admin(Role::DistrictAdmin);
    let first = list(
        admin.clone(),
        pb::ListSchoolsRequest {
            page_size: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&first), ["Lincoln Elementary"]);
    let second = list(
        admin.clone(),
        pb::ListSchoolsRequest {
            page_size: 1,
            page_token: first.next_page_token,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&second), ["Washington Middle"]);
    assert!(second.next_page_token.is_empty());
    let found = list(
        admin,
        pb::ListSchoolsRequest {
            query: "101".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&found), ["Lincoln Elementary"]);
    let own = list(
        d.account("acct-t2", &[(Role::Teacher, Some("sch2"))]),
        pb::ListSchoolsRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        names(&own),
        ["Washington Middle"],
        "a school's staff see their school"
    );
    refused(
        list(d.guardian("g1"), pb::ListSchoolsRequest::default()).await,
        Code::PermissionDenied,
    );
    refused(
        list(d.outsider(), pb::ListSchoolsRequest::default()).await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn academic_sessions_come_by_start_date_with_their_parent() {
    let d = District::new().await;
    let list = |caller: Principal, r: pb::ListAcademicSessionsRequest| {
        let request = req(
            &caller,
            pb::ListAcademicSessionsRequest {
                district_id: d.district_id(),
                ..r
            },
        );
        async {
            d.api
                .list_academic_sessions(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    let staff = d.account("acct-staff", &[(Role::Staff, Some("sch2"))]);
    let first = list(
        staff.clone(),
        pb::ListAcademicSessionsRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let rest = list(
        staff.clone(),
        pb::ListAcademicSessionsRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(rest.next_page_token.is_empty());
    let sessions: Vec<_> = first
        .academic_sessions
        .iter()
        .chain(&rest.academic_sessions)
        .map(|s| {
            (
                s.title.as_str(),
                s.r#type(),
                s.start_date.as_str(),
                s.parent_academic_session_id.as_str(),
            )
        })
        .collect();
    let year = d.id("y26");
    assert_eq!(
        sessions,
        [
            (
                "2026-2027",
                pb::AcademicSessionType::SchoolYear,
                "2026-08-01",
                ""
            ),
            (
                "Fall 2026",
                pb::AcademicSessionType::Term,
                "2026-08-01",
                year.as_str()
            ),
            (
                "Spring 2027",
                pb::AcademicSessionType::Term,
                "2027-01-05",
                year.as_str()
            ),
        ]
    );
    let of_school = list(
        staff,
        pb::ListAcademicSessionsRequest {
            school_id: d.id("sch1"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        of_school.academic_sessions.len(),
        3,
        "sessions are district-wide"
    );
    let unknown = pb::ListAcademicSessionsRequest {
        school_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };
    refused(list(d.service(), unknown).await, Code::NotFound);
    refused(
        list(d.guardian("g1"), pb::ListAcademicSessionsRequest::default()).await,
        Code::PermissionDenied,
    );
}

fn titles(page: &pb::ListClassesResponse) -> Vec<&str> {
    page.classes.iter().map(|c| c.title.as_str()).collect()
}

#[tokio::test]
async fn classes_filter_by_school_person_account_session_and_text_for_whoever_may_see_them() {
    let d = District::new().await;
    let list = |caller: Principal, r: pb::ListClassesRequest| {
        let request = req(
            &caller,
            pb::ListClassesRequest {
                district_id: d.district_id(),
                ..r
            },
        );
        async { d.api.list_classes(request).await.map(|r| r.into_inner()) }
    };
    let admin = d.admin(Role::CommunicationsAdmin);
    let all = list(admin.clone(), pb::ListClassesRequest::default())
        .await
        .unwrap();
    assert_eq!(titles(&all), ["Grade 3 Homeroom", "Math 3", "Science 7"]);
    let math = &all.classes[1];
    assert_eq!(math.class_code, "MATH3");
    assert_eq!(math.class_type(), pb::ClassType::Scheduled);
    assert_eq!(math.course_code, "MATH3");
    assert_eq!(math.grades, ["03"]);
    assert_eq!(math.student_count, 2);
    assert_eq!(math.teacher_names, ["Val Moss"]);
    let paged = list(
        admin.clone(),
        pb::ListClassesRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let last = list(
        admin.clone(),
        pb::ListClassesRequest {
            page_size: 2,
            page_token: paged.next_page_token.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(titles(&paged), ["Grade 3 Homeroom", "Math 3"]);
    assert_eq!(titles(&last), ["Science 7"]);

    let cases = [
        (
            pb::ListClassesRequest {
                school_id: d.id("sch2"),
                ..Default::default()
            },
            vec!["Science 7"],
        ),
        (
            pb::ListClassesRequest {
                staff_id: d.id("t3"),
                ..Default::default()
            },
            vec!["Math 3"],
        ),
        (
            pb::ListClassesRequest {
                student_id: d.id("s1"),
                ..Default::default()
            },
            vec!["Grade 3 Homeroom", "Math 3"],
        ),
        (
            pb::ListClassesRequest {
                student_id: d.id("s1"),
                staff_id: d.id("t1"),
                ..Default::default()
            },
            vec!["Grade 3 Homeroom"],
        ),
        (
            pb::ListClassesRequest {
                account_id: "acct-t1".into(),
                ..Default::default()
            },
            vec!["Grade 3 Homeroom"],
        ),
        (
            pb::ListClassesRequest {
                academic_session_id: d.id("f26"),
                ..Default::default()
            },
            vec!["Math 3", "Science 7"],
        ),
        (
            pb::ListClassesRequest {
                academic_session_id: d.id("s27"),
                ..Default::default()
            },
            vec!["Math 3"],
        ),
        (
            pb::ListClassesRequest {
                query: "hr3".into(),
                ..Default::default()
            },
            vec!["Grade 3 Homeroom"],
        ),
    ];
    for (filter, expected) in cases {
        let shown = format!("{filter:?}");
        assert_eq!(
            titles(&list(admin.clone(), filter).await.unwrap()),
            expected,
            "{shown}"
        );
    }

    let seen_by = [
        (d.teacher("t1"), vec!["Grade 3 Homeroom"]),
        (
            d.guardian("g1"),
            vec!["Grade 3 Homeroom", "Math 3", "Science 7"],
        ),
        (d.guardian("g3"), vec![]),
        (
            d.account("acct-um", &[(Role::UserManager, Some("sch1"))]),
            vec!["Grade 3 Homeroom", "Math 3"],
        ),
    ];
    for (caller, expected) in seen_by {
        let page = list(caller.clone(), pb::ListClassesRequest::default())
            .await
            .unwrap();
        assert_eq!(titles(&page), expected, "{caller:?}");
    }
    refused(
        list(d.outsider(), pb::ListClassesRequest::default()).await,
        Code::NotFound,
    );
    refused(
        list(
            admin,
            pb::ListClassesRequest {
                academic_session_id: uuid::Uuid::now_v7().to_string(),
                ..Default::default()
            },
        )
        .await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn a_class_is_read_by_its_teachers_its_students_guardians_and_administrators() {
    let d = District::new().await;
    let get = |caller: Principal, sid: &str| {
        let request = req(
            &caller,
            pb::GetClassRequest {
                class_id: d.id(sid),
            },
        );
        async { d.api.get_class(request).await.map(|r| r.into_inner()) }
    };
    let science = get(d.guardian("g1"), "c2").await.unwrap().class.unwrap();
    assert_eq!(science.title, "Science 7");
    assert_eq!(science.teacher_names, ["Una Vance"]);
    assert_eq!(science.academic_session_ids, [d.id("f26")]);
    get(d.teacher("t1"), "c1").await.unwrap();
    get(
        d.account("acct-um", &[(Role::UserManager, Some("sch2"))]),
        "c2",
    )
    .await
    .unwrap();
    for (caller, class) in [
        (d.teacher("t1"), "c3"),
        (d.guardian("g3"), "c1"),
        (
            d.account("acct-um", &[(Role::UserManager, Some("sch2"))]),
            "c1",
        ),
        (d.outsider(), "c1"),
    ] {
        refused(get(caller, class).await, Code::NotFound);
    }
    let message = refused(
        d.api
            .get_class(req(
                &d.service(),
                pb::GetClassRequest {
                    class_id: "c1".into(),
                },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert!(message.starts_with("class_id: "), "{message}");
}

#[tokio::test]
async fn enrollments_of_a_class_show_classmates_to_staff_and_to_guardians_only_their_own() {
    let d = District::new().await;
    let list = |caller: Principal, r: pb::ListEnrollmentsRequest| {
        let request = req(
            &caller,
            pb::ListEnrollmentsRequest {
                district_id: d.district_id(),
                ..r
            },
        );
        async {
            d.api
                .list_enrollments(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    let of_class = |class: &str| pb::ListEnrollmentsRequest {
        class_id: d.id(class),
        ..Default::default()
    };
    let people = |page: &pb::ListEnrollmentsResponse| -> Vec<(String, pb::EnrollmentRole)> {
        let mut out: Vec<_> = page
            .enrollments
            .iter()
            .map(|e| (e.person_display_name.clone(), e.role()))
            .collect();
        out.sort();
        out
    };
    let homeroom = vec![
        ("Ana Smith".to_string(), pb::EnrollmentRole::Student),
        ("Cal Jones".to_string(), pb::EnrollmentRole::Student),
        ("Tom Reed".to_string(), pb::EnrollmentRole::Teacher),
    ];
    for caller in [d.admin(Role::DistrictAdmin), d.teacher("t1")] {
        let page = list(caller, of_class("c1")).await.unwrap();
        assert_eq!(people(&page), homeroom);
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            d.service(),
            pb::ListEnrollmentsRequest {
                page_size: 2,
                page_token: token,
                ..of_class("c1")
            },
        )
        .await
        .unwrap();
        assert!(page.enrollments.len() <= 2);
        seen.extend(page.enrollments);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 3);
    let tom = seen.iter().find(|e| e.staff_id == d.id("t1")).unwrap();
    assert!(tom.primary && tom.student_id.is_empty());
    assert_eq!(tom.school_id, d.id("sch1"));
    assert_eq!(tom.sources[0].source_id, "e2");

    let sarahs = list(d.guardian("g1"), of_class("c1")).await.unwrap();
    assert_eq!(
        people(&sarahs),
        [
            ("Ana Smith".to_string(), pb::EnrollmentRole::Student),
            ("Tom Reed".to_string(), pb::EnrollmentRole::Teacher),
        ],
        "Cal is not Sarah's"
    );
    let teachers = list(
        d.admin(Role::DistrictAdmin),
        pb::ListEnrollmentsRequest {
            roles: vec![pb::EnrollmentRole::Teacher.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(teachers.enrollments.len(), 3);
    let anas = list(
        d.admin(Role::DistrictAdmin),
        pb::ListEnrollmentsRequest {
            student_id: d.id("s1"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(anas.enrollments.len(), 2);
    assert!(
        list(d.teacher("t1"), of_class("c2"))
            .await
            .unwrap()
            .enrollments
            .is_empty()
    );
    refused(
        list(
            d.service(),
            pb::ListEnrollmentsRequest {
                student_id: d.id("s1"),
                staff_id: d.id("t1"),
                ..Default::default()
            },
        )
        .await,
        Code::InvalidArgument,
    );
    refused(list(d.outsider(), of_class("c1")).await, Code::NotFound);
}
