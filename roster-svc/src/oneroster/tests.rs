//! Whole bundles with one quirk each, written to a tempdir (or zipped in memory).

use std::io::{Cursor, Write};

use super::*;

const MANIFEST_1_1: &str = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
    file.orgs,bulk\nfile.users,bulk\n";
pub(super) const MANIFEST_1_2: &str = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n\
    file.orgs,bulk\nfile.users,bulk\nfile.roles,bulk\n";
pub(super) const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
    d1,,,Springfield USD,district,,\ns1,,,Springfield Elementary,school,0042,d1\n";
const USERS_1_1: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
    userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n";
pub(super) const USERS_1_2: &str = "sourcedId,status,dateLastModified,enabledUser,username,userIds,\
    givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,\
    userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,\
    pronouns\n";
pub(super) const ROLES_HEADER: &str = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,\
    beginDate,endDate,orgSourcedId,userProfileSourcedId\n";

pub(super) fn read(files: &[(&str, &[u8])]) -> Result<Bundle, BundleError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    read_path(dir.path())
}

fn zip(files: &[(&str, &[u8])]) -> Cursor<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    let mut cursor = writer.finish().unwrap();
    cursor.set_position(0);
    cursor
}

fn users_1_1(rows: &str) -> Vec<u8> {
    format!("{USERS_1_1}{rows}").into_bytes()
}

