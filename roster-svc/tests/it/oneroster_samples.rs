//! The OneRoster reader against the public sample bundles in
//! shared/oneroster-samples (read from there, never copied into the repo).

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use roster_svc::oneroster::{
    Bundle, BundleError, FileMode, OrgKind, Status, UserRole, Version, read_path, read_zip,
};

/// The samples folder, or `None` (with a notice) where it is not checked out.
fn samples() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/oneroster-samples"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        eprintln!("skipped: no OneRoster samples at {}", dir.display());
        None
    }
}

/// What a sample gives: row counts, or the start of its error message.
#[derive(Debug)]
enum Expect {
    Reads {
        orgs: usize,
        sessions: usize,
        courses: usize,
        classes: usize,
        users: usize,
        enrollments: usize,
    },
    Fails(&'static str),
}

const NO_MANIFEST: &str = "manifest.csv is missing: OneRoster 1.1 and 1.2 bundles need one \
                           (this looks like OneRoster 1.0 / Microsoft SDS, which are not supported)";

fn expectations() -> Vec<(&'static str, Expect)> {
    use Expect::{Fails, Reads};
    let lepo = || Reads {
        orgs: 1,
        sessions: 4,
        courses: 2,
        classes: 5,
        users: 20,
        enrollments: 30,
    };
    let catalyst_1_1 = || Reads {
        orgs: 1,
        sessions: 5,
        courses: 0,
        classes: 2,
        users: 6,
        enrollments: 6,
    };
    vec![
        (
            "catalyst-moodle-enrol_oneroster/Test_full_data_set",
            catalyst_1_1(),
        ),
        (
            "catalyst-moodle-enrol_oneroster/Test_minimal_data_set",
            catalyst_1_1(),
        ),
        (
            "catalyst-moodle-enrol_oneroster/oneroster_test_data",
            Reads {
                orgs: 1,
                sessions: 1,
                courses: 1,
                classes: 1,
                users: 1,
                enrollments: 1,
            },
        ),
        (
            "catalyst-moodle-enrol_oneroster/v1p2_full_dataset",
            Fails(
                "roles.csv: unknown column(s): \"dataLastModified\" (did you mean \"dateLastModified\"?)",
            ),
        ),
        (
            "edfi-lms-toolkit/OneRoster 1.1 Sample Data",
            Reads {
                orgs: 2,
                sessions: 3,
                courses: 2,
                classes: 2,
                users: 10,
                enrollments: 24,
            },
        ),
        (
            "edfi-lms-toolkit/OneRoster 1.0 Sample Data",
            Fails(NO_MANIFEST),
        ),
        ("lepo-roster-hub/sample_csv/en", lepo()),
        ("lepo-roster-hub/sample_csv/en/oneroster.zip", lepo()),
        ("lepo-roster-hub/sample_csv/ja", lepo()),
        ("lepo-roster-hub/sample_csv/ja/oneroster.zip", lepo()),
        ("microsoft-sds-v2.1/SDS v2.1", Fails(NO_MANIFEST)),
        (
            "nicelion-oneroster-mocker/oneroster-example-csv",
            Reads {
                orgs: 0,
                sessions: 0,
                courses: 0,
                classes: 0,
                users: 0,
                enrollments: 0,
            },
        ),
        ("nicelion-oneroster-mocker/outputs", Fails(NO_MANIFEST)),
        (
            "oat-sa-oneroster-import/OneRosterv1p1BaseCSV",
            Fails("orgs.csv: unknown column(s): \"ext_imagineLearning_databaseId\""),
        ),
    ]
}

/// Every folder under `root` holding CSV files, and every zip, relative to `root`.
fn bundles_on_disk(root: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = |p: &Path| p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            match path.extension().and_then(|e| e.to_str()) {
                _ if path.is_dir() => pending.push(path),
                Some("zip") => {
                    found.insert(relative(&path));
                }
                Some("csv") => {
                    found.insert(relative(&dir));
                }
                _ => {}
            }
        }
    }
    found
}

