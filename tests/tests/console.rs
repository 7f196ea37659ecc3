//! The console (GW-3, first part) on the real suite, in a real browser:
//! headless Chromium through ChromeDriver, axe-core on every page, and a
//! full-page screenshot of each under `target/console-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{Stack, bearer, browser::Browser, invitations, until};
use homeroom_proto::identity::v1 as idpb;

/// The text of the sign-in error.
async fn sign_in_error(browser: &Browser) -> String {
    browser
        .client
        .find(fantoccini::Locator::Id("sign-in-error"))
        .await
        .expect("no sign-in error shown")
        .text()
        .await
        .unwrap()
}

/// Sarah (Spanish) and Kevin Smith, who share an email and a phone, are
/// invited; each opens their own join link and, as couples do, picks the
/// same password; both end signed out. Their account ids and the console's
/// address.
async fn smiths_joined(browser: &Browser, stack: &Stack, look: bool) -> (String, String, String) {
    let (sarah, kevin) = invitations::smiths(stack).await;
    invitations::invite(stack, vec![sarah.clone(), kevin.clone()], false, "first").await;
    let emails = until(|| {
        let (emails, _) = stack.outbox();
        (emails.len() >= 2).then_some(emails)
    })
    .await;
    let base = format!("http://{}", stack.gateway);
    let links = [
        invitations::codes(&emails, "Abre este enlace"),
        invitations::codes(&emails, "Open this link"),
    ];
    for (i, code) in links.iter().map(|c| c[0].clone()).enumerate() {
        browser.open(&format!("{base}/join?code={code}")).await;
        if look && i == 0 {
            browser.check("join-invitation").await;
        }
        browser.fill("new-password", "smith-family-password").await;
        browser.click("form[action='/join'] button").await;
        assert_eq!(browser.path().await, "/account");
        browser.click("header form button").await;
    }
    (sarah, kevin, base)
}

/// Tom, a teacher the SIS rostered, signs in: an unknown address and a wrong
/// password read alike; his account page shows his name, email and role,
/// fits a 320 px phone; signing out ends the session.
#[tokio::test]
async fn a_teacher_signs_in_sees_his_account_on_a_phone_and_signs_out() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start().await.unwrap();
    stack.smiths().await.unwrap();
    let mut identity = stack.identity_client().await.unwrap();
    stack
        .join(&mut identity, "treed@school.org", "tom-strong-password")
        .await;
    let base = format!("http://{}", stack.gateway);

    browser.open(&format!("{base}/")).await;
    assert!(
        browser.path().await.starts_with("/sign-in"),
        "{}",
        browser.path().await
    );
    browser.check("sign-in").await;

    browser
        .sign_in("nobody@school.org", "some-password-123")
        .await;
    let unknown = sign_in_error(&browser).await;
    browser
        .sign_in("TReed@School.org", "wrong-password-123")
        .await;
    let wrong = sign_in_error(&browser).await;
    assert_eq!(unknown, wrong);
    assert!(wrong.contains("is not right"), "{wrong}");
    browser.check("sign-in-wrong-password").await;

    browser
        .sign_in("treed@school.org", "tom-strong-password")
        .await;
    assert_eq!(browser.path().await, "/account");
    let page = browser.text().await;
    for expected in ["Tom Reed", "treed@school.org", "Teacher", "Change password"] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("account-teacher").await;

    // The same on a 320 px phone: nothing scrolls sideways.
    let phone = Browser::phone().await.unwrap();
    phone.open(&format!("{base}/sign-in")).await;
    assert!(
        !phone.scrolls_sideways().await,
        "the sign-in page is wider than 320 px"
    );
    phone.check("sign-in-320px").await;
    phone
        .sign_in("treed@school.org", "tom-strong-password")
        .await;
    assert_eq!(phone.path().await, "/account");
    assert!(
        !phone.scrolls_sideways().await,
        "the account page is wider than 320 px"
    );
    phone.check("account-teacher-320px").await;
    phone.close().await;

    browser.press("Sign out").await;
    assert!(browser.text().await.contains("You are signed out."));
    browser.check("signed-out").await;
    browser.open(&format!("{base}/account")).await;
    assert!(
        browser.path().await.starts_with("/sign-in?next="),
        "{}",
        browser.path().await
    );
    browser.close().await;
}

/// Seed 000 and ID-4: Sarah (Spanish) and Kevin Smith share an email. Each
/// opens the join link of their own invitation and, as couples do, picks the
/// same password; signing in with the shared email then offers the choice of
/// the two accounts, and Sarah's account page, in Spanish, marks the email
/// shared with one other account.
#[tokio::test]
async fn parents_sharing_an_email_join_choose_their_account_and_see_the_shared_mark() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start().await.unwrap();
    let (sarah, _kevin, base) = smiths_joined(&browser, &stack, true).await;

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("SmithParent@Mail.com", "smith-family-password")
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Choose an account")
            && page.contains("Sarah Smith")
            && page.contains("Kevin Smith"),
        "{page}"
    );
    browser.check("choose-account").await;
    browser.click(&format!("button[value='{sarah}']")).await;
    assert_eq!(browser.path().await, "/account");
    let page = browser.text().await;
    for expected in [
        "Mi cuenta",
        "smithparent@mail.com",
        "Compartido con otra cuenta",
        "Padre/tutor",
    ] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("account-guardian-shared-email-es").await;
    browser.close().await;
}

