//! The sync engine against a real database, with identity and messaging faked:
//! delta files, row errors, school scope, invitations, report files, and the
//! per-source lease that keeps one run per source across processes.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::future::BoxFuture;
use homeroom_platform::{auth::Principal, testing::TestDb};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb};
use roster_svc::{
    MIGRATIONS,
    connectors::{location::Boundary, outbound::OutboundPolicy},
    ops::{
        Ctx,
        clients::{Accounts, Notices},
        districts::{self, NewDistrict},
        engine::Engine,
        runner::Runner,
        runs::{self, RunRequest},
        sources::{self, SourceInput},
    },
    store::{
        records,
        sync::{ReportAfter, ReportFilter},
    },
};
use tokio::sync::Notify;
use tonic::Status;

/// identity-svc as a map of (source id → account id).
#[derive(Default)]
pub(crate) struct FakeIdentity {
    pub(crate) accounts: Mutex<HashMap<String, String>>,
    pub(crate) upserts: Mutex<Vec<idpb::UpsertAccountsRequest>>,
    pub(crate) invites: Mutex<Vec<idpb::InviteAccountsRequest>>,
    pub(crate) deactivations: Mutex<Vec<String>>,
    /// identity refuses invitations while set.
    pub(crate) refuse_invites: std::sync::atomic::AtomicBool,
}

impl Accounts for FakeIdentity {
    fn upsert(
        &self,
        request: idpb::UpsertAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::UpsertAccountsResponse, Status>> {
        Box::pin(async move {
            let mut accounts = self.accounts.lock().unwrap();
            let results = request
                .accounts
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let known = accounts.get(&a.source_id).cloned();
                    let (id, outcome) = match known {
                        Some(id) => (id, idpb::UpsertOutcome::Updated),
                        None if request.dry_run => (String::new(), idpb::UpsertOutcome::Created),
                        None => {
                            let id = format!("acct-{}", a.source_id);
                            accounts.insert(a.source_id.clone(), id.clone());
                            (id, idpb::UpsertOutcome::Created)
                        }
                    };
                    idpb::AccountUpsertResult {
                        index: u32::try_from(i).unwrap(),
                        source_id: a.source_id.clone(),
                        account_id: id,
                        outcome: outcome.into(),
                        ..Default::default()
                    }
                })
                .collect();
            self.upserts.lock().unwrap().push(request);
            Ok(idpb::UpsertAccountsResponse {
                results,
                ..Default::default()
            })
        })
    }

    fn deactivate(
        &self,
        request: idpb::DeactivateAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::DeactivateAccountsResponse, Status>> {
        Box::pin(async move {
            self.deactivations
                .lock()
                .unwrap()
                .extend(request.source_ids);
            Ok(idpb::DeactivateAccountsResponse::default())
        })
    }

    fn invite(
        &self,
        request: idpb::InviteAccountsRequest,
    ) -> BoxFuture<'_, Result<idpb::InviteAccountsResponse, Status>> {
        Box::pin(async move {
            if self
                .refuse_invites
                .load(std::sync::atomic::Ordering::SeqCst)
            {
                return Err(Status::unavailable("identity is down"));
            }
            self.invites.lock().unwrap().push(request);
            Ok(idpb::InviteAccountsResponse::default())
        })
    }

    fn set_contact_managed_by_sync(
        &self,
        _request: idpb::SetContactManagedBySyncRequest,
    ) -> BoxFuture<'_, Result<idpb::SetContactManagedBySyncResponse, Status>> {
        Box::pin(async { Ok(idpb::SetContactManagedBySyncResponse::default()) })
    }
}

#[derive(Default)]
struct FakeMessaging {
    sent: Mutex<Vec<mpb::SendSystemMessageRequest>>,
}

