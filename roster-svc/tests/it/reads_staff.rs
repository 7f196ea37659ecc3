//! RO-1 over the gRPC API: one guardian by id or account, and staff — one
//! by id or account, and lists by school, role and text — for whoever may
//! see them.

use homeroom_platform::auth::Role;
use homeroom_proto::roster::v1::{self as pb, roster_service_server::RosterService};
use tonic::Code;

use crate::reads_fixture::{District, refused, req};

async fn guardian(
    d: &District,
    caller: &homeroom_platform::auth::Principal,
    r: pb::GetGuardianRequest,
) -> Result<pb::Guardian, tonic::Status> {
    d.api
        .get_guardian(req(caller, r))
        .await
        .map(|r| r.into_inner().guardian.unwrap())
}

#[tokio::test]
async fn a_guardian_is_read_by_id_or_account_by_themself_their_childrens_teachers_and_admins() {
    let d = District::new().await;
    let by_id = pb::GetGuardianRequest {
        guardian_id: d.id("g1"),
        ..Default::default()
    };
    let by_account = pb::GetGuardianRequest {
        account_id: "acct-g1".into(),
        ..Default::default()
    };
    for caller in [
        d.admin(Role::UserManager),
        d.service(),
        d.guardian("g1"),
        d.teacher("t1"),
        d.account("acct-t2", &[(Role::Teacher, Some("sch2"))]),
        d.account("acct-um", &[(Role::UserManager, Some("sch2"))]),
    ] {
        for key in [&by_id, &by_account] {
            let sarah = guardian(&d, &caller, key.clone()).await.unwrap();
            assert_eq!(sarah.guardian_id, d.id("g1"), "{caller:?}");
            assert_eq!(sarah.display_name, "Sarah Smith");
            assert_eq!(sarah.email, "sarah@mail.com");
            assert_eq!(sarah.account_id, "acct-g1");
            assert_eq!(sarah.sources.len(), 1);
            assert_eq!(sarah.sources[0].source_id, "g1");
        }
    }
    // Pat's only student, Dee, is at Lincoln and in no class.
    let pat = pb::GetGuardianRequest {
        guardian_id: d.id("g3"),
        ..Default::default()
    };
    let lincoln = d.account("acct-um", &[(Role::UserManager, Some("sch1"))]);
    guardian(&d, &lincoln, pat.clone()).await.unwrap();
    for caller in [
        d.guardian("g1"),
        d.teacher("t1"),
        d.account("acct-staff", &[(Role::Staff, None)]),
        d.account("acct-um", &[(Role::UserManager, Some("sch2"))]),
        d.outsider(),
    ] {
        refused(guardian(&d, &caller, pat.clone()).await, Code::NotFound);
    }
    refused(
        guardian(&d, &d.service(), pb::GetGuardianRequest::default()).await,
        Code::InvalidArgument,
    );
    refused(
        guardian(
            &d,
            &d.service(),
            pb::GetGuardianRequest {
                account_id: "acct-nobody".into(),
                ..Default::default()
            },
        )
        .await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn a_staff_member_is_read_by_staff_of_their_school_and_by_themself() {
    let d = District::new().await;
    let get = |caller: homeroom_platform::auth::Principal, r: pb::GetStaffRequest| {
        let request = req(&caller, r);
        async {
            d.api
                .get_staff(request)
                .await
                .map(|r| r.into_inner().staff.unwrap())
        }
    };
    let tom = get(
        d.account("acct-x", &[(Role::Staff, Some("sch1"))]),
        pb::GetStaffRequest {
            staff_id: d.id("t1"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(tom.display_name, "Tom Reed");
    assert_eq!(tom.role(), pb::StaffRole::Teacher);
    assert_eq!(tom.school_ids, [d.id("sch1")]);
    assert_eq!(tom.email, "treed@school.org");
    let ned = get(
        d.teacher("t2"),
        pb::GetStaffRequest {
            account_id: "acct-n1".into(),
            ..Default::default()
        },
    )
    .await;
    refused(ned, Code::NotFound);
    let ned = get(
        d.account("acct-t2", &[(Role::Teacher, Some("sch2"))]),
        pb::GetStaffRequest {
            account_id: "acct-n1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(ned.role(), pb::StaffRole::Counselor);
    // Themself, whatever their grants say.
    let own = get(
        d.account("acct-a1", &[]),
        pb::GetStaffRequest {
            account_id: "acct-a1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(own.role(), pb::StaffRole::Administrator);
    for caller in [d.guardian("g1"), d.outsider()] {
        refused(
            get(
                caller,
                pb::GetStaffRequest {
                    staff_id: d.id("t1"),
                    ..Default::default()
                },
            )
            .await,
            Code::NotFound,
        );
    }
    refused(
        get(
            d.service(),
            pb::GetStaffRequest {
                staff_id: d.id("s1"),
                ..Default::default()
            },
        )
        .await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn staff_lists_filter_by_school_role_and_text_and_page_by_name() {
    let d = District::new().await;
    let list = |caller: homeroom_platform::auth::Principal, r: pb::ListStaffRequest| {
        let request = req(
            &caller,
            pb::ListStaffRequest {
                district_id: d.district_id(),
                ..r
            },
        );
        async { d.api.list_staff(request).await.map(|r| r.into_inner()) }
    };
    let names = |page: &pb::ListStaffResponse| -> Vec<String> {
        page.staff.iter().map(|s| s.display_name.clone()).collect()
    };
    let admin = d.admin(Role::DistrictAdmin);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            admin.clone(),
            pb::ListStaffRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        seen.extend(names(&page));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        ["Ned Cole", "Val Moss", "Tom Reed", "Una Vance", "Amy Ward"]
    );
    let role = |r: pb::StaffRole| pb::ListStaffRequest {
        roles: vec![r.into()],
        ..Default::default()
    };
    let cases = [
        (
            role(pb::StaffRole::Teacher),
            vec!["Val Moss", "Tom Reed", "Una Vance"],
        ),
        (role(pb::StaffRole::Administrator), vec!["Amy Ward"]),
        (role(pb::StaffRole::Counselor), vec!["Ned Cole"]),
        (role(pb::StaffRole::Other), vec![]),
        (
            pb::ListStaffRequest {
                roles: vec![
                    pb::StaffRole::Counselor.into(),
                    pb::StaffRole::Administrator.into(),
                ],
                ..Default::default()
            },
            vec!["Ned Cole", "Amy Ward"],
        ),
        (
            pb::ListStaffRequest {
                school_id: d.id("sch2"),
                ..Default::default()
            },
            vec!["Ned Cole", "Una Vance"],
        ),
        (
            pb::ListStaffRequest {
                query: "TREED@".into(),
                ..Default::default()
            },
            vec!["Tom Reed"],
        ),
        (
            pb::ListStaffRequest {
                query: "va".into(),
                ..Default::default()
            },
            vec!["Val Moss", "Una Vance"],
        ),
    ];
    for (filter, expected) in cases {
        let shown = format!("{filter:?}");
        assert_eq!(
            names(&list(admin.clone(), filter).await.unwrap()),
            expected,
            "{shown}"
        );
    }
    let washington = d.account("acct-t2", &[(Role::Teacher, Some("sch2"))]);
    let page = list(washington.clone(), pb::ListStaffRequest::default())
        .await
        .unwrap();
    assert_eq!(names(&page), ["Ned Cole", "Una Vance"]);
    let other_school = list(
        washington,
        pb::ListStaffRequest {
            school_id: d.id("sch1"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(other_school.staff.is_empty());
    let message = refused(
        list(d.guardian("g1"), pb::ListStaffRequest::default()).await,
        Code::PermissionDenied,
    );
    assert_eq!(message, "only staff of the district may list its staff");
    refused(
        list(d.outsider(), pb::ListStaffRequest::default()).await,
        Code::NotFound,
    );
}
