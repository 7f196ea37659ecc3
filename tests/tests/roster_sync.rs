//! RO-2 … RO-6 end to end: a OneRoster bundle synced into roster-svc and
//! identity-svc for real — a dry run that writes nothing anywhere, the first
//! sync, the same bundle again (all UNCHANGED, nothing written), a bulk sync
//! that drops people (deactivation guard, then forced), and the RO-6 policy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use diesel::{QueryableByName, RunQueryDsl, sql_types::BigInt};
use e2e::{bearer, sync::Harness};
use homeroom_platform::db::Db;
use homeroom_proto::{identity::v1 as idpb, roster::v1 as pb};

fn samples() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/oneroster-samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

/// The nicelion sample as a bundle: its 1,999 generated users (1,187 students,
/// 812 parents) as users.csv, the orgs they name, and a ClassLink manifest.
fn nicelion_bundle(samples: &Path, dir: &Path) {
    let users = samples.join("nicelion-oneroster-mocker/outputs/test-csv.csv");
    std::fs::copy(users, dir.join("users.csv")).unwrap();
    std::fs::write(
        dir.join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n\
         district-1,,,Morgan County Consolidated School District,district,,\r\n\
         slksldkmlsk49303,,,Fredy VonRueden Academy,school,0042,district-1\r\n",
    )
    .unwrap();
    write_manifest(dir);
}

fn write_manifest(dir: &Path) {
    std::fs::write(
        dir.join("manifest.csv"),
        "\"propertyName\",\"value\"\r\n\"manifest.version\",\"1.0\"\r\n\"oneroster.version\",\"1.1\"\r\n\
         \"file.orgs\",\"bulk\"\r\n\"file.users\",\"bulk\"\r\n\"file.classes\",\"absent\"\r\n\
         \"file.enrollments\",\"absent\"\r\n\"source.systemName\",\"ClassLink OneRoster\"",
    )
    .unwrap();
}