/// ID-9: the first administrator's join link opens "Complete your profile";
/// the password they choose signs them in to their account page.
#[tokio::test]
async fn the_first_administrator_completes_their_profile_from_the_join_link() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let operator = stack.service_token("operator").await.unwrap();
    let mut identity = stack.identity_client().await.unwrap();
    let created = identity
        .create_administrator(bearer(
            idpb::CreateAdministratorRequest {
                district_id: smiths.district_id.clone(),
                email: "pat@springfield.test".into(),
                given_name: "Pat".into(),
                family_name: "Principal".into(),
                role: idpb::Role::DistrictAdmin.into(),
            },
            &operator,
        ))
        .await
        .unwrap()
        .into_inner();
    let base = format!("http://{}", stack.gateway);

    browser
        .open(&format!("{base}/join?code={}", created.join_token))
        .await;
    assert!(browser.text().await.contains("Complete your profile"));
    browser.check("join").await;
    // The browser asks for 8 characters; without that check (no
    // JavaScript, an old browser) the server refuses and says why.
    browser
        .client
        .execute(
            "document.getElementById('new-password').removeAttribute('minlength');",
            vec![],
        )
        .await
        .unwrap();
    browser.fill("new-password", "short").await;
    browser.press("Save and sign in").await;
    assert!(
        browser.text().await.contains("at least 8 characters"),
        "{}",
        browser.text().await
    );
    browser.fill("new-password", "pat-strong-password").await;
    browser.press("Save and sign in").await;
    assert_eq!(browser.path().await, "/account");
    let page = browser.text().await;
    assert!(
        page.contains("Pat Principal") && page.contains("District administrator"),
        "{page}"
    );
    browser.check("account-district-admin").await;

    // Seed 000's report, from the menu.
    browser.click("nav a[href='/reports']").await;
    browser
        .click("main a[href='/reports/shared-credentials']")
        .await;
    let page = browser.text().await;
    for expected in [
        "Shared emails and phones",
        "smithparent@mail.com",
        "Sarah Smith",
        "Kevin Smith",
        "Download CSV",
    ] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("report-shared-credentials").await;

    // The link is spent.
    browser.press("Sign out").await;
    browser
        .open(&format!("{base}/join?code={}", created.join_token))
        .await;
    browser
        .fill("new-password", "another-strong-password")
        .await;
    browser.press("Save and sign in").await;
    assert!(browser.text().await.contains("not valid any more"));
    browser.close().await;
}

