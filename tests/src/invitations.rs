//! ID-4 invitations for tests: Sarah (Spanish) and Kevin Smith, invitees
//! of `district-1` sharing an email and a phone, and the join links their
//! invitations carry.

use homeroom_proto::identity::v1 as idpb;

use crate::{Stack, bearer};

/// The email Sarah and Kevin share.
pub const EMAIL: &str = "smithparent@mail.com";
/// The phone Sarah and Kevin share.
pub const PHONE: &str = "+19876543210";

/// Sarah (Spanish) and Kevin, invitees sharing an email and a phone; their ids.
pub async fn smiths(stack: &Stack) -> (String, String) {
    let roster = stack
        .service_token("roster")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let guardian = |source: &str, given: &str, language: &str| idpb::AccountUpsert {
        source_id: source.into(),
        kind: idpb::AccountKind::Guardian as i32,
        given_name: given.into(),
        family_name: "Smith".into(),
        preferred_language: Some(language.into()),
        email: Some(EMAIL.into()),
        mobile_phone: Some(PHONE.into()),
        ..Default::default()
    };
    let ids: Vec<String> = stack
        .identity_client()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .upsert_accounts(bearer(
            idpb::UpsertAccountsRequest {
                district_id: "district-1".into(),
                source_system: "sis".into(),
                accounts: vec![guardian("g1", "Sarah", "es"), guardian("g2", "Kevin", "")],
                ..Default::default()
            },
            &roster,
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_inner()
        .results
        .into_iter()
        .map(|r| r.account_id)
        .collect();
    (ids[0].clone(), ids[1].clone())
}

/// Invites `accounts` of `district-1` (as roster-svc does).
pub async fn invite(stack: &Stack, accounts: Vec<String>, resend: bool, key: &str) {
    invite_in(stack, "district-1", accounts, resend, key).await;
}

/// Invites `accounts` of `district_id` (as roster-svc does).
pub async fn invite_in(
    stack: &Stack,
    district_id: &str,
    accounts: Vec<String>,
    resend: bool,
    key: &str,
) {
    let roster = stack
        .service_token("roster")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    stack
        .identity_client()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .invite_accounts(bearer(
            idpb::InviteAccountsRequest {
                district_id: district_id.into(),
                account_ids: accounts,
                resend,
                idempotency_key: key.into(),
            },
            &roster,
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The join codes in the texts that contain `marker`, in arrival order.
pub fn codes(texts: &[String], marker: &str) -> Vec<String> {
    let prefix = format!("{}/join?code=", crate::PUBLIC_URL);
    texts
        .iter()
        .map(|t| crate::readable(t))
        .filter(|t| t.contains(marker))
        .filter_map(|t| {
            let at = t.find(&prefix)? + prefix.len();
            Some(t[at..].chars().take(43).collect())
        })
        .collect()
}
