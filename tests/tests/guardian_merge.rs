//! RO-8 end to end: the SIS has Maria Lopez twice (once per child). The
//! duplicate-guardian report finds her; a district administrator previews and
//! merges the two over REST; messages to both children reach one account;
//! the next sync that touches the second record updates her account ("merged
//! into …") instead of splitting her again; the merge is undone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{
    Api,
    sync::{Harness, maria_lopez_twice as bundle},
};
use homeroom_proto::{identity::v1 as idpb, roster::v1 as pb};
use serde_json::{Value, json};

/// `POST` as `token`: status and answer.
async fn post(api: &Api, path: &str, token: &str, body: Value) -> (u16, Value) {
    api.send(reqwest::Method::POST, path, Some(token), Some(body))
        .await
}

async fn duplicate_groups(api: &Api, admin: &str, district: &str) -> Vec<Value> {
    let r = api
        .get(
            &format!("/duplicate-guardians?districtId={district}"),
            Some(admin),
        )
        .await;
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    page["groups"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_administrator_merges_duplicate_guardians_later_syncs_keep_them_merged_and_undo_splits_them()
 {
    let mut h = Harness::start().await;
    let dir = h.bundle_dir();
    bundle(dir.path(), "(987) 654-3299");
    let source = h.source(dir.path(), false).await;
    let first = h.sync(&source, false, false).await;
    assert_eq!(first.status(), pb::SyncRunStatus::Completed, "{first:?}");
    let created = h.rows(&first.sync_run_id, pb::RecordAction::Created).await;
    let of = |sid: &str| created.iter().find(|r| r.source_id == sid).unwrap().clone();
    let (maria, twin) = (of("g1").account_id, of("g2").account_id);
    let students = [of("s1").record_id, of("s2").record_id];
    let admin = h
        .stack
        .staff_member_in(
            &h.district_id,
            "admin-1",
            ("Ada", "Admin"),
            "ada@morgan.example",
            idpb::Role::DistrictAdmin,
            "admin-password-1",
        )
        .await
        .access_token;
    let api = Api::new(&h.stack);
    let district = h.district_id.clone();

    // The report finds her twice.
    let groups = duplicate_groups(&api, &admin, &district).await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    let accounts: Vec<&str> = groups[0]["guardians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["accountId"].as_str().unwrap())
        .collect();
    assert!(accounts.contains(&maria.as_str()) && accounts.contains(&twin.as_str()));

    // The preview: two mobile phones to choose from, both children kept.
    let body = json!({
        "districtId": district,
        "survivorAccountId": maria,
        "mergedAccountIds": [twin],
    });
    let (status, preview) = post(&api, "/guardian-merges/preview", &admin, body.clone()).await;
    assert_eq!(status, 200, "{preview}");
    let mobile = preview["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "mobile_phone")
        .unwrap();
    assert_eq!(mobile["conflict"], true);
    assert_eq!(mobile["chosen"], "+19876543210");
    assert_eq!(preview["students"].as_array().unwrap().len(), 2);
    assert_eq!(preview["merged"][0]["records"][0]["sourceId"], "g2");

    // A teacher may not merge.
    let teacher = h
        .stack
        .staff_member_in(
            &district,
            "teacher-1",
            ("Tom", "Reed"),
            "treed@morgan.example",
            idpb::Role::Teacher,
            "teacher-password-1",
        )
        .await
        .access_token;
    let (refused, _) = post(&api, "/guardian-merges", &teacher, body.clone()).await;
    assert_eq!(refused, 403);

    // Ben's school texts his mother's second record before the merge.
    let (status, sent) = post(
        &api,
        "/communications",
        &admin,
        json!({
            "idempotencyKey": "field-trip-1",
            "districtId": district,
            "subject": "Field trip",
            "body": "Permission slips are due Friday.",
            "channels": ["sms"],
            "audience": {"studentIds": [students[1]]},
        }),
    )
    .await;
    assert_eq!(status, 201, "{sent}");

    // The merge, and the same request again (a double click): one merge.
    let (status, merged) = post(&api, "/guardian-merges", &admin, body.clone()).await;
    assert_eq!(status, 201, "{merged}");
    let merge_id = merged["mergeId"].as_str().unwrap().to_owned();
    assert!(merged["undoUntil"].is_string());
    let (again, replay) = post(&api, "/guardian-merges", &admin, body).await;
    assert_eq!(
        (again, replay["mergeId"].as_str()),
        (200, Some(merge_id.as_str()))
    );
    assert!(duplicate_groups(&api, &admin, &district).await.is_empty());
    // Her history holds what the merged account was sent.
    let history: Value = api
        .get(&format!("/accounts/{maria}/history"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let subjects: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or_default())
        .collect();
    assert!(subjects.contains(&"Field trip"), "{history}");

    // Both children's guardians are one recipient now.
    let (status, reach) = post(
        &api,
        "/communications/preview",
        &admin,
        json!({
            "districtId": district,
            "audience": {"studentIds": students},
            "channels": ["email", "sms"],
        }),
    )
    .await;
    assert_eq!(status, 200, "{reach}");
    assert_eq!(reach["recipientCount"], 1, "{reach}");

    // The SIS changes the second record: it updates Maria's account, says so,
    // and her contact details stay the ones the administrator kept.
    bundle(dir.path(), "(987) 654-3288");
    let second = h.sync(&source, false, false).await;
    assert_eq!(second.status(), pb::SyncRunStatus::Completed, "{second:?}");
    let updated = h.rows(&second.sync_run_id, pb::RecordAction::Updated).await;
    let row = updated.iter().find(|r| r.source_id == "g2").unwrap();
    assert_eq!(row.account_id, maria);
    assert!(
        row.notes.iter().any(|n| n == "merged into Maria Lopez"),
        "{row:?}"
    );
    assert!(
        h.rows(&second.sync_run_id, pb::RecordAction::Created)
            .await
            .is_empty()
    );

    // Undo: two guardians again, and the report finds them again.
    let (status, undone) = post(
        &api,
        &format!("/guardian-merges/{merge_id}/undo"),
        &admin,
        json!({"districtId": district}),
    )
    .await;
    assert_eq!(status, 200, "{undone}");
    assert_eq!(duplicate_groups(&api, &admin, &district).await.len(), 1);
    let (status, twice) = post(
        &api,
        &format!("/guardian-merges/{merge_id}/undo"),
        &admin,
        json!({"districtId": district}),
    )
    .await;
    assert_eq!(status, 400, "{twice}");
}
