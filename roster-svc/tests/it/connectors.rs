//! The vendor API connectors (RO-2, API half) against the local Clever and
//! OneRoster REST mocks: paging, credentials, retries, malformed pages,
//! Clever events, and one small district read the same way from Clever, from
//! OneRoster REST and from a OneRoster CSV bundle.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use roster_svc::connectors::outbound::OutboundPolicy;
use roster_svc::connectors::{
    CleverConfig, ConnectorError, Fetched, Incremental, OneRosterRestConfig,
    OneRosterRestConnector, RestAuth, RetryPolicy, clever_full, clever_incremental, oneroster_rest,
};
use roster_svc::oneroster::{Bundle, FileMode, OrgKind, Status, UserRole};
use secrecy::SecretString;
use serde_json::json;

use crate::mock_clever::{CleverData, EventsGone, MockClever};
use crate::mock_oneroster_rest::{
    Agents, EnabledAs, MockAuth, MockRest, Paging, RestData, TOKEN_PATH,
};

pub mod district {
    //! One small district, said once, which each mock renders in its vendor's
    //! JSON and [`super::write_csv`] writes as a OneRoster CSV bundle.

    /// The district.
    #[derive(Debug, Clone)]
    pub struct District {
        pub id: &'static str,
        pub name: &'static str,
        pub schools: Vec<School>,
        pub terms: Vec<Term>,
        pub courses: Vec<Course>,
        pub sections: Vec<Section>,
        pub people: Vec<Person>,
    }

    #[derive(Debug, Clone)]
    pub struct School {
        pub id: &'static str,
        pub name: &'static str,
        pub number: &'static str,
    }

    #[derive(Debug, Clone)]
    pub struct Term {
        pub id: &'static str,
        pub name: &'static str,
        pub start: &'static str,
        pub end: &'static str,
    }

    #[derive(Debug, Clone)]
    pub struct Course {
        pub id: &'static str,
        pub name: &'static str,
        pub number: &'static str,
    }

    /// A class; `teacher` is the primary teacher, `co_teachers` the others.
    #[derive(Debug, Clone)]
    pub struct Section {
        pub id: &'static str,
        pub name: &'static str,
        pub number: &'static str,
        pub school: &'static str,
        pub course: &'static str,
        pub term: &'static str,
        /// A CEDS grade code (`03`, `KG`).
        pub grade: &'static str,
        pub teacher: &'static str,
        pub co_teachers: Vec<&'static str>,
        pub students: Vec<&'static str>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        Student,
        Teacher,
        Staff,
        Guardian,
    }

    /// A person. Clever holds one phone per contact, so a guardian has a
    /// cell or a home phone, never both; others have none.
    #[derive(Debug, Clone)]
    pub struct Person {
        pub id: &'static str,
        pub kind: Kind,
        pub given: &'static str,
        pub family: &'static str,
        pub email: Option<&'static str>,
        pub cell: Option<&'static str>,
        pub home: Option<&'static str>,
        pub schools: Vec<&'static str>,
        pub grade: Option<&'static str>,
        pub username: Option<&'static str>,
        pub children: Vec<Child>,
    }

    /// A guardian's student, with Clever's relationship and contact type.
    #[derive(Debug, Clone)]
    pub struct Child {
        pub student: &'static str,
        pub relationship: &'static str,
        pub kind: &'static str,
    }

    impl Person {
        /// The OneRoster 1.1 `role`.
        pub fn oneroster_role(&self) -> &'static str {
            match self.kind {
                Kind::Student => "student",
                Kind::Teacher => "teacher",
                Kind::Staff => "administrator",
                Kind::Guardian => match self.children.first().map(|c| c.relationship) {
                    Some("Parent") => "parent",
                    Some("Grandparent" | "Aunt/Uncle" | "Sibling") => "relative",
                    _ => "guardian",
                },
            }
        }

