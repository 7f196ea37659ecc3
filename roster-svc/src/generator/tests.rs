//! The generated bundle, read back with a plain CSV reader: the spec's shape,
//! references that resolve, and the realism the load tests rely on.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::OnceLock,
};

use super::{
    families::ten_digits,
    files::{
        CLASSES_HEADER, COURSES_HEADER, ENROLLMENTS_HEADER, MANIFEST_HEADER, ORGS_HEADER,
        SESSIONS_HEADER, USERS_HEADER,
    },
    names::{METROS, OTHER_AREA_CODES},
    *,
};

const STUDENTS: usize = 2_000;

/// One bundle of 2,000 students for the tests that only read it.
fn bundle() -> &'static (tempfile::TempDir, GeneratedSummary) {
    static BUNDLE: OnceLock<(tempfile::TempDir, GeneratedSummary)> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let opts = GeneratorOptions {
            students: STUDENTS,
            seed: 42,
            ..GeneratorOptions::default()
        };
        let summary = write_bundle(&opts, dir.path()).unwrap();
        (dir, summary)
    })
}

/// A file's raw header line and its records as header → value maps.
fn read(dir: &Path, name: &str) -> (String, Vec<HashMap<String, String>>) {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let header = text.split("\r\n").next().unwrap().to_string();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            names
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

fn list(cell: &str) -> Vec<&str> {
    cell.split(',').filter(|s| !s.is_empty()).collect()
}

#[test]
fn every_file_has_the_exact_1_1_header_and_bulk_rows_leave_status_blank() {
    let dir = bundle().0.path();
    for (name, header) in [
        ("manifest.csv", &MANIFEST_HEADER[..]),
        ("orgs.csv", &ORGS_HEADER),
        ("academicSessions.csv", &SESSIONS_HEADER),
        ("courses.csv", &COURSES_HEADER),
        ("classes.csv", &CLASSES_HEADER),
        ("users.csv", &USERS_HEADER),
        ("enrollments.csv", &ENROLLMENTS_HEADER),
    ] {
        let (line, rows) = read(dir, name);
        assert_eq!(line, header.join(","), "{name}");
        assert!(!rows.is_empty(), "{name}");
        if name != "manifest.csv" {
            for row in rows {
                assert_eq!(
                    (row["status"].as_str(), row["dateLastModified"].as_str()),
                    ("", "")
                );
            }
        }
    }
    assert_eq!(
        read(dir, "users.csv").0,
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,\
         givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
    );
}

#[test]
fn the_manifest_declares_1_1_and_the_six_bulk_files() {
    let (_, rows) = read(bundle().0.path(), "manifest.csv");
    let manifest: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r["propertyName"].as_str(), r["value"].as_str()))
        .collect();
    assert_eq!(manifest["manifest.version"], "1.0");
    assert_eq!(manifest["oneroster.version"], "1.1");
    let bulk = [
        "orgs",
        "academicSessions",
        "courses",
        "classes",
        "users",
        "enrollments",
    ];
    for stem in bulk {
        assert_eq!(manifest[format!("file.{stem}").as_str()], "bulk", "{stem}");
    }
    for stem in [
        "categories",
        "classResources",
        "courseResources",
        "demographics",
        "lineItems",
    ] {
        assert_eq!(
            manifest[format!("file.{stem}").as_str()],
            "absent",
            "{stem}"
        );
    }
    for stem in ["resources", "results"] {
        assert_eq!(
            manifest[format!("file.{stem}").as_str()],
            "absent",
            "{stem}"
        );
    }
}