/// Without a browser: the console's headers, its CSRF checks, its 404 and
/// its words in Spanish.
#[tokio::test]
async fn console_pages_send_strict_headers_refuse_forged_forms_and_speak_spanish() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stack = Stack::start().await.unwrap();
    let base = format!("http://{}", stack.gateway);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let page = http.get(format!("{base}/sign-in")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "inline code in the page"
    );

    // The stylesheet and script, under hashed names, cached for a year.
    for asset in html
        .split('"')
        .filter(|s| s.starts_with("/assets/console."))
    {
        let answer = http.get(format!("{base}{asset}")).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{asset}");
        assert!(
            answer.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }

    // A form posted without the CSRF token of its page is refused.
    let forged = http
        .post(format!("{base}/sign-in"))
        .form(&[("identifier", "a@b.test"), ("password", "x-password-123")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged = http
        .post(format!("{base}/sign-out"))
        .header("cookie", "homeroom_csrf=abc")
        .form(&[("csrf", "abd")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // "Sign out everywhere" never claims what did not happen: without a
    // session to end them from, the other devices stay signed in and the
    // page says so.
    let nothing_ended = http
        .post(format!("{base}/sign-out"))
        .header("cookie", "homeroom_csrf=abc")
        .form(&[("csrf", "abc"), ("everywhere", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(nothing_ended.status(), 401);
    let said = nothing_ended.text().await.unwrap();
    assert!(
        said.contains("Sign in again, then choose Sign out everywhere")
            && !said.contains("You are signed out on every device"),
        "{said}"
    );

    // Pages that need a session send the browser to sign in, and back.
    let account = http.get(format!("{base}/account")).send().await.unwrap();
    assert_eq!(account.status(), 303);
    assert_eq!(account.headers()["location"], "/sign-in?next=%2Faccount");

    // Unknown pages: HTML for people, JSON under the API.
    let missing = http
        .get(format!("{base}/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
    let api = http
        .get(format!("{base}/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert!(api.text().await.unwrap().contains("\"code\""));

    // Spanish for a browser that asks for it.
    let spanish = http
        .get(format!("{base}/sign-in"))
        .header("accept-language", "es-MX,es;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(spanish.contains("<html lang=\"es\">") && spanish.contains("Iniciar sesión"));
}

/// Seed 004 in the browser. The Smiths' shared email bounces (a signed
/// SendGrid event through the real webhook). Dana, a communications
/// administrator, opens Sarah's profile: the email is bad with the bounce's
/// reason; Reset Status asks first, says it sends nothing, then the page
/// shows the address fine and the next communication is attempted. Tom, a
/// teacher, sees Sarah's profile without the button and a forged reset is
/// refused; Sarah sees her child Ana but not another family's child.
#[tokio::test]
async fn an_administrator_resets_a_bounced_email_and_a_teacher_and_a_guardian_cannot() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let dana = stack.dana(&smiths).await.access_token;
    let mut identity = stack.identity_client().await.unwrap();
    stack
        .join(&mut identity, "treed@school.org", "tom-strong-password")
        .await;
    let base = format!("http://{}", stack.gateway);
    let api = e2e::Api::new(&stack);
    let send = |key: &'static str, body: &'static str| {
        let (api, dana, district, sarah, stack) =
            (&api, &dana, &smiths.district_id, &smiths.sarah, &stack);
        async move {
            let (status, sent) = api
                .send(
                    reqwest::Method::POST,
                    "/communications",
                    Some(dana),
                    Some(serde_json::json!({
                        "idempotencyKey": key, "districtId": district,
                        "subject": "Picture day", "body": body, "channels": ["email"],
                        "audience": {"accountIds": [sarah]},
                    })),
                )
                .await;
            assert_eq!(status, 201, "{sent}");
            until(|| {
                let (emails, _) = stack.outbox();
                emails
                    .iter()
                    .any(|e| e.contains(body) && e.contains("smithparent@mail.com"))
                    .then_some(())
            })
            .await;
        }
    };
    // The district emails Sarah, and the message bounces.
    send("picture-day", "Picture day is Friday.").await;
    let http = reqwest::Client::new();
    let bounced = e2e::webhooks::sendgrid_bounce(&http, &base, "smithparent@mail.com")
        .await
        .unwrap();
    assert_eq!(bounced.status(), 204);

    browser
        .open(&format!("{base}/accounts/{}", smiths.sarah))
        .await;
    assert!(browser.path().await.starts_with("/sign-in?next="));
    browser
        .sign_in("dana@district.org", "dana-strong-password")
        .await;
    assert_eq!(browser.path().await, format!("/accounts/{}", smiths.sarah));
    // People with a bad address: Sarah and Kevin hold the bounced email; the
    // same list over REST.
    browser.open(&format!("{base}/people?bad=1")).await;
    let page = browser.text().await;
    assert!(
        page.contains("Sarah Smith") && page.contains("Kevin Smith") && !page.contains("Tom Reed"),
        "{page}"
    );
    browser.check("people-bad-address").await;
    let bad_rest = format!(
        "/accounts?districtId={}&badAddressOnly=true",
        smiths.district_id
    );
    let (status, listed) = api
        .send(reqwest::Method::GET, &bad_rest, Some(dana.as_str()), None)
        .await;
    assert_eq!(status, 200, "{listed}");
    let names: Vec<&str> = listed["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["displayName"].as_str())
        .collect();
    assert_eq!(names, ["Kevin Smith", "Sarah Smith"], "{listed}");
    // The rostered records over REST, with or without an account.
    let district = &smiths.district_id;
    for (path, key, expected) in [
        (
            format!("/students?districtId={district}&q=ana"),
            "students",
            "Ana Smith",
        ),
        (
            format!("/staff?districtId={district}&q=reed"),
            "staff",
            "Tom Reed",
        ),
        (format!("/classes?districtId={district}"), "classes", ""),
    ] {
        let (status, listed) = api
            .send(reqwest::Method::GET, &path, Some(dana.as_str()), None)
            .await;
        assert_eq!(status, 200, "{path}: {listed}");
        let found = listed[key].as_array().unwrap();
        assert!(!found.is_empty(), "{path}: {listed}");
        if !expected.is_empty() {
            assert_eq!(found[0]["displayName"], expected, "{path}: {listed}");
            assert_eq!(found.len(), 1, "{path}: {listed}");
        }
    }
    browser
        .open(&format!("{base}/accounts/{}", smiths.sarah))
        .await;
    let page = browser.text().await;
    for expected in [
        "Sarah Smith",
        "smithparent@mail.com",
        "Shared with 1 other account",
        "Bad since",
        "550 5.1.1",
        "Ana Smith",
        "Ben Smith",
        "Picture day",
        "Reset Status",
    ] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("profile-bounced-email").await;

    browser.press("Reset Status").await;
    let confirm = browser.text().await;
    assert!(confirm.contains("This sends nothing"), "{confirm}");
    browser.check("reset-status-confirm").await;
    browser.press("Reset Status").await;
    let page = browser.text().await;
    assert!(
        page.contains("The status was reset. Nothing was sent"),
        "{page}"
    );
    assert!(!page.contains("Bad since"), "{page}");
    browser.check("profile-after-reset").await;

    // Nobody has a bad address any more.
    browser.open(&format!("{base}/people?bad=1")).await;
    let page = browser.text().await;
    assert!(
        page.contains("0 found") && !page.contains("Sarah Smith"),
        "{page}"
    );
    let (_, listed) = api
        .send(reqwest::Method::GET, &bad_rest, Some(dana.as_str()), None)
        .await;
    assert_eq!(listed["accounts"], serde_json::json!([]), "{listed}");

    // People: by phone in another format, then by name.
    browser.open(&format!("{base}/people")).await;
    browser.fill("q", "(987) 654-3210").await;
    browser.press("Search").await;
    let page = browser.text().await;
    assert!(
        page.contains("Sarah Smith") && !page.contains("Kevin Smith"),
        "{page}"
    );
    browser.fill("q", "smith").await;
    browser.press("Search").await;
    let page = browser.text().await;
    for expected in ["Sarah Smith", "Kevin Smith", "Shared with 1 other"] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("people-search").await;
    // The filters: who shares an email or phone, and a role.
    browser.open(&format!("{base}/people?shared=1")).await;
    let page = browser.text().await;
    assert!(
        page.contains("Sarah Smith") && page.contains("Kevin Smith") && !page.contains("Tom Reed"),
        "{page}"
    );
    browser.open(&format!("{base}/people?role=teacher")).await;
    let page = browser.text().await;
    assert!(
        page.contains("Tom Reed") && !page.contains("Sarah Smith"),
        "{page}"
    );
    browser.check("people-teachers").await;
    // Students are listed as the SIS has them, account or not, and open
    // their profile.
    browser
        .open(&format!("{base}/people?kind=student&q=ana"))
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Ana Smith") && !page.contains("Ben Smith") && !page.contains("Sarah Smith"),
        "{page}"
    );
    browser.check("people-students").await;
    browser.click("a[href^='/students/']").await;
    assert!(browser.path().await.starts_with("/students/"));
    assert!(browser.text().await.contains("Ana Smith"));

    // The next communication is attempted at the address.
    send("after-reset", "Hello again.").await;

    // Tom teaches Ana's class: he sees Sarah's profile but no Reset Status,
    // and a reset posted anyway is refused.
    browser.press("Sign out").await;
    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("treed@school.org", "tom-strong-password")
        .await;
    browser
        .open(&format!("{base}/accounts/{}", smiths.sarah))
        .await;
    let page = browser.text().await;
    if page.contains("Sarah Smith") {
        assert!(!page.contains("Reset Status"), "{page}");
        browser.check("profile-as-teacher").await;
    }
    let csrf = browser
        .client
        .get_named_cookie("homeroom_csrf")
        .await
        .unwrap()
        .value()
        .to_string();
    let forged = browser
        .client
        .execute_async(
            "const [url, csrf, done] = arguments;\
             fetch(url, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},\
               body: 'csrf=' + encodeURIComponent(csrf) + '&channel=email&address=smithparent%40mail.com&confirmed=1'})\
             .then(r => r.text().then(t => done([r.status, t])));",
            vec![
                serde_json::json!(format!("/accounts/{}/reset-status", smiths.sarah)),
                serde_json::json!(csrf),
            ],
        )
        .await
        .unwrap();
    assert_eq!(forged[0], 403, "{forged}");
    assert!(
        forged[1].as_str().unwrap().contains("Reset Status needs"),
        "{forged}"
    );

    // Sarah joins from her invitation and sees Ana, not Cal.
    browser.press("Sign out").await;
    e2e::invitations::invite_in(
        &stack,
        &smiths.district_id,
        vec![smiths.sarah.clone()],
        false,
        "sarah",
    )
    .await;
    let emails = until(|| {
        let (emails, _) = stack.outbox();
        let codes = e2e::invitations::codes(&emails, "Open this link");
        (!codes.is_empty()).then_some(codes)
    })
    .await;
    browser
        .open(&format!("{base}/join?code={}", emails[0]))
        .await;
    browser.fill("new-password", "sarah-strong-password").await;
    browser.click("form[action='/join'] button").await;
    assert_eq!(browser.path().await, "/account");
    browser
        .open(&format!("{base}/students/{}", smiths.ana))
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Ana Smith") && page.contains("Lincoln Elementary"),
        "{page}"
    );
    browser.check("student-as-guardian").await;
    browser
        .open(&format!("{base}/students/{}", smiths.cal))
        .await;
    let page = browser.text().await;
    assert!(!page.contains("Cal Jones"), "{page}");
    assert!(page.contains("no such profile"), "{page}");
    browser.close().await;
}

/// Seed 000 without a password: a parent asks for a one-time code at the
/// shared email, types it from the message, and chooses Kevin's account.
#[tokio::test]
async fn a_one_time_code_to_the_shared_email_signs_in_after_the_account_choice() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let base = format!("http://{}", stack.gateway);

    browser.open(&format!("{base}/sign-in")).await;
    browser.click("a[href='/sign-in/code']").await;
    browser.check("sign-in-code").await;
    browser.fill("identifier", "SmithParent@Mail.com").await;
    browser.press("Send me a code").await;
    assert!(browser.text().await.contains("a code is on its way"));
    let code = stack.emailed_code("smithparent@mail.com").await;

    browser.fill("code", "000000").await;
    browser.press("Sign in").await;
    assert!(browser.text().await.contains("That code is not right"));
    browser.fill("code", &code).await;
    browser.press("Sign in").await;
    let page = browser.text().await;
    assert!(
        page.contains("Choose an account") && page.contains("Kevin Smith"),
        "{page}"
    );
    browser
        .click(&format!("button[value='{}']", smiths.kevin))
        .await;
    assert_eq!(browser.path().await, "/account");
    assert!(browser.text().await.contains("Kevin Smith"));
    browser.close().await;
}

/// Seed 000 and seed 002 on "My account": Kevin, who shares an email and a
/// phone with Sarah, turns email off and keeps texts; he changes his phone
/// and confirms it with the code texted to it. Once the district lets the
/// sync manage contact details, Sarah's page (in Spanish) says the school
/// manages them, offers no email or phone fields, and a change posted anyway
/// is refused with the setting's explanation; her language is still hers.
#[tokio::test]
async fn a_parent_chooses_texts_confirms_a_new_phone_and_a_synced_contact_stays_with_the_school() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start().await.unwrap();
    let (sarah, kevin, base) = smiths_joined(&browser, &stack, false).await;

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in(invitations::EMAIL, "smith-family-password")
        .await;
    browser.click(&format!("button[value='{kevin}']")).await;
    assert_eq!(browser.path().await, "/account");
    let checked = async |id: &str| {
        browser
            .client
            .execute(
                "return document.getElementById(arguments[0]).checked;",
                vec![serde_json::json!(id)],
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap()
    };
    assert!(checked("pref-email").await && checked("pref-sms").await);
    browser.touch("#pref-email").await;
    browser.touch("#pref-voice").await;
    browser
        .click("form[action='/account/preferences'] button")
        .await;
    assert!(
        browser
            .text()
            .await
            .contains("Your notification choices are saved."),
        "{}",
        browser.text().await
    );
    assert!(
        !checked("pref-email").await && checked("pref-sms").await && !checked("pref-voice").await
    );
    browser.check("account-notifications-saved").await;

    // A new phone, in the form people write it; then its code.
    browser.fill("contact-phone", "(987) 654-3299").await;
    browser
        .click("form[action='/account/contact'] button")
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Your contact details are saved.") && page.contains("+19876543299"),
        "{page}"
    );
    browser.touch("#confirm-MOBILE_PHONE summary").await;
    browser.click("#confirm-MOBILE_PHONE button").await;
    assert!(browser.text().await.contains("We sent a code to"));
    browser.check("account-confirm-code").await;
    let texted = until(|| {
        let (_, sms) = stack.outbox();
        sms.into_iter()
            .find(|m| m["to"] == "+19876543299")
            .and_then(|m| m["body"].as_str().map(str::to_owned))
    })
    .await;
    let code: String = texted
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {texted:?}"))
        .to_owned();
    // A wrong code first: the field stays, with what to do.
    browser.fill("confirm-code-MOBILE_PHONE", "000000").await;
    browser.press("Confirm").await;
    assert!(
        browser.text().await.contains("That code is not right"),
        "{}",
        browser.text().await
    );
    browser.fill("confirm-code-MOBILE_PHONE", &code).await;
    browser.press("Confirm").await;
    let page = browser.text().await;
    assert!(page.contains("this contact is confirmed"), "{page}");
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#confirm-MOBILE_PHONE"))
            .await
            .is_err(),
        "the confirmed phone still asks"
    );

    // The district turns on "Allow the sync to update contact details of
    // active users" for its SIS.
    let roster = stack.service_token("roster").await.unwrap();
    stack
        .identity_client()
        .await
        .unwrap()
        .set_contact_managed_by_sync(bearer(
            idpb::SetContactManagedBySyncRequest {
                district_id: "district-1".into(),
                source_system: "sis".into(),
                contact_managed_by_sync: true,
            },
            &roster,
        ))
        .await
        .unwrap();
    browser.click("header form button").await;
    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in(invitations::EMAIL, "smith-family-password")
        .await;
    browser.click(&format!("button[value='{sarah}']")).await;
    let page = browser.text().await;
    assert!(
        page.contains("administra su correo y su teléfono"),
        "{page}"
    );
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Id("contact-email"))
            .await
            .is_err(),
        "a managed email is offered for editing"
    );
    browser.check("account-contact-managed-es").await;
    let csrf = browser
        .client
        .get_named_cookie("homeroom_csrf")
        .await
        .unwrap()
        .value()
        .to_string();
    let forged = browser
        .client
        .execute_async(
            "const [csrf, done] = arguments;\
             fetch('/account/contact', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},\
               body: 'csrf=' + encodeURIComponent(csrf) + '&email=sarah%40elsewhere.test'})\
             .then(r => r.text().then(t => done([r.status, t])));",
            vec![serde_json::json!(csrf)],
        )
        .await
        .unwrap();
    assert_eq!(forged[0], 400, "{forged}");
    assert!(
        forged[1]
            .as_str()
            .unwrap()
            .contains("Permitir que la sincronización actualice los datos de contacto"),
        "{forged}"
    );
    // Her language stays hers to choose.
    browser
        .client
        .execute(
            "document.getElementById('contact-language').value = 'en';",
            vec![],
        )
        .await
        .unwrap();
    browser
        .click("form[action='/account/contact'] button")
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("My account") && page.contains("Your contact details are saved."),
        "{page}"
    );
    browser.close().await;
}

