//! Messages in the console (GW-3, MS-1, MS-2, MS-5; seed 000) on the real
//! suite, in a real browser: axe-core on every page and a full-page
//! screenshot of each under `target/console-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use e2e::{browser::Browser, sync::Harness, until};
use homeroom_proto::{identity::v1 as idpb, roster::v1 as rpb};

/// Seed 000's household in a class: the Smiths' bundle with Sarah and
/// Kevin sharing one email and one phone, and "Grade 3" with Ana (their
/// daughter) and Tom, her teacher.
fn smiths_in_a_class(dir: &Path) {
    e2e::sync::smiths_bundle(dir, "smithparent@mail.com", "(987) 654-3210", true);
    std::fs::write(
        dir.join("manifest.csv"),
        "\"propertyName\",\"value\"\r\n\"manifest.version\",\"1.0\"\r\n\"oneroster.version\",\"1.1\"\r\n\
         \"file.orgs\",\"bulk\"\r\n\"file.users\",\"bulk\"\r\n\"file.classes\",\"bulk\"\r\n\
         \"file.enrollments\",\"bulk\"\r\n\"source.systemName\",\"ClassLink OneRoster\"",
    )
    .unwrap();
    std::fs::write(
        dir.join("classes.csv"),
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
         c1,,,Grade 3,03,,G3,homeroom,,sch1,,,,\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("enrollments.csv"),
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
         e1,,,c1,sch1,s1,student,false,,\ne2,,,c1,sch1,t1,teacher,true,,\n",
    )
    .unwrap();
}