        /// The people whose guardian this is.
        pub fn students(&self) -> Vec<&'static str> {
            self.children.iter().map(|c| c.student).collect()
        }
    }

    impl District {
        /// The guardians of `student`.
        pub fn guardians_of(&self, student: &str) -> Vec<&'static str> {
            self.people
                .iter()
                .filter(|p| p.children.iter().any(|c| c.student == student))
                .map(|p| p.id)
                .collect()
        }
    }

    /// `id|given|family|email|cell|home|schools|grade|username|children`,
    /// children as `student:relationship:type` separated by spaces.
    const PEOPLE: &str = "
        st01|Bart|Simpson|bart@students.springfield.example|||s1|03|bsimpson|
        st02|Lisa|Simpson|lisa@students.springfield.example|||s1|03|lsimpson|
        st03|Milhouse|Van Houten||||s1|03|mvanhouten|
        st04|Sofia|de la Cruz||||s1|03|sdelacruz|
        st05|Nelson|Muntz||||s1|03|nmuntz|
        st06|Rod|Flanders||||s2|07|rflanders|
        st07|Todd|Flanders||||s2|07|tflanders|
        st08|Martin|Prince||||s2|07|mprince|
        st09|Wendell|Borton||||s2|07|wborton|
        st10|Sherri|Mackleberry||||s2|07|smackleberry|
        t01|Edna|Krabappel|edna@springfield.example|||s1||ekrabappel|
        t02|Elizabeth|Hoover|hoover@springfield.example|||s2||ehoover|
        t03|Dewey|Largo|largo@springfield.example|||s2||dlargo|
        a01|Seymour|Skinner|skinner@springfield.example|||s1 s2||sskinner|
        g01|Marge|Simpson|marge@example.com|+1 555 0101||d1|||st01:Parent:Parent/Guardian st02:Parent:Parent/Guardian
        g02|Homer|Simpson|||+1 555 0102|d1|||st01:Parent:Parent/Guardian st02:Parent:Parent/Guardian
        g03|Maria|Lopez|maria.lopez@example.com|+1 555 0103||d1|||st03:Parent:Parent/Guardian
        g04|Rosa|Lopez||+1 555 0104||d1|||st03:Grandparent:Emergency
        g05|Ana|de la Cruz|ana@example.com|+1 555 0105||d1|||st04:Parent:Parent/Guardian
        g06|Ned|Flanders|ned@example.com||+1 555 0106|d1|||st06:Parent:Parent/Guardian st07:Parent:Parent/Guardian
        g07|Mrs|Muntz||+1 555 0107||d1|||st05:Parent:Parent/Guardian
        g08|Clancy|Wiggum|chief@example.com|+1 555 0108||d1|||st08:Aunt/Uncle:Secondary
        g09|Martha|Prince|martha@example.com|+1 555 0109||d1|||st08:Parent:Parent/Guardian st09:Other:Emergency
        g10|Sara|Mackleberry|sara@example.com|+1 555 0110||d1|||st10:Parent:Primary
    ";

    /// `id|name|number|school|course|term|grade|teacher|co-teachers|students`.
    const SECTIONS: &str = "
        sec1|Math 3 - Krabappel|101|s1|c1|tm1|03|t01||st01 st02 st03 st04 st05
        sec2|Science 7 - Hoover|201|s2|c2|tm1|07|t02|t03|st06 st07 st08 st09 st10
        sec3|Math 3 - Spring|102|s1|c1|tm2|03|t01||st01 st02 st03
    ";

    /// The rows of a `|` table, cells trimmed.
    fn rows(table: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
        table
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| line.split('|').map(str::trim).collect())
    }

    fn some(cell: &'static str) -> Option<&'static str> {
        (!cell.is_empty()).then_some(cell)
    }

    fn words(cell: &'static str) -> Vec<&'static str> {
        cell.split_whitespace().collect()
    }

    fn kind(id: &str) -> Kind {
        match id.as_bytes().first() {
            Some(b's') => Kind::Student,
            Some(b't') => Kind::Teacher,
            Some(b'a') => Kind::Staff,
            _ => Kind::Guardian,
        }
    }

    /// Two schools, two terms, two courses, three sections, ten students,
    /// three teachers, one staff member and ten contacts; Bart and Lisa are
    /// siblings who share both parents.
    pub fn small() -> District {
        let people = rows(PEOPLE).map(|c| Person {
            id: c[0],
            kind: kind(c[0]),
            given: c[1],
            family: c[2],
            email: some(c[3]),
            cell: some(c[4]),
            home: some(c[5]),
            schools: words(c[6]),
            grade: some(c[7]),
            username: some(c[8]),
            children: words(c[9])
                .into_iter()
                .map(|child| {
                    let mut parts = child.split(':');
                    let mut next = || parts.next().unwrap();
                    Child {
                        student: next(),
                        relationship: next(),
                        kind: next(),
                    }
                })
                .collect(),
        });
        let sections = rows(SECTIONS).map(|c| Section {
            id: c[0],
            name: c[1],
            number: c[2],
            school: c[3],
            course: c[4],
            term: c[5],
            grade: c[6],
            teacher: c[7],
            co_teachers: words(c[8]),
            students: words(c[9]),
        });
        let school = |id, name, number| School { id, name, number };
        let term = |id, name, start, end| Term {
            id,
            name,
            start,
            end,
        };
        let course = |id, name, number| Course { id, name, number };
        District {
            id: "d1",
            name: "Springfield USD",
            schools: vec![
                school("s1", "Springfield Elementary", "0042"),
                school("s2", "Springfield Middle", "0043"),
            ],
            terms: vec![
                term("tm1", "Fall 2025", "2025-08-20", "2025-12-19"),
                term("tm2", "Spring 2026", "2026-01-05", "2026-06-12"),
            ],
            courses: vec![
                course("c1", "Math 3", "M3"),
                course("c2", "Science 7", "SCI7"),
            ],
            sections: sections.collect(),
            people: people.collect(),
        }
    }
}

use district::{District, Kind};

// ---------------------------------------------------------------- helpers

/// Retries fast enough for tests: 1 ms doubling, capped at 30 ms.
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(30),
        request_timeout: Duration::from_secs(10),
    }
}

/// The mocks listen on loopback over http: allowed as an operator would.
fn loopback() -> OutboundPolicy {
    OutboundPolicy::parse("127.0.0.0/8").unwrap()
}

fn clever_config(mock: &MockClever, token: &str) -> CleverConfig {
    CleverConfig {
        page_size: 3,
        retry: fast_retry(),
        outbound: loopback(),
        ..CleverConfig::new(mock.base_url.clone(), SecretString::from(token))
    }
}

fn rest_config(mock: &MockRest, auth: RestAuth) -> OneRosterRestConfig {
    OneRosterRestConfig {
        page_size: 4,
        retry: fast_retry(),
        outbound: loopback(),
        ..OneRosterRestConfig::new(mock.base_url.clone(), auth)
    }
}

const KEY: &str = "classlink-consumer-key";
const SECRET: &str = "classlink-consumer-secret-9d2f";
const CLIENT_SECRET: &str = "oauth2-client-secret-51ac";

fn oauth1(secret: &str) -> RestAuth {
    RestAuth::OAuth1 {
        consumer_key: KEY.to_owned(),
        consumer_secret: SecretString::from(secret),
    }
}

fn oauth2(mock: &MockRest, secret: &str) -> RestAuth {
    RestAuth::OAuth2 {
        token_url: format!("{}{TOKEN_PATH}", mock.base_url),
        client_id: "homeroom".to_owned(),
        client_secret: SecretString::from(secret),
        scope: Some("https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly".into()),
    }
}

fn oauth2_server(expires_in: u64, uses_per_token: Option<usize>) -> MockAuth {
    MockAuth::OAuth2 {
        client_id: "homeroom",
        client_secret: CLIENT_SECRET,
        expires_in,
        uses_per_token,
    }
}

/// The small district from Clever (contacts' full names in the last name, as
/// Clever stores them), with a couple of old events in the feed.
async fn clever_mock() -> MockClever {
    let mock = MockClever::start(CleverData::from_district(&district::small(), true)).await;
    mock.push_event(
        "schools.created",
        json!({"id": "s1", "name": "Springfield Elementary"}),
        None,
    );
    mock.push_event(
        "terms.created",
        json!({"id": "tm1", "name": "Fall 2025"}),
        None,
    );
    mock
}

async fn rest_mock(agents: Agents, enabled: EnabledAs) -> MockRest {
    let data = RestData::from_district(&district::small(), agents, enabled);
    MockRest::start(
        data,
        MockAuth::OAuth1 {
            key: KEY,
            secret: SECRET,
        },
    )
    .await
}

fn user<'b>(bundle: &'b Bundle, id: &str) -> &'b roster_svc::oneroster::User {
    bundle
        .users
        .iter()
        .find(|u| u.source_id == id)
        .unwrap_or_else(|| panic!("no user {id}"))
}

