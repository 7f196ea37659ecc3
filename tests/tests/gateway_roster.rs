//! GW-1 for rostering, end to end over REST: a rostering administrator of a
//! district synced from its SIS creates a sync source, runs it, reads the
//! run, its rows and its report (RO-2 … RO-5); uploads guardians as a
//! multipart form, streamed into roster-svc, pages the result and downloads
//! it as CSV and XLSX (RO-7); reads the duplicate-guardian report (RO-8).
//! Real identity, roster and messaging services behind the real gateway.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::{Api, Stack, district::Smiths};
use homeroom_proto::identity::v1 as idpb;
use reqwest::Method;
use serde_json::{Value, json};

/// The stack, its REST client, the Smiths' district and a signed-in staff
/// member of it with `role`.
struct Rest {
    stack: Stack,
    api: Api,
    smiths: Smiths,
    token: String,
}

async fn district(role: idpb::Role) -> Rest {
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let token = stack
        .staff_member_in(
            &smiths.district_id,
            "st-rita",
            ("Rita", "Moreno"),
            "rita@district.org",
            role,
            "rita-strong-password",
        )
        .await
        .access_token;
    let api = Api::new(&stack);
    Rest {
        stack,
        api,
        smiths,
        token,
    }
}

/// A downloaded file.
struct File {
    status: u16,
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

impl Rest {
    async fn get(&self, path: &str) -> (u16, Value) {
        self.api
            .send(Method::GET, path, Some(&self.token), None)
            .await
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        self.api
            .send(method, path, Some(&self.token), Some(body))
            .await
    }

    async fn file(&self, path: &str) -> File {
        let r = self.api.get(path, Some(&self.token)).await;
        let header = |name| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let (content_type, disposition) = (header("content-type"), header("content-disposition"));
        File {
            status: r.status().as_u16(),
            content_type,
            disposition,
            bytes: r.bytes().await.unwrap().to_vec(),
        }
    }