/// RO-8 and ID-10 in the console: the SIS has Maria Lopez twice (once per
/// child); the district administrator opens Reports, finds her group in
/// Duplicate guardians with the reason and the SIS ids to fix, then the
/// audit log: their own sign-in, by name and from which address, and the
/// filter by what happened. They make a teacher a communications
/// administrator and take it back (both in her account's audit log). The
/// teacher is refused both reports and a grant to herself.
#[tokio::test]
async fn an_administrator_finds_a_duplicate_guardian_and_reads_the_audit_log() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mut h = e2e::sync::Harness::start().await;
    let dir = h.bundle_dir();
    e2e::sync::maria_lopez_twice(dir.path(), "(987) 654-3299");
    let source = h.source(dir.path(), false).await;
    let run = h.sync(&source, false, false).await;
    assert_eq!(
        run.status(),
        homeroom_proto::roster::v1::SyncRunStatus::Completed,
        "{run:?}"
    );
    h.stack
        .staff_member_in(
            &h.district_id,
            "admin-1",
            ("Ada", "Admin"),
            "ada@morgan.example",
            idpb::Role::DistrictAdmin,
            "admin-password-1",
        )
        .await;
    h.stack
        .staff_member_in(
            &h.district_id,
            "t-1",
            ("Tess", "Teacher"),
            "tess@morgan.example",
            idpb::Role::Teacher,
            "teacher-password-1",
        )
        .await;
    let base = format!("http://{}", h.stack.gateway);

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("ada@morgan.example", "admin-password-1")
        .await;
    browser.click("nav a[href='/reports']").await;
    browser.check("reports").await;
    browser
        .click("main a[href='/reports/duplicate-guardians']")
        .await;
    let page = browser.text().await;
    for expected in [
        "maria lopez",
        "Same name and a shared email or phone",
        "OneRoster CSV id g1",
        "OneRoster CSV id g2",
        "Ana Lopez",
        "Ben Lopez",
        "Download CSV",
    ] {
        assert!(
            page.to_lowercase().contains(&expected.to_lowercase()),
            "{expected:?} not on:\n{page}"
        );
    }
    browser.check("report-duplicate-guardians").await;

    browser.open(&format!("{base}/reports/audit")).await;
    let page = browser.text().await;
    assert!(
        page.contains("Login succeeded")
            && page.contains("Ada Admin")
            && page.contains("127.0.0.1"),
        "{page}"
    );
    browser.check("report-audit").await;
    browser
        .client
        .execute(
            "document.getElementById('kind').value = 'invitation_accepted';",
            vec![],
        )
        .await
        .unwrap();
    browser.press("Show").await;
    let table = browser
        .client
        .execute(
            "const t = document.querySelector('table'); return t ? t.innerText : '';",
            vec![],
        )
        .await
        .unwrap();
    let table = table.as_str().unwrap();
    assert!(
        table.contains("Invitation accepted") && !table.contains("Login succeeded"),
        "{table}"
    );

    // Staff roles: Tess is made a communications administrator for the
    // district, which the audit log of her account shows; then revoked.
    browser.open(&format!("{base}/people?q=tess")).await;
    browser.click("main table a").await;
    let tess = browser
        .path()
        .await
        .trim_start_matches("/accounts/")
        .to_owned();
    browser
        .client
        .execute(
            "document.getElementById('grant-role').value = 'communications_admin';",
            vec![],
        )
        .await
        .unwrap();
    browser.press("Grant role").await;
    let page = browser.text().await;
    assert!(
        page.contains("The roles were changed")
            && page.contains("Communications admin Whole district"),
        "{page}"
    );
    browser.check("profile-roles").await;
    browser
        .click(&format!("a[href='/reports/audit?account={tess}']"))
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Role changed") && page.contains("Tess Teacher"),
        "{page}"
    );
    browser.open(&format!("{base}/accounts/{tess}")).await;
    browser
        .client
        .execute("window.confirm = () => true;", vec![])
        .await
        .unwrap();
    browser
        .click("form[action$='/roles'] input[value='revoke'] ~ button")
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("The roles were changed")
            && !page.contains("Communications admin Whole district"),
        "{page}"
    );

    // Ada reads Spanish: the staff pages follow her account's language.
    let language = |code: &'static str| {
        let (browser, base) = (&browser, &base);
        async move {
            browser.open(&format!("{base}/account")).await;
            browser
                .client
                .execute(
                    &format!("document.getElementById('contact-language').value = '{code}';"),
                    vec![],
                )
                .await
                .unwrap();
            browser
                .click("form[action='/account/contact'] button")
                .await;
        }
    };
    language("es").await;
    browser.open(&format!("{base}/people?q=tess")).await;
    let page = browser.text().await;
    for expected in ["Personas", "Buscar", "Tess Teacher", "Maestro", "Activa"] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("people-es").await;
    browser
        .open(&format!("{base}/reports/duplicate-guardians"))
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Mismo nombre") && page.contains("Ana Lopez"),
        "{page}"
    );
    browser.check("report-duplicate-guardians-es").await;
    language("en").await;

    browser.press("Sign out").await;
    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("tess@morgan.example", "teacher-password-1")
        .await;
    // A teacher's forged grant to herself is refused.
    let csrf = browser
        .client
        .get_named_cookie("homeroom_csrf")
        .await
        .unwrap()
        .value()
        .to_string();
    let forged = browser
        .client
        .execute_async(
            "const [url, csrf, done] = arguments;\
             fetch(url, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},\
               body: 'csrf=' + encodeURIComponent(csrf) + '&action=grant&role=district_admin&school='})\
             .then(r => r.text().then(t => done([r.status, t])));",
            vec![
                serde_json::json!(format!("/accounts/{tess}/roles")),
                serde_json::json!(csrf),
            ],
        )
        .await
        .unwrap();
    assert_eq!(forged[0], 403, "{forged}");
    assert!(
        forged[1]
            .as_str()
            .unwrap()
            .contains("Changing roles needs the district administrator role"),
        "{forged}"
    );
    for report in ["/reports/audit", "/reports/duplicate-guardians"] {
        browser.open(&format!("{base}{report}")).await;
        let page = browser.text().await;
        assert!(
            page.contains("Only the district's administrators may read")
                && !page.contains("Maria")
                && !page.contains("Ada Admin"),
            "{report}:\n{page}"
        );
    }
    browser.close().await;
}