/// Seed 000 in the browser: a district administrator composes to Ana's
/// class by email and SMS. Her parents Sarah and Kevin share one email and
/// one phone: the preview says 2 people come down to 1 email and 1 text
/// message. The form sent three times (a double click, then Send) is one
/// communication; its page shows the two deliveries, each serving both
/// parents; the outbox has one email for the shared address and one text
/// for the shared phone; both parents' profiles list it. An emergency
/// without its confirmation box is refused and sends nothing.
#[tokio::test]
async fn parents_sharing_an_email_and_a_phone_get_one_message_each_way_and_both_see_it() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mut h = Harness::start().await;
    let bundle = h.bundle_dir();
    smiths_in_a_class(bundle.path());
    let source = h.source(bundle.path(), false).await;
    let run = h.sync(&source, false, false).await;
    assert_eq!(run.status(), rpb::SyncRunStatus::Completed, "{run:?}");
    let created = h.rows(&run.sync_run_id, rpb::RecordAction::Created).await;
    let account = |source_id: &str| {
        created
            .iter()
            .find(|r| r.source_id == source_id)
            .unwrap_or_else(|| panic!("{source_id} was not created"))
            .account_id
            .clone()
    };
    let (sarah, kevin) = (account("g1"), account("g2"));
    let ada = h
        .stack
        .staff_member_in(
            &h.district_id,
            "a-ada",
            ("Ada", "Admin"),
            "ada@morgan.example",
            idpb::Role::DistrictAdmin,
            "admin-password-1",
        )
        .await
        .access_token;
    let base = format!("http://{}", h.stack.gateway);

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("ada@morgan.example", "admin-password-1")
        .await;
    browser.click("nav a[href='/messages']").await;
    let page = browser.text().await;
    assert!(page.contains("No message matches."), "{page}");
    browser.click("main a[href='/messages/new']").await;
    let page = browser.text().await;
    for expected in [
        "Who receives it",
        "Lincoln Elementary",
        "Grade 3",
        "Spanish version",
    ] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("messages-compose").await;

    // The class, found by its title; email and SMS.
    browser.fill("q", "Grade 3").await;
    browser.press("Search classes").await;
    browser.touch("input[name='class']").await;
    browser.touch("#channel-email").await;
    browser.touch("#channel-sms").await;
    browser.fill("subject", "Snow day").await;
    browser.fill("body", "School is closed tomorrow.").await;
    browser.press("Preview").await;
    let page = browser.text().await;
    assert!(
        page.contains("2 people → 1 email, 1 text message"),
        "seed 000's preview:\n{page}"
    );
    assert!(page.contains("English: 2"), "{page}");
    browser.check("messages-preview").await;

    // A double click: the same form twice at once, then Send as well.
    let twice = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             const form = document.querySelector(\"form[action='/messages/preview']\");\
             const body = new URLSearchParams(new FormData(form));\
             Promise.all([1, 2].map(() => fetch('/messages', {method: 'POST', body: body.toString(),\
                 headers: {'content-type': 'application/x-www-form-urlencoded'}})\
               .then(r => new URL(r.url).pathname)))\
               .then(done, e => done([String(e)]));",
            vec![],
        )
        .await
        .unwrap();
    let twice: Vec<String> = serde_json::from_value(twice).unwrap();
    browser.press("Send").await;
    let path = browser.path().await;
    assert!(path.starts_with("/messages/"), "{path}");
    assert_eq!(twice, vec![path.clone(), path.clone()], "one communication");

    let page = browser.until_says(&["Completed ·", "Failed ·"]).await;
    for expected in [
        "Completed ·",
        "2 people → 1 email, 1 text message",
        "Grade 3",
        "2 deliveries",
        "mail.com",
        "3210",
        "Sarah Smith",
        "Kevin Smith",
        "Ada Admin",
    ] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("messages-detail").await;

    // One email at the shared address, one text at the shared phone.
    let (emails, texts) = until(|| {
        let (emails, sms) = h.stack.outbox();
        let snow: Vec<String> = emails
            .into_iter()
            .filter(|e| e2e::readable(e).contains("Snow day"))
            .collect();
        let phone: Vec<serde_json::Value> = sms
            .into_iter()
            .filter(|t| t["to"] == "+19876543210")
            .collect();
        (!snow.is_empty() && !phone.is_empty()).then_some((snow, phone))
    })
    .await;
    assert_eq!(emails.len(), 1, "one email for both parents");
    assert!(emails[0].contains("smithparent@mail.com"), "{}", emails[0]);
    assert_eq!(texts.len(), 1, "one text for both parents: {texts:?}");

    // Both parents see it in their history.
    for (who, id) in [("Sarah", &sarah), ("Kevin", &kevin)] {
        browser.open(&format!("{base}/accounts/{id}")).await;
        let page = browser.text().await;
        assert!(page.contains("Snow day"), "{who}'s history:\n{page}");
    }

    // The list has it once, for three sends of the form.
    browser.open(&format!("{base}/messages")).await;
    let page = browser.text().await;
    assert_eq!(page.matches("Snow day").count(), 1, "{page}");
    assert!(page.contains("Ada Admin"), "the sender, by name:\n{page}");
    browser.check("messages-list").await;

    // An emergency overrides people's choices: not without its box ticked.
    browser.open(&format!("{base}/messages/new")).await;
    browser.touch("input[name='class']").await;
    browser.touch("#channel-sms").await;
    browser.fill("subject", "Lockdown drill").await;
    browser
        .fill("body", "Stay inside until told otherwise.")
        .await;
    browser.touch("#emergency").await;
    browser.press("Send").await;
    assert_eq!(browser.path().await, "/messages");
    let page = browser.text().await;
    assert!(
        page.contains("Tick \"Yes, send it as an emergency, whatever people chose\""),
        "{page}"
    );
    browser.check("messages-emergency-unconfirmed").await;
    let (status, listed) = e2e::Api::new(&h.stack)
        .send(
            reqwest::Method::GET,
            &format!("/communications?districtId={}", h.district_id),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    assert!(
        !listed.to_string().contains("Lockdown drill"),
        "nothing was sent: {listed}"
    );

    // Confirmed, it goes.
    browser.touch("#confirm-emergency").await;
    browser.press("Send").await;
    assert!(browser.path().await.starts_with("/messages/"));
    let page = browser.text().await;
    assert!(
        page.contains("Lockdown drill") && page.contains("Emergency"),
        "{page}"
    );
    browser.close().await;
}