    /// `POST /guardian-uploads` with the parts in the order given.
    async fn upload(&self, parts: &[Part<'_>]) -> (u16, Value) {
        self.post_form("/guardian-uploads", parts).await
    }

    /// `POST <path>` of a multipart form with the parts in the order given.
    async fn post_form(&self, path: &str, parts: &[Part<'_>]) -> (u16, Value) {
        let (content_type, body) = form(parts);
        let r = self
            .api
            .http
            .post(format!("{}{path}", self.api.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Reads `path` until its `status` is one of `done`.
    async fn until(&self, path: &str, done: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, body) = self.get(path).await;
            assert_eq!(status, 200, "{path}: {body}");
            if done.iter().any(|d| body["status"] == *d) {
                return body;
            }
            assert!(Instant::now() < deadline, "{path} did not finish: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A district upload of `file` named `name`, finished.
    async fn uploaded(&self, name: &str, file: &[u8], dry_run: bool) -> Value {
        let dry_run = if dry_run { "true" } else { "false" };
        let (status, body) = self
            .upload(&[
                Part::Text("districtId", &self.smiths.district_id),
                Part::Text("dryRun", dry_run),
                Part::File(name, file),
            ])
            .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["status"], body["upload"]["status"]);
        let id = body["uploadId"].as_str().unwrap();
        self.until(&format!("/guardian-uploads/{id}"), &["COMPLETED", "FAILED"])
            .await
    }
}

/// One part of a multipart form.
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a [u8]),
}

/// A `multipart/form-data` body: its content type and bytes.
fn form(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "homeroom-e2e-7d1f9a";
    let mut body = Vec::new();
    for part in parts {
        body.extend(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File(filename, bytes) => {
                body.extend(
                    format!(
                        "Content-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
                         Content-Type: text/csv\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend(*bytes);
                body.extend(b"\r\n");
            }
        }
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

const FILE: &str = "\u{feff}student_code,parent_code,first_name,last_name,email,phone,home_phone,language\r\n\
    1001,P1,Maria,Lopez,mlopez@mail.com,(987) 654-1111,,en\r\n\
    1002,P1,Maria,Lopez,mlopez@mail.com,(987) 654-1111,,\r\n\
    1003,P2,Dan,Jones,dan.jones@mail.com,,,\r\n\
    4242,P3,Nobody,Known,nobody@mail.com,,,\r\n";

#[tokio::test]
async fn a_rostering_admin_creates_a_source_runs_it_and_reads_the_run_its_rows_and_its_report() {
    let rest = district(idpb::Role::RosteringAdmin).await;
    let district_id = rest.smiths.district_id.clone();
    let bundle = rest.stack.bundle_dir(&district_id);
    e2e::district::write_bundle(bundle.path()).unwrap();

    let r = rest
        .api
        .http
        .post(format!("{}/sync-sources", rest.api.base))
        .bearer_auth(&rest.token)
        .json(&json!({
            "districtId": district_id,
            "displayName": "SIS over REST",
            "kind": "ONEROSTER_CSV",
            "connector": {"onerosterCsv": {"location": bundle.path().display().to_string()}},
            "settings": {"managesGuardians": true},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let source: Value = r.json().await.unwrap();
    let id = source["syncSourceId"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/sync-sources/{id}"));
    assert_eq!(source["kind"], "ONEROSTER_CSV");
    assert_eq!(source["schoolId"], Value::Null);

    let (status, page) = rest
        .get(&format!(
            "/sync-sources?districtId={district_id}&kind=ONEROSTER_CSV"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page["syncSources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["syncSourceId"] == id.as_str())
    );

    // RO-6's setting and the schedule change; the rest stays.
    let (status, changed) = rest
        .send(
            Method::PATCH,
            &format!("/sync-sources/{id}"),
            json!({"schedule": {"dailyTime": "02:30", "paused": true},
                   "settings": {"updateActiveUserContacts": true}}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["schedule"]["dailyTime"], "02:30");
    assert_eq!(changed["schedule"]["paused"], true);
    assert_eq!(changed["settings"]["updateActiveUserContacts"], true);
    assert_eq!(changed["settings"]["managesGuardians"], true);
    assert_eq!(changed["displayName"], "SIS over REST");

    // A dry run, followed to its end.
    let (status, queued) = rest
        .send(
            Method::POST,
            &format!("/sync-sources/{id}/runs"),
            json!({"dryRun": true}),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["dryRun"], true);
    let run_id = queued["syncRunId"].as_str().unwrap().to_string();
    let run = rest
        .until(&format!("/sync-runs/{run_id}"), &["COMPLETED", "FAILED"])
        .await;
    assert_eq!(run["status"], "COMPLETED", "{run}");
    assert_eq!(run["trigger"], "ON_DEMAND");
    assert!(!run["totals"].as_array().unwrap().is_empty(), "{run}");

    // "Run now" needs no body; the source runs one run at a time.
    let r = rest
        .api
        .http
        .post(format!("{}/sync-sources/{id}/runs", rest.api.base))
        .bearer_auth(&rest.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["dryRun"], false);
    let second_id = second["syncRunId"].as_str().unwrap().to_string();
    rest.until(&format!("/sync-runs/{second_id}"), &["COMPLETED", "FAILED"])
        .await;

    let (status, history) = rest.get(&format!("/sync-runs?sourceId={id}")).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(
        history["syncRuns"][0]["syncRunId"],
        second_id.as_str(),
        "newest first"
    );
    assert_eq!(history["syncRuns"][1]["syncRunId"], run_id.as_str());

    // Three students, two to a page.
    let rows = format!("/sync-runs/{run_id}/rows?entity=STUDENT&pageSize=2");
    let (status, first) = rest.get(&rows).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["totalSize"], 3);
    assert_eq!(first["rows"].as_array().unwrap().len(), 2);
    assert_eq!(first["rows"][0]["entity"], "STUDENT");
    let token = first["nextPageToken"].as_str().unwrap();
    let (_, second) = rest.get(&format!("{rows}&pageToken={token}")).await;
    assert_eq!(second["rows"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["nextPageToken"], Value::Null);

    let csv = rest
        .file(&format!("/sync-runs/{run_id}/report?format=csv"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert!(
        csv.disposition.starts_with("attachment; filename=\""),
        "{}",
        csv.disposition
    );
    let text = String::from_utf8_lossy(&csv.bytes);
    assert!(text.contains("Ana"), "{text}");
    let xlsx = rest
        .file(&format!("/sync-runs/{run_id}/report?format=xlsx"))
        .await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.disposition.contains(".xlsx"), "{}", xlsx.disposition);
    assert!(xlsx.bytes.starts_with(b"PK"));

    let (status, _) = rest
        .api
        .send(
            Method::DELETE,
            &format!("/sync-sources/{id}"),
            Some(&rest.token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, gone) = rest.get(&format!("/sync-sources/{id}")).await;
    assert_eq!(status, 404, "{gone}");
}

#[tokio::test]
async fn a_source_secret_is_written_but_never_read_back_and_bad_input_is_a_400() {
    let rest = district(idpb::Role::DistrictAdmin).await;
    let district_id = rest.smiths.district_id.clone();
    let (status, source) = rest
        .send(
            Method::POST,
            "/sync-sources",
            json!({
                "districtId": district_id,
                "displayName": "Clever",
                "kind": "CLEVER",
                "connector": {"clever": {"districtToken": "tok-very-secret"}},
            }),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    assert_eq!(source["connector"]["clever"]["districtTokenSet"], true);
    let (_, read) = rest
        .get(&format!(
            "/sync-sources/{}",
            source["syncSourceId"].as_str().unwrap()
        ))
        .await;
    for answer in [&source, &read] {
        assert!(!answer.to_string().contains("tok-very-secret"), "{answer}");
    }

    let bad = [
        "/sync-sources".to_string(),
        format!("/sync-sources?districtId={district_id}&kind=SIS"),
        format!("/sync-sources?districtId={district_id}&pageSize=0"),
        "/sync-runs".to_string(),
        format!("/guardian-uploads?districtId={district_id}&pageSize=ten"),
        "/guardian-uploads/u-1/rows?result=maybe".to_string(),
        "/guardian-uploads/u-1/result?format=pdf".to_string(),
        "/duplicate-guardians".to_string(),
        "/duplicate-guardians?districtId=%00".to_string(),
    ];
    for path in bad {
        let (status, body) = rest.get(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], "INVALID_ARGUMENT", "{path}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = rest
        .send(
            Method::POST,
            "/sync-sources",
            json!({"districtId": district_id, "displayName": "x", "kind": "SIS"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = rest
        .send(
            Method::POST,
            "/sync-sources",
            json!({"districtId": district_id, "displayName": "a\u{0}b", "kind": "CLEVER"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "displayName: control characters are not allowed"
    );
    let (status, body) = rest
        .send(
            Method::PATCH,
            &format!("/sync-sources/{}", source["syncSourceId"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("displayName"),
        "{body}"
    );
}

#[tokio::test]
async fn a_guardian_csv_uploaded_as_a_form_is_processed_paged_and_downloaded_as_csv_and_xlsx() {
    let rest = district(idpb::Role::RosteringAdmin).await;

    let dry = rest
        .uploaded("Parents Fall.csv", FILE.as_bytes(), true)
        .await;
    assert_eq!(dry["status"], "COMPLETED", "{dry}");
    assert_eq!(dry["dryRun"], true);

    let up = rest
        .uploaded("Parents Fall.csv", FILE.as_bytes(), false)
        .await;
    assert_eq!(up["status"], "COMPLETED", "{up}");
    assert_eq!(up["filename"], "Parents Fall.csv");
    assert_eq!(
        (up["rowsDone"].clone(), up["rowsTotal"].clone()),
        (json!(4), json!(4))
    );
    assert_eq!(up["counts"]["rowsSucceeded"], 3, "{up}");
    assert_eq!(up["counts"]["rowsFailed"], 1, "{up}");
    let id = up["uploadId"].as_str().unwrap();

    let (status, failed) = rest
        .get(&format!("/guardian-uploads/{id}/rows?result=error"))
        .await;
    assert_eq!(status, 200, "{failed}");
    assert_eq!(failed["totalSize"], 1);
    assert_eq!(failed["rows"][0]["result"], "ERROR");
    assert_eq!(failed["rows"][0]["error"], "Unknown student code 4242");
    assert_eq!(failed["rows"][0]["lineNumber"], 5);
    let (_, page) = rest
        .get(&format!("/guardian-uploads/{id}/rows?pageSize=2"))
        .await;
    assert_eq!(page["rows"].as_array().unwrap().len(), 2, "{page}");
    assert_eq!(page["totalSize"], 4);
    assert_eq!(
        page["rows"][0]["accountId"], page["rows"][1]["accountId"],
        "Maria is one account for both children"
    );
    assert!(page["nextPageToken"].is_string());

    let csv = rest
        .file(&format!("/guardian-uploads/{id}/result?format=csv"))
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    let text = String::from_utf8_lossy(&csv.bytes);
    assert!(
        text.contains("1003,P2,Dan,Jones,dan.jones@mail.com,,,,SUCCESS,CREATED,"),
        "{text}"
    );
    let xlsx = rest
        .file(&format!("/guardian-uploads/{id}/result?format=xlsx"))
        .await;
    assert_eq!(xlsx.status, 200);
    assert_eq!(
        xlsx.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        xlsx.disposition.contains("Parents-Fall-result.xlsx"),
        "{}",
        xlsx.disposition
    );
    assert!(xlsx.bytes.starts_with(b"PK"));

    let (status, history) = rest
        .get(&format!(
            "/guardian-uploads?districtId={}",
            rest.smiths.district_id
        ))
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["uploads"].as_array().unwrap().len(), 2);
    assert_eq!(history["uploads"][0]["uploadId"], id, "newest first");
}

#[tokio::test]
async fn a_wrong_csv_header_fails_the_upload_naming_the_expected_headers_even_past_one_mib() {
    let rest = district(idpb::Role::RosteringAdmin).await;
    // Larger than the gateway's usual 1 MiB body limit: this route takes 50 MB.
    let mut file = b"student,parent,first,last\r\n".to_vec();
    while file.len() < 1_500_000 {
        file.extend(b"1001,P1,Someone,Else\r\n");
    }
    let up = rest.uploaded("parents.csv", &file, false).await;
    assert_eq!(up["status"], "FAILED", "{up}");
    assert_eq!(up["sizeBytes"], file.len());
    let message = up["failureMessage"].as_str().unwrap();
    assert!(
        message.contains(
            "student_code, parent_code, first_name, last_name, email, phone, home_phone, language"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn a_file_over_50_mb_is_refused_with_413_and_nothing_is_stored() {
    let rest = district(idpb::Role::RosteringAdmin).await;
    let mut file =
        b"student_code,parent_code,first_name,last_name,email,phone,home_phone,language\n".to_vec();
    file.resize(50 * 1024 * 1024 + 1, b'x');
    let (status, body) = rest
        .upload(&[
            Part::Text("districtId", &rest.smiths.district_id),
            Part::File("parents.csv", &file),
        ])
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("50 MB"),
        "{body}"
    );
    let (_, history) = rest
        .get(&format!(
            "/guardian-uploads?districtId={}",
            rest.smiths.district_id
        ))
        .await;
    assert_eq!(history["uploads"], json!([]));
}

#[tokio::test]
async fn an_upload_by_a_teacher_is_refused_with_403() {
    let rest = district(idpb::Role::Teacher).await;
    let (status, body) = rest
        .upload(&[
            Part::Text("districtId", &rest.smiths.district_id),
            Part::File("parents.csv", FILE.as_bytes()),
        ])
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "PERMISSION_DENIED");
}

#[tokio::test]
async fn a_form_with_the_file_before_the_options_is_refused_with_400_and_stores_nothing() {
    let rest = district(idpb::Role::RosteringAdmin).await;
    let district_id = rest.smiths.district_id.clone();
    let refused = [
        (
            vec![
                Part::File("parents.csv", FILE.as_bytes()),
                Part::Text("districtId", &district_id),
            ],
            "districtId or schoolId: give exactly one before the file part",
        ),
        (
            // The file has streamed by the time the late option shows.
            vec![
                Part::Text("districtId", &district_id),
                Part::File("parents.csv", FILE.as_bytes()),
                Part::Text("dryRun", "true"),
            ],
            "the file part must come last",
        ),
        (
            vec![Part::Text("districtId", &district_id)],
            "file: required",
        ),
        (
            vec![
                Part::Text("district", &district_id),
                Part::File("parents.csv", FILE.as_bytes()),
            ],
            "unknown part \"district\"",
        ),
    ];
    for (parts, message) in refused {
        let (status, body) = rest.upload(&parts).await;
        assert_eq!(status, 400, "{body}");
        let text = body["message"].as_str().unwrap();
        assert!(text.starts_with(message), "{text}");
        assert!(text.contains("the file part, named file, last"), "{text}");
    }

    let (_, history) = rest
        .get(&format!("/guardian-uploads?districtId={district_id}"))
        .await;
    assert_eq!(history["uploads"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn the_duplicate_guardian_report_lists_a_duplicate_pair_and_downloads_as_csv() {
    let rest = district(idpb::Role::RosteringAdmin).await;
    // The SIS export gave Maria two parent codes: one per child.
    let up = rest
        .uploaded(
            "parents.csv",
            b"student_code,parent_code,first_name,last_name,email,phone,home_phone,language\n\
              1001,P1,Maria,Lopez,mlopez@mail.com,,,\n\
              1002,P9,Maria,Lopez,mlopez@mail.com,,,\n",
            false,
        )
        .await;
    assert_eq!(up["status"], "COMPLETED", "{up}");
    let district_id = &rest.smiths.district_id;

    let (status, report) = rest
        .get(&format!("/duplicate-guardians?districtId={district_id}"))
        .await;
    assert_eq!(status, 200, "{report}");
    let group = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["normalizedName"] == "maria lopez")
        .unwrap_or_else(|| panic!("no group for Maria: {report}"));
    assert_eq!(group["reasons"], json!(["SAME_NAME_SHARED_CREDENTIAL"]));
    assert_eq!(group["sharedValues"], json!(["mlopez@mail.com"]));
    assert_eq!(group["guardians"].as_array().unwrap().len(), 2, "{group}");

    let csv = rest
        .file(&format!(
            "/duplicate-guardians/download?districtId={district_id}"
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert!(
        csv.disposition.starts_with("attachment;"),
        "{}",
        csv.disposition
    );
    let text = String::from_utf8_lossy(&csv.bytes);
    assert_eq!(
        text.lines().filter(|l| l.contains("Maria")).count(),
        2,
        "one line per record:\n{text}"
    );
}

/// The Smiths' bundle as a `.zip`.
fn zipped_bundle() -> Vec<u8> {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    e2e::district::write_bundle(dir.path()).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        zip.start_file(
            entry.file_name().to_string_lossy(),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(&std::fs::read(entry.path()).unwrap())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_bundle_uploaded_as_a_form_runs_as_the_sources_import() {
    let rest = district(idpb::Role::RosteringAdmin).await;
    let (status, source) = rest
        .send(
            Method::POST,
            "/sync-sources",
            json!({
                "districtId": rest.smiths.district_id,
                "displayName": "SIS uploads",
                "kind": "ONEROSTER_CSV",
                "settings": {"managesGuardians": true},
            }),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    let id = source["syncSourceId"].as_str().unwrap();
    let zip = zipped_bundle();
    let (status, run) = rest
        .post_form(
            &format!("/sync-sources/{id}/bundles"),
            &[
                Part::Text("dryRun", "true"),
                Part::Text("idempotencyKey", "nightly-2026-12-07"),
                Part::File("oneroster.zip", &zip),
            ],
        )
        .await;
    assert_eq!(status, 202, "{run}");
    let run_id = run["syncRunId"].as_str().unwrap();
    let done = rest
        .until(&format!("/sync-runs/{run_id}"), &["COMPLETED", "FAILED"])
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["dryRun"], true, "{done}");

    // The file part must come last; options must be known.
    let (status, body) = rest
        .post_form(
            &format!("/sync-sources/{id}/bundles"),
            &[
                Part::File("oneroster.zip", &zip),
                Part::Text("dryRun", "true"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = rest
        .post_form(
            &format!("/sync-sources/{id}/bundles"),
            &[
                Part::Text("schoolId", "x"),
                Part::File("oneroster.zip", &zip),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("unknown part"));
}

#[tokio::test]
async fn a_district_cannot_point_a_source_at_another_districts_folder_or_an_internal_host() {
    let victim = district(idpb::Role::RosteringAdmin).await;
    // The Smiths' district synced from a folder in its own import folder.
    let theirs = victim.stack.bundle_dir(&victim.smiths.district_id);
    e2e::district::write_bundle(theirs.path()).unwrap();

    // An administrator of another district on the same suite.
    let token = victim.stack.service_token("gateway").await.unwrap();
    let mut roster = victim.stack.roster_client().await.unwrap();
    let other = roster
        .create_district(e2e::bearer(
            homeroom_proto::roster::v1::CreateDistrictRequest {
                name: "Shelbyville".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .district
        .unwrap()
        .district_id;
    let thief = victim
        .stack
        .staff_member_in(
            &other,
            "st-bart",
            ("Bart", "Admin"),
            "bart@shelbyville.org",
            idpb::Role::RosteringAdmin,
            "bart-strong-password",
        )
        .await
        .access_token;
    let create = |connector: Value, kind: &'static str| {
        let body = json!({
            "districtId": other,
            "displayName": "Borrowed",
            "kind": kind,
            "connector": connector,
        });
        victim
            .api
            .send(Method::POST, "/sync-sources", Some(&thief), Some(body))
    };
    let climb = format!(
        "../{}/{}",
        victim.smiths.district_id,
        theirs.path().file_name().unwrap().to_string_lossy()
    );
    for location in [theirs.path().display().to_string(), climb, "/etc".into()] {
        let (status, body) = create(
            json!({"onerosterCsv": {"location": location}}),
            "ONEROSTER_CSV",
        )
        .await;
        assert_eq!(status, 400, "{location}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("connector.oneroster_csv.location:"),
            "{body}"
        );
    }
    for base_url in [
        "http://10.1.2.3:8080",
        "https://169.254.169.254",
        "https://[fd00:ec2::254]",
        "http://localhost:9",
    ] {
        let (status, body) = create(
            json!({"onerosterRest": {
                "baseUrl": base_url,
                "authMethod": "OAUTH1_HMAC_SHA256",
                "oauth1Key": "key",
                "oauth1Secret": "secret",
            }}),
            "ONEROSTER_REST",
        )
        .await;
        assert_eq!(status, 400, "{base_url}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("connector.oneroster_rest.base_url:"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn every_text_has_a_limit_and_enum_names_are_read_in_any_case() {
    let rest = district(idpb::Role::RosteringAdmin).await;
    let district_id = rest.smiths.district_id.clone();
    // A 900 KB name: refused by the gateway, naming the field.
    let (status, body) = rest
        .send(
            Method::POST,
            "/sync-sources",
            json!({
                "districtId": district_id,
                "displayName": "x".repeat(900_000),
                "kind": "ONEROSTER_CSV",
            }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["field"], "displayName", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("at most 200 characters")
    );
    // …and by roster-svc itself, for a gRPC caller.
    let token = rest.stack.service_token("gateway").await.unwrap();
    let refused = rest
        .stack
        .roster_client()
        .await
        .unwrap()
        .create_sync_source(e2e::bearer(
            homeroom_proto::roster::v1::CreateSyncSourceRequest {
                sync_source: Some(homeroom_proto::roster::v1::SyncSource {
                    district_id: district_id.clone(),
                    display_name: "y".repeat(201),
                    kind: homeroom_proto::roster::v1::SyncSourceKind::OnerosterCsv.into(),
                    ..Default::default()
                }),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().starts_with("display_name: at most 200"));

    // The README's lowercase names.
    let (status, runs) = rest
        .get(&format!(
            "/sync-runs?districtId={district_id}&status=completed"
        ))
        .await;
    assert_eq!(status, 200, "{runs}");
    let run = runs["syncRuns"][0]["syncRunId"].as_str().unwrap();
    let (status, rows) = rest
        .get(&format!(
            "/sync-runs/{run}/rows?entity=guardian&action=created"
        ))
        .await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows["totalSize"], 2, "Sarah and Kevin: {rows}");
    let (status, rows) = rest
        .get(&format!("/sync-runs/{run}/rows?entity=guardian-link"))
        .await;
    assert_eq!(status, 200, "{rows}");
    let (status, body) = rest
        .get(&format!("/sync-runs/{run}/rows?entity=parent"))
        .await;
    assert_eq!(status, 400, "{body}");
}
