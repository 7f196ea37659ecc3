//! Clever and OneRoster REST sources (RO-2, API half) from creation to the
//! roster: created through the source operations, synced by the real engine
//! from the local vendor mocks into the database; rejected credentials and
//! malformed pages fail the run and write nothing; Clever events make later
//! runs incremental; credentials are sealed at rest and never read back.

use std::sync::Arc;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use homeroom_platform::{auth::Principal, db::DbError};
use homeroom_proto::roster::v1::{self as pb, roster_service_server::RosterService};
use roster_svc::{
    connectors::RetryPolicy,
    grpc::RosterApi,
    ops::{
        runner::Runner,
        runs::{self, RunRequest},
        sources::{
            self, CleverInput, RestAuthMethod, RestInput, Secrets, SourceInput, StoredConfig,
        },
    },
    secrets::{SecretsError, SecretsKey},
    store::sync::{RunRow, SourceRow},
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::sync::Notify;

use crate::connectors::district;
use crate::mock_clever::{self, CleverData, EventsGone, Malformation, MockClever};
use crate::mock_oneroster_rest::{Agents, EnabledAs, MockAuth, MockRest, RestData};
use crate::sync_engine::{Fixture, service};

const KEY: &str = "classlink-consumer-key";
const SECRET: &str = "classlink-consumer-secret-9d2f";
const CLIENT_ID: &str = "homeroom";
const CLIENT_SECRET: &str = "oauth2-client-secret-51ac";

/// People, guardians' links: what the small district makes.
const PEOPLE: usize = 24;
const LINKS: i64 = 14;

// ---------------------------------------------------------------- helpers

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(20),
        request_timeout: std::time::Duration::from_secs(10),
    }
}

fn base(f: &Fixture, name: &str, kind: &str) -> SourceInput {
    SourceInput {
        district_id: f.district_id.clone(),
        name: name.into(),
        kind: kind.into(),
        manages_guardians: true,
        unarchive_classes: true,
        ..SourceInput::default()
    }
}

fn clever(f: &Fixture, mock: &MockClever, token: &str, use_events: bool) -> SourceInput {
    SourceInput {
        clever: Some(CleverInput {
            base_url: mock.base_url.clone(),
            district_token: Some(SecretString::from(token)),
            use_events,
            page_size: 3,
        }),
        ..base(f, "Clever", "clever")
    }
}

fn rest_oauth1(f: &Fixture, mock: &MockRest, secret: &str) -> SourceInput {
    SourceInput {
        oneroster_rest: Some(RestInput {
            base_url: mock.base_url.clone(),
            auth_method: Some(RestAuthMethod::OAuth1),
            oauth1_key: KEY.into(),
            oauth1_secret: Some(SecretString::from(secret)),
            page_size: 4,
            ..RestInput::default()
        }),
        ..base(f, "ClassLink", "oneroster_rest")
    }
}

fn rest_oauth2(f: &Fixture, mock: &MockRest, secret: &str) -> SourceInput {
    SourceInput {
        oneroster_rest: Some(RestInput {
            base_url: mock.base_url.clone(),
            auth_method: Some(RestAuthMethod::OAuth2),
            client_id: CLIENT_ID.into(),
            client_secret: Some(SecretString::from(secret)),
            scope: "roster-core.readonly".into(),
            page_size: 4,
            ..RestInput::default()
        }),
        ..base(f, "OneRoster", "oneroster_rest")
    }
}

/// The small district's phones are fictional (`+1 555 01xx`), which the
/// planner refuses; these are dialable ones.
fn dialable(value: &mut serde_json::Value) {
    if let Some(phone) = value.as_str().and_then(|p| p.strip_prefix("+1 555 ")) {
        *value = json!(format!("+1 201 555 {phone}"));
    }
}

async fn clever_mock() -> MockClever {
    let mut data = CleverData::from_district(&district::small(), true);
    for user in &mut data.users {
        if let Some(phone) = user.pointer_mut("/roles/contact/phone") {
            dialable(phone);
        }
    }
    MockClever::start(data).await
}

async fn rest_mock(auth: MockAuth) -> MockRest {
    let mut data = RestData::from_district(&district::small(), Agents::Both, EnabledAs::String);
    for user in data.collections.get_mut("users").into_iter().flatten() {
        for field in ["/sms", "/phone"] {
            if let Some(phone) = user.pointer_mut(field) {
                dialable(phone);
            }
        }
    }
    MockRest::start(data, auth).await
}

fn oauth1_server() -> MockAuth {
    MockAuth::OAuth1 {
        key: KEY,
        secret: SECRET,
    }
}

fn oauth2_server() -> MockAuth {
    MockAuth::OAuth2 {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        expires_in: 3600,
        uses_per_token: None,
    }
}

async fn create(f: &Fixture, input: SourceInput) -> String {
    sources::create(&f.ctx, &service(), input).await.unwrap().id
}