impl Notices for FakeMessaging {
    fn send(
        &self,
        request: mpb::SendSystemMessageRequest,
    ) -> BoxFuture<'_, Result<mpb::SendSystemMessageResponse, Status>> {
        Box::pin(async move {
            self.sent.lock().unwrap().push(request);
            Ok(mpb::SendSystemMessageResponse::default())
        })
    }
}

pub(crate) struct Fixture {
    _db: TestDb,
    pub(crate) ctx: Ctx,
    pub(crate) engine: Engine,
    pub(crate) identity: Arc<FakeIdentity>,
    pub(crate) district_id: String,
    /// A bundle folder inside the district's import folder.
    pub(crate) dir: tempfile::TempDir,
    _imports: tempfile::TempDir,
}

pub(crate) fn service() -> Principal {
    Principal::Service {
        name: "gateway".into(),
    }
}

const USERS_HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password";
const CLASSES_HEADER: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods";
const ENROLLMENTS_HEADER: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate";

pub(crate) fn write(
    dir: &Path,
    mode: &str,
    orgs: &[&str],
    users: &[&str],
    classes: &[&str],
    enrollments: &[&str],
) {
    std::fs::write(
        dir.join("manifest.csv"),
        format!(
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,{mode}\nfile.users,{mode}\nfile.classes,{mode}\nfile.enrollments,{mode}\n"
        ),
    )
    .unwrap();
    let table = |header: &str, rows: &[&str]| {
        let mut s = String::from(header);
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s
    };
    std::fs::write(
        dir.join("orgs.csv"),
        table(
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
            orgs,
        ),
    )
    .unwrap();
    std::fs::write(dir.join("users.csv"), table(USERS_HEADER, users)).unwrap();
    std::fs::write(dir.join("classes.csv"), table(CLASSES_HEADER, classes)).unwrap();
    std::fs::write(
        dir.join("enrollments.csv"),
        table(ENROLLMENTS_HEADER, enrollments),
    )
    .unwrap();
}

pub(crate) const ORGS: &[&str] = &[
    "d1,,,Springfield,district,,",
    "sch1,,,Lincoln Elementary,school,101,d1",
    "sch2,,,Washington Middle,school,102,d1",
];
pub(crate) const USERS: &[&str] = &[
    "s1,,,true,sch1,student,,,Ana,Smith,,1001,,,,g1,03,",
    "s2,,,true,sch2,student,,,Ben,Smith,,1002,,,,g1,07,",
    "g1,,,true,sch1,parent,,,Sarah,Smith,,,sarah@mail.com,(987) 654-3210,,\"s1,s2\",,",
    "t1,,,true,sch1,teacher,,,Tom,Reed,,,treed@school.org,,,,,",
    "s3,,,true,sch1,student,,,Cal,Jones,,1003,,,,,03,",
    "s4,,,true,sch1,student,,,Dee,Jones,,1004,,,,,04,",
    "s5,,,true,sch1,student,,,Eve,Park,,1005,,,,,05,",
];
pub(crate) const CLASSES: &[&str] = &[
    "c1,,,Grade 3 Homeroom,03,,HR3,homeroom,,sch1,,,,",
    "c2,,,Science 7,07,,SCI7,scheduled,,sch2,,,,",
];
pub(crate) const ENROLLMENTS: &[&str] = &[
    "e1,,,c1,sch1,s1,student,false,,",
    "e2,,,c1,sch1,t1,teacher,true,,",
    "e3,,,c2,sch2,s2,student,false,,",
];