#[test]
fn every_sample_bundle_reads_or_fails_with_its_own_message() {
    let Some(root) = samples() else { return };
    let expected = expectations();
    let listed: BTreeSet<String> = expected
        .iter()
        .map(|(path, _)| (*path).to_owned())
        .collect();
    assert_eq!(
        bundles_on_disk(&root),
        listed,
        "a sample bundle has no expectation here"
    );
    for (path, expect) in expected {
        let result = read_path(&root.join(path));
        match (expect, result) {
            (
                Expect::Reads {
                    orgs,
                    sessions,
                    courses,
                    classes,
                    users,
                    enrollments,
                },
                Ok(bundle),
            ) => {
                let counts = (
                    bundle.orgs.len(),
                    bundle.academic_sessions.len(),
                    bundle.courses.len(),
                    bundle.classes.len(),
                    bundle.users.len(),
                    bundle.enrollments.len(),
                );
                assert_eq!(
                    counts,
                    (orgs, sessions, courses, classes, users, enrollments),
                    "{path}"
                );
                assert!(
                    bundle.row_errors.is_empty(),
                    "{path}: {:?}",
                    bundle.row_errors
                );
            }
            (Expect::Fails(message), Err(error)) => {
                assert!(error.to_string().starts_with(message), "{path}: {error}");
            }
            (expect, result) => panic!("{path}: expected {expect:?}, got {result:?}"),
        }
    }
}

#[test]
fn the_broken_catalyst_1_2_set_is_refused_naming_each_bad_column() {
    let Some(root) = samples() else { return };
    let error =
        read_path(&root.join("catalyst-moodle-enrol_oneroster/v1p2_full_dataset")).unwrap_err();
    let BundleError::Columns(problems) = &error else {
        panic!("{error}")
    };
    let files: Vec<&str> = problems.iter().map(|p| p.file).collect();
    assert_eq!(files, ["roles.csv", "users.csv"]);
    let unknown: Vec<&str> = problems[1]
        .unknown
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        unknown,
        [
            "prefferedGivenName",
            "prefferedMiddleName",
            "prefferedFamilyName"
        ]
    );
    assert!(
        error.to_string().contains(
            "users.csv: unknown column(s): \"prefferedGivenName\" (did you mean \"preferredGivenName\"?), \
             \"prefferedMiddleName\" (did you mean \"preferredMiddleName\"?)"
        ),
        "{error}"
    );
}