/// Queues and runs one sync with fast retries; returns the finished run.
async fn sync(f: &Fixture, source: &str, dry_run: bool, full_sync: bool) -> RunRow {
    let run = runs::queue(
        &f.ctx,
        &service(),
        RunRequest {
            source_id: source.into(),
            dry_run,
            full_sync,
            ..RunRequest::default()
        },
        "on_demand",
        None,
    )
    .await
    .unwrap();
    let engine = f.engine.clone().with_retry(fast_retry());
    let runner = Runner::new(f.ctx.db.clone(), engine, Arc::new(Notify::new()));
    assert_eq!(runner.run_once().await.unwrap(), Some(run.id.clone()));
    runs::get(&f.ctx.db, &service(), &run.id).await.unwrap().0
}

/// Every person's (source id, status), by source id.
async fn people(f: &Fixture) -> Vec<(String, String)> {
    f.ctx
        .db
        .run(|c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::people;
            people::table
                .select((people::source_id, people::status))
                .order(people::source_id)
                .load::<(String, String)>(c)
                .map_err(DbError::Query)
        })
        .await
        .unwrap()
}

async fn active_links(f: &Fixture) -> i64 {
    f.ctx
        .db
        .run(|c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::guardian_links;
            guardian_links::table
                .filter(guardian_links::status.eq("active"))
                .count()
                .get_result::<i64>(c)
                .map_err(DbError::Query)
        })
        .await
        .unwrap()
}

async fn row(f: &Fixture, id: &str) -> SourceRow {
    sources::get(&f.ctx.db, &service(), id).await.unwrap()
}

async fn cursor(f: &Fixture, id: &str) -> Option<String> {
    StoredConfig::parse(&row(f, id).await.config)
        .clever
        .and_then(|c| c.cursor)
}

fn action<'a>(rows: &'a [(String, String, String, String)], source_id: &str) -> &'a str {
    rows.iter()
        .find(|r| r.1 == source_id)
        .map_or("none", |r| r.2.as_str())
}

fn status_of<'a>(people: &'a [(String, String)], source_id: &str) -> &'a str {
    people
        .iter()
        .find(|p| p.0 == source_id)
        .map_or("none", |p| p.1.as_str())
}

fn request<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.extensions_mut().insert::<Principal>(service());
    request
}

// ------------------------------------------------------------ end to end

#[tokio::test]
async fn a_clever_source_syncs_through_the_engine_into_the_roster() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, false)).await;

    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.status, "completed", "{run:?}");
    assert_eq!(run.mode.as_deref(), Some("full"));
    let people = people(&f).await;
    let rows = f.rows(&run.id).await;
    assert_eq!(people.len(), PEOPLE, "{rows:?}");
    assert!(people.iter().all(|p| p.1 == "active"), "{people:?}");
    assert_eq!(active_links(&f).await, LINKS);
    assert!(
        rows.iter().all(|r| r.2 == "CREATED" || r.0 == "district"),
        "{rows:?}"
    );
    assert_eq!(action(&rows, "st01"), "CREATED");
    assert_eq!(action(&rows, "g04"), "CREATED");
    // Staff and contacts went to identity; the token went nowhere near it.
    let upserts = f.identity.upserts.lock().unwrap().clone();
    let accounts: usize = upserts.iter().map(|u| u.accounts.len()).sum();
    assert_eq!(accounts, 14);
    assert!(!format!("{upserts:?}").contains(mock_clever::TOKEN));
    // Homer's only phone is a Home phone: kept for the record, never the SMS number.
    let homer = upserts
        .iter()
        .flat_map(|u| &u.accounts)
        .find(|a| a.source_id == "g02")
        .unwrap();
    assert_eq!(
        homer.mobile_phone.as_deref().unwrap_or_default(),
        "",
        "{homer:?}"
    );
    assert!(
        homer.home_phone.as_deref().is_some_and(|p| !p.is_empty()),
        "{homer:?}"
    );
    // Clever's own requests carried the token; every list was read.
    assert!(mock.requests().iter().any(|r| r.contains("role=contact")));
}

/// Roster ids of people and classes by their source ids.
async fn ids_of(f: &Fixture, table: &'static str, source_ids: &[&str]) -> Vec<String> {
    let wanted: Vec<String> = source_ids.iter().map(|s| (*s).to_owned()).collect();
    let found: Vec<(String, String)> = f
        .ctx
        .db
        .run(move |c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::{classes, people};
            match table {
                "classes" => classes::table
                    .filter(classes::source_id.eq_any(&wanted))
                    .select((classes::source_id, classes::id))
                    .load(c),
                _ => people::table
                    .filter(people::source_id.eq_any(&wanted))
                    .select((people::source_id, people::id))
                    .load(c),
            }
            .map_err(DbError::Query)
        })
        .await
        .unwrap();
    source_ids
        .iter()
        .map(|sid| {
            found
                .iter()
                .find(|(s, _)| s == sid)
                .map(|(_, id)| id.clone())
                .unwrap_or_else(|| panic!("{sid} is not rostered"))
        })
        .collect()
}