impl Fixture {
    pub(crate) async fn new() -> Fixture {
        let db = TestDb::migrated(&MIGRATIONS).await.unwrap();
        let identity = Arc::new(FakeIdentity::default());
        let messaging = Arc::new(FakeMessaging::default());
        let imports = tempfile::tempdir().unwrap();
        let boundary = Boundary {
            import_root: Some(imports.path().to_path_buf()),
            outbound: OutboundPolicy::parse("127.0.0.0/8").unwrap(),
        };
        let ctx = Ctx {
            db: db.db.clone(),
            accounts: identity.clone(),
            wake: Arc::new(Notify::new()),
            secrets: roster_svc::secrets::SecretsKey::development(),
            boundary: boundary.clone(),
            duplicate_reports: Arc::new(roster_svc::ops::duplicates::cache()),
        };
        let engine =
            Engine::new(db.db.clone(), identity.clone(), messaging).with_boundary(boundary);
        let district = districts::create(
            &ctx.db,
            &service(),
            NewDistrict {
                name: "Springfield".into(),
                time_zone: None,
                default_phone_region: None,
                supported_languages: vec!["es".into()],
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
        let folder = imports.path().join(&district.id);
        std::fs::create_dir_all(&folder).unwrap();
        Fixture {
            _db: db,
            ctx,
            engine,
            identity,
            district_id: district.id,
            dir: tempfile::tempdir_in(folder).unwrap(),
            _imports: imports,
        }
    }

    pub(crate) async fn source(&self, school_id: Option<String>, invite: bool) -> String {
        let input = SourceInput {
            school_id,
            send_invitations: invite,
            ..self.csv_source()
        };
        sources::create(&self.ctx, &service(), input)
            .await
            .unwrap()
            .id
    }

    /// A OneRoster CSV source of the district reading this fixture's folder,
    /// managing guardians and unarchiving classes.
    pub(crate) fn csv_source(&self) -> SourceInput {
        SourceInput {
            district_id: self.district_id.clone(),
            name: "SIS".into(),
            kind: "oneroster_csv".into(),
            location: Some(self.dir.path().display().to_string()),
            manages_guardians: true,
            unarchive_classes: true,
            ..SourceInput::default()
        }
    }

    /// Queues and runs one sync in this task; returns the run.
    /// Writes the standard bulk bundle, adds a district source and runs its
    /// first sync to completion; the source.
    pub(crate) async fn synced(&self) -> String {
        write(self.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
        let source = self.source(None, false).await;
        let run = self.sync(&source, false).await;
        assert_eq!(run.status, "completed", "{run:?}");
        source
    }

    pub(crate) async fn sync(
        &self,
        source: &str,
        dry_run: bool,
    ) -> roster_svc::store::sync::RunRow {
        let run = runs::queue(
            &self.ctx,
            &service(),
            RunRequest {
                source_id: source.into(),
                dry_run,
                ..RunRequest::default()
            },
            "on_demand",
            None,
        )
        .await
        .unwrap();
        let runner = Runner::new(
            self.ctx.db.clone(),
            self.engine.clone(),
            Arc::new(Notify::new()),
        );
        assert_eq!(runner.run_once().await.unwrap(), Some(run.id.clone()));
        runs::get(&self.ctx.db, &service(), &run.id)
            .await
            .unwrap()
            .0
    }

    pub(crate) async fn rows(&self, run: &str) -> Vec<(String, String, String, String)> {
        let (rows, _) = runs::report_page(
            &self.ctx.db,
            &service(),
            run,
            ReportFilter::default(),
            ReportAfter::Row(0),
            10_000,
        )
        .await
        .unwrap();
        rows.into_iter()
            .map(|r| (r.entity, r.source_id, r.action, r.notes))
            .collect()
    }
}

fn action<'a>(rows: &'a [(String, String, String, String)], source_id: &str) -> &'a str {
    rows.iter()
        .find(|r| r.1 == source_id)
        .map(|r| r.2.as_str())
        .unwrap_or("none")
}

#[tokio::test]
async fn a_delta_deactivates_only_what_it_marks_tobedeleted_and_absent_files_change_nothing() {
    let f = Fixture::new().await;
    let source = f.synced().await;

    // Delta: Ben is tobedeleted, Tom changes his name; nothing else is listed.
    write(
        f.dir.path(),
        "delta",
        &[],
        &[
            "s2,tobedeleted,2026-11-01T00:00:00Z,true,sch2,student,,,Ben,Smith,,1002,,,,g1,07,",
            "t1,active,2026-11-01T00:00:00Z,true,sch1,teacher,,,Thomas,Reed,,,treed@school.org,,,,,",
        ],
        &[],
        &[],
    );
    let delta = f.sync(&source, false).await;
    assert_eq!(delta.status, "completed", "{delta:?}");
    assert_eq!(delta.mode.as_deref(), Some("delta"));
    let rows = f.rows(&delta.id).await;
    assert_eq!(action(&rows, "s2"), "DEACTIVATED");
    assert_eq!(action(&rows, "t1"), "UPDATED");
    assert_eq!(
        action(&rows, "s1"),
        "none",
        "unlisted records are not touched"
    );
    let counts = f
        .ctx
        .db
        .run(|c| records::counts(c).map_err(homeroom_platform::db::DbError::Query))
        .await
        .unwrap();
    assert_eq!(
        counts.iter().find(|(t, _)| *t == "people").unwrap().1,
        7,
        "never deleted"
    );
    // Sarah still has Ana; her link to Ben went with him.
    let last = f.identity.upserts.lock().unwrap().last().cloned().unwrap();
    let sarah = last.accounts.iter().find(|a| a.source_id == "g1").unwrap();
    let students = &sarah.linked_students.as_ref().unwrap().students;
    assert_eq!(students.len(), 1);
    assert_eq!(students[0].display_name, "Ana Smith");

    // A manifest that marks everything absent changes nothing.
    std::fs::write(
        f.dir.path().join("manifest.csv"),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,absent\nfile.users,absent\n",
    )
    .unwrap();
    let absent = f.sync(&source, false).await;
    assert_eq!(absent.status, "completed");
    assert!(
        f.rows(&absent.id)
            .await
            .iter()
            .all(|r| r.2 != "DEACTIVATED")
    );
}

#[tokio::test]
async fn a_bad_row_fails_alone_and_the_rest_of_the_sync_goes_on() {
    let f = Fixture::new().await;
    let mut users: Vec<&str> = USERS.to_vec();
    users.push("g9,,,true,sch1,parent,,,Bad,Phone,,,bad@mail.com,12,,s1,,");
    let classes = [
        CLASSES[0],
        CLASSES[1],
        "c9,,,Orphan,03,,X,scheduled,,nowhere,,,,",
    ];
    let enrollments = [ENROLLMENTS[0], "e9,,,c404,sch1,s1,student,false,,"];
    write(f.dir.path(), "bulk", ORGS, &users, &classes, &enrollments);
    let source = f.source(None, false).await;
    let run = f.sync(&source, false).await;
    assert_eq!(run.status, "completed");
    let rows = f.rows(&run.id).await;
    let note = |sid: &str| rows.iter().find(|r| r.1 == sid).unwrap().3.clone();
    assert_eq!(action(&rows, "g9"), "ERROR");
    assert!(note("g9").contains("phone"), "{}", note("g9"));
    assert_eq!(action(&rows, "c9"), "ERROR");
    assert_eq!(note("c9"), "unknown school nowhere");
    assert_eq!(action(&rows, "e9"), "ERROR");
    assert_eq!(note("e9"), "unknown class c404");
    assert_eq!(action(&rows, "g1"), "CREATED");
    assert_eq!(action(&rows, "e1"), "CREATED");
}

#[tokio::test]
async fn an_enrollment_listed_twice_is_an_error_row_and_the_first_is_kept() {
    let f = Fixture::new().await;
    let twice = ENROLLMENTS[0].replacen("student", "teacher", 1);
    let enrollments = [ENROLLMENTS[0], twice.as_str()];
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, &enrollments);
    let source = f.source(None, false).await;
    for expected in ["CREATED", "UNCHANGED"] {
        let run = f.sync(&source, false).await;
        assert_eq!(run.status, "completed");
        let rows = f.rows(&run.id).await;
        let e1: Vec<_> = rows.iter().filter(|r| r.1 == "e1").collect();
        assert_eq!(e1.len(), 2, "{e1:?}");
        assert!(e1.iter().any(|r| r.2 == expected), "{e1:?}");
        assert!(
            e1.iter()
                .any(|r| r.2 == "ERROR" && r.3.contains("sourcedId e1 was already used on line 2")),
            "{e1:?}"
        );
    }
}