fn changes(incremental: Incremental) -> Fetched {
    match incremental {
        Incremental::Changes(fetched) => *fetched,
        Incremental::NeedsFull { reason } => panic!("needs a full sync: {reason}"),
    }
}

/// Positions of `url` among the requests, for "resumed at the same page".
fn positions(requests: &[String], needle: &str) -> Vec<usize> {
    requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.contains(needle))
        .map(|(at, _)| at)
        .collect()
}

// ------------------------------------------------------- the same roster

/// What must agree, whichever way the district arrived.
#[derive(Debug, PartialEq, Eq)]
struct Roster {
    orgs: BTreeSet<String>,
    sessions: BTreeSet<String>,
    courses: BTreeSet<String>,
    classes: BTreeSet<String>,
    people: BTreeSet<String>,
    links: BTreeSet<(String, String)>,
    enrollments: BTreeSet<(String, String, String, bool)>,
}

fn roster(bundle: &Bundle) -> Roster {
    assert!(bundle.row_errors.is_empty(), "{:?}", bundle.row_errors);
    let orgs = bundle.orgs.iter().map(|o| {
        format!(
            "{} {:?} {:?} {:?} {:?}",
            o.source_id, o.name, o.kind, o.identifier, o.parent_source_id
        )
    });
    let sessions = bundle.academic_sessions.iter().map(|s| {
        format!(
            "{} {:?} {} {:?} {:?}",
            s.source_id, s.title, s.kind, s.start_date, s.end_date
        )
    });
    let courses = bundle.courses.iter().map(|c| {
        format!(
            "{} {:?} {:?} {:?}",
            c.source_id, c.title, c.course_code, c.org_source_id
        )
    });
    let classes = bundle.classes.iter().map(|c| {
        format!(
            "{} {:?} {:?} {} {:?} {:?} {:?}",
            c.source_id,
            c.title,
            c.class_code,
            c.school_source_id,
            c.course_source_id,
            c.term_source_ids,
            c.grades
        )
    });
    let people = bundle.users.iter().map(|u| {
        let orgs: BTreeSet<&String> = u.org_source_ids.iter().collect();
        format!(
            "{} {:?} {:?} {:?} email={:?} sms={:?} phone={:?} orgs={orgs:?} grades={:?} \
             username={:?} enabled={}",
            u.source_id,
            u.role,
            u.given_name,
            u.family_name,
            u.email,
            u.sms,
            u.phone,
            u.grades,
            u.username,
            u.enabled
        )
    });
    let enrollments = bundle.enrollments.iter().map(|e| {
        (
            e.class_source_id.to_string(),
            e.user_source_id.to_string(),
            e.role.to_string(),
            e.primary,
        )
    });
    Roster {
        orgs: orgs.collect(),
        sessions: sessions.collect(),
        courses: courses.collect(),
        classes: classes.collect(),
        people: people.collect(),
        links: links(bundle),
        enrollments: enrollments.collect(),
    }
}

/// Guardian → student edges from `agentSourcedIds` on either side, as the engine unions them.
fn links(bundle: &Bundle) -> BTreeSet<(String, String)> {
    let role = |id: &str| {
        bundle
            .users
            .iter()
            .find(|u| u.source_id == id)
            .map(|u| &u.role)
    };
    let mut edges = BTreeSet::new();
    for u in &bundle.users {
        for agent in &u.agent_source_ids {
            match (&u.role, role(agent)) {
                (UserRole::Student, Some(UserRole::Guardian(_))) => {
                    edges.insert((agent.clone(), u.source_id.clone()));
                }
                (UserRole::Guardian(_), Some(UserRole::Student)) => {
                    edges.insert((u.source_id.clone(), agent.clone()));
                }
                other => panic!("{} → {agent}: {other:?}", u.source_id),
            }
        }
    }
    edges
}

/// The district as a OneRoster 1.1 bulk CSV bundle (guardian links on the
/// student rows).
fn write_csv(d: &District, dir: &Path) {
    // Rows are written `|`-separated here; the csv writer quotes the cells.
    let write = |name: &str, header: &str, rows: Vec<String>| {
        let mut w = csv::Writer::from_path(dir.join(name)).unwrap();
        w.write_record(header.split(',')).unwrap();
        for row in rows {
            w.write_record(row.split('|')).unwrap();
        }
        w.flush().unwrap();
    };
    let mut manifest = vec![
        "manifest.version|1.0".to_owned(),
        "oneroster.version|1.1".to_owned(),
    ];
    for file in [
        "orgs",
        "academicSessions",
        "courses",
        "classes",
        "users",
        "enrollments",
    ] {
        manifest.push(format!("file.{file}|bulk"));
    }
    write("manifest.csv", "propertyName,value", manifest);
    let mut orgs = vec![format!("{}|||{}|district||", d.id, d.name)];
    for s in &d.schools {
        orgs.push(format!(
            "{}|||{}|school|{}|{}",
            s.id, s.name, s.number, d.id
        ));
    }
    let header = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId";
    write("orgs.csv", header, orgs);
    let terms = d
        .terms
        .iter()
        .map(|t| format!("{}|||{}|term|{}|{}||2026", t.id, t.name, t.start, t.end));
    let header =
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear";
    write("academicSessions.csv", header, terms.collect());
    let courses = d
        .courses
        .iter()
        .map(|c| format!("{}||||{}|{}||{}||", c.id, c.name, c.number, d.id));
    let header = "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,\
                  orgSourcedId,subjects,subjectCodes";
    write("courses.csv", header, courses.collect());
    let classes = d.sections.iter().map(|c| {
        let (id, name, grade, course, number) = (c.id, c.name, c.grade, c.course, c.number);
        format!(
            "{id}|||{name}|{grade}|{course}|{number}|scheduled||{}|{}|||",
            c.school, c.term
        )
    });
    let header = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,\
                  classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods";
    write("classes.csv", header, classes.collect());
    let users = d.people.iter().map(|p| {
        let agents = match p.kind {
            Kind::Student => d.guardians_of(p.id).join(","),
            _ => String::new(),
        };
        let o = |v: Option<&str>| v.unwrap_or_default().to_owned();
        let (orgs, role) = (p.schools.join(","), p.oneroster_role());
        let (given, family, id) = (p.given, p.family, p.id);
        format!(
            "{id}|||true|{orgs}|{role}|{}||{given}|{family}||{id}|{}|{}|{}|{agents}|{}|",
            o(p.username),
            o(p.email),
            o(p.cell),
            o(p.home),
            o(p.grade)
        )
    });
    let header = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
                  userIds,givenName,familyName,middleName,identifier,email,sms,phone,\
                  agentSourcedIds,grades,password";
    write("users.csv", header, users.collect());
    let enrollments = d.sections.iter().flat_map(|c| {
        let teachers = std::iter::once((c.teacher, "teacher", true))
            .chain(c.co_teachers.iter().map(|t| (*t, "teacher", false)));
        let students = c.students.iter().map(|st| (*st, "student", false));
        teachers.chain(students).map(move |(user, role, primary)| {
            let (id, school) = (c.id, c.school);
            format!("csv-{id}-{user}|||{id}|{school}|{user}|{role}|{primary}||")
        })
    });
    let header = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
                  userSourcedId,role,primary,beginDate,endDate";
    write("enrollments.csv", header, enrollments.collect());
}