/// Who an audience reaches: account id → the student ids of its reasons,
/// and the summary.
async fn audience(
    f: &Fixture,
    request_: pb::ResolveAudienceRequest,
) -> (
    std::collections::BTreeMap<String, Vec<String>>,
    pb::AudienceSummary,
) {
    let api = RosterApi::new(f.ctx.clone());
    let mut stream = api
        .resolve_audience(request(request_))
        .await
        .unwrap()
        .into_inner();
    let (mut members, mut summary) = (std::collections::BTreeMap::new(), None);
    while let Some(page) = futures::StreamExt::next(&mut stream).await {
        let page = page.unwrap();
        for m in page.members {
            let students = m.reasons.iter().map(|r| r.student_id.clone()).collect();
            members.insert(m.account_id, students);
        }
        summary = page.summary.or(summary);
    }
    (members, summary.unwrap())
}

/// Clever gives each guardian–student link its own relationship and contact
/// type: they stay with that one link, reads answer them, and an audience
/// can take primary contacts only or leave out emergency-only contacts.
#[tokio::test]
async fn clever_links_keep_their_own_relationship_and_contact_type() {
    let f = Fixture::new().await;
    let mut data = CleverData::from_district(&district::small(), true);
    for user in &mut data.users {
        if let Some(phone) = user.pointer_mut("/roles/contact/phone") {
            dialable(phone);
        }
        // Chief Wiggum is also Sherri's secondary contact; Sara is her primary.
        if user["id"] == "g08" {
            user["roles"]["contact"]["student_relationships"]
                .as_array_mut()
                .unwrap()
                .push(
                    json!({"student": "st10", "relationship": "Aunt/Uncle", "type": "Secondary"}),
                );
        }
    }
    let mock = MockClever::start(data).await;
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, false)).await;
    assert_eq!(sync(&f, &source, false, false).await.status, "completed");

    // Martha is Martin's parent and Wendell's emergency contact: two links,
    // each with its own relationship and type.
    let ids = ids_of(&f, "people", &["st08", "st09", "st10", "g09", "g10"]).await;
    let api = RosterApi::new(f.ctx.clone());
    let guardians = |student: String| {
        let api = api.clone();
        async move {
            api.list_student_guardians(request(pb::ListStudentGuardiansRequest {
                student_id: student,
                include_inactive: false,
            }))
            .await
            .unwrap()
            .into_inner()
            .guardians
        }
    };
    let link_of = |list: &[pb::StudentGuardian], guardian: &str| {
        list.iter()
            .map(|g| g.link.clone().unwrap())
            .find(|l| l.guardian_id == guardian)
            .unwrap()
    };
    let martin = guardians(ids[0].clone()).await;
    let parent = link_of(&martin, &ids[3]);
    assert_eq!(parent.relationship(), pb::GuardianRelationship::Parent);
    assert_eq!(
        parent.contact_type(),
        pb::GuardianContactType::ParentGuardian
    );
    assert!(!parent.primary);
    let wendell = guardians(ids[1].clone()).await;
    let emergency = link_of(&wendell, &ids[3]);
    assert_eq!(emergency.relationship(), pb::GuardianRelationship::Other);
    assert_eq!(emergency.contact_type(), pb::GuardianContactType::Emergency);
    let sherri = guardians(ids[2].clone()).await;
    let primary = link_of(&sherri, &ids[4]);
    assert_eq!(primary.contact_type(), pb::GuardianContactType::Primary);
    assert!(primary.primary);
    assert_eq!(
        sherri[0].link.as_ref().unwrap().guardian_id,
        ids[4],
        "primary first"
    );

    // Audiences of both classes, by who they keep.
    let classes = ids_of(&f, "classes", &["sec1", "sec2"]).await;
    let reach = |contacts: pb::GuardianContacts| {
        audience(
            &f,
            pb::ResolveAudienceRequest {
                district_id: f.district_id.clone(),
                class_ids: classes.clone(),
                guardian_contacts: contacts.into(),
                ..Default::default()
            },
        )
    };
    let (all, _) = reach(pb::GuardianContacts::Unspecified).await;
    let (no_emergency, _) = reach(pb::GuardianContacts::WithoutEmergency).await;
    let (primary_only, _) = reach(pb::GuardianContacts::PrimaryOnly).await;
    // Rosa is only ever an emergency contact.
    assert!(all.contains_key("acct-g04"), "{all:?}");
    assert!(!no_emergency.contains_key("acct-g04"), "{no_emergency:?}");
    assert!(!primary_only.contains_key("acct-g04"), "{primary_only:?}");
    // Martha stays for Martin, not for Wendell.
    assert_eq!(all["acct-g09"].len(), 2);
    assert_eq!(no_emergency["acct-g09"], vec![ids[0].clone()]);
    // Sherri has a primary contact: only Sara is hers; Martin has none, so
    // his parent and his secondary contact both stay.
    assert_eq!(all["acct-g08"].len(), 2);
    assert_eq!(primary_only["acct-g08"], vec![ids[0].clone()]);
    assert_eq!(primary_only["acct-g10"], vec![ids[2].clone()]);
    assert_eq!(primary_only["acct-g09"], vec![ids[0].clone()]);
}