/// Every cell quoted, CRLF, a BOM and no final newline, as some exports write.
fn quoted(rows: &[Vec<&str>]) -> Vec<u8> {
    let lines: Vec<String> = rows
        .iter()
        .map(|cells| {
            cells
                .iter()
                .map(|cell| format!("\"{cell}\""))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    format!("\u{feff}{}", lines.join("\r\n")).into_bytes()
}

fn cells(text: &str) -> Vec<Vec<&str>> {
    text.lines().map(|line| line.split(',').collect()).collect()
}

#[test]
fn a_bom_crlf_fully_quoted_bundle_without_final_newline_reads() {
    let mut users = cells(USERS_1_1);
    users.push(vec![
        "g1",
        "",
        "",
        "TRUE",
        "s1",
        "guardian",
        "",
        "",
        "Marge",
        "Simpson",
        "NULL",
        "",
        "marge@example.org",
        "555 0100",
        "",
        "",
        "",
        "",
    ]);
    users.push(vec![
        "u1", "", "", "0", "s1, d1", "student", "bart", "", "Bart", "Simpson", "JoJo", "B-1", "",
        "", "", "g1", "04,05", "",
    ]);
    let bundle = read(&[
        ("manifest.csv", &quoted(&cells(MANIFEST_1_1))),
        ("orgs.csv", &quoted(&cells(ORGS))),
        ("users.csv", &quoted(&users)),
    ])
    .unwrap();
    assert!(bundle.row_errors.is_empty(), "{:?}", bundle.row_errors);
    assert_eq!(bundle.version, Version::V1_1);
    assert_eq!(bundle.orgs.len(), 2);
    assert_eq!(bundle.orgs[1].kind, OrgKind::School);
    let [marge, bart] = bundle.users.as_slice() else {
        panic!("{:?}", bundle.users)
    };
    assert_eq!(marge.role, UserRole::Guardian("guardian".into()));
    assert!(marge.enabled);
    assert_eq!(marge.middle_name, None);
    assert_eq!(marge.sms.as_deref(), Some("555 0100"));
    assert_eq!(bart.org_source_ids, ["s1", "d1"]);
    assert_eq!(bart.agent_source_ids, ["g1"]);
    assert_eq!(bart.grades, ["04", "05"]);
    assert!(!bart.enabled);
    assert_eq!(bart.status, Status::Active);
}

#[test]
fn a_zip_with_one_top_level_folder_reads_and_ignores_finder_litter() {
    let users = users_1_1("u1,,,,s1,student,,,Lisa,Simpson,,,,,,,,\n");
    let archive = zip(&[
        ("export-2024/manifest.csv", MANIFEST_1_1.as_bytes()),
        ("export-2024/orgs.csv", ORGS.as_bytes()),
        ("export-2024/users.csv", &users),
        ("__MACOSX/export-2024/._users.csv", b"\0\x05\x16\x07"),
    ]);
    let bundle = read_zip(archive).unwrap();
    assert_eq!(bundle.users.len(), 1);
    assert_eq!(bundle.orgs.len(), 2);
    assert!(bundle.warnings.is_empty(), "{:?}", bundle.warnings);
}

#[test]
fn a_zip_holding_two_bundles_is_refused() {
    let archive = zip(&[
        ("a/manifest.csv", MANIFEST_1_1.as_bytes()),
        ("b/manifest.csv", MANIFEST_1_1.as_bytes()),
    ]);
    let error = read_zip(archive).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the zip holds several bundles (a/, b/); upload one bundle per zip"
    );
}

#[test]
fn a_missing_required_column_is_named_with_the_expected_header() {
    let users = b"sourcedId,role,givenName\nu1,student,Lisa\n";
    let error = read(&[
        ("manifest.csv", MANIFEST_1_1.as_bytes()),
        ("orgs.csv", ORGS.as_bytes()),
        ("users.csv", users),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "users.csv: required column(s) missing: \"familyName\"; the header should be \
         sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,\
         middleName,identifier,email,sms,phone,agentSourcedIds,grades,password \
         (columns may be left out unless required; extra columns must be named metadata.*)"
    );
}

#[test]
fn every_file_with_an_unknown_column_is_named_at_once() {
    let orgs = "sourcedId,name,type,region\nd1,USD,district,north\n";
    let users = USERS_1_2.replace("preferredGivenName", "prefferedGivenName");
    let error = read(&[
        ("manifest.csv", MANIFEST_1_2.as_bytes()),
        ("orgs.csv", orgs.as_bytes()),
        ("users.csv", users.as_bytes()),
        ("roles.csv", ROLES_HEADER.as_bytes()),
    ])
    .unwrap_err();
    let BundleError::Columns(problems) = &error else {
        panic!("{error}")
    };
    assert_eq!(problems.len(), 2);
    let text = error.to_string();
    assert!(
        text.starts_with(
            "orgs.csv: unknown column(s): \"region\"; the header should be sourcedId,"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nusers.csv: unknown column(s): \"prefferedGivenName\" (did you mean \"preferredGivenName\"?)"),
        "{text}"
    );
}

#[test]
fn a_bad_row_is_left_out_and_the_rest_reads() {
    let users = users_1_1(
        "u1,,,,s1,student,,,Lisa,Simpson,,,,,,,,\n\
         u2,,,,s1,principle,,,Seymour,Skinner,,,,,,,,\n\
         ,,,,s1,student,,,No,Id,,,,,,,,\n\
         u4,,,maybe,s1,student,,,Milhouse,Van Houten,,,,,,,,\n\
         u5,,,,s1,student,,,Short,Row\n\
         u1,,,,s1,student,,,Lisa,Again,,,,,,,,\n\
         u7,,,,s1,principal,,,Seymour,Skinner,,,,,,,,\n",
    );
    let bundle = read(&[
        ("manifest.csv", MANIFEST_1_1.as_bytes()),
        ("orgs.csv", ORGS.as_bytes()),
        ("users.csv", &users),
    ])
    .unwrap();
    let ids: Vec<&str> = bundle.users.iter().map(|u| u.source_id.as_str()).collect();
    assert_eq!(ids, ["u1", "u7"]);
    assert_eq!(bundle.users[1].role, UserRole::Staff("principal".into()));
    let errors: Vec<(u64, Option<&str>, &str)> = bundle
        .row_errors
        .iter()
        .map(|e| (e.line, e.source_id.as_deref(), e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert_eq!(errors[0].0, 3);
    assert_eq!(errors[0].1, Some("u2"));
    assert!(
        errors[0]
            .2
            .starts_with("role \"principle\" is not a OneRoster role (student, teacher, guardian")
    );
    assert_eq!(errors[1], (4, None, "sourcedId is blank"));
    assert_eq!(
        errors[2],
        (5, Some("u4"), "enabledUser \"maybe\" is not true or false")
    );
    assert_eq!(
        errors[3],
        (6, Some("u5"), "the row has 10 cells, the header has 18")
    );
    assert_eq!(
        errors[4],
        (7, Some("u1"), "sourcedId u1 was already used on line 2")
    );
    assert!(bundle.row_errors.iter().all(|e| e.file == "users.csv"));
}

#[test]
fn a_file_the_manifest_supplies_must_be_there() {
    let users = users_1_1("");
    let error = read(&[
        ("manifest.csv", MANIFEST_1_1.as_bytes()),
        ("orgs.csv", ORGS.as_bytes()),
        ("Users.csv", &users),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "users.csv is missing, yet manifest.csv marks it bulk (the bundle has Users.csv: file names are case-sensitive)"
    );
}

#[test]
fn an_absent_file_changes_nothing_and_a_present_unlisted_one_is_not_read() {
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.users,absent\n";
    let bundle = read(&[
        ("manifest.csv", manifest.as_bytes()),
        ("orgs.csv", ORGS.as_bytes()),
    ])
    .unwrap();
    assert!(bundle.orgs.is_empty());
    assert_eq!(bundle.mode("users"), FileMode::Absent);
    assert_eq!(bundle.mode("orgs"), FileMode::Absent);
    assert!(
        bundle.warnings[0]
            .starts_with("orgs.csv is in the bundle, yet manifest.csv does not supply it")
    );
}

#[test]
fn statuses_in_a_bulk_file_are_honoured_and_reported_once() {
    let orgs = "sourcedId,status,name,type\nd1,active,USD,district\ns1,tobedeleted,,school\ns2,inactive,Old,school\n";
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\n";
    let bundle = read(&[
        ("manifest.csv", manifest.as_bytes()),
        ("orgs.csv", orgs.as_bytes()),
    ])
    .unwrap();
    let statuses: Vec<Status> = bundle.orgs.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [Status::Active, Status::ToBeDeleted, Status::ToBeDeleted]
    );
    assert_eq!(
        bundle.warnings,
        [
            "orgs.csv is bulk, yet 3 row(s) fill in status (bulk files leave it blank); \
          the statuses were honoured, tobedeleted rows are deletions"
        ]
    );
}

#[test]
fn blank_trailing_cells_are_tolerated_but_filled_ones_are_not() {
    let orgs = "sourcedId,name,type\nd1,USD,district,,\ns1,School,school,oops\n";
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,delta\n";
    let bundle = read(&[
        ("manifest.csv", manifest.as_bytes()),
        ("orgs.csv", orgs.as_bytes()),
    ])
    .unwrap();
    assert_eq!(bundle.orgs.len(), 1);
    assert_eq!(
        bundle.row_errors[0].message,
        "the row has 4 cells, the header has 3"
    );
}

#[test]
fn a_row_that_is_not_utf8_fails_alone() {
    let mut orgs = b"sourcedId,name,type\nd1,USD,district\ns1,Escuela ".to_vec();
    orgs.extend_from_slice(b"Espa\xf1ola,school\ns2,School,school\n");
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\n";
    let bundle = read(&[("manifest.csv", manifest.as_bytes()), ("orgs.csv", &orgs)]).unwrap();
    assert_eq!(bundle.orgs.len(), 2);
    assert_eq!(bundle.row_errors[0].line, 3);
    assert!(bundle.row_errors[0].message.contains("not UTF-8"));
}

#[test]
fn an_empty_supplied_file_is_refused() {
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\n";
    let error = read(&[("manifest.csv", manifest.as_bytes()), ("orgs.csv", b"")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "orgs.csv is empty: it needs at least its header line"
    );
}

#[test]
fn a_folder_without_manifest_is_not_a_supported_bundle() {
    let error = read(&[("users.csv", b"sourcedId,username\n")]).unwrap_err();
    assert!(matches!(error, BundleError::NoManifest), "{error}");
}

#[test]
fn garbage_never_panics() {
    let garbage: &[&[u8]] = &[
        b"",
        b"\xff\xfe\0\0",
        b"PK\x03\x04garbage",
        b"\"unterminated,\n\"\"\"\n",
    ];
    for bytes in garbage {
        assert!(matches!(
            read_zip(Cursor::new(bytes.to_vec())),
            Err(BundleError::NotZip(_))
        ));
        let _ = read(&[
            ("manifest.csv", bytes),
            ("orgs.csv", bytes),
            ("users.csv", bytes),
        ]);
        let manifest =
            "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,delta\n";
        let _ = read(&[
            ("manifest.csv", manifest.as_bytes()),
            ("orgs.csv", bytes),
            ("users.csv", bytes),
        ]);
    }
}

#[test]
fn error_lines_are_the_lines_an_editor_shows() {
    // Line 1 header; 2 a bad first row; 3 good; 4 a bad middle row; 5–6 a
    // good row whose quoted name spans two lines; 7 a bad row after it.
    let orgs = "sourcedId,status,name,type\n\
                x1,lost,First,school\n\
                d1,,USD,district\n\
                x2,lost,Middle,school\n\
                s1,,\"Two\nLines\",school\n\
                x3,lost,After,school\n";
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,delta\n";
    let bundle = read(&[
        ("manifest.csv", manifest.as_bytes()),
        ("orgs.csv", orgs.as_bytes()),
    ])
    .unwrap();
    let lines: Vec<(u64, Option<&str>)> = bundle
        .row_errors
        .iter()
        .map(|e| (e.line, e.source_id.as_deref()))
        .collect();
    assert_eq!(
        lines,
        [(2, Some("x1")), (4, Some("x2")), (7, Some("x3"))],
        "{:?}",
        bundle.row_errors
    );
}