#[tokio::test]
async fn a_school_source_skips_other_schools_and_invites_only_when_set_and_not_on_a_dry_run() {
    let f = Fixture::new().await;
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    // A district source supplies the schools first.
    let district_source = f.source(None, false).await;
    f.sync(&district_source, true).await;
    assert!(f.identity.invites.lock().unwrap().is_empty());
    f.sync(&district_source, false).await;
    assert!(
        f.identity.invites.lock().unwrap().is_empty(),
        "the source does not invite"
    );

    let lincoln: String = f
        .ctx
        .db
        .run(|c| {
            use diesel::prelude::*;
            use roster_svc::store::schema::schools;
            schools::table
                .filter(schools::source_id.eq("sch1"))
                .select(schools::id)
                .first::<String>(c)
                .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap();
    let school_source = f.source(Some(lincoln), true).await;
    let dry = f.sync(&school_source, true).await;
    assert!(
        f.identity.invites.lock().unwrap().is_empty(),
        "no invitations on a dry run"
    );
    let rows = f.rows(&dry.id).await;
    assert_eq!(action(&rows, "sch2"), "SKIPPED");
    assert_eq!(action(&rows, "s2"), "SKIPPED");
    assert_eq!(action(&rows, "c2"), "SKIPPED");
    assert_eq!(action(&rows, "e3"), "SKIPPED");
    let run = f.sync(&school_source, false).await;
    assert_eq!(run.status, "completed");
    let invites = f.identity.invites.lock().unwrap().clone();
    let invited: Vec<String> = invites.iter().flat_map(|i| i.account_ids.clone()).collect();
    assert_eq!(invited.len(), 2, "Sarah and Tom: {invited:?}");
}

#[tokio::test]
async fn reports_download_as_csv_with_a_bom_and_as_xlsx() {
    let f = Fixture::new().await;
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    let source = f.source(None, false).await;
    let run = f.sync(&source, false).await;
    let csv = runs::download(
        &f.ctx.db,
        &service(),
        &run.id,
        ReportFilter::default(),
        false,
    )
    .await
    .unwrap();
    let text = String::from_utf8(csv.bytes).unwrap();
    assert!(text.starts_with("\u{feff}entity,source_id,name,action,changed_fields,notes\r\n"));
    assert!(text.contains("guardian,g1,Sarah Smith,CREATED"), "{text}");
    let xlsx = runs::download(
        &f.ctx.db,
        &service(),
        &run.id,
        ReportFilter::default(),
        true,
    )
    .await
    .unwrap();
    assert!(xlsx.bytes.starts_with(b"PK"));
    assert!(xlsx.filename.ends_with(".xlsx"));
}

#[tokio::test]
async fn one_run_per_source_at_a_time_and_a_crashed_holders_run_is_taken_again() {
    let f = Fixture::new().await;
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    let a = f.source(None, false).await;
    let b = f.source(None, false).await;
    let queue = |source: String| {
        let ctx = f.ctx.clone();
        async move {
            runs::queue(
                &ctx,
                &service(),
                RunRequest {
                    source_id: source,
                    ..RunRequest::default()
                },
                "on_demand",
                None,
            )
            .await
            .unwrap()
        }
    };
    let a1 = queue(a.clone()).await;
    let a2 = queue(a.clone()).await;
    let b1 = queue(b.clone()).await;
    let wake = Arc::new(Notify::new());
    let short = Duration::from_millis(600);
    let one =
        Runner::new(f.ctx.db.clone(), f.engine.clone(), wake.clone()).with_lease(short, short);
    let two = Runner::new(f.ctx.db.clone(), f.engine.clone(), wake).with_lease(short, short);
    let (x, y) = tokio::join!(one.claim(), two.claim());
    let mut got = vec![x.unwrap().unwrap().id, y.unwrap().unwrap().id];
    got.sort();
    let mut want = vec![a1.id.clone(), b1.id.clone()];
    want.sort();
    assert_eq!(got, want, "the second run of source a waits for the first");
    assert!(
        one.claim().await.unwrap().is_none(),
        "nothing else is runnable"
    );

    // The holder of a1 "crashes": after its lease lapses a1 is taken again.
    tokio::time::sleep(short + Duration::from_millis(200)).await;
    let again = two.claim().await.unwrap().unwrap();
    assert!(again.id == a1.id || again.id == b1.id, "{again:?}");
    assert_eq!(again.attempts, 1, "an interrupted run counts its attempts");
    let _ = a2;
}

#[tokio::test]
async fn adding_a_sibling_adds_a_link_and_never_replaces_the_first() {
    let f = Fixture::new().await;
    let first_users = [
        "s1,,,true,sch1,student,,,Ana,Smith,,1001,,,,g1,03,",
        "g1,,,true,sch1,parent,,,Sarah,Smith,,,sarah@mail.com,,,s1,,",
        "s3,,,true,sch1,student,,,Cal,Jones,,1003,,,,,03,",
        "s4,,,true,sch1,student,,,Dee,Jones,,1004,,,,,04,",
        "s5,,,true,sch1,student,,,Eve,Park,,1005,,,,,05,",
    ];
    write(f.dir.path(), "bulk", ORGS, &first_users, &[], &[]);
    let source = f.source(None, false).await;
    assert_eq!(f.sync(&source, false).await.status, "completed");
    // Ben arrives, naming Sarah; Sarah's row does not list him (the link comes
    // from one side only).
    let mut users = first_users.to_vec();
    users.push("s2,,,true,sch2,student,,,Ben,Smith,,1002,,,,g1,07,");
    write(f.dir.path(), "bulk", ORGS, &users, &[], &[]);
    let second = f.sync(&source, false).await;
    assert_eq!(second.status, "completed", "{second:?}");
    let rows = f.rows(&second.id).await;
    let links: Vec<_> = rows.iter().filter(|r| r.0 == "guardian_link").collect();
    assert_eq!(
        links
            .iter()
            .map(|r| (r.1.as_str(), r.2.as_str()))
            .collect::<Vec<_>>(),
        [("g1:s1", "UNCHANGED"), ("g1:s2", "CREATED")]
    );
    let last = f.identity.upserts.lock().unwrap().last().cloned().unwrap();
    let sarah = last.accounts.iter().find(|a| a.source_id == "g1").unwrap();
    let mut names: Vec<_> = sarah
        .linked_students
        .as_ref()
        .unwrap()
        .students
        .iter()
        .map(|s| s.display_name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["Ana Smith", "Ben Smith"]);
}

#[tokio::test]
async fn a_bulk_run_archives_a_dropped_class_and_deactivates_what_else_it_no_longer_has() {
    use diesel::prelude::*;
    use roster_svc::store::schema::{classes, enrollments, people};

    let f = Fixture::new().await;
    let source = f.synced().await;

    // Science 7, its one enrollment and Eve are gone from the next file.
    let users: Vec<&str> = USERS
        .iter()
        .copied()
        .filter(|u| !u.starts_with("s5,"))
        .collect();
    write(
        f.dir.path(),
        "bulk",
        ORGS,
        &users,
        &CLASSES[..1],
        &ENROLLMENTS[..2],
    );
    let second = f.sync(&source, false).await;
    assert_eq!(second.status, "completed", "{second:?}");
    let rows = f.rows(&second.id).await;
    for gone in ["c2", "e3", "s5"] {
        assert_eq!(action(&rows, gone), "DEACTIVATED", "{gone}: {rows:?}");
    }
    assert_eq!(action(&rows, "c1"), "UNCHANGED");

    let stored = f
        .ctx
        .db
        .run(|c| {
            let class: Vec<(String, String)> = classes::table
                .select((classes::source_id, classes::status))
                .order(classes::source_id)
                .load(c)?;
            let enrollment: Vec<(String, String)> = enrollments::table
                .select((enrollments::source_id, enrollments::status))
                .order(enrollments::source_id)
                .load(c)?;
            let eve: String = people::table
                .filter(people::source_id.eq("s5"))
                .select(people::status)
                .first(c)?;
            Ok::<_, homeroom_platform::db::DbError>((class, enrollment, eve))
        })
        .await
        .unwrap();
    fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }
    assert_eq!(pairs(&stored.0), [("c1", "active"), ("c2", "archived")]);
    assert_eq!(
        pairs(&stored.1),
        [("e1", "active"), ("e2", "active"), ("e3", "deactivated")]
    );
    assert_eq!(stored.2, "deactivated");
}

/// A class the source drops is archived; when it reappears it stays archived
/// (a SKIPPED row saying why) unless the source unarchives classes, and then
/// it is active again.
#[tokio::test]
async fn a_reappearing_class_is_unarchived_only_when_the_source_says_so() {
    use diesel::prelude::*;
    use roster_svc::store::schema::classes;

    let f = Fixture::new().await;
    let source = f.synced().await;
    write(
        f.dir.path(),
        "bulk",
        ORGS,
        USERS,
        &CLASSES[..1],
        &ENROLLMENTS[..2],
    );
    assert_eq!(f.sync(&source, false).await.status, "completed");
    let status_of_c2 = || async {
        f.ctx
            .db
            .run(|c| {
                classes::table
                    .filter(classes::source_id.eq("c2"))
                    .select(classes::status)
                    .first::<String>(c)
                    .map_err(homeroom_platform::db::DbError::Query)
            })
            .await
            .unwrap()
    };
    assert_eq!(status_of_c2().await, "archived");
    let (caller, paths) = (service(), ["settings.unarchive_classes".to_owned()]);
    let unarchive = |on: bool| {
        let input = SourceInput {
            unarchive_classes: on,
            ..SourceInput::default()
        };
        sources::update(&f.ctx, &caller, &source, input, &paths)
    };

    // Off: Science 7 is back in the file and stays archived, saying why.
    unarchive(false).await.unwrap();
    write(f.dir.path(), "bulk", ORGS, USERS, CLASSES, ENROLLMENTS);
    let kept = f.sync(&source, false).await;
    assert_eq!(kept.status, "completed", "{kept:?}");
    let rows = f.rows(&kept.id).await;
    assert_eq!(action(&rows, "c2"), "SKIPPED", "{rows:?}");
    let note = rows.iter().find(|r| r.1 == "c2").map(|r| r.3.clone());
    assert!(
        note.as_deref()
            .is_some_and(|n| n.contains("does not unarchive classes")),
        "{note:?}"
    );
    assert_eq!(status_of_c2().await, "archived");

    // On: the next run brings it back.
    unarchive(true).await.unwrap();
    let back = f.sync(&source, false).await;
    assert_eq!(back.status, "completed", "{back:?}");
    assert_eq!(action(&f.rows(&back.id).await, "c2"), "UPDATED");
    assert_eq!(status_of_c2().await, "active");
}

/// A person stored with a fingerprint the reader no longer makes (an older
/// reader or hash) is compared field by field, stays UNCHANGED, and gets the
/// current fingerprint, so the next run takes the fast path again.
#[tokio::test]
async fn a_stale_fingerprint_is_replaced_and_the_person_stays_unchanged() {
    use diesel::prelude::*;
    use roster_svc::store::schema::people;

    let f = Fixture::new().await;
    let source = f.synced().await;
    let db = f.ctx.db.clone();
    let stored = || {
        db.run(|c| {
            people::table
                .select((people::source_id, people::source_hash, people::updated_at))
                .order(people::source_id)
                .load::<(String, Option<String>, chrono::NaiveDateTime)>(c)
                .map_err(homeroom_platform::db::DbError::from)
        })
    };
    let first = stored().await.unwrap();
    f.ctx
        .db
        .run(|c| {
            diesel::update(people::table)
                .set(people::source_hash.eq("from-an-older-reader"))
                .execute(c)
                .map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();

    let second = f.sync(&source, false).await;
    assert_eq!(second.status, "completed", "{second:?}");
    let rows = f.rows(&second.id).await;
    let people: Vec<_> = rows
        .iter()
        .filter(|r| matches!(r.0.as_str(), "student" | "staff" | "guardian"))
        .collect();
    assert_eq!(people.len(), 7, "{rows:?}");
    assert!(people.iter().all(|r| r.2 == "UNCHANGED"), "{rows:?}");
    let after = stored().await.unwrap();
    assert_eq!(
        after, first,
        "the current fingerprints are back, nothing else changed"
    );
}

/// OneRoster 1.2's `preferredGivenName` is kept with the person; a change to
/// it alone is an UPDATED row naming the field.
#[tokio::test]
async fn a_1_2_preferred_given_name_is_stored_and_a_change_to_it_updates_the_person() {
    use diesel::prelude::*;
    use roster_svc::store::schema::people;

    let f = Fixture::new().await;
    let bundle = |preferred: &str| {
        let dir = f.dir.path();
        std::fs::write(
            dir.join("manifest.csv"),
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n\
             file.orgs,bulk\nfile.users,bulk\nfile.roles,bulk\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("orgs.csv"),
            format!(
                "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n{}\n",
                ORGS.join("\n")
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("users.csv"),
            format!(
                "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,\
                 middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,\
                 userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,\
                 primaryOrgSourcedId,pronouns\n\
                 s1,,,true,,,Robert,Tables,,1001,,,,,03,,,{preferred},,,sch1,\n\
                 s2,,,true,,,Ann,Lee,,1002,,,,,03,,,,,,sch1,\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("roles.csv"),
            "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,\
             orgSourcedId,userProfileSourcedId\n\
             r1,,,s1,primary,student,,,sch1,\nr2,,,s2,primary,student,,,sch1,\n",
        )
        .unwrap();
    };
    let db = f.ctx.db.clone();
    let preferred = || {
        db.run(|c| {
            people::table
                .select((people::source_id, people::preferred_given_name))
                .order(people::source_id)
                .load::<(String, Option<String>)>(c)
                .map_err(homeroom_platform::db::DbError::from)
        })
    };

    bundle("Bobby");
    let source = f.source(None, false).await;
    let first = f.sync(&source, false).await;
    assert_eq!(first.status, "completed", "{first:?}");
    assert_eq!(
        preferred().await.unwrap(),
        [
            ("s1".to_string(), Some("Bobby".to_string())),
            ("s2".to_string(), None)
        ]
    );

    bundle("Bob");
    let second = f.sync(&source, false).await;
    assert_eq!(second.status, "completed", "{second:?}");
    let (rows, _) = runs::report_page(
        &f.ctx.db,
        &service(),
        &second.id,
        ReportFilter::default(),
        ReportAfter::Row(0),
        100,
    )
    .await
    .unwrap();
    let changed: Vec<_> = rows
        .iter()
        .filter(|r| r.entity == "student")
        .map(|r| {
            (
                r.source_id.as_str(),
                r.action.as_str(),
                r.changed_fields.as_str(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("s1", "UPDATED", "preferred_given_name"),
            ("s2", "UNCHANGED", "")
        ]
    );
    assert_eq!(preferred().await.unwrap()[0].1.as_deref(), Some("Bob"));
}