/// A student audience reaches the students' guardians; the students
/// themselves only where the source gives them accounts (the grades the
/// district chooses, with their SIS email), and the rest are counted.
#[tokio::test]
async fn a_student_audience_reaches_guardians_and_students_with_accounts() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let input = SourceInput {
        student_account_grades: vec!["3".into()],
        ..clever(&f, &mock, mock_clever::TOKEN, false)
    };
    let source = create(&f, input).await;
    assert_eq!(row(&f, &source).await.student_account_grades, "03");
    assert_eq!(sync(&f, &source, false, false).await.status, "completed");

    // Bart and Lisa (grade 3, with SIS emails) got student accounts; the
    // other third graders have no email, the seventh graders the wrong grade.
    let upserts = f.identity.upserts.lock().unwrap().clone();
    let students: Vec<&str> = upserts
        .iter()
        .flat_map(|u| &u.accounts)
        .filter(|a| a.kind() == homeroom_proto::identity::v1::AccountKind::Student)
        .map(|a| a.source_id.as_str())
        .collect();
    assert_eq!(students, ["st01", "st02"]);
    let bart = upserts
        .iter()
        .flat_map(|u| &u.accounts)
        .find(|a| a.source_id == "st01")
        .unwrap();
    assert_eq!(
        bart.email.as_deref(),
        Some("bart@students.springfield.example")
    );
    assert!(bart.roles.is_empty() && bart.mobile_phone.is_none());

    let class = ids_of(&f, "classes", &["sec1"]).await;
    let ask = |roles: Vec<pb::AudienceRole>| pb::ResolveAudienceRequest {
        district_id: f.district_id.clone(),
        class_ids: class.clone(),
        roles: roles.into_iter().map(i32::from).collect(),
        ..Default::default()
    };
    let (to_students, summary) = audience(&f, ask(vec![pb::AudienceRole::Student])).await;
    assert!(to_students.contains_key("acct-st01") && to_students.contains_key("acct-st02"));
    // Every third grader's guardians too: Marge, Homer, Maria, Rosa, Ana, Mrs Muntz.
    for g in ["g01", "g02", "g03", "g04", "g05", "g07"] {
        assert!(
            to_students.contains_key(&format!("acct-{g}")),
            "{g}: {to_students:?}"
        );
    }
    assert_eq!(to_students.len(), 8, "{to_students:?}");
    assert_eq!(summary.students_without_account, 3);
    // A guardian audience does not reach the students.
    let (to_guardians, summary) = audience(&f, ask(vec![pb::AudienceRole::Guardian])).await;
    assert_eq!(to_guardians.len(), 6, "{to_guardians:?}");
    assert_eq!(summary.students_without_account, 0);
    // A grade that is not one is refused naming the field.
    let bad = SourceInput {
        student_account_grades: vec!["14".into()],
        ..clever(&f, &mock, mock_clever::TOKEN, false)
    };
    let err = sources::create(&f.ctx, &service(), bad).await.unwrap_err();
    assert!(
        err.to_string().contains("settings.student_account_grades"),
        "{err}"
    );
}

/// ClassLink's documented OAuth 2 route: its OneRoster proxy with a bearer
/// token from the ClassLink console, sent as is.
#[tokio::test]
async fn a_oneroster_rest_source_syncs_with_a_classlink_bearer_token() {
    let f = Fixture::new().await;
    let mock = rest_mock(MockAuth::Bearer("classlink-console-token")).await;
    let input = SourceInput {
        oneroster_rest: Some(RestInput {
            base_url: mock.base_url.clone(),
            auth_method: Some(RestAuthMethod::Bearer),
            bearer_token: Some(SecretString::from("classlink-console-token")),
            page_size: 4,
            ..RestInput::default()
        }),
        ..base(&f, "ClassLink proxy", "oneroster_rest")
    };
    let source = create(&f, input).await;
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.status, "completed", "{run:?}");
    assert_eq!(people(&f).await.len(), PEOPLE);
    // A wrong token is refused by the server and says which setting to fix.
    let wrong = RestInput {
        bearer_token: Some(SecretString::from("a-revoked-token")),
        ..RestInput::default()
    };
    sources::update(
        &f.ctx,
        &service(),
        &source,
        SourceInput {
            oneroster_rest: Some(wrong),
            ..base(&f, "ClassLink proxy", "oneroster_rest")
        },
        &["connector.oneroster_rest.bearer_token".to_string()],
    )
    .await
    .unwrap();
    let run = sync(&f, &source, false, false).await;
    assert_eq!(
        run.failure_kind.as_deref(),
        Some("credentials_rejected"),
        "{run:?}"
    );
    let message = run.failure_message.unwrap_or_default();
    assert!(message.contains("bearer token"), "{message}");
    assert!(!message.contains("a-revoked-token"), "{message}");
}