#[test]
fn the_oat_sa_set_is_refused_as_1_0_headers_under_a_1_1_manifest() {
    let Some(root) = samples() else { return };
    let error = read_path(&root.join("oat-sa-oneroster-import/OneRosterv1p1BaseCSV")).unwrap_err();
    let BundleError::Columns(problems) = &error else {
        panic!("{error}")
    };
    let files: Vec<&str> = problems.iter().map(|p| p.file).collect();
    assert_eq!(
        files,
        ["orgs.csv", "courses.csv", "classes.csv", "users.csv"]
    );
    let text = error.to_string();
    for needle in [
        "\"ext_imagineLearning_databaseId\" (extension columns must be named metadata.<name>)",
        "courses.csv: unknown column(s): \"schoolYearId\" (a OneRoster 1.0 name; 1.1 and 1.2 call it \"schoolYearSourcedId\")",
        "classes.csv: unknown column(s): \"grade\" (a OneRoster 1.0 name; 1.1 and 1.2 call it \"grades\")",
        "\"userId\" (a OneRoster 1.0 name; 1.1 and 1.2 call it \"userIds\")",
        "\"agents\" (a OneRoster 1.0 name; 1.1 and 1.2 call it \"agentSourcedIds\")",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// The nicelion generator's 1,999 users in the ClassLink-shaped bundle it ships
/// (whose own files are header-only), assembled in a tempdir.
fn nicelion_bundle(root: &Path) -> Bundle {
    let nicelion = root.join("nicelion-oneroster-mocker");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(nicelion.join("oneroster-example-csv")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        nicelion.join("outputs/test-csv.csv"),
        dir.path().join("users.csv"),
    )
    .unwrap();
    std::fs::copy(
        nicelion.join("outputs/orgs.csv"),
        dir.path().join("orgs.csv"),
    )
    .unwrap();
    read_path(dir.path()).unwrap()
}

#[test]
fn the_nicelion_users_read_with_their_guardians_and_a_shared_parent_email() {
    let Some(root) = samples() else { return };
    let bundle = nicelion_bundle(&root);
    assert_eq!(bundle.version, Version::V1_1);
    assert_eq!(bundle.manifest["source.systemName"], "ClassLink OneRoster");
    assert_eq!(bundle.mode("users"), FileMode::Bulk);
    assert!(bundle.row_errors.is_empty(), "{:?}", bundle.row_errors);
    assert_eq!(bundle.users.len(), 1_999);
    let students: Vec<_> = bundle
        .users
        .iter()
        .filter(|u| u.role == UserRole::Student)
        .collect();
    let guardians = bundle
        .users
        .iter()
        .filter(|u| u.role == UserRole::Guardian("parent".into()))
        .count();
    assert_eq!((students.len(), guardians), (1_187, 812));

    let by_id: HashMap<&str, &UserRole> = bundle
        .users
        .iter()
        .map(|u| (u.source_id.as_str(), &u.role))
        .collect();
    for student in &students {
        assert!(
            (1..=3).contains(&student.agent_source_ids.len()),
            "{}",
            student.source_id
        );
        for agent in &student.agent_source_ids {
            assert!(
                matches!(by_id.get(agent.as_str()), Some(UserRole::Guardian(_))),
                "{agent}"
            );
        }
    }
    let sharing: Vec<_> = bundle
        .users
        .iter()
        .filter(|u| u.email.as_deref() == Some("tyreseo'hara@nicelion.com"))
        .collect();
    assert_eq!(sharing.len(), 2);
    assert!(
        sharing
            .iter()
            .all(|u| matches!(u.role, UserRole::Guardian(_)) && u.given_name == "Tyrese")
    );
    assert_ne!(sharing[0].source_id, sharing[1].source_id);
    assert!(
        bundle
            .warnings
            .iter()
            .any(|w| w.starts_with("users.csv is bulk, yet 1999 row(s) fill in status"))
    );
}

#[test]
fn the_catalyst_1_1_set_keeps_its_parent_link_and_deletions() {
    let Some(root) = samples() else { return };
    let bundle =
        read_path(&root.join("catalyst-moodle-enrol_oneroster/Test_full_data_set")).unwrap();
    let parent = bundle
        .users
        .iter()
        .find(|u| u.source_id == "usr-222-1234561")
        .unwrap();
    assert_eq!(parent.role, UserRole::Guardian("parent".into()));
    assert_eq!(parent.agent_source_ids, ["usr-222-66778899"]);
    assert_eq!(bundle.orgs[0].kind, OrgKind::Other("department".into()));
    let deleted: Vec<&str> = bundle
        .academic_sessions
        .iter()
        .filter(|s| s.status == Status::ToBeDeleted)
        .map(|s| s.source_id.as_str())
        .collect();
    assert_eq!(deleted, ["as-grp-222-23456", "as-grp-222-2345"]);
    assert_eq!(bundle.classes[0].grades, ["09", "10", "11"]);
    assert_eq!(
        bundle.classes[1].term_source_ids,
        ["as-trm-222-1234", "as-trm-222-1235"]
    );
}

#[test]
fn the_catalyst_1_2_delta_folds_roles_into_users() {
    let Some(root) = samples() else { return };
    let bundle =
        read_path(&root.join("catalyst-moodle-enrol_oneroster/oneroster_test_data")).unwrap();
    assert_eq!(bundle.version, Version::V1_2);
    assert_eq!(bundle.mode("users"), FileMode::Delta);
    let [user] = bundle.users.as_slice() else {
        panic!("{:?}", bundle.users)
    };
    assert_eq!(
        (&user.role, user.org_source_ids.as_slice()),
        (&UserRole::Student, ["ORG_1".to_owned()].as_slice())
    );
    assert!(user.enabled);
    assert!(bundle.warnings.is_empty(), "{:?}", bundle.warnings);
}

#[test]
fn the_lepo_zip_reads_like_its_folder_and_keeps_japanese_names() {
    let Some(root) = samples() else { return };
    for lang in ["en", "ja"] {
        let folder = root.join("lepo-roster-hub/sample_csv").join(lang);
        let from_folder = read_path(&folder).unwrap();
        assert_eq!(
            read_path(&folder.join("oneroster.zip")).unwrap(),
            from_folder,
            "{lang}"
        );
        assert_eq!(
            from_folder.warnings,
            [
                "manifest.csv: unknown property fiel.demographics (did you mean file.demographics?); ignored"
            ]
        );
    }
    let ja = read_path(&root.join("lepo-roster-hub/sample_csv/ja")).unwrap();
    assert_eq!(
        (
            ja.users[0].given_name.as_str(),
            ja.users[0].family_name.as_str()
        ),
        ("名01", "姓01")
    );
}

#[test]
fn a_zip_whose_files_sit_in_one_top_level_folder_reads() {
    let Some(root) = samples() else { return };
    let folder = root.join("lepo-roster-hub/sample_csv/en");
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer.add_directory("district-export/", options).unwrap();
    for name in [
        "manifest.csv",
        "orgs.csv",
        "academicSessions.csv",
        "courses.csv",
        "classes.csv",
        "users.csv",
        "enrollments.csv",
    ] {
        writer
            .start_file(format!("district-export/{name}"), options)
            .unwrap();
        writer
            .write_all(&std::fs::read(folder.join(name)).unwrap())
            .unwrap();
    }
    let mut archive = writer.finish().unwrap();
    archive.set_position(0);
    assert_eq!(read_zip(archive).unwrap(), read_path(&folder).unwrap());
}

/// Run with `cargo test --release -p roster-svc --test it -- --ignored`.
#[test]
#[ignore = "timing: meaningful in release builds only"]
fn a_district_of_150k_users_and_300k_enrollments_reads_in_under_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, header: &str, rows: usize, row: &dyn Fn(usize) -> String| {
        let mut file =
            std::io::BufWriter::new(std::fs::File::create(dir.path().join(name)).unwrap());
        writeln!(file, "{header}").unwrap();
        for i in 0..rows {
            writeln!(file, "{}", row(i)).unwrap();
        }
    };
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\nfile.enrollments,bulk";
    std::fs::write(dir.path().join("manifest.csv"), manifest).unwrap();
    write(
        "users.csv",
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,\
         middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
        150_000,
        &|i| {
            let (role, agents) = match i % 3 {
                0 => ("parent", String::new()),
                _ => ("student", format!("u{}", i / 3 * 3)),
            };
            format!(
                "u{i},,,true,s{},{role},user{i},{{Local:{i}}},Given{i},Family{i},,{i},user{i}@example.org,+15550100,,{agents},09,",
                i % 40
            )
        },
    );
    write(
        "enrollments.csv",
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
        300_000,
        &|i| {
            format!(
                "e{i},,,c{},s{},u{},student,false,2024-08-20,2025-06-10",
                i % 9_000,
                i % 40,
                i % 150_000
            )
        },
    );
    let started = std::time::Instant::now();
    let bundle = read_path(dir.path()).unwrap();
    let elapsed = started.elapsed();
    eprintln!("read 150k users and 300k enrollments in {elapsed:?}");
    assert_eq!(
        (bundle.users.len(), bundle.enrollments.len()),
        (150_000, 300_000)
    );
    assert!(
        bundle.row_errors.is_empty(),
        "{:?}",
        &bundle.row_errors[..1]
    );
    if !cfg!(debug_assertions) {
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
    }
}
