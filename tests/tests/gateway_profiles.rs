//! GW-1 end to end, seed 000 over REST: a district rostered from its SIS;
//! Sarah and Kevin share an email. Their one-time code gives a choice of the
//! two accounts; the administrator sends a communication (previewed first),
//! sees who it reached, and reads Sarah's profile — the shared email with its
//! count, the phone she opted out, her two children, her history — and Ana's
//! profile with both guardians.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::{Api, Stack, district::Smiths};
use homeroom_proto::{identity::v1 as idpb, messaging::v1 as mpb};
use reqwest::Method;
use serde_json::{Value, json};

/// Dana, the district's communications administrator, signed in.
async fn dana(stack: &Stack, smiths: &Smiths) -> String {
    stack.dana(smiths).await.access_token
}

async fn completed(api: &Api, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = api
            .send(
                Method::GET,
                &format!("/communications/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == "COMMUNICATION_STATUS_COMPLETED" {
            return body;
        }
        assert!(Instant::now() < deadline, "not completed: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_shared_email_signs_in_with_a_code_and_a_choice_of_the_two_accounts() {
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let api = Api::new(&stack);

    let (status, sent) = api
        .post("/auth/codes", json!({"identifier": "SmithParent@mail.com"}))
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_ne!(sent["maskedDestination"], "smithparent@mail.com");
    assert!(sent["expiresAt"].is_string(), "{sent}");
    let (status, unknown) = api
        .post("/auth/codes", json!({"identifier": "nobody@mail.com"}))
        .await;
    assert_eq!(status, 200, "an unknown address answers alike: {unknown}");
    let (status, body) = api
        .post(
            "/auth/codes",
            json!({"identifier": "x@y.z", "purpose": "reset"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "purpose: one of login, invitation");

    let (status, wrong) = api
        .post(
            "/auth/codes/verify",
            json!({"identifier": "smithparent@mail.com", "code": "000000"}),
        )
        .await;
    assert_eq!(status, 401, "{wrong}");
    let code = stack.emailed_code("smithparent@mail.com").await;
    let (status, answer) = api
        .post(
            "/auth/codes/verify",
            json!({"identifier": "smithparent@mail.com", "code": code}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let choice = &answer["accountChoice"];
    let mut ids: Vec<&str> = choice["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["accountId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut both = [smiths.sarah.as_str(), smiths.kevin.as_str()];
    both.sort_unstable();
    assert_eq!(ids, both);

    let (status, kevin) = api
        .post(
            "/auth/select-account",
            json!({"selectionToken": choice["selectionToken"], "accountId": smiths.kevin}),
        )
        .await;
    assert_eq!(status, 200, "{kevin}");
    let me = api
        .get("/me", kevin["accessToken"].as_str())
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(me["givenName"], "Kevin");
    assert_eq!(me["credentials"][0]["sharedCount"], 2, "{me}");
}

#[tokio::test]
async fn an_administrator_previews_sends_and_reads_the_profiles_of_a_guardian_and_a_student() {
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let token = dana(&stack, &smiths).await;
    let api = Api::new(&stack);

    // Sarah texts STOP: her phone is opted out.
    let gateway = stack.service_token("gateway").await.unwrap();
    let mut messaging = mpb::messaging_service_client::MessagingServiceClient::connect(format!(
        "http://{}",
        stack.messaging
    ))
    .await
    .unwrap();
    messaging
        .record_inbound_sms(e2e::bearer(
            mpb::RecordInboundSmsRequest {
                message_sid: "SM-stop-1".into(),
                from: "+19876543210".into(),
                to: "+15550001111".into(),
                body: "STOP".into(),
                ..Default::default()
            },
            &gateway,
        ))
        .await
        .unwrap();

    let audience = json!({"studentIds": [smiths.ana], "roles": ["guardian"]});
    let (status, preview) = api
        .send(
            Method::POST,
            "/communications/preview",
            Some(&token),
            Some(json!({"districtId": smiths.district_id, "audience": audience, "channels": ["email", "sms"]})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["recipientCount"], 2, "{preview}");
    let email = preview["channelCounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "CHANNEL_EMAIL")
        .unwrap();
    assert_eq!(
        email["uniqueAddresses"], 1,
        "one email for the shared address"
    );

    let (status, bad) = api
        .send(
            Method::POST,
            "/communications/preview",
            Some(&token),
            Some(json!({"districtId": smiths.district_id, "audience": audience, "channels": ["fax"]})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad["message"], "channels: one of email, sms, voice");

    let message = json!({
        "idempotencyKey": "picture-day",
        "districtId": smiths.district_id,
        "subject": "Picture day",
        "body": "Picture day is Friday.",
        "channels": ["email", "sms"],
        "audience": audience,
    });
    let (status, sent) = api
        .send(
            Method::POST,
            "/communications",
            Some(&token),
            Some(message.clone()),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["replayed"], false);
    let id = sent["communication"]["communicationId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, again) = api
        .send(Method::POST, "/communications", Some(&token), Some(message))
        .await;
    assert_eq!(status, 200, "a retry: {again}");
    assert_eq!(again["communication"]["communicationId"], id.as_str());
    let done = completed(&api, &token, &id).await;
    assert_eq!(done["recipientCount"], 2);

    let (status, page) = api
        .send(
            Method::GET,
            &format!("/communications?districtId={}", smiths.district_id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["communications"][0]["communicationId"], id.as_str());
    let (status, deliveries) = api
        .send(
            Method::GET,
            &format!("/communications/{id}/deliveries?channel=email"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{deliveries}");
    let emails = deliveries["deliveries"].as_array().unwrap();
    assert_eq!(
        emails.len(),
        1,
        "the shared email is sent once: {deliveries}"
    );
    assert_eq!(
        emails[0]["recipientAccountIds"].as_array().unwrap().len(),
        2
    );
    assert_ne!(emails[0]["maskedAddress"], "smithparent@mail.com");

    // Sarah's profile.
    let (status, profile) = api
        .send(
            Method::GET,
            &format!("/accounts/{}/profile", smiths.sarah),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["account"]["givenName"], "Sarah");
    let contact = |kind: &str| {
        profile["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}: {profile}"))
            .clone()
    };
    let (shared, phone) = (
        contact("CREDENTIAL_KIND_EMAIL"),
        contact("CREDENTIAL_KIND_MOBILE_PHONE"),
    );
    assert_eq!(shared["sharedCount"], 2);
    assert_eq!(shared["bad"], false);
    assert_eq!(phone["bad"], true, "STOP opted the phone out: {phone}");
    assert_eq!(phone["statuses"][0]["optedOut"], true, "{phone}");
    let mut students: Vec<&str> = profile["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["displayName"].as_str().unwrap())
        .collect();
    students.sort_unstable();
    assert_eq!(students, ["Ana Smith", "Ben Smith"]);
    assert_eq!(profile["students"][0]["schoolName"], "Lincoln Elementary");
    let history = profile["history"]["entries"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|e| e["subject"] == "Picture day" && e["channel"] == "CHANNEL_EMAIL"),
        "{profile}"
    );
    assert!(
        history.iter().any(|e| e["channel"] == "CHANNEL_SMS"
            && e["status"] == "DELIVERY_STATUS_SKIPPED"
            && e["skipReason"] == "SKIP_REASON_OPTED_OUT"),
        "the text to the opted-out phone is skipped: {profile}"
    );
    let (status, sms) = api
        .send(
            Method::GET,
            &format!("/accounts/{}/history?channel=sms&pageSize=10", smiths.sarah),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{sms}");
    assert!(
        sms["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["channel"] == "CHANNEL_SMS"),
        "{sms}"
    );
    let (status, _) = api
        .send(
            Method::GET,
            &format!("/accounts/{}/history?pageSize=0", smiths.sarah),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 400);

    // Ana's profile.
    let (status, ana) = api
        .send(
            Method::GET,
            &format!("/students/{}/profile", smiths.ana),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{ana}");
    assert_eq!(ana["displayName"], "Ana Smith");
    assert_eq!(ana["schoolName"], "Lincoln Elementary");
    assert_eq!(ana["classes"][0]["title"], "Grade 3");
    let guardians = ana["guardians"].as_array().unwrap();
    assert_eq!(guardians.len(), 2, "{ana}");
    for g in guardians {
        let email = g["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "CREDENTIAL_KIND_EMAIL")
            .unwrap_or_else(|| panic!("{g}"));
        assert_eq!(email["value"], "smithparent@mail.com");
        assert_eq!(email["sharedCount"], 2);
    }
}

#[tokio::test]
async fn another_districts_administrator_sees_neither_profile() {
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let outsider = stack
        .staff_member(
            "t-olga",
            ("Olga", "Other"),
            "olga@other.org",
            idpb::Role::DistrictAdmin,
            "olga-strong-password",
        )
        .await
        .access_token;
    let api = Api::new(&stack);
    for path in [
        format!("/accounts/{}/profile", smiths.sarah),
        format!("/students/{}/profile", smiths.ana),
    ] {
        let (status, body) = api.send(Method::GET, &path, Some(&outsider), None).await;
        assert_eq!(
            status, 404,
            "another district's records do not exist for it: {path} {body}"
        );
        assert!(body["code"].is_string(), "{body}");
    }
    let (status, _) = api
        .send(
            Method::GET,
            &format!("/accounts/{}/profile", smiths.sarah),
            None,
            None,
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_shared_credential_report_lists_the_smiths_email_as_json_and_as_csv() {
    let stack = Stack::start().await.unwrap();
    let smiths = stack.smiths().await.unwrap();
    let admin = stack
        .staff_member_in(
            &smiths.district_id,
            "t-ada",
            ("Ada", "Admin"),
            "ada@district.org",
            idpb::Role::DistrictAdmin,
            "ada-strong-password",
        )
        .await
        .access_token;
    let api = Api::new(&stack);
    let (status, page) = api
        .send(
            Method::GET,
            &format!(
                "/reports/shared-credentials?districtId={}",
                smiths.district_id
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let shared = &page["sharedCredentials"][0];
    assert_eq!(shared["value"], "smithparent@mail.com", "{page}");
    assert_eq!(shared["sharedCount"], 2);
    let mut holders: Vec<&str> = shared["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["displayName"].as_str().unwrap())
        .collect();
    holders.sort_unstable();
    assert_eq!(holders, ["Kevin Smith", "Sarah Smith"]);

    let csv = api
        .get(
            &format!(
                "/reports/shared-credentials.csv?districtId={}",
                smiths.district_id
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(csv.status().as_u16(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "{:?}",
        csv.headers()
    );
    let text = csv.text().await.unwrap();
    assert_eq!(
        text.matches("smithparent@mail.com").count(),
        2,
        "a row per holder: {text}"
    );

    let (status, bad) = api
        .send(
            Method::GET,
            &format!(
                "/reports/shared-credentials?districtId={}&kinds=fax",
                smiths.district_id
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 400, "{bad}");
}