#[tokio::test]
async fn oneroster_rest_sources_sync_with_oauth1_and_with_oauth2() {
    for oauth2 in [false, true] {
        let f = Fixture::new().await;
        let (mock, input) = if oauth2 {
            let mock = rest_mock(oauth2_server()).await;
            let input = rest_oauth2(&f, &mock, CLIENT_SECRET);
            (mock, input)
        } else {
            let mock = rest_mock(oauth1_server()).await;
            let input = rest_oauth1(&f, &mock, SECRET);
            (mock, input)
        };
        let source = create(&f, input).await;
        let run = sync(&f, &source, false, false).await;
        assert_eq!(run.status, "completed", "oauth2={oauth2}: {run:?}");
        assert_eq!(run.mode.as_deref(), Some("full"));
        assert_eq!(people(&f).await.len(), PEOPLE);
        assert_eq!(active_links(&f).await, LINKS);
        if oauth2 {
            assert_eq!(mock.token_requests(), 1);
        }
    }
}

// --------------------------------------------------------------- failures

#[tokio::test]
async fn a_401_fails_the_run_as_credentials_rejected_and_writes_nothing() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, false)).await;
    assert_eq!(sync(&f, &source, false, false).await.status, "completed");
    let before = people(&f).await;
    let upserts = f.identity.upserts.lock().unwrap().len();

    let revoked = "revoked-token-0000";
    let change = clever(&f, &mock, revoked, false);
    let paths = ["connector.clever.district_token".to_string()];
    sources::update(&f.ctx, &service(), &source, change, &paths)
        .await
        .unwrap();
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.status, "failed");
    assert_eq!(run.failure_kind.as_deref(), Some("credentials_rejected"));
    let message = run.failure_message.clone().unwrap_or_default();
    assert!(
        message.starts_with("Clever rejected the credentials (HTTP 401)")
            && message.contains(&mock.base_url)
            && message.contains("update the district token"),
        "{message}"
    );
    assert!(!message.contains(revoked) && !message.contains(mock_clever::TOKEN));
    assert_eq!(people(&f).await, before);
    assert_eq!(f.identity.upserts.lock().unwrap().len(), upserts);
    assert!(f.identity.deactivations.lock().unwrap().is_empty());

    // The same for a OneRoster REST server and a wrong OAuth 1.0a secret.
    let rest = rest_mock(oauth1_server()).await;
    let source = create(&f, rest_oauth1(&f, &rest, "not-the-secret")).await;
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.failure_kind.as_deref(), Some("credentials_rejected"));
    let message = run.failure_message.unwrap_or_default();
    assert!(
        message.contains("HTTP 401") && message.contains(&rest.base_url),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"));
    assert_eq!(people(&f).await, before);
}

#[tokio::test]
async fn a_malformed_page_fails_the_run_with_its_url_and_deactivates_nobody() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, false)).await;
    assert_eq!(sync(&f, &source, false, false).await.status, "completed");
    let before = people(&f).await;
    let upserts = f.identity.upserts.lock().unwrap().len();

    // Page 2 of the students is cut off: pages 1 and 3 read fine, but a bulk
    // read missing page 2 would deactivate its students.
    mock.quirks(|q| q.malformed = Some(("users?role=student", 2, Malformation::BadJson)));
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.status, "failed");
    assert_eq!(run.failure_kind.as_deref(), Some("invalid_input"));
    let message = run.failure_message.unwrap_or_default();
    assert!(
        message.contains(&mock.base_url)
            && message.contains("role=student")
            && message.contains("starting_after=st03")
            && message.contains("not JSON"),
        "{message}"
    );
    assert_eq!(people(&f).await, before);
    assert_eq!(active_links(&f).await, LINKS);
    assert_eq!(f.identity.upserts.lock().unwrap().len(), upserts);
    assert!(f.identity.deactivations.lock().unwrap().is_empty());

    let rest = rest_mock(oauth1_server()).await;
    let source = create(&f, rest_oauth1(&f, &rest, SECRET)).await;
    assert_eq!(sync(&f, &source, false, false).await.status, "completed");
    let before = people(&f).await;
    rest.quirks(|q| q.malformed = Some(("users", 2, Malformation::MissingId)));
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.failure_kind.as_deref(), Some("invalid_input"));
    let message = run.failure_message.unwrap_or_default();
    assert!(
        message.contains("/users?limit=4&offset=4") && message.contains("sourcedId"),
        "{message}"
    );
    assert_eq!(people(&f).await, before);
    assert!(f.identity.deactivations.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_fails_the_run_as_source_unavailable() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, false)).await;
    let failure = mock_clever::Failure::once("schools", 1, 503).times(10);
    mock.quirks(|q| q.failures.push(failure));
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.failure_kind.as_deref(), Some("source_unavailable"));
    assert!(
        run.failure_message
            .unwrap_or_default()
            .contains("/v3.0/schools"),
    );
    assert!(people(&f).await.is_empty());
}