fn totals(run: &pb::SyncRun, entity: pb::RosterEntity) -> pb::EntityTotals {
    run.totals
        .iter()
        .find(|t| t.entity() == entity)
        .cloned()
        .unwrap_or_default()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn counts(db: &Db, tables: &'static [&'static str]) -> Vec<i64> {
    db.run(move |c| {
        tables
            .iter()
            .map(|t| {
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"))
                    .get_result::<Count>(c)
                    .map(|r| r.n)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(homeroom_platform::db::DbError::Query)
    })
    .await
    .unwrap()
}

const ROSTER_TABLES: &[&str] = &[
    "schools",
    "academic_sessions",
    "courses",
    "classes",
    "people",
    "enrollments",
    "guardian_links",
];
const IDENTITY_TABLES: &[&str] = &[
    "accounts",
    "account_sources",
    "account_credentials",
    "role_grants",
    "linked_students",
    "audit_events",
];
const MESSAGING_TABLES: &[&str] = &["communications", "deliveries"];

#[tokio::test]
async fn the_nicelion_bundle_imports_completely_a_dry_run_writes_nothing_and_a_rerun_changes_nothing()
 {
    let Some(samples) = samples() else { return };
    let mut h = Harness::start().await;
    let bundle = h.bundle_dir();
    nicelion_bundle(&samples, bundle.path());
    let source = h.source(bundle.path(), false).await;

    // RO-4: a dry run reports everything and writes nothing anywhere.
    let (roster_before, identity_before, messaging_before) = (
        counts(h.stack.roster_db(), ROSTER_TABLES).await,
        counts(h.stack.identity_db(), IDENTITY_TABLES).await,
        counts(h.stack.messaging_db(), MESSAGING_TABLES).await,
    );
    let dry = h.sync(&source, true, false).await;
    assert_eq!(dry.status(), pb::SyncRunStatus::Completed, "{dry:?}");
    assert!(dry.dry_run);
    assert_eq!(totals(&dry, pb::RosterEntity::Student).created, 1_187);
    assert_eq!(totals(&dry, pb::RosterEntity::Guardian).created, 812);
    assert_eq!(
        counts(h.stack.roster_db(), ROSTER_TABLES).await,
        roster_before
    );
    assert_eq!(
        counts(h.stack.identity_db(), IDENTITY_TABLES).await,
        identity_before
    );
    assert_eq!(
        counts(h.stack.messaging_db(), MESSAGING_TABLES).await,
        messaging_before
    );

    // The first sync creates everyone and links every student's guardians.
    let first = h.sync(&source, false, false).await;
    assert_eq!(first.status(), pb::SyncRunStatus::Completed, "{first:?}");
    assert_eq!(first.oneroster_version, "1.1");
    assert_eq!(totals(&first, pb::RosterEntity::School).created, 1);
    assert_eq!(totals(&first, pb::RosterEntity::Student).created, 1_187);
    assert_eq!(totals(&first, pb::RosterEntity::Guardian).created, 812);
    assert_eq!(totals(&first, pb::RosterEntity::Guardian).errors, 0);
    let links = totals(&first, pb::RosterEntity::GuardianLink);
    assert!(links.created >= 1_187, "{links:?}");
    assert_eq!(links.errors, 0);
    assert!(
        h.rows(&first.sync_run_id, pb::RecordAction::Error)
            .await
            .is_empty()
    );

    // Every student has a guardian link; both O'Hara parents hold the shared email.
    #[derive(QueryableByName)]
    struct Orphans {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let orphans: i64 = h
        .stack
        .roster_db()
        .run(|c| {
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM people p WHERE p.kind = 'student' AND NOT EXISTS \
                 (SELECT 1 FROM guardian_links l WHERE l.student_id = p.id AND l.status = 'active')",
            )
            .get_result::<Orphans>(c)
            .map(|r| r.n)
            .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap();
    assert_eq!(orphans, 0);
    let guardians = h.rows(&first.sync_run_id, pb::RecordAction::Created).await;
    let ohara: Vec<String> = guardians
        .iter()
        .filter(|r| r.entity() == pb::RosterEntity::Guardian && r.name == "Tyrese O'Hara")
        .map(|r| r.account_id.clone())
        .collect();
    assert_eq!(ohara.len(), 2, "two guardian records, both kept");
    assert_ne!(ohara[0], ohara[1], "two accounts, not merged by email");
    let messaging_token = h.stack.service_token("messaging").await.unwrap();
    let points = h
        .stack
        .identity_client()
        .await
        .unwrap()
        .get_contact_points(bearer(
            idpb::GetContactPointsRequest {
                account_ids: ohara.clone(),
            },
            &messaging_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let emails: Vec<String> = points
        .contact_points
        .iter()
        .map(|p| p.email.clone().unwrap().value)
        .collect();
    assert_eq!(emails, ["tyreseo'hara@nicelion.com"; 2]);

    // The same bundle again: everything UNCHANGED and nothing written.
    let identity_after_first = counts(h.stack.identity_db(), IDENTITY_TABLES).await;
    let roster_after_first = counts(h.stack.roster_db(), ROSTER_TABLES).await;
    let again = h.sync(&source, false, false).await;
    assert_eq!(again.status(), pb::SyncRunStatus::Completed);
    for t in &again.totals {
        assert_eq!(
            (t.created, t.updated, t.deactivated, t.errors),
            (0, 0, 0, 0),
            "{t:?}"
        );
    }
    assert_eq!(totals(&again, pb::RosterEntity::Student).unchanged, 1_187);
    assert_eq!(
        counts(h.stack.identity_db(), IDENTITY_TABLES).await,
        identity_after_first
    );
    assert_eq!(
        counts(h.stack.roster_db(), ROSTER_TABLES).await,
        roster_after_first
    );

    // A bulk file that drops most people trips the deactivation guard …
    let users = std::fs::read_to_string(bundle.path().join("users.csv")).unwrap();
    let kept: Vec<&str> = users.lines().take(400).collect();
    std::fs::write(bundle.path().join("users.csv"), kept.join("\n")).unwrap();
    // RO-4: a dry run of it completes with the full report and says a real
    // run would stop at the guard, with the numbers; it writes nothing.
    let dry = h.sync(&source, true, false).await;
    assert_eq!(dry.status(), pb::SyncRunStatus::Completed, "{dry:?}");
    let dry_guard = dry.deactivation_guard.unwrap();
    assert!(dry_guard.exceeded);
    assert!(
        dry.notice
            .starts_with("A real run would stop at the deactivation guard")
            && dry.notice.contains(&format!(
                "deactivate {} of 1999 people",
                dry_guard.would_deactivate
            )),
        "{}",
        dry.notice
    );
    assert_eq!(
        totals(&dry, pb::RosterEntity::Student).deactivated
            + totals(&dry, pb::RosterEntity::Guardian).deactivated,
        dry_guard.would_deactivate,
        "the report lists every deactivation"
    );
    assert_eq!(
        counts(h.stack.roster_db(), ROSTER_TABLES).await,
        roster_after_first
    );
    let guarded = h.sync(&source, false, false).await;
    assert_eq!(guarded.status(), pb::SyncRunStatus::Failed);
    assert_eq!(
        guarded.failure_kind(),
        pb::SyncFailureKind::DeactivationGuard
    );
    let guard = guarded.deactivation_guard.unwrap();
    assert!(guard.exceeded);
    assert_eq!(guard.people_total, 1_999);
    assert!(
        guarded.failure_message.contains(&format!(
            "deactivate {} of 1999 people",
            guard.would_deactivate
        )),
        "{}",
        guarded.failure_message
    );
    assert_eq!(
        counts(h.stack.roster_db(), ROSTER_TABLES).await,
        roster_after_first
    );
    // … and with force it applies: people are deactivated, never deleted.
    let forced = h.sync(&source, false, true).await;
    assert_eq!(forced.status(), pb::SyncRunStatus::Completed, "{forced:?}");
    let gone = totals(&forced, pb::RosterEntity::Student).deactivated
        + totals(&forced, pb::RosterEntity::Guardian).deactivated;
    assert_eq!(gone, guard.would_deactivate);
    assert_eq!(
        counts(h.stack.roster_db(), ROSTER_TABLES).await[4],
        roster_after_first[4]
    );
}

/// RO-6 with a small bundle: OFF keeps an active user's details and notes the
/// difference; ON applies it and sends the user a notice.
/// Sarah (`guardian_email`, her mobile `sarah_phone`) and Kevin, who shares
/// smithparent@mail.com and the family phone (987) 654-3210.
fn small_bundle(dir: &Path, guardian_email: &str) {
    small_bundle_with(dir, guardian_email, "(987) 654-3210");
}

fn small_bundle_with(dir: &Path, guardian_email: &str, sarah_phone: &str) {
    e2e::sync::smiths_bundle(dir, guardian_email, sarah_phone, true);
}

#[tokio::test]
async fn siblings_share_one_guardian_and_the_active_user_policy_decides_who_changes_contacts() {
    let mut h = Harness::start().await;
    let bundle = h.bundle_dir();
    small_bundle(bundle.path(), "smithparent@mail.com");
    let source = h.source(bundle.path(), false).await;
    let first = h.sync(&source, false, false).await;
    assert_eq!(first.status(), pb::SyncRunStatus::Completed, "{first:?}");
    assert_eq!(totals(&first, pb::RosterEntity::Guardian).created, 2);
    // RO-8: Sarah is one account linked to both children; Kevin to Ana.
    assert_eq!(totals(&first, pb::RosterEntity::GuardianLink).created, 3);
    let created = h.rows(&first.sync_run_id, pb::RecordAction::Created).await;
    let sarah = created
        .iter()
        .find(|r| r.source_id == "g1")
        .unwrap()
        .account_id
        .clone();
    let tom = created
        .iter()
        .find(|r| r.source_id == "t1")
        .unwrap()
        .account_id
        .clone();
    assert!(!sarah.is_empty() && !tom.is_empty());

    // Sarah activates her account (an administrator's change stands in for her
    // accepting the invitation): she is now an ACTIVE user.
    activate(&h, &sarah).await;

    // OFF: the SIS has a new email for Sarah; she keeps hers and the report says so.
    small_bundle(bundle.path(), "sarah.new@mail.com");
    let off = h.sync(&source, false, false).await;
    let updated = h.rows(&off.sync_run_id, pb::RecordAction::Updated).await;
    let row = updated.iter().find(|r| r.source_id == "g1").unwrap();
    assert!(
        row.notes.contains(
            &"Active user has a new email in the SIS import - smithparent@mail.com".to_string()
        ),
        "{row:?}"
    );

    // ON: toggling the setting tells identity; the next sync applies the email
    // and notifies Sarah.
    h.roster
        .update_sync_source(bearer(
            pb::UpdateSyncSourceRequest {
                sync_source: Some(pb::SyncSource {
                    sync_source_id: source.clone(),
                    settings: Some(pb::SyncSettings {
                        update_active_user_contacts: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["settings.update_active_user_contacts".into()],
                }),
            },
            &h.token,
        ))
        .await
        .unwrap();
    small_bundle_with(bundle.path(), "sarah.newer@mail.com", "(987) 654-0000");
    let on = h.sync(&source, false, false).await;
    let updated = h.rows(&on.sync_run_id, pb::RecordAction::Updated).await;
    let row = updated.iter().find(|r| r.source_id == "g1").unwrap();
    assert!(
        row.notes
            .iter()
            .any(|n| n.contains("contact change applied")),
        "{row:?}"
    );
    let messaging_token = h.stack.service_token("messaging").await.unwrap();
    let points = h
        .stack
        .identity_client()
        .await
        .unwrap()
        .get_contact_points(bearer(
            idpb::GetContactPointsRequest {
                account_ids: vec![sarah.clone()],
            },
            &messaging_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        points.contact_points[0].email.clone().unwrap().value,
        "sarah.newer@mail.com"
    );
    // The notices go to the previous email (shared with Kevin) and to the
    // previous phone, which Kevin still holds: the text names Sarah.
    let (emails, texts) = e2e::until(|| {
        let (emails, sms) = h.stack.outbox();
        let emails: Vec<String> = emails
            .iter()
            .map(|e| e2e::readable(e))
            .filter(|e| e.contains("Your email in Homeroom was updated"))
            .collect();
        let texts: Vec<serde_json::Value> = sms
            .into_iter()
            .filter(|m| m["body"].as_str().unwrap_or_default().contains("updated"))
            .collect();
        (!emails.is_empty() && !texts.is_empty()).then_some((emails, texts))
    })
    .await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert!(
        emails[0].contains("To: smithparent@mail.com"),
        "to the previous email: {}",
        emails[0]
    );
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0]["to"], "+19876543210", "to the previous phone");
    assert_eq!(
        texts[0]["body"],
        "For Sarah: Your mobile phone in Homeroom was updated from your school's records."
    );
}

async fn activate(h: &Harness, account_id: &str) {
    let id = account_id.to_string();
    h.stack
        .identity_db()
        .run(move |c| {
            diesel::sql_query("UPDATE accounts SET status = 'active' WHERE id = $1")
                .bind::<diesel::sql_types::Text, _>(&id)
                .execute(c)
                .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_audience_of_a_student_reaches_both_guardians_and_a_class_its_teacher() {
    let mut h = Harness::start().await;
    let bundle = h.bundle_dir();
    small_bundle(bundle.path(), "smithparent@mail.com");
    std::fs::write(
        bundle.path().join("classes.csv"),
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
         c1,,,Grade 3,03,,G3,homeroom,,sch1,,,,\n",
    )
    .unwrap();
    std::fs::write(
        bundle.path().join("enrollments.csv"),
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
         e1,,,c1,sch1,s1,student,false,,\ne2,,,c1,sch1,t1,teacher,true,,\n",
    )
    .unwrap();
    std::fs::write(
        bundle.path().join("manifest.csv"),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,bulk\nfile.classes,bulk\nfile.enrollments,bulk\n",
    )
    .unwrap();
    let source = h.source(bundle.path(), false).await;
    let run = h.sync(&source, false, false).await;
    assert_eq!(run.status(), pb::SyncRunStatus::Completed, "{run:?}");
    let created = h.rows(&run.sync_run_id, pb::RecordAction::Created).await;
    let id = |sid: &str| created.iter().find(|r| r.source_id == sid).unwrap().clone();
    let (ana, class) = (id("s1").record_id, id("c1").record_id);
    let (sarah, kevin, tom) = (
        id("g1").account_id,
        id("g2").account_id,
        id("t1").account_id,
    );

    let messaging = h.stack.service_token("messaging").await.unwrap();
    let resolve = |request: pb::ResolveAudienceRequest| {
        let mut roster = h.roster.clone();
        let token = messaging.clone();
        async move {
            let mut stream = roster
                .resolve_audience(bearer(request, &token))
                .await
                .unwrap()
                .into_inner();
            let mut accounts = Vec::new();
            let mut summary = None;
            while let Some(page) = stream.message().await.unwrap() {
                accounts.extend(page.members.into_iter().map(|m| m.account_id));
                summary = page.summary.or(summary);
            }
            accounts.sort();
            (accounts, summary.unwrap())
        }
    };
    let (accounts, summary) = resolve(pb::ResolveAudienceRequest {
        district_id: h.district_id.clone(),
        student_ids: vec![ana.clone(), "no-such-student".into()],
        ..Default::default()
    })
    .await;
    let mut both = vec![sarah.clone(), kevin.clone()];
    both.sort();
    assert_eq!(accounts, both);
    assert_eq!(summary.not_found_ids, ["no-such-student"]);
    let (accounts, _) = resolve(pb::ResolveAudienceRequest {
        district_id: h.district_id.clone(),
        class_ids: vec![class],
        roles: vec![pb::AudienceRole::Teacher.into()],
        ..Default::default()
    })
    .await;
    assert_eq!(accounts, [tom]);
}

#[tokio::test]
async fn a_zipped_bundle_pushed_over_grpc_imports_and_a_broken_one_fails_with_the_reason() {
    let Some(samples) = samples() else { return };
    let mut h = Harness::start().await;
    let empty = h.bundle_dir();
    let source = h.source(empty.path(), false).await;
    let (client, token) = (h.roster.clone(), h.token.clone());
    let push = |bytes: Vec<u8>, key: &str| {
        let mut messages = vec![pb::ImportOneRosterBundleRequest {
            payload: Some(pb::import_one_roster_bundle_request::Payload::Options(
                pb::ImportOneRosterBundleOptions {
                    sync_source_id: source.clone(),
                    filename: "oneroster.zip".into(),
                    idempotency_key: key.into(),
                    ..Default::default()
                },
            )),
        }];
        messages.extend(
            bytes
                .chunks(4_096)
                .map(|c| pb::ImportOneRosterBundleRequest {
                    payload: Some(pb::import_one_roster_bundle_request::Payload::Chunk(
                        c.to_vec(),
                    )),
                }),
        );
        let mut roster = client.clone();
        let token = token.clone();
        async move {
            roster
                .import_one_roster_bundle(bearer(tokio_stream::iter(messages), &token))
                .await
                .unwrap()
                .into_inner()
                .sync_run
                .unwrap()
        }
    };
    let zip = std::fs::read(samples.join("lepo-roster-hub/sample_csv/en/oneroster.zip")).unwrap();
    let queued = push(zip.clone(), "lepo-1").await;
    assert_eq!(queued.filename, "oneroster.zip");
    let again = push(zip, "lepo-1").await;
    assert_eq!(
        again.sync_run_id, queued.sync_run_id,
        "the same key imports nothing new"
    );
    let run = h.wait(&queued.sync_run_id).await;
    assert_eq!(run.status(), pb::SyncRunStatus::Completed, "{run:?}");
    assert_eq!(totals(&run, pb::RosterEntity::Class).created, 5);
    let broken = push(b"not a zip".to_vec(), "broken").await;
    let run = h.wait(&broken.sync_run_id).await;
    assert_eq!(run.status(), pb::SyncRunStatus::Failed);
    assert_eq!(run.failure_kind(), pb::SyncFailureKind::InvalidInput);
    assert!(!run.failure_message.is_empty());
}