#[tokio::test]
async fn the_same_district_reads_the_same_from_clever_oneroster_rest_and_csv() {
    let d = district::small();
    let clever = clever_mock().await;
    let from_clever = clever_full(&clever_config(&clever, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    let rest = rest_mock(Agents::StudentToGuardian, EnabledAs::String).await;
    let from_rest = oneroster_rest(&rest_config(&rest, oauth1(SECRET)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&d, dir.path());
    let from_csv = roster_svc::oneroster::read_dir(dir.path()).unwrap();

    let expected = roster(&from_csv);
    assert_eq!(expected.people.len(), 24);
    assert_eq!(expected.links.len(), 14);
    assert_eq!(expected.enrollments.len(), 17);
    assert_eq!(roster(&from_clever.bundle), expected);
    assert_eq!(roster(&from_rest.bundle), expected);
    for fetched in [&from_clever, &from_rest] {
        let pairs: BTreeSet<(String, String)> = fetched
            .links
            .iter()
            .map(|l| (l.guardian_source_id.clone(), l.student_source_id.clone()))
            .collect();
        assert_eq!(pairs, expected.links);
    }
}

// ------------------------------------------------------------- Clever

#[tokio::test]
async fn a_clever_district_is_read_page_by_page_into_a_bulk_bundle() {
    let mock = clever_mock().await;
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    let bundle = &fetched.bundle;
    for stem in [
        "orgs",
        "academicSessions",
        "courses",
        "classes",
        "users",
        "enrollments",
    ] {
        assert_eq!(bundle.mode(stem), FileMode::Bulk, "{stem}");
    }
    assert_eq!(bundle.orgs.len(), 3);
    assert!(bundle.orgs.iter().any(|o| o.kind == OrgKind::District));
    assert_eq!(bundle.users.len(), 24);
    assert_eq!(bundle.classes.len(), 3);
    assert_eq!(bundle.enrollments.len(), 17);
    let requests = mock.requests();
    // Ten students at three a page: four pages and the links between them.
    let students: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("role=student"))
        .collect();
    assert_eq!(students.len(), 4, "{students:?}");
    assert!(students[1].contains("starting_after=st03"), "{students:?}");
    assert!(requests[0].contains("ending_before=last"), "{requests:?}");
    assert_eq!(fetched.cursor.as_deref(), Some("ev00002"));
    let sections = user(bundle, "t02");
    assert_eq!(sections.role, UserRole::Teacher);
    let primary: Vec<_> = bundle
        .enrollments
        .iter()
        .filter(|e| &*e.class_source_id == "sec2" && e.role == "teacher")
        .map(|e| (&*e.user_source_id, e.primary))
        .collect();
    assert_eq!(primary, [("t02", true), ("t03", false)]);
}

#[tokio::test]
async fn a_contacts_full_name_in_the_last_name_field_is_split_into_given_and_family() {
    let mock = clever_mock().await;
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    let maria = user(&fetched.bundle, "g03");
    assert_eq!(
        (maria.given_name.as_str(), maria.family_name.as_str()),
        ("Maria", "Lopez")
    );
    let ana = user(&fetched.bundle, "g05");
    assert_eq!(
        (ana.given_name.as_str(), ana.family_name.as_str()),
        ("Ana", "de la Cruz")
    );

    let split = MockClever::start(CleverData::from_district(&district::small(), false)).await;
    let fetched = clever_full(&clever_config(&split, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    let maria = user(&fetched.bundle, "g03");
    assert_eq!(
        (maria.given_name.as_str(), maria.family_name.as_str()),
        ("Maria", "Lopez")
    );
}

#[tokio::test]
async fn contact_student_relationships_become_guardian_links_with_relationship_and_type() {
    let mock = clever_mock().await;
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    let rosa = user(&fetched.bundle, "g04");
    assert_eq!(rosa.role, UserRole::Guardian("relative".into()));
    assert_eq!(rosa.agent_source_ids, ["st03"]);
    let marge = user(&fetched.bundle, "g01");
    assert_eq!(marge.role, UserRole::Guardian("parent".into()));
    assert_eq!(marge.agent_source_ids, ["st01", "st02"]);
    let link = |g: &str, s: &str| {
        fetched
            .links
            .iter()
            .find(|l| l.guardian_source_id == g && l.student_source_id == s)
            .unwrap_or_else(|| panic!("no link {g} → {s}"))
    };
    let grandma = link("g04", "st03");
    assert_eq!(grandma.relationship.as_deref(), Some("Grandparent"));
    assert_eq!(grandma.contact_type.as_deref(), Some("Emergency"));
    let martha = link("g09", "st09");
    assert_eq!(
        (
            martha.relationship.as_deref(),
            martha.contact_type.as_deref()
        ),
        (Some("Other"), Some("Emergency"))
    );
    // Siblings share both parents.
    assert_eq!(
        fetched
            .links
            .iter()
            .filter(|l| l.student_source_id == "st01")
            .count(),
        2
    );
    assert_eq!(
        fetched
            .links
            .iter()
            .filter(|l| l.student_source_id == "st02")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_cell_phone_is_for_messages_and_a_home_phone_is_kept_for_the_record() {
    let mock = clever_mock().await;
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    let marge = user(&fetched.bundle, "g01");
    assert_eq!(
        (marge.sms.as_deref(), marge.phone.as_deref()),
        (Some("+1 555 0101"), None)
    );
    let homer = user(&fetched.bundle, "g02");
    assert_eq!(
        (homer.sms.as_deref(), homer.phone.as_deref()),
        (None, Some("+1 555 0102"))
    );
}

#[tokio::test]
async fn clever_events_become_a_delta_bundle_and_the_new_last_event_id() {
    let mock = clever_mock().await;
    let config = clever_config(&mock, crate::mock_clever::TOKEN);
    let full = clever_full(&config).await.unwrap();
    let cursor = full.cursor.clone().unwrap();
    let d = district::small();
    let mut bart = crate::mock_clever::user(&d, &d.people[0], true);
    bart["name"]["first"] = json!("Bartholomew");
    mock.push_event(
        "users.updated",
        bart,
        Some(json!({"name": {"first": "Bart"}})),
    );
    let sherri = crate::mock_clever::user(&d, &d.people[9], true);
    mock.push_event("users.deleted", sherri, None);
    let mut section = CleverData::from_district(&d, true).sections[0].clone();
    section["students"] = json!(["st01", "st02", "st03", "st04"]);
    let previous = json!({"students": ["st01", "st02", "st03", "st04", "st05"]});
    mock.push_event("sections.updated", section, Some(previous));
    let mut lopez = crate::mock_clever::user(&d, &d.people[16], true);
    lopez["id"] = json!("g11");
    lopez["roles"]["contact"]["student_relationships"] =
        json!([{"student": "st04", "relationship": "Aunt/Uncle", "type": "Emergency"}]);
    mock.push_event("users.created", lopez, None);
    mock.push_event("resources.created", json!({"id": "r1"}), None);
    let last = mock.push_event(
        "courses.deleted",
        json!({"id": "c2", "name": "Science 7"}),
        None,
    );

    let delta = changes(clever_incremental(&config, Some(&cursor)).await.unwrap());
    let bundle = &delta.bundle;
    assert_eq!(delta.cursor.as_deref(), Some(last.as_str()));
    for stem in [
        "orgs",
        "users",
        "enrollments",
        "classes",
        "courses",
        "academicSessions",
    ] {
        assert_eq!(bundle.mode(stem), FileMode::Delta, "{stem}");
    }
    assert_eq!(user(bundle, "st01").given_name, "Bartholomew");
    assert_eq!(user(bundle, "st10").status, Status::ToBeDeleted);
    let new_aunt = user(bundle, "g11");
    assert_eq!(new_aunt.role, UserRole::Guardian("relative".into()));
    assert_eq!(new_aunt.agent_source_ids, ["st04"]);
    assert_eq!(delta.links.len(), 1);
    let gone = bundle
        .enrollments
        .iter()
        .find(|e| &*e.user_source_id == "st05")
        .unwrap();
    assert_eq!(
        (&*gone.class_source_id, gone.status),
        ("sec1", Status::ToBeDeleted)
    );
    assert_eq!(
        bundle
            .enrollments
            .iter()
            .filter(|e| e.status == Status::Active)
            .count(),
        5
    );
    assert_eq!(bundle.courses[0].status, Status::ToBeDeleted);
    assert!(
        bundle
            .warnings
            .iter()
            .any(|w| w.contains("resources.created")),
        "{:?}",
        bundle.warnings
    );
    // Six events at three a page: the feed was read in pages.
    let reads: Vec<String> = mock
        .requests()
        .into_iter()
        .filter(|r| r.contains("events") && r.contains("starting_after"))
        .collect();
    assert!(reads.len() >= 2, "{reads:?}");
}

#[tokio::test]
async fn replaying_events_is_idempotent_and_resumes_from_the_last_event_id() {
    let mock = clever_mock().await;
    let config = clever_config(&mock, crate::mock_clever::TOKEN);
    let cursor = clever_full(&config).await.unwrap().cursor.unwrap();
    let d = district::small();
    let marge = crate::mock_clever::user(&d, &d.people[14], true);
    mock.push_event("users.updated", marge.clone(), None);
    mock.push_event("users.updated", marge, None);
    let first = changes(clever_incremental(&config, Some(&cursor)).await.unwrap());
    let again = changes(clever_incremental(&config, Some(&cursor)).await.unwrap());
    assert_eq!(first, again);
    assert_eq!(first.bundle.users.len(), 1);
    let next = first.cursor.clone().unwrap();
    let nothing = changes(clever_incremental(&config, Some(&next)).await.unwrap());
    assert!(nothing.bundle.users.is_empty());
    assert_eq!(nothing.cursor, Some(next));
}

#[tokio::test]
async fn an_event_feed_that_cannot_serve_the_cursor_asks_for_a_full_sync() {
    let mock = clever_mock().await;
    let config = clever_config(&mock, crate::mock_clever::TOKEN);
    let unknown = clever_incremental(&config, Some("ev-from-last-year"))
        .await
        .unwrap();
    assert!(
        matches!(unknown, Incremental::NeedsFull { .. }),
        "{unknown:?}"
    );
    for gone in [EventsGone::TooOld, EventsGone::Gone, EventsGone::NotFound] {
        mock.quirks(|q| q.events_gone = Some(gone));
        match clever_incremental(&config, Some("ev00001")).await.unwrap() {
            Incremental::NeedsFull { reason } => {
                assert!(reason.contains("ev00001"), "{reason}");
            }
            other => panic!("{gone:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_full_read_of_a_district_without_events_has_no_cursor() {
    let mock = clever_mock().await;
    mock.quirks(|q| q.events_gone = Some(EventsGone::NotFound));
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    assert_eq!(fetched.cursor, None);
    assert_eq!(fetched.bundle.users.len(), 24);
    assert!(
        fetched
            .bundle
            .warnings
            .iter()
            .any(|w| w.contains("events are not available"))
    );
}

#[tokio::test]
async fn a_clever_429_mid_paging_waits_at_most_the_cap_and_resumes_at_the_same_page() {
    let mock = clever_mock().await;
    let failure = crate::mock_clever::Failure::once("users?role=student", 2, 429).retry_after(30);
    mock.quirks(|q| q.failures.push(failure));
    let started = Instant::now();
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    // Retry-After says 30 s; the policy's 30 ms cap wins.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(fetched.bundle.users.len(), 24);
    let requests = mock.requests();
    let page_two = positions(&requests, "starting_after=st03&role=student");
    assert_eq!(page_two.len(), 2, "{requests:?}");
    assert_eq!(page_two[1], page_two[0] + 1, "{requests:?}");
}

#[tokio::test]
async fn a_clever_500_once_is_retried_and_the_read_completes() {
    let mock = clever_mock().await;
    let failure = crate::mock_clever::Failure::once("sections", 1, 500);
    mock.quirks(|q| q.failures.push(failure));
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    assert_eq!(fetched.bundle.classes.len(), 3);
    let first_page = mock
        .requests()
        .into_iter()
        .filter(|r| r == "/v3.0/sections?limit=3")
        .count();
    assert_eq!(first_page, 2);
}

#[tokio::test]
async fn a_server_that_keeps_failing_is_unavailable_after_the_bounded_attempts() {
    let mock = clever_mock().await;
    let failure = crate::mock_clever::Failure::once("courses", 1, 503).times(100);
    mock.quirks(|q| q.failures.push(failure));
    let error = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap_err();
    let ConnectorError::Unavailable { url, reason } = &error else {
        panic!("{error:?}")
    };
    assert!(url.contains("/v3.0/courses"), "{url}");
    assert!(
        reason.contains("HTTP 503") && reason.contains("4 attempts"),
        "{reason}"
    );
    assert_eq!(positions(&mock.requests(), "/v3.0/courses").len(), 4);
}

#[tokio::test]
async fn a_wrong_clever_token_is_credentials_rejected_without_showing_the_token() {
    let mock = clever_mock().await;
    let wrong = "clever-token-that-was-revoked";
    let config = clever_config(&mock, wrong);
    let error = clever_full(&config).await.unwrap_err();
    assert!(
        matches!(
            error,
            ConnectorError::CredentialsRejected { status: 401, .. }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("rejected the credentials"),
        "{error}"
    );
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{config:?}"),
    ] {
        assert!(!text.contains(wrong), "{text}");
    }
    let incremental = clever_incremental(&config, Some("ev00001"))
        .await
        .unwrap_err();
    assert!(matches!(
        incremental,
        ConnectorError::CredentialsRejected { .. }
    ));
}

#[tokio::test]
async fn an_error_body_that_quotes_the_token_is_redacted() {
    let mock = clever_mock().await;
    let failure = crate::mock_clever::Failure::once("schools", 1, 400).echoing_authorization();
    mock.quirks(|q| q.failures.push(failure));
    let error = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap_err();
    let ConnectorError::Rejected {
        status: 400,
        message,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert!(message.contains("[redacted]"), "{message}");
    assert!(!format!("{error} {error:?}").contains(crate::mock_clever::TOKEN));
}

#[tokio::test]
async fn a_malformed_clever_page_fails_the_whole_read_with_its_url_and_reason() {
    use crate::mock_clever::Malformation;
    let mock = clever_mock().await;
    let config = clever_config(&mock, crate::mock_clever::TOKEN);
    mock.quirks(|q| q.malformed = Some(("users?role=student", 2, Malformation::BadJson)));
    let error = clever_full(&config).await.unwrap_err();
    let ConnectorError::Malformed { url, reason } = &error else {
        panic!("{error:?}")
    };
    assert!(
        url.contains("role=student") && url.contains("starting_after=st03"),
        "{url}"
    );
    assert!(reason.contains("not JSON"), "{reason}");
    assert!(
        error
            .to_string()
            .contains("nothing from this read was kept")
    );

    mock.quirks(|q| q.malformed = Some(("sections", 1, Malformation::MissingId)));
    let error = clever_full(&config).await.unwrap_err();
    let ConnectorError::Malformed { url, reason } = &error else {
        panic!("{error:?}")
    };
    assert!(url.contains("/v3.0/sections"), "{url}");
    assert!(reason.contains("missing field `id`"), "{reason}");
}

#[tokio::test]
async fn a_clever_section_without_a_school_is_a_row_error_and_the_rest_is_read() {
    let mock = clever_mock().await;
    mock.data(|d| d.sections[2]["school"] = json!(null));
    let fetched = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    assert_eq!(fetched.bundle.classes.len(), 2);
    let [error] = fetched.bundle.row_errors.as_slice() else {
        panic!("{:?}", fetched.bundle.row_errors)
    };
    assert_eq!(
        (
            error.file.as_str(),
            error.source_id.as_deref(),
            error.message.as_str()
        ),
        ("sections", Some("sec3"), "the section has no school")
    );
}

// ---------------------------------------------------- OneRoster REST

#[tokio::test]
async fn oneroster_rest_with_oauth1_signatures_reads_every_collection() {
    let mock = rest_mock(Agents::Both, EnabledAs::String).await;
    let fetched = oneroster_rest(&rest_config(&mock, oauth1(SECRET)))
        .await
        .unwrap();
    let bundle = &fetched.bundle;
    assert!(bundle.row_errors.is_empty(), "{:?}", bundle.row_errors);
    assert_eq!(bundle.mode("users"), FileMode::Bulk);
    assert_eq!(
        (
            bundle.orgs.len(),
            bundle.academic_sessions.len(),
            bundle.courses.len()
        ),
        (3, 2, 2)
    );
    assert_eq!(
        (
            bundle.classes.len(),
            bundle.users.len(),
            bundle.enrollments.len()
        ),
        (3, 24, 17)
    );
    assert_eq!(fetched.cursor, None);
    // Every page was signed and checked (query parameters included).
    let requests = mock.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("users?limit=4&offset=20")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_wrong_oauth1_secret_is_credentials_rejected_without_showing_it() {
    let mock = rest_mock(Agents::Both, EnabledAs::String).await;
    let wrong = "not-the-consumer-secret";
    let config = rest_config(&mock, oauth1(wrong));
    let error = oneroster_rest(&config).await.unwrap_err();
    let ConnectorError::CredentialsRejected { url, status: 401 } = &error else {
        panic!("{error:?}")
    };
    assert!(url.contains("/ims/oneroster/v1p1/orgs"), "{url}");
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{config:?}"),
    ] {
        assert!(!text.contains(wrong), "{text}");
    }
}

#[tokio::test]
async fn an_oauth2_token_is_fetched_once_and_reused_while_it_is_fresh() {
    let data = RestData::from_district(&district::small(), Agents::Both, EnabledAs::Bool);
    let mock = MockRest::start(data, oauth2_server(3600, None)).await;
    let connector =
        OneRosterRestConnector::new(rest_config(&mock, oauth2(&mock, CLIENT_SECRET))).unwrap();
    let first = connector.read().await.unwrap();
    let second = connector.read().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.bundle.users.len(), 24);
    assert_eq!(mock.token_requests(), 1);
}

#[tokio::test]
async fn an_expired_oauth2_token_is_fetched_again() {
    let data = RestData::from_district(&district::small(), Agents::Both, EnabledAs::Bool);
    // expires_in 0: every request needs a new token.
    let mock = MockRest::start(data.clone(), oauth2_server(0, None)).await;
    oneroster_rest(&rest_config(&mock, oauth2(&mock, CLIENT_SECRET)))
        .await
        .unwrap();
    assert_eq!(mock.token_requests(), mock.requests().len());
    // The server expires tokens after three requests, whatever expires_in said.
    let mock = MockRest::start(data, oauth2_server(3600, Some(3))).await;
    let fetched = oneroster_rest(&rest_config(&mock, oauth2(&mock, CLIENT_SECRET)))
        .await
        .unwrap();
    assert_eq!(fetched.bundle.users.len(), 24);
    assert!(mock.token_requests() > 3, "{}", mock.token_requests());
}

#[tokio::test]
async fn wrong_client_credentials_are_rejected_at_the_token_url() {
    let data = RestData::from_district(&district::small(), Agents::Both, EnabledAs::Bool);
    let mock = MockRest::start(data, oauth2_server(3600, None)).await;
    let wrong = "wrong-client-secret-value";
    let error = oneroster_rest(&rest_config(&mock, oauth2(&mock, wrong)))
        .await
        .unwrap_err();
    let ConnectorError::CredentialsRejected { url, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(url.ends_with(TOKEN_PATH), "{url}");
    assert!(!format!("{error} {error:?}").contains(wrong));
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn a_static_bearer_token_reads_through_the_classlink_proxy_shape() {
    let data = RestData::from_district(&district::small(), Agents::Both, EnabledAs::String);
    let mock = MockRest::start(data, MockAuth::Bearer("proxy-bearer-123456")).await;
    let auth = RestAuth::Bearer {
        token: SecretString::from("proxy-bearer-123456"),
    };
    let fetched = oneroster_rest(&rest_config(&mock, auth)).await.unwrap();
    assert_eq!(fetched.bundle.users.len(), 24);
}

#[tokio::test]
async fn paging_stops_at_a_short_page_when_the_server_sends_no_paging_headers() {
    let mock = rest_mock(Agents::Both, EnabledAs::String).await;
    mock.quirks(|q| q.paging = Paging::Bare);
    let fetched = oneroster_rest(&rest_config(&mock, oauth1(SECRET)))
        .await
        .unwrap();
    assert_eq!(fetched.bundle.users.len(), 24);
    let requests = mock.requests();
    // 24 users at 4 a page: six full pages and an empty one.
    assert_eq!(positions(&requests, "/users?").len(), 7, "{requests:?}");
    // 17 enrollments: four full pages and a short one.
    assert_eq!(
        positions(&requests, "/enrollments?").len(),
        5,
        "{requests:?}"
    );
}

#[tokio::test]
async fn paging_stops_at_x_total_count_without_an_extra_request() {
    let mock = rest_mock(Agents::Both, EnabledAs::String).await;
    mock.quirks(|q| q.paging = Paging::TotalOnly);
    let fetched = oneroster_rest(&rest_config(&mock, oauth1(SECRET)))
        .await
        .unwrap();
    assert_eq!(fetched.bundle.users.len(), 24);
    assert_eq!(positions(&mock.requests(), "/users?").len(), 6);
}

#[tokio::test]
async fn enabled_user_reads_the_same_as_a_string_or_a_boolean() {
    let as_string = rest_mock(Agents::Both, EnabledAs::String).await;
    let as_bool = rest_mock(Agents::Both, EnabledAs::Bool).await;
    let a = oneroster_rest(&rest_config(&as_string, oauth1(SECRET)))
        .await
        .unwrap();
    let b = oneroster_rest(&rest_config(&as_bool, oauth1(SECRET)))
        .await
        .unwrap();
    assert_eq!(roster(&a.bundle), roster(&b.bundle));
    as_string.data(|d| d.collections.get_mut("users").unwrap()[0]["enabledUser"] = json!("false"));
    as_bool.data(|d| d.collections.get_mut("users").unwrap()[0]["enabledUser"] = json!(false));
    for mock in [&as_string, &as_bool] {
        let fetched = oneroster_rest(&rest_config(mock, oauth1(SECRET)))
            .await
            .unwrap();
        assert!(!user(&fetched.bundle, "st01").enabled);
        assert!(user(&fetched.bundle, "st02").enabled);
    }
}

#[tokio::test]
async fn agents_on_either_side_give_the_same_guardian_links() {
    let mut seen = Vec::new();
    for agents in [
        Agents::StudentToGuardian,
        Agents::GuardianToStudent,
        Agents::Both,
    ] {
        let mock = rest_mock(agents, EnabledAs::String).await;
        let fetched = oneroster_rest(&rest_config(&mock, oauth1(SECRET)))
            .await
            .unwrap();
        let rosa = fetched
            .links
            .iter()
            .find(|l| l.guardian_source_id == "g04")
            .unwrap();
        assert_eq!(rosa.relationship.as_deref(), Some("relative"));
        seen.push((links(&fetched.bundle), fetched.links));
    }
    assert_eq!(seen[0].0.len(), 14);
    assert!(seen.iter().all(|s| s == &seen[0]), "{seen:?}");
}

#[tokio::test]
async fn a_rest_429_with_retry_after_resumes_at_the_same_offset() {
    let mock = rest_mock(Agents::Both, EnabledAs::String).await;
    let failures = [
        crate::mock_clever::Failure::once("users", 2, 429).retry_after(1),
        crate::mock_clever::Failure::once("enrollments", 3, 500),
    ];
    mock.quirks(|q| q.failures.extend(failures));
    let fetched = oneroster_rest(&rest_config(&mock, oauth1(SECRET)))
        .await
        .unwrap();
    assert_eq!(fetched.bundle.users.len(), 24);
    assert_eq!(fetched.bundle.enrollments.len(), 17);
    let requests = mock.requests();
    let users_page_two = positions(&requests, "/users?limit=4&offset=4");
    assert_eq!(users_page_two.len(), 2, "{requests:?}");
    assert_eq!(users_page_two[1], users_page_two[0] + 1);
    assert_eq!(
        positions(&requests, "/enrollments?limit=4&offset=8").len(),
        2
    );
}

#[tokio::test]
async fn a_malformed_rest_page_fails_the_whole_read_with_its_url_and_reason() {
    use crate::mock_clever::Malformation;
    let mock = rest_mock(Agents::Both, EnabledAs::String).await;
    let config = rest_config(&mock, oauth1(SECRET));
    mock.quirks(|q| q.malformed = Some(("users", 2, Malformation::MissingId)));
    let error = oneroster_rest(&config).await.unwrap_err();
    let ConnectorError::Malformed { url, reason } = &error else {
        panic!("{error:?}")
    };
    assert!(url.contains("/users?limit=4&offset=4"), "{url}");
    assert!(
        reason.contains("users[0]") && reason.contains("sourcedId"),
        "{reason}"
    );

    mock.quirks(|q| q.malformed = Some(("enrollments", 1, Malformation::BadJson)));
    let error = oneroster_rest(&config).await.unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Malformed { url, .. } if url.contains("/enrollments?")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_user_with_an_unknown_role_is_a_row_error_and_the_rest_is_read() {
    let mock = rest_mock(Agents::Both, EnabledAs::String).await;
    mock.data(|d| d.collections.get_mut("users").unwrap()[5]["role"] = json!("principle"));
    let fetched = oneroster_rest(&rest_config(&mock, oauth1(SECRET)))
        .await
        .unwrap();
    assert_eq!(fetched.bundle.users.len(), 23);
    let [error] = fetched.bundle.row_errors.as_slice() else {
        panic!("{:?}", fetched.bundle.row_errors)
    };
    assert_eq!((error.file.as_str(), error.line), ("users", 6));
    assert_eq!(error.source_id.as_deref(), Some("st06"));
    assert!(error.message.contains("principle"), "{}", error.message);
}

/// The libre-oneroster REST payloads, or `None` (with a notice) where
/// shared/oneroster-samples is not checked out.
fn libre_samples() -> Option<std::path::PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/oneroster-samples/libre-oneroster-rest-json/sample"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        eprintln!("skipped: no libre-oneroster samples at {}", dir.display());
        None
    }
}

#[tokio::test]
async fn the_libre_oneroster_sample_json_reads_through_the_rest_connector() {
    let Some(dir) = libre_samples() else {
        return;
    };
    let mock = MockRest::start(
        RestData::from_samples(&dir),
        MockAuth::OAuth1 {
            key: KEY,
            secret: SECRET,
        },
    )
    .await;
    let fetched = oneroster_rest(&rest_config(&mock, oauth1(SECRET)))
        .await
        .unwrap();
    let bundle = &fetched.bundle;
    assert!(bundle.row_errors.is_empty(), "{:?}", bundle.row_errors);
    assert_eq!((bundle.orgs.len(), bundle.academic_sessions.len()), (4, 3));
    assert_eq!((bundle.courses.len(), bundle.classes.len()), (2, 3));
    assert_eq!((bundle.users.len(), bundle.enrollments.len()), (3, 2));
    // enabledUser 1/0 and primary 1 are integers in these payloads.
    assert!(user(bundle, "001").enabled);
    assert!(!user(bundle, "002").enabled);
    assert_eq!(
        user(bundle, "002").role,
        UserRole::Guardian("parent".into())
    );
    assert_eq!(user(bundle, "002").sms.as_deref(), Some("0123456789"));
    let teacher = bundle
        .enrollments
        .iter()
        .find(|e| e.role == "teacher")
        .unwrap();
    assert!(teacher.primary);
    let pairs: Vec<_> = fetched
        .links
        .iter()
        .map(|l| (l.guardian_source_id.as_str(), l.student_source_id.as_str()))
        .collect();
    assert_eq!(pairs, [("002", "001")]);
    let deleted = bundle
        .orgs
        .iter()
        .filter(|o| o.status == Status::ToBeDeleted)
        .count();
    assert_eq!(deleted, 2);
}

#[tokio::test]
async fn without_the_operators_allowance_a_loopback_api_is_never_called() {
    let mock = clever_mock().await;
    // http to a loopback address: refused before any request.
    let strict = CleverConfig {
        outbound: OutboundPolicy::default(),
        ..clever_config(&mock, crate::mock_clever::TOKEN)
    };
    let refused = clever_full(&strict).await.unwrap_err();
    assert!(
        matches!(&refused, ConnectorError::InvalidConfig(m) if m.contains("only https")),
        "{refused:?}"
    );
    // A name that resolves to loopback: refused when it resolves.
    let by_name = CleverConfig {
        outbound: OutboundPolicy::parse("localhost").unwrap(),
        ..clever_config(&mock, crate::mock_clever::TOKEN)
    };
    let port = mock.base_url.rsplit(':').next().unwrap().to_string();
    let via_name = CleverConfig {
        base_url: format!("http://localhost:{port}"),
        outbound: OutboundPolicy::parse("127.0.0.2/32").unwrap(),
        ..by_name.clone()
    };
    assert!(
        clever_full(&via_name).await.is_err(),
        "http to a host that is not allowed"
    );
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
    // The operator allows the host by name: it is reached.
    let allowed = CleverConfig {
        base_url: format!("http://localhost:{port}"),
        ..by_name
    };
    clever_full(&allowed).await.unwrap();
    assert!(!mock.requests().is_empty());

    let rest = rest_mock(Agents::StudentToGuardian, EnabledAs::String).await;
    let strict = OneRosterRestConfig {
        outbound: OutboundPolicy::default(),
        ..rest_config(&rest, oauth1(SECRET))
    };
    assert!(oneroster_rest(&strict).await.is_err());
}

/// Clever API v3.1 (the current docs) reads the same district; a student's
/// `preferred_name` becomes the preferred given name.
#[tokio::test]
async fn clever_v3_1_reads_the_same_district_and_the_preferred_name() {
    let mock = clever_mock().await;
    let v30 = clever_full(&clever_config(&mock, crate::mock_clever::TOKEN))
        .await
        .unwrap();
    mock.data(|d| {
        if let Some(student) = d
            .users
            .iter_mut()
            .find(|u| u["roles"]["student"].is_object())
        {
            student["roles"]["student"]["preferred_name"] = json!({"first": "Bartholomew"});
        }
    });
    let v31 = clever_full(&CleverConfig {
        base_url: format!("{}/v3.1", mock.base_url),
        ..clever_config(&mock, crate::mock_clever::TOKEN)
    })
    .await
    .unwrap();
    assert!(
        mock.requests().iter().any(|r| r.starts_with("/v3.1/users")),
        "{:?}",
        mock.requests()
    );
    assert_eq!(v31.bundle.users.len(), v30.bundle.users.len());
    assert!(
        v31.bundle
            .users
            .iter()
            .any(|u| u.preferred_given_name.as_deref() == Some("Bartholomew"))
    );
}