// ---------------------------------------------------------- Clever events

#[tokio::test]
async fn clever_events_make_later_runs_incremental_and_a_deletion_deactivates() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let d = district::small();
    let first_event = mock.push_event("schools.created", json!({"id": "s1"}), None);
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, true)).await;

    let full = sync(&f, &source, false, false).await;
    assert_eq!(full.mode.as_deref(), Some("full"));
    assert_eq!(cursor(&f, &source).await, Some(first_event.clone()));

    // Sherri leaves; Bart goes by Bartholomew.
    let sherri = mock_clever::user(&d, &d.people[9], true);
    mock.data(|data| data.users.retain(|u| u["id"] != "st10"));
    mock.push_event("users.deleted", sherri, None);
    let mut bart = mock_clever::user(&d, &d.people[0], true);
    bart["name"]["first"] = json!("Bartholomew");
    let last = mock.push_event("users.updated", bart, None);

    // A dry run reads the events but does not move the cursor.
    let dry = sync(&f, &source, true, false).await;
    assert_eq!(dry.mode.as_deref(), Some("delta"), "{dry:?}");
    assert_eq!(cursor(&f, &source).await, Some(first_event));

    let delta = sync(&f, &source, false, false).await;
    assert_eq!(delta.status, "completed", "{delta:?}");
    assert_eq!(delta.mode.as_deref(), Some("delta"));
    let rows = f.rows(&delta.id).await;
    assert_eq!(action(&rows, "st10"), "DEACTIVATED");
    assert_eq!(action(&rows, "st01"), "UPDATED");
    assert_eq!(
        action(&rows, "st02"),
        "none",
        "unlisted people are untouched"
    );
    let now = people(&f).await;
    assert_eq!(now.len(), PEOPLE, "never deleted");
    assert_ne!(status_of(&now, "st10"), "active");
    assert_eq!(status_of(&now, "st02"), "active");
    assert_eq!(cursor(&f, &source).await, Some(last.clone()));

    // Nothing new: a delta with nothing in it, and the cursor stays.
    let quiet = sync(&f, &source, false, false).await;
    assert_eq!(quiet.mode.as_deref(), Some("delta"));
    assert_eq!(cursor(&f, &source).await, Some(last.clone()));

    // A full sync asked for reads everything, whatever the cursor.
    let asked = sync(&f, &source, false, true).await;
    assert_eq!(asked.mode.as_deref(), Some("full"));
    assert_ne!(status_of(&people(&f).await, "st10"), "active");
}

#[tokio::test]
async fn a_feed_that_cannot_serve_the_cursor_falls_back_to_a_full_read_in_the_same_run() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    mock.push_event("schools.created", json!({"id": "s1"}), None);
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, true)).await;
    assert_eq!(
        sync(&f, &source, false, false).await.mode.as_deref(),
        Some("full")
    );
    assert!(cursor(&f, &source).await.is_some());

    mock.quirks(|q| q.events_gone = Some(EventsGone::TooOld));
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.status, "completed", "{run:?}");
    assert_eq!(run.mode.as_deref(), Some("full"));
    // No feed to start from: the next run is a full one too.
    assert_eq!(cursor(&f, &source).await, None);

    mock.quirks(|q| q.events_gone = None);
    let newest = mock.push_event("terms.created", json!({"id": "tm1"}), None);
    let again = sync(&f, &source, false, false).await;
    assert_eq!(again.mode.as_deref(), Some("full"));
    assert_eq!(cursor(&f, &source).await, Some(newest));
}

#[tokio::test]
async fn a_failed_run_keeps_the_cursor_where_it_was() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let first = mock.push_event("schools.created", json!({"id": "s1"}), None);
    let source = create(&f, clever(&f, &mock, mock_clever::TOKEN, true)).await;
    sync(&f, &source, false, false).await;
    let d = district::small();
    mock.push_event(
        "users.updated",
        mock_clever::user(&d, &d.people[0], true),
        None,
    );
    // The feed is gone, so the run falls back to a full read, which breaks.
    mock.quirks(|q| {
        q.events_gone = Some(EventsGone::Gone);
        q.malformed = Some(("sections", 1, Malformation::MissingId));
    });
    let run = sync(&f, &source, false, false).await;
    assert_eq!(run.failure_kind.as_deref(), Some("invalid_input"));
    assert_eq!(cursor(&f, &source).await, Some(first));
}

