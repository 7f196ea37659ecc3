use super::*;
use crate::domain::records::{Existing, ExistingPerson};

fn ctx(abandon: bool) -> UploadContext {
    UploadContext {
        phone_region: Region::US,
        languages: vec!["en".into(), "es".into(), "vi".into()],
        abandon,
        active_people_in_district: 100,
        threshold_percent: 20,
    }
}

fn student(n: u32) -> Student {
    Student {
        id: format!("st-{n}"),
        source_id: format!("s{n}"),
        identifier: Some(format!("100{n}")),
        data: PersonData {
            kind: PersonKind::Student,
            role: "student".into(),
            given_name: format!("Kid{n}"),
            middle_name: None,
            family_name: "Lee".into(),
            preferred_given_name: None,
            identifier: Some(format!("100{n}")),
            grades: "03".into(),
            school_id: Some("school-1".into()),
            school_ids: "school-1".into(),
            email: None,
            phone: None,
            home_phone: None,
            preferred_language: None,
            sign_in_disabled: false,
            source_hash: String::new(),
        },
    }
}

fn students() -> Vec<Student> {
    (1..=4).map(student).collect()
}

/// A row: student code, parent code, first, last, email, phone, home, language.
fn row(line: u64, cells: [&str; 8]) -> RowRead {
    RowRead::Row(InputRow {
        line,
        student_code: cells[0].into(),
        parent_code: cells[1].into(),
        first_name: cells[2].into(),
        last_name: cells[3].into(),
        email: cells[4].into(),
        phone: cells[5].into(),
        home_phone: cells[6].into(),
        language: cells[7].into(),
    })
}

fn guardian(given: &str, family: &str, email: Option<&str>, phone: Option<&str>) -> PersonData {
    person_data(&Fields {
        given_name: given.into(),
        family_name: family.into(),
        email: email.map(String::from),
        phone: phone.map(String::from),
        home_phone: None,
        language: "en".into(),
    })
}

/// An upload source that already has guardians, each linked to students.
fn state(guardians: &[(&str, &str, PersonData, &[u32])]) -> State {
    let mut s = State::default();
    for (sid, id, data, kids) in guardians {
        s.people.insert(
            sid.to_string(),
            ExistingPerson {
                record: Existing {
                    id: id.to_string(),
                    active: true,
                    data: data.clone().into(),
                },
                account_id: Some(format!("acct-{id}")),
            },
        );
        for k in *kids {
            s.links.insert(
                (id.to_string(), format!("st-{k}")),
                Existing {
                    id: String::new(),
                    active: true,
                    data: LinkData {
                        relationship: RELATIONSHIP.into(),
                        contact_type: String::new(),
                        is_primary: false,
                    },
                },
            );
        }
    }
    s
}

fn actions(p: &UploadPlan) -> Vec<(u64, Option<Action>, Option<String>)> {
    p.results
        .iter()
        .map(|r| (r.line, r.action, r.error.clone()))
        .collect()
}