#[test]
fn the_counts_and_ratios_are_those_of_a_real_district() {
    let s = &bundle().1;
    let per_student = |n: usize| n as f64 / s.students as f64;
    assert_eq!(s.students, STUDENTS);
    assert!((3..=6).contains(&s.schools), "{s}");
    let guardians = per_student(s.guardians);
    assert!(
        (1.55..=1.85).contains(&guardians),
        "{guardians:.2} guardians per student"
    );
    let enrollments = per_student(s.student_enrollments);
    assert!(
        (5.7..=6.6).contains(&enrollments),
        "{enrollments:.2} enrollments per student"
    );
    let sharing = s.guardians_sharing as f64 / s.guardians as f64;
    assert!(
        (0.12..=0.18).contains(&sharing),
        "{:.1}% guardians sharing",
        sharing * 100.0
    );
    assert!(s.shared_emails > 0 && s.shared_phones > 0, "{s}");
    let per_teacher = s.students as f64 / s.teachers as f64;
    assert!(
        (13.0..=17.0).contains(&per_teacher),
        "{per_teacher:.1} students per teacher"
    );
    assert!(s.staff > s.teachers);
    let class_size = s.student_enrollments as f64 / s.classes as f64;
    assert!(
        (18.0..=25.0).contains(&class_size),
        "{class_size:.1} students per class"
    );
    assert!(s.families < s.students, "no siblings");
}

#[test]
fn every_reference_resolves_and_guardian_links_are_written_both_ways() {
    let dir = bundle().0.path();
    let users = read(dir, "users.csv").1;
    let by_id: HashMap<&str, &HashMap<String, String>> =
        users.iter().map(|u| (u["sourcedId"].as_str(), u)).collect();
    assert_eq!(by_id.len(), users.len(), "duplicate sourcedIds");
    let orgs: HashSet<String> = read(dir, "orgs.csv")
        .1
        .into_iter()
        .map(|o| o["sourcedId"].clone())
        .collect();
    let mut links = 0;
    for u in &users {
        for org in list(&u["orgSourcedIds"]) {
            assert!(orgs.contains(org), "{org}");
        }
        let guardian_role = ["parent", "guardian", "relative"].contains(&u["role"].as_str());
        for agent in list(&u["agentSourcedIds"]) {
            let other = by_id[agent];
            assert!(list(&other["agentSourcedIds"]).contains(&u["sourcedId"].as_str()));
            if u["role"] == "student" {
                links += 1;
                assert_ne!(other["role"], "student");
            } else {
                assert!(guardian_role, "{} has agents", u["role"]);
                assert_eq!(other["role"], "student");
            }
        }
        if u["role"] == "student" {
            assert!(
                !u["agentSourcedIds"].is_empty(),
                "a student without guardians"
            );
        }
    }
    assert_eq!(links, bundle().1.guardian_links);
    let sessions: HashSet<String> = read(dir, "academicSessions.csv")
        .1
        .into_iter()
        .map(|s| s["sourcedId"].clone())
        .collect();
    let courses: HashSet<String> = read(dir, "courses.csv")
        .1
        .into_iter()
        .map(|c| c["sourcedId"].clone())
        .collect();
    let classes = read(dir, "classes.csv").1;
    for c in &classes {
        assert!(courses.contains(&c["courseSourcedId"]) && orgs.contains(&c["schoolSourcedId"]));
        assert!(
            list(&c["termSourcedIds"])
                .iter()
                .all(|t| sessions.contains(*t))
        );
    }
    let class_ids: HashSet<&str> = classes.iter().map(|c| c["sourcedId"].as_str()).collect();
    let enrollments = read(dir, "enrollments.csv").1;
    assert_eq!(enrollments.len(), bundle().1.enrollments);
    for e in &enrollments {
        assert!(class_ids.contains(e["classSourcedId"].as_str()));
        let user = by_id[e["userSourcedId"].as_str()];
        assert_eq!(user["role"], e["role"]);
    }
}

#[test]
fn siblings_share_their_guardian_rows() {
    let users = read(bundle().0.path(), "users.csv").1;
    let shared = users
        .iter()
        .filter(|u| u["role"] != "student" && list(&u["agentSourcedIds"]).len() > 1)
        .count();
    assert!(shared > 0, "no guardian of several students");
}