// ------------------------------------------------------ settings, secrets

#[tokio::test]
async fn secrets_never_come_back_from_the_api_and_are_encrypted_in_the_row() {
    let f = Fixture::new().await;
    let api = RosterApi::new(f.ctx.clone());
    let clever_source = pb::SyncSource {
        district_id: f.district_id.clone(),
        display_name: "Clever".into(),
        kind: pb::SyncSourceKind::Clever.into(),
        connector: Some(pb::ConnectorConfig {
            config: Some(pb::connector_config::Config::Clever(pb::CleverConfig {
                base_url: "https://api.clever.com".into(),
                district_token: mock_clever::TOKEN.into(),
                use_events: true,
                ..Default::default()
            })),
        }),
        schedule: Some(pb::SyncSchedule {
            daily_time: "02:30".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let rest_source = pb::SyncSource {
        display_name: "ClassLink".into(),
        kind: pb::SyncSourceKind::OnerosterRest.into(),
        connector: Some(pb::ConnectorConfig {
            config: Some(pb::connector_config::Config::OnerosterRest(
                pb::OneRosterRestConfig {
                    base_url: "https://district-ca-v2.oneroster.com".into(),
                    auth_method: pb::OneRosterAuthMethod::Oauth2ClientCredentials.into(),
                    client_id: CLIENT_ID.into(),
                    client_secret: CLIENT_SECRET.into(),
                    ..Default::default()
                },
            )),
        }),
        ..clever_source.clone()
    };
    let mut created = Vec::new();
    for s in [clever_source, rest_source] {
        let answer = api
            .create_sync_source(request(pb::CreateSyncSourceRequest {
                sync_source: Some(s),
            }))
            .await
            .unwrap()
            .into_inner();
        created.push(answer.sync_source.unwrap());
    }
    let get = api
        .get_sync_source(request(pb::GetSyncSourceRequest {
            sync_source_id: created[0].sync_source_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .sync_source
        .unwrap();
    let list = api
        .list_sync_sources(request(pb::ListSyncSourcesRequest {
            district_id: f.district_id.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .sync_sources;
    assert_eq!(list.len(), 2);
    let shown = format!("{created:?} {get:?} {list:?}");
    for secret in [mock_clever::TOKEN, CLIENT_SECRET] {
        assert!(!shown.contains(secret), "{secret} came back");
    }
    for s in created.iter().chain([&get]).chain(&list) {
        match s.connector.as_ref().and_then(|c| c.config.clone()) {
            Some(pb::connector_config::Config::Clever(c)) => {
                assert!(c.district_token.is_empty() && c.district_token_set);
                assert!(c.use_events);
            }
            Some(pb::connector_config::Config::OnerosterRest(r)) => {
                assert!(r.client_secret.is_empty() && r.client_secret_set);
                assert!(!r.oauth1_secret_set);
                assert_eq!(r.client_id, CLIENT_ID);
            }
            other => panic!("{other:?}"),
        }
        let schedule = s.schedule.clone().unwrap();
        assert_eq!(schedule.time_zone, "America/New_York");
        assert!(schedule.next_run_at.is_some());
    }

    // In the row: sealed, bound to the row, and opened only with the key.
    for s in &created {
        let stored = row(&f, &s.sync_source_id).await;
        let everything = format!("{stored:?}");
        assert!(!everything.contains(mock_clever::TOKEN));
        assert!(!everything.contains(CLIENT_SECRET));
        let sealed = stored.secret_ciphertext.clone().unwrap();
        assert!(sealed.starts_with("v1:"), "{sealed}");
        let opened = Secrets::open(&f.ctx.secrets, &stored).unwrap();
        assert!(opened.district_token.is_some() || opened.client_secret.is_some());
        let other = SecretsKey::from_base64(&STANDARD.encode([9_u8; 32])).unwrap();
        assert_eq!(
            Secrets::open(&other, &stored).unwrap_err(),
            SecretsError::Decrypt
        );
    }
    let raw: Vec<(Option<String>, String)> = f
        .ctx
        .db
        .run(|c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::sync_sources as s;
            s::table
                .select((s::secret_ciphertext, s::config))
                .load(c)
                .map_err(DbError::Query)
        })
        .await
        .unwrap();
    let raw = format!("{raw:?}");
    assert!(!raw.contains(mock_clever::TOKEN) && !raw.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn an_empty_secret_on_update_keeps_the_stored_one_and_a_new_one_replaces_it() {
    let f = Fixture::new().await;
    let mock = rest_mock(oauth2_server()).await;
    let source = create(&f, rest_oauth2(&f, &mock, CLIENT_SECRET)).await;
    let opened = |row: &SourceRow| {
        Secrets::open(&f.ctx.secrets, row)
            .unwrap()
            .client_secret
            .map(|s| s.expose_secret().to_owned())
    };

    // New page size, secret left empty: the stored one stays.
    let mut change = rest_oauth2(&f, &mock, "");
    if let Some(r) = change.oneroster_rest.as_mut() {
        r.client_secret = None;
        r.page_size = 2;
    }
    let paths = ["connector.oneroster_rest".to_string()];
    let updated = sources::update(&f.ctx, &service(), &source, change, &paths)
        .await
        .unwrap();
    assert_eq!(opened(&updated).as_deref(), Some(CLIENT_SECRET));
    let stored = StoredConfig::parse(&updated.config).oneroster_rest.unwrap();
    assert_eq!(stored.page_size, 2);
    assert_eq!(sync(&f, &source, false, false).await.status, "completed");

    // A new secret replaces it.
    let change = rest_oauth2(&f, &mock, "rotated-secret");
    let paths = ["connector.oneroster_rest.client_secret".to_string()];
    let updated = sources::update(&f.ctx, &service(), &source, change, &paths)
        .await
        .unwrap();
    assert_eq!(opened(&updated).as_deref(), Some("rotated-secret"));

    // Switching to OAuth 1.0a needs its own secret; the OAuth 2 one is dropped.
    let mut change = rest_oauth1(&f, &mock, "");
    if let Some(r) = change.oneroster_rest.as_mut() {
        r.oauth1_secret = None;
    }
    let paths = ["connector.oneroster_rest".to_string()];
    let refused = sources::update(&f.ctx, &service(), &source, change, &paths)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("oauth1_secret: required"),
        "{refused}"
    );
    let change = rest_oauth1(&f, &mock, SECRET);
    let updated = sources::update(&f.ctx, &service(), &source, change, &paths)
        .await
        .unwrap();
    let secrets = Secrets::open(&f.ctx.secrets, &updated).unwrap();
    assert!(secrets.client_secret.is_none());
    assert_eq!(
        secrets.oauth1_secret.map(|s| s.expose_secret().to_owned()),
        Some(SECRET.to_owned())
    );
}

#[tokio::test]
async fn connector_settings_are_checked_before_anything_is_stored() {
    let f = Fixture::new().await;
    let mock = clever_mock().await;
    let rest = rest_mock(oauth1_server()).await;
    let mut cases: Vec<(SourceInput, &str)> = Vec::new();

    let mut ftp = clever(&f, &mock, mock_clever::TOKEN, false);
    ftp.clever.as_mut().unwrap().base_url = "ftp://clever.example".into();
    cases.push((ftp, "connector.clever.base_url"));
    let mut no_token = clever(&f, &mock, mock_clever::TOKEN, false);
    no_token.clever.as_mut().unwrap().district_token = None;
    cases.push((no_token, "connector.clever.district_token: required"));
    let mut no_settings = clever(&f, &mock, mock_clever::TOKEN, false);
    no_settings.clever = None;
    cases.push((no_settings, "connector.clever"));
    let mut no_method = rest_oauth1(&f, &rest, SECRET);
    no_method.oneroster_rest.as_mut().unwrap().auth_method = None;
    cases.push((no_method, "auth_method"));
    let mut no_secret = rest_oauth2(&f, &rest, CLIENT_SECRET);
    no_secret.oneroster_rest.as_mut().unwrap().client_secret = None;
    cases.push((no_secret, "client_secret: required"));
    let mut no_client = rest_oauth2(&f, &rest, CLIENT_SECRET);
    no_client.oneroster_rest.as_mut().unwrap().client_id = String::new();
    cases.push((no_client, "client_id: required"));
    let mut no_key = rest_oauth1(&f, &rest, SECRET);
    no_key.oneroster_rest.as_mut().unwrap().oauth1_key = String::new();
    cases.push((no_key, "oauth1_key: required"));
    let mut no_base = rest_oauth1(&f, &rest, SECRET);
    no_base.oneroster_rest.as_mut().unwrap().base_url = String::new();
    cases.push((no_base, "base_url: required"));
    let mut with_password = rest_oauth1(&f, &rest, SECRET);
    with_password.oneroster_rest.as_mut().unwrap().base_url =
        "https://user:pw@district.example".into();
    cases.push((with_password, "user name or password"));

    for (input, expected) in cases {
        let shown = format!("{input:?}");
        assert!(!shown.contains(mock_clever::TOKEN) && !shown.contains(SECRET));
        let error = sources::create(&f.ctx, &service(), input)
            .await
            .unwrap_err();
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
    let list = sources::list(&f.ctx.db, &service(), &f.district_id, None, None, 50)
        .await
        .unwrap();
    assert!(list.is_empty());
}