#[test]
fn siblings_on_two_rows_with_one_parent_code_become_one_guardian_linked_to_both() {
    let rows = [
        row(
            2,
            ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
        row(
            3,
            ["1002", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert_eq!(p.plan.people.len(), 1);
    assert_eq!(p.plan.people[0].source_id, "P1");
    assert_eq!(p.plan.links.len(), 2);
    assert!(p.plan.links.iter().all(|l| l.op == Op::Create));
    assert_eq!(
        actions(&p),
        [
            (2, Some(Action::Created), None),
            (3, Some(Action::Created), None)
        ]
    );
    let g = &p.plan.people[0].id;
    assert_eq!(p.plan.guardian_students[g], ["st-1", "st-2"]);
    assert_eq!(p.plan.accounts.len(), 1, "one account for the guardian");
    let c = p.counts();
    assert_eq!((c.created, c.rows_succeeded, c.rows_failed), (1, 2, 0));
}

#[test]
fn rows_without_a_parent_code_with_the_same_name_and_a_shared_phone_are_one_guardian() {
    let rows = [
        row(
            2,
            ["1001", "", "Ann", "Lee", "", "(555) 201-0001", "", "es"],
        ),
        row(
            3,
            [
                "1002",
                "",
                " ann ",
                "LEE",
                "ann@example.com",
                "555-201-0001",
                "",
                "es",
            ],
        ),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert_eq!(p.plan.people.len(), 1);
    let d = p.plan.people[0].data.as_ref().unwrap();
    assert_eq!(d.phone.as_deref(), Some("+15552010001"));
    assert_eq!(
        d.email.as_deref(),
        Some("ann@example.com"),
        "blanks filled from the sibling row"
    );
    assert_eq!(d.preferred_language.as_deref(), Some("es"));
    assert!(p.plan.people[0].source_id.starts_with("upload-"));
    assert_eq!(p.plan.links.len(), 2);
}

#[test]
fn guardians_with_different_names_sharing_an_email_are_both_created() {
    let rows = [
        row(
            2,
            ["1001", "", "Sarah", "Lee", "family@example.com", "", "", ""],
        ),
        row(
            3,
            ["1001", "", "Kevin", "Lee", "family@example.com", "", "", ""],
        ),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert_eq!(p.plan.people.len(), 2);
    assert_eq!(
        actions(&p),
        [
            (2, Some(Action::Created), None),
            (3, Some(Action::Created), None)
        ]
    );
}

#[test]
fn a_bad_row_fails_alone_with_a_reason_naming_the_field() {
    let rows = [
        row(2, ["9999", "", "Ann", "Lee", "ann@example.com", "", "", ""]),
        row(3, ["1001", "", "Bo", "Lee", "", "", "", ""]),
        row(4, ["1001", "", "Cy", "Lee", "not-an-email", "", "", ""]),
        row(5, ["1001", "", "Di", "Lee", "", "12", "", ""]),
        row(6, ["1001", "", "Ed", "Lee", "", "555-201-0002", "abc", ""]),
        row(
            7,
            ["1001", "", "Fa", "Lee", "fa@example.com", "", "", "klingon"],
        ),
        row(
            8,
            [
                "1001",
                "",
                "Gu",
                "Lee",
                "gu@example.com",
                "",
                "555 201 0003",
                "",
            ],
        ),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    let errors: Vec<String> = p
        .results
        .iter()
        .map(|r| r.error.clone().unwrap_or_default())
        .collect();
    assert_eq!(errors[0], "Unknown student code 9999");
    assert!(errors[1].starts_with("email, phone:"), "{}", errors[1]);
    assert!(errors[2].starts_with("email:"), "{}", errors[2]);
    assert!(errors[3].starts_with("phone:"), "{}", errors[3]);
    assert!(errors[4].starts_with("home_phone:"), "{}", errors[4]);
    assert_eq!(errors[5], "language: must be one of en, es, vi");
    assert_eq!(errors[6], "");
    assert_eq!(p.plan.people.len(), 1, "only the good row writes");
    let d = p.plan.people[0].data.as_ref().unwrap();
    assert_eq!(
        d.home_phone.as_deref(),
        Some("+15552010003"),
        "home phone kept"
    );
    assert_eq!(
        d.preferred_language.as_deref(),
        Some("en"),
        "blank language is English"
    );
    let c = p.counts();
    assert_eq!((c.rows_succeeded, c.rows_failed), (1, 6));
}

#[test]
fn a_student_number_or_a_source_id_names_a_student() {
    let rows = [
        row(
            2,
            ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
        row(3, ["s2", "P1", "Ann", "Lee", "ann@example.com", "", "", ""]),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert!(p.results.iter().all(ResultRow::succeeded));
    assert_eq!(p.plan.links.len(), 2);
}

#[test]
fn a_parent_code_twice_with_different_details_fails_the_later_row() {
    let rows = [
        row(
            2,
            ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
        row(
            3,
            ["1002", "P1", "Ann", "Lee", "other@example.com", "", "", ""],
        ),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert_eq!(p.results[0].action, Some(Action::Created));
    let e = p.results[1].error.clone().unwrap();
    assert!(
        e.starts_with("email: line 2 gives this guardian a different email"),
        "{e}"
    );
    assert_eq!(p.plan.links.len(), 1);
}

#[test]
fn a_guardian_already_linked_with_the_same_name_and_a_shared_phone_is_updated() {
    let st = state(&[(
        "upload-a",
        "g-a",
        guardian("Ann", "Lee", None, Some("+15552010001")),
        &[1],
    )]);
    let rows = [row(
        2,
        [
            "1001",
            "",
            "Ann",
            "Lee",
            "ann@example.com",
            "5552010001",
            "",
            "",
        ],
    )];
    let p = plan_upload(&rows, &students(), &st, &ctx(false));
    assert_eq!(p.plan.people.len(), 1);
    assert_eq!(p.plan.people[0].op, Op::Update);
    assert_eq!(p.plan.people[0].id, "g-a");
    assert_eq!(p.results[0].action, Some(Action::Updated));
    assert!(p.plan.links.is_empty(), "the link exists already");
    // The same row again changes nothing.
    let st = state(&[(
        "upload-a",
        "g-a",
        guardian("Ann", "Lee", Some("ann@example.com"), Some("+15552010001")),
        &[1],
    )]);
    let p = plan_upload(&rows, &students(), &st, &ctx(false));
    assert!(p.plan.people.is_empty() && p.plan.links.is_empty());
    assert_eq!(p.results[0].action, Some(Action::Unchanged));
}

#[test]
fn adding_a_sibling_adds_a_link_and_reports_the_row_updated() {
    let st = state(&[(
        "P1",
        "g-1",
        guardian("Ann", "Lee", Some("ann@example.com"), None),
        &[1],
    )]);
    let rows = [
        row(
            2,
            ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
        row(
            3,
            ["1002", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
    ];
    let p = plan_upload(&rows, &students(), &st, &ctx(false));
    assert_eq!(
        actions(&p),
        [
            (2, Some(Action::Unchanged), None),
            (3, Some(Action::Updated), None)
        ]
    );
    assert_eq!(p.plan.links.len(), 1);
    assert_eq!(p.plan.links[0].student_id, "st-2");
    assert_eq!(p.plan.guardian_students["g-1"], ["st-1", "st-2"]);
}

#[test]
fn without_abandon_links_the_file_does_not_list_stay() {
    let st = state(&[
        (
            "P1",
            "g-1",
            guardian("Ann", "Lee", Some("ann@example.com"), None),
            &[1, 2],
        ),
        (
            "P2",
            "g-2",
            guardian("Bo", "Lee", Some("bo@example.com"), None),
            &[3],
        ),
    ]);
    let rows = [row(
        2,
        ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
    )];
    let p = plan_upload(&rows, &students(), &st, &ctx(false));
    assert!(p.plan.links.is_empty() && p.plan.people.is_empty());
    assert_eq!(p.results.len(), 1);
}

#[test]
fn abandon_removes_unlisted_links_and_deactivates_a_guardian_left_with_no_student() {
    let st = state(&[
        (
            "P1",
            "g-1",
            guardian("Ann", "Lee", Some("ann@example.com"), None),
            &[1, 2],
        ),
        (
            "P2",
            "g-2",
            guardian("Bo", "Lee", Some("bo@example.com"), None),
            &[3],
        ),
    ]);
    let rows = [row(
        2,
        ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
    )];
    let p = plan_upload(&rows, &students(), &st, &ctx(true));
    let gone: Vec<(&str, &str)> = p
        .plan
        .links
        .iter()
        .filter(|l| l.op == Op::Deactivate)
        .map(|l| (l.guardian_id.as_str(), l.student_id.as_str()))
        .collect();
    assert_eq!(gone, [("g-1", "st-2"), ("g-2", "st-3")]);
    let deactivated: Vec<&str> = p
        .plan
        .people
        .iter()
        .filter(|c| c.op == Op::Deactivate)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(deactivated, ["g-2"], "Ann keeps a student; Bo has none");
    assert_eq!(p.plan.deactivated_accounts, ["P2"]);
    let extra: Vec<(&str, &str, Option<Action>)> = p
        .results
        .iter()
        .filter(|r| r.line == 0)
        .map(|r| (r.cells[0].as_str(), r.cells[1].as_str(), r.action))
        .collect();
    assert_eq!(
        extra,
        [
            ("1002", "P1", Some(Action::Abandoned)),
            ("1003", "P2", Some(Action::Abandoned))
        ]
    );
    let c = p.counts();
    assert_eq!((c.links_abandoned, c.accounts_deactivated), (2, 1));
    assert_eq!(c.rows_succeeded, 1, "abandoned rows are not input rows");
    let guard = p.plan.guard.unwrap();
    assert_eq!((guard.would_deactivate, guard.exceeded), (1, false));
}

#[test]
fn a_guardian_whose_row_failed_counts_as_listed_and_keeps_every_link() {
    let st = state(&[
        (
            "P1",
            "g-1",
            guardian("Ann", "Lee", Some("ann@example.com"), None),
            &[1, 2],
        ),
        (
            "upload-b",
            "g-2",
            guardian("Bo", "Lee", Some("bo@example.com"), None),
            &[3],
        ),
    ]);
    let rows = [
        row(2, ["1001", "P1", "Ann", "Lee", "broken-email", "", "", ""]),
        row(3, ["1003", "", "Bo", "Lee", "", "", "", ""]),
    ];
    let p = plan_upload(&rows, &students(), &st, &ctx(true));
    assert!(p.results.iter().all(|r| !r.succeeded()));
    assert!(p.plan.links.is_empty(), "{:?}", p.plan.links);
    assert!(p.plan.people.is_empty());
}

#[test]
fn abandoning_most_of_the_district_trips_the_guard() {
    let st = state(&[
        (
            "P1",
            "g-1",
            guardian("Ann", "Lee", Some("ann@example.com"), None),
            &[1],
        ),
        (
            "P2",
            "g-2",
            guardian("Bo", "Lee", Some("bo@example.com"), None),
            &[2],
        ),
    ]);
    let mut c = ctx(true);
    c.active_people_in_district = 5;
    let rows = [row(
        2,
        ["1003", "P3", "Cy", "Lee", "cy@example.com", "", "", ""],
    )];
    let p = plan_upload(&rows, &students(), &st, &c);
    let guard = p.plan.guard.unwrap();
    assert_eq!(guard.would_deactivate, 2);
    assert!(guard.exceeded);
}

#[test]
fn a_broken_row_keeps_its_cells_and_fails() {
    let rows = [
        RowRead::Broken {
            line: 2,
            raw: vec!["1001".into(), "P1".into()],
            reason: "expected 8 cells, found 2".into(),
        },
        row(
            3,
            ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert_eq!(
        p.results[0].cells[..2],
        ["1001".to_string(), "P1".to_string()]
    );
    assert_eq!(
        p.results[0].error.as_deref(),
        Some("expected 8 cells, found 2")
    );
    assert!(p.results[1].succeeded());
}

#[test]
fn settle_takes_identity_answers_into_the_result_rows() {
    let rows = [
        row(
            2,
            ["1001", "P1", "Ann", "Lee", "ann@example.com", "", "", ""],
        ),
        row(3, ["1002", "P2", "Bo", "Lee", "bo@example.com", "", "", ""]),
    ];
    let mut p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    let first = p.results[0].guardian_row.unwrap();
    let second = p.results[1].guardian_row.unwrap();
    p.plan.rows[first].account_id = Some("acct-1".into());
    p.plan.rows[second].action = Action::Error;
    p.plan.rows[second].push_note("identity: refused");
    p.settle();
    assert_eq!(p.results[0].account_id.as_deref(), Some("acct-1"));
    assert_eq!(p.results[1].error.as_deref(), Some("identity: refused"));
    assert_eq!(p.results[1].action, None);
}

#[test]
fn a_large_file_is_checked_on_every_core_and_keeps_its_order() {
    let emails: Vec<String> = (0..5_000).map(|i| format!("p{i}@example.com")).collect();
    let rows: Vec<RowRead> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let code = if i % 1_000 == 7 { "nobody" } else { "1001" };
            let line = i as u64 + 2;
            row(line, [code, "", "Pat", &format!("N{i}"), e, "", "", ""])
        })
        .collect();
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert_eq!(p.results.len(), 5_000);
    for (i, r) in p.results.iter().enumerate() {
        assert_eq!(r.line, i as u64 + 2);
        assert_eq!(r.succeeded(), i % 1_000 != 7, "line {}", r.line);
    }
    assert_eq!(p.plan.people.len(), 4_995);
}

#[test]
fn a_namesake_sharing_a_phone_but_not_the_email_is_another_guardian_not_an_error() {
    let rows = [
        row(
            2,
            [
                "1001",
                "",
                "John",
                "Park",
                "john@example.com",
                "555-201-0001",
                "",
                "",
            ],
        ),
        row(
            3,
            [
                "1002",
                "",
                "John",
                "Park",
                "johnjr@example.com",
                "555-201-0001",
                "",
                "",
            ],
        ),
    ];
    let p = plan_upload(&rows, &students(), &State::default(), &ctx(false));
    assert!(
        p.results.iter().all(ResultRow::succeeded),
        "{:?}",
        actions(&p)
    );
    assert_eq!(p.plan.people.len(), 2);
}

#[test]
fn namesakes_sharing_a_phone_are_each_found_again_by_their_own_email() {
    let st = state(&[
        (
            "upload-a",
            "g-a",
            guardian(
                "John",
                "Park",
                Some("john@example.com"),
                Some("+15552010001"),
            ),
            &[1, 2],
        ),
        (
            "upload-b",
            "g-b",
            guardian(
                "John",
                "Park",
                Some("johnjr@example.com"),
                Some("+15552010001"),
            ),
            &[1, 2],
        ),
    ]);
    // The junior's row comes first; each still finds his own record.
    let rows = [
        row(
            2,
            [
                "1001",
                "",
                "John",
                "Park",
                "johnjr@example.com",
                "555-201-0001",
                "",
                "",
            ],
        ),
        row(
            3,
            [
                "1001",
                "",
                "John",
                "Park",
                "john@example.com",
                "555-201-0001",
                "",
                "",
            ],
        ),
    ];
    for _ in 0..20 {
        let p = plan_upload(&rows, &students(), &st, &ctx(false));
        assert_eq!(
            actions(&p),
            [
                (2, Some(Action::Unchanged), None),
                (3, Some(Action::Unchanged), None)
            ]
        );
        assert!(p.plan.people.is_empty());
    }
}
