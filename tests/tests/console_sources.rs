//! SIS Rostering → sources in a real browser (RO-2, RO-4, RO-5, seed 002):
//! a district administrator adds a OneRoster CSV source through the form (a
//! bad folder first: the form says why and keeps what was typed), edits it,
//! pauses and resumes it; a Clever source's token is set, then only said to
//! be set; a bundle zip uploaded from the browser runs, for real and as a dry
//! run, and the dry run's report sorted by notes puts "Active user has a new
//! email in the SIS import - …" first. A teacher cannot add a source. axe-core
//! checks each page, and each is saved as a screenshot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{io::Write, path::Path};

use e2e::browser::Browser;
use fantoccini::Locator;
use homeroom_proto::identity::v1 as idpb;

/// The `value` the page gave the field `id`.
async fn value_of(browser: &Browser, id: &str) -> String {
    browser
        .client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no field #{id}: {e}"))
        .attr("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Empties the field `id`.
async fn clear(browser: &Browser, id: &str) {
    browser
        .client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no field #{id}: {e}"))
        .clear()
        .await
        .unwrap();
}

/// The text of the first row of the run's report table.
async fn first_report_row(browser: &Browser) -> String {
    browser
        .client
        .find(Locator::Css("section[aria-labelledby='report-h'] tbody tr"))
        .await
        .expect("the report has no rows")
        .text()
        .await
        .unwrap()
}

/// Seed 002's bundle (Sarah's email as the SIS has it) zipped into
/// `dir/name`; its path.
fn smiths_zip(dir: &Path, name: &str, sarah_email: &str) -> String {
    let files = tempfile::tempdir().unwrap();
    e2e::sync::smiths_bundle(files.path(), sarah_email, "(987) 654-3210", true);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in std::fs::read_dir(files.path()).unwrap() {
        let entry = entry.unwrap();
        zip.start_file(
            entry.file_name().to_string_lossy(),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(&std::fs::read(entry.path()).unwrap())
            .unwrap();
    }
    let path = dir.join(name);
    std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_administrator_sets_up_sources_uploads_a_bundle_and_sorts_the_report_by_notes() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let h = e2e::sync::Harness::start().await;
    h.stack
        .staff_member_in(
            &h.district_id,
            "a-ada",
            ("Ada", "Admin"),
            "ada@morgan.example",
            idpb::Role::DistrictAdmin,
            "admin-password-1",
        )
        .await;
    h.stack
        .staff_member_in(
            &h.district_id,
            "t-terry",
            ("Terry", "Teacher"),
            "terry@morgan.example",
            idpb::Role::Teacher,
            "teacher-password-1",
        )
        .await;
    let base = format!("http://{}", h.stack.gateway);
    let zips = tempfile::tempdir().unwrap();

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("ada@morgan.example", "admin-password-1")
        .await;
    browser.open(&format!("{base}/rostering/sources")).await;
    browser.click("main a[href='/rostering/sources/new']").await;
    let page = browser.text().await;
    for kind in ["OneRoster CSV", "OneRoster REST (ClassLink)", "Clever"] {
        assert!(page.contains(kind), "{kind:?} not on:\n{page}");
    }
    browser.check("sync-source-kinds").await;

    // A folder outside the district's import folder: refused on the form,
    // next to the field, with what was typed still there.
    browser
        .click("main a[href='/rostering/sources/new?kind=oneroster_csv']")
        .await;
    browser.check("sync-source-new").await;
    browser.fill("name", "PowerSchool nightly").await;
    browser.fill("location", "../other-district").await;
    browser.fill("daily_time", "05:30").await;
    browser.press("Create the source").await;
    let page = browser.text().await;
    assert!(
        page.contains("\"..\" is not allowed in a folder path"),
        "{page}"
    );
    let next_to_field = browser
        .client
        .find(Locator::Id("location-error"))
        .await
        .expect("no error next to the folder")
        .text()
        .await
        .unwrap();
    assert!(next_to_field.contains("is not allowed"), "{next_to_field}");
    assert_eq!(value_of(&browser, "name").await, "PowerSchool nightly");
    assert_eq!(value_of(&browser, "location").await, "../other-district");
    assert_eq!(value_of(&browser, "daily_time").await, "05:30");
    browser.check("sync-source-new-refused").await;

    // Without a folder: bundles are uploaded on the source's page.
    clear(&browser, "location").await;
    browser.press("Create the source").await;
    let path = browser.path().await;
    assert!(path.starts_with("/rostering/sources/"), "{path}");
    let source = path
        .trim_start_matches("/rostering/sources/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let page = browser.text().await;
    assert!(
        page.contains("The source is created.")
            && page.contains("PowerSchool nightly")
            && page.contains("Every day at 05:30"),
        "{page}"
    );
    browser.check("sync-source-created").await;

    // Edit: a new name and time.
    browser
        .click(&format!("a[href='/rostering/sources/{source}/edit']"))
        .await;
    assert_eq!(value_of(&browser, "name").await, "PowerSchool nightly");
    browser.check("sync-source-edit").await;
    browser
        .fill("name", "PowerSchool nightly (OneRoster)")
        .await;
    browser.fill("daily_time", "06:15").await;
    browser.press("Save changes").await;
    let page = browser.text().await;
    assert!(
        page.contains("The changes are saved.")
            && page.contains("PowerSchool nightly (OneRoster)")
            && page.contains("Every day at 06:15"),
        "{page}"
    );

    // Pause, then resume.
    browser.press("Pause").await;
    let page = browser.text().await;
    assert!(
        page.contains("The source is paused.") && page.contains("Paused:"),
        "{page}"
    );
    browser.check("sync-source-paused").await;
    browser.press("Resume").await;
    let page = browser.text().await;
    assert!(
        page.contains("The source runs on its schedule again.") && !page.contains("Paused:"),
        "{page}"
    );

    // A Clever source: its token is written once, then only said to be set.
    const TOKEN: &str = "clever-district-token-5f2a9c";
    browser
        .open(&format!("{base}/rostering/sources/new?kind=clever"))
        .await;
    browser.fill("name", "Clever district").await;
    browser.fill("district_token", TOKEN).await;
    browser.press("Create the source").await;
    let clever = browser
        .path()
        .await
        .trim_start_matches("/rostering/sources/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert!(browser.text().await.contains("The source is created."));
    for round in ["first", "after a save with the token left empty"] {
        browser
            .open(&format!("{base}/rostering/sources/{clever}/edit"))
            .await;
        let page = browser.text().await;
        assert!(
            page.contains("Set. Leave it empty to keep it"),
            "{round}: {page}"
        );
        let html = browser.client.source().await.unwrap();
        assert!(!html.contains(TOKEN), "{round}: the token is on the page");
        assert_eq!(value_of(&browser, "district_token").await, "");
        if round == "first" {
            browser.check("sync-source-edit-secret").await;
            browser.press("Save changes").await;
            assert!(browser.text().await.contains("The changes are saved."));
        }
    }

    // A bundle from the browser, first as a dry run: seed 003's preview
    // says what will be created.
    let first = smiths_zip(zips.path(), "oneroster.zip", "smithparent@mail.com");
    browser
        .open(&format!("{base}/rostering/sources/{source}"))
        .await;
    browser.check("sync-source-bundle-form").await;
    browser.touch("#bundle-dry-run").await;
    browser.fill("bundle", &first).await;
    browser.press("Upload and run").await;
    let page = browser.until_says(&["Completed", "Failed"]).await;
    assert!(page.contains("Completed"), "{page}");
    let report = browser
        .client
        .find(Locator::Css("section[aria-labelledby='report-h'] tbody"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        report.contains("Will be created") && !report.contains("Created"),
        "{report}"
    );
    browser.check("sync-run-will-be-created").await;

    // For real: the Smiths arrive.
    browser
        .open(&format!("{base}/rostering/sources/{source}"))
        .await;
    browser.fill("bundle", &first).await;
    browser.press("Upload and run").await;
    assert!(browser.path().await.starts_with("/rostering/runs/"));
    let page = browser.until_says(&["Completed", "Failed"]).await;
    assert!(page.contains("Completed"), "{page}");

    // Sarah has joined: her account is active, and the setting is off.
    h.stack
        .identity_db()
        .run(|c| {
            use diesel::RunQueryDsl;
            diesel::sql_query("UPDATE accounts SET status = 'active' WHERE given_name = 'Sarah'")
                .execute(c)
                .map_err(homeroom_platform::db::DbError::Query)
        })
        .await
        .unwrap();

    // The SIS gives her a new email: a dry run of the next bundle.
    let second = smiths_zip(zips.path(), "oneroster-2.zip", "sarah.new@mail.com");
    browser
        .open(&format!("{base}/rostering/sources/{source}"))
        .await;
    browser.touch("#bundle-dry-run").await;
    browser.fill("bundle", &second).await;
    browser.press("Upload and run").await;
    assert!(browser.path().await.starts_with("/rostering/runs/"));
    let page = browser.until_says(&["Completed", "Failed"]).await;
    assert!(
        page.contains("Completed") && page.contains("Sync run (Dry Run)"),
        "{page}"
    );
    browser.check("sync-run-bundle-dry-run").await;
    const NOTE: &str = "Active user has a new email in the SIS import - smithparent@mail.com";
    assert!(!first_report_row(&browser).await.contains(NOTE));

    // Sorted by notes: Sarah's note comes first.
    browser.touch("#sort option[value='notes']").await;
    browser.press("Search").await;
    assert!(browser.path().await.contains("sort=notes"));
    let row = first_report_row(&browser).await;
    assert!(row.contains(NOTE) && row.contains("Sarah Smith"), "{row}");
    browser.check("sync-run-report-by-notes").await;

    // A teacher cannot add a source.
    browser.press("Sign out").await;
    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("terry@morgan.example", "teacher-password-1")
        .await;
    browser
        .open(&format!("{base}/rostering/sources/new?kind=oneroster_csv"))
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Sync sources are for the district's rostering and district administrators."),
        "{page}"
    );
    assert!(
        browser.client.find(Locator::Id("name")).await.is_err(),
        "a teacher got the form"
    );
    browser.check("sync-source-new-teacher").await;
    browser.close().await;
}