#[test]
fn phones_are_assigned_looking_us_numbers_in_mixed_formats() {
    let users = read(bundle().0.path(), "users.csv").1;
    let area_codes: HashSet<u16> = METROS
        .iter()
        .flat_map(|m| m.iter())
        .chain(OTHER_AREA_CODES)
        .copied()
        .collect();
    let mut shapes = HashSet::new();
    for phone in users
        .iter()
        .flat_map(|u| [&u["sms"], &u["phone"]])
        .filter(|p| !p.is_empty())
    {
        let digits = ten_digits(phone);
        assert_eq!(digits.len(), 10, "{phone}");
        let area: u16 = digits[..3].parse().unwrap();
        let exchange: u16 = digits[3..6].parse().unwrap();
        assert!(area_codes.contains(&area), "{phone}");
        assert!((201..=989).contains(&exchange) && exchange != 555 && exchange % 100 != 11);
        shapes.insert(phone.replace(|c: char| c.is_ascii_digit(), "9"));
    }
    assert_eq!(shapes.len(), 5, "{shapes:?}");
}

#[test]
fn names_and_emails_look_like_a_real_roster() {
    let users = read(bundle().0.path(), "users.csv").1;
    let text: String = users
        .iter()
        .map(|u| format!("{} {} ", u["givenName"], u["familyName"]))
        .collect();
    assert!(!text.is_ascii(), "no accented names");
    let emails: Vec<&str> = users
        .iter()
        .map(|u| u["email"].as_str())
        .filter(|e| !e.is_empty())
        .collect();
    assert!(emails.iter().all(|e| e.contains('@') && !e.contains(' ')));
    assert!(
        emails
            .iter()
            .any(|e| e.chars().any(|c| c.is_ascii_uppercase())),
        "no mixed case"
    );
    assert!(users.iter().any(|u| u["role"] == "teacher"));
    assert!(users.iter().any(|u| u["role"] == "aide"));
    assert!(users.iter().any(|u| u["role"] == "administrator"));
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_ones() {
    let opts = GeneratorOptions {
        students: 300,
        seed: 9,
        ..GeneratorOptions::default()
    };
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    write_bundle(&opts, dirs[0].path()).unwrap();
    write_bundle(&opts, dirs[1].path()).unwrap();
    write_bundle(
        &GeneratorOptions {
            seed: 10,
            ..opts.clone()
        },
        dirs[2].path(),
    )
    .unwrap();
    let users = |d: &tempfile::TempDir| std::fs::read(d.path().join("users.csv")).unwrap();
    assert_eq!(users(&dirs[0]), users(&dirs[1]));
    assert_ne!(users(&dirs[0]), users(&dirs[2]));
}

#[test]
fn the_zip_holds_the_same_files_at_its_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.zip");
    let opts = GeneratorOptions {
        students: 200,
        ..GeneratorOptions::default()
    };
    let summary = write_zip(&opts, &path).unwrap();
    write_bundle(&opts, dir.path()).unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(String::from).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "academicSessions.csv",
            "classes.csv",
            "courses.csv",
            "enrollments.csv",
            "manifest.csv",
            "orgs.csv",
            "users.csv"
        ]
    );
    let mut users = Vec::new();
    std::io::copy(&mut zip.by_name("users.csv").unwrap(), &mut users).unwrap();
    assert_eq!(users, std::fs::read(dir.path().join("users.csv")).unwrap());
    assert_eq!(summary.students, 200);
}

#[test]
fn the_oneroster_reader_takes_the_bundle_without_a_row_error_or_warning() {
    let (dir, summary) = bundle();
    let read = crate::oneroster::read_dir(dir.path()).unwrap();
    assert_eq!(read.row_errors, [], "row errors");
    assert_eq!(read.warnings, Vec::<String>::new(), "warnings");
    let students = read
        .users
        .iter()
        .filter(|u| u.role == crate::oneroster::UserRole::Student);
    assert_eq!(students.count(), summary.students);
    assert_eq!(read.orgs.len(), summary.schools + 1);
    assert_eq!(read.classes.len(), summary.classes);
    assert_eq!(read.enrollments.len(), summary.enrollments);
    let zip = tempfile::NamedTempFile::new().unwrap();
    let opts = GeneratorOptions {
        students: STUDENTS,
        seed: 42,
        ..GeneratorOptions::default()
    };
    write_zip(&opts, zip.path()).unwrap();
    let from_zip = crate::oneroster::read_path(zip.path()).unwrap();
    assert_eq!(from_zip.users, read.users);
}