/// Every text of a downloaded XLSX (its XML parts), to look for cells.
fn xlsx_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).unwrap();
        if part.name().ends_with(".xml") {
            part.read_to_string(&mut all).unwrap();
        }
    }
    all
}

/// Seed 001 in the browser: a district administrator opens SIS Rostering →
/// Upload Guardians, reads the format, uploads a guardian file saved by
/// Excel (Windows-1252) with Dry Run first — the result shows what would
/// happen, errors first, and nothing changes — then for real: the guardian
/// is created, the table and the downloaded Excel file agree, and the upload
/// is in the history. A file with the wrong headers fails, naming the
/// expected ones.
#[tokio::test]
async fn an_administrator_uploads_guardians_from_excel_with_a_dry_run_first() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let ada = stack
        .staff_member_in(
            &smiths.district_id,
            "a-ada",
            ("Ada", "Admin"),
            "ada@district.org",
            idpb::Role::DistrictAdmin,
            "ada-strong-password",
        )
        .await
        .access_token;
    let api = e2e::Api::new(&stack);
    let base = format!("http://{}", stack.gateway);
    let files = tempfile::tempdir().unwrap();
    // Excel's "CSV" is Windows-1252: é, ú and ñ are one byte each. Cal Jones
    // (1003) gets a guardian; student 9999 does not exist.
    let good = files.path().join("Guardians.csv");
    std::fs::write(
        &good,
        b"student_code,parent_code,first_name,last_name,email,phone,home_phone,language\r\n\
          1003,P-9,Jos\xe9,N\xfa\xf1ez,jose.nunez@example.com,(555) 010-0199,,\r\n\
          9999,P-10,Nobody,Known,nobody@example.com,,,\r\n",
    )
    .unwrap();
    let wrong = files.path().join("Wrong.csv");
    std::fs::write(
        &wrong,
        "Student ID,Parent First,Parent Last\r\n1003,A,B\r\n",
    )
    .unwrap();
    let people = |q: &'static str| {
        let (api, ada, district) = (&api, &ada, &smiths.district_id);
        async move {
            let (status, found) = api
                .send(
                    reqwest::Method::GET,
                    &format!("/accounts?districtId={district}&q={q}"),
                    Some(ada.as_str()),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{found}");
            found["totalSize"].as_i64().unwrap()
        }
    };
    let upload = |file: std::path::PathBuf, dry_run: bool| {
        let (browser, base) = (&browser, &base);
        async move {
            browser
                .open(&format!("{base}/rostering/upload-guardians"))
                .await;
            if dry_run {
                browser.touch("#dry-run").await;
            }
            browser.fill("file", file.to_str().unwrap()).await;
            browser.press("Start Processing").await;
            assert!(browser.path().await.starts_with("/rostering/uploads/"));
            browser.until_says(&["Completed", "Failed"]).await
        }
    };

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("ada@district.org", "ada-strong-password")
        .await;
    browser.click("nav a[href='/rostering']").await;
    browser.check("sis-rostering").await;
    browser
        .click("main a[href='/rostering/upload-guardians']")
        .await;
    let page = browser.text().await;
    for expected in [
        "student_code",
        "parent_code",
        "home_phone",
        "language",
        "Download a template",
        "en — English",
        "No guardian file was uploaded yet.",
    ] {
        assert!(page.contains(expected), "{expected:?} not on:\n{page}");
    }
    browser.check("upload-guardians").await;

    // The dry run: what would happen, errors first; nothing changes.
    let page = upload(good.clone(), true).await;
    assert!(page.contains("Completed"), "{page}");
    assert!(page.contains("Dry run: nothing was changed"), "{page}");
    let (nobody, jose) = (
        page.find("Nobody Known").expect("the failed row"),
        page.find("José Núñez")
            .expect("the row, read as Windows-1252"),
    );
    assert!(nobody < jose, "errors first:\n{page}");
    assert!(
        page.contains("CREATED") && page.contains("Unknown student code 9999"),
        "{page}"
    );
    browser.check("upload-dry-run").await;
    assert_eq!(people("nunez").await, 0, "a dry run changes nothing");

    // For real.
    let page = upload(good, false).await;
    assert!(
        page.contains("Completed") && !page.contains("Dry run: nothing was changed"),
        "{page}"
    );
    assert_eq!(people("nunez").await, 1, "the guardian is there");
    let upload_id = browser
        .path()
        .await
        .trim_start_matches("/rostering/uploads/")
        .to_owned();
    browser.check("upload-result").await;
    let xlsx = reqwest::Client::new()
        .get(format!(
            "{base}/api/v1/guardian-uploads/{upload_id}/result?format=xlsx"
        ))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    let cells = xlsx_text(&xlsx.bytes().await.unwrap());
    for agreed in ["José", "Núñez", "CREATED", "SUCCESS", "ERROR", "9999"] {
        assert!(
            page.to_uppercase().contains(&agreed.to_uppercase()),
            "{agreed:?} not on the page:\n{page}"
        );
        assert!(cells.contains(agreed), "{agreed:?} not in the Excel file");
    }

    // A file with other headers fails as a whole, naming the right ones.
    let page = upload(wrong, false).await;
    assert!(page.contains("Failed"), "{page}");
    assert!(
        page.contains("student_code") && page.contains("parent_code"),
        "{page}"
    );
    browser.check("upload-wrong-header").await;

    // The history lists all three, newest first.
    browser
        .click("main a[href='/rostering/upload-guardians']")
        .await;
    let page = browser.text().await;
    let (wrong_at, good_at) = (
        page.find("Wrong.csv").expect("the wrong file"),
        page.find("Guardians.csv").expect("the guardian file"),
    );
    assert!(wrong_at < good_at, "{page}");
    assert_eq!(page.matches("Guardians.csv").count(), 2, "{page}");
    browser.close().await;
}

/// Seed 002 and RO-3 in the browser: a district administrator finds the
/// district's OneRoster source under SIS Rostering. With "Allow the sync to
/// update contact details of active users" OFF, the SIS gives Sarah (who
/// joined) a new email: Run now keeps hers, and searching the run's report
/// for "new email" finds the note. Turned ON, the next run applies the SIS's
/// email and Sarah is told. A bundle without the families would deactivate
/// most of the district: the run stops and shows the numbers; Force, once
/// confirmed, applies it.
#[tokio::test]
async fn an_administrator_runs_the_sync_reads_its_report_and_forces_past_the_guard() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mut h = e2e::sync::Harness::start().await;
    let bundle = h.bundle_dir();
    e2e::sync::smiths_bundle(
        bundle.path(),
        "smithparent@mail.com",
        "(987) 654-3210",
        true,
    );
    let source = h.source(bundle.path(), false).await;
    let first = h.sync(&source, false, false).await;
    assert_eq!(
        first.status(),
        homeroom_proto::roster::v1::SyncRunStatus::Completed,
        "{first:?}"
    );
    // Sarah has joined: her account is active.
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
    let base = format!("http://{}", h.stack.gateway);
    let run_until_done = |expect: &'static str| {
        let browser = &browser;
        async move {
            browser.press("Run now").await;
            assert!(browser.path().await.starts_with("/rostering/runs/"));
            let page = browser.until_says(&["Completed", "Failed"]).await;
            assert!(page.contains(expect), "{page}");
            page
        }
    };

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .sign_in("ada@morgan.example", "admin-password-1")
        .await;
    browser.click("nav a[href='/rostering']").await;
    browser.click("main a[href='/rostering/sources']").await;
    let page = browser.text().await;
    assert!(
        page.contains("OneRoster CSV") && page.contains("Completed"),
        "{page}"
    );
    browser.check("sync-sources").await;
    browser
        .click(&format!("main a[href='/rostering/sources/{source}']"))
        .await;
    let page = browser.text().await;
    assert!(
        page.contains("Allow the sync to update contact details of active users")
            && page.contains("Off."),
        "{page}"
    );
    browser.check("sync-source").await;

    // OFF: Sarah keeps her email; the report's note says what the SIS has.
    e2e::sync::smiths_bundle(bundle.path(), "sarah.new@mail.com", "(987) 654-3210", true);
    run_until_done("Completed").await;
    browser.fill("q", "new email").await;
    browser.press("Search").await;
    let page = browser.text().await;
    assert!(
        page.contains("Active user has a new email in the SIS import - smithparent@mail.com")
            && page.contains("Sarah Smith"),
        "{page}"
    );
    browser.check("sync-run-report-notes").await;

    // ON: the next run applies the SIS's email and tells Sarah.
    browser
        .click(&format!("a[href='/rostering/sources/{source}']"))
        .await;
    browser.press("Turn on").await;
    let page = browser.text().await;
    assert!(
        page.contains("The setting is saved") && page.contains("On."),
        "{page}"
    );
    e2e::sync::smiths_bundle(
        bundle.path(),
        "sarah.newer@mail.com",
        "(987) 654-3210",
        true,
    );
    run_until_done("Completed").await;
    until(|| {
        let (emails, _) = h.stack.outbox();
        emails
            .iter()
            .any(|e| e2e::readable(e).contains("Your email in Homeroom was updated"))
            .then_some(())
    })
    .await;

    // The families are gone from the bundle: the guard stops the run.
    e2e::sync::smiths_bundle(bundle.path(), "", "", false);
    browser
        .click(&format!("a[href='/rostering/sources/{source}']"))
        .await;
    let page = run_until_done("Failed").await;
    assert!(
        page.contains("The deactivation guard stopped this run")
            && page.contains("People it would deactivate"),
        "{page}"
    );
    browser.check("sync-run-guard").await;
    browser.touch("#confirm-force").await;
    browser.press("Force").await;
    let first = browser.text().await;
    browser.mark().await;
    let page = browser.until_says(&["Completed", "Failed"]).await;
    assert!(page.contains("Completed"), "{page}");
    if !first.contains("Completed") {
        assert!(
            browser.marked().await,
            "the run's page updates in place, without a reload:\n{first}"
        );
    }
    browser.check("sync-run-forced").await;
    browser.close().await;
}
