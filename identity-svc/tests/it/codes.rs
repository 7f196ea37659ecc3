//! One-time codes and invitations (ID-4) and confirming credentials (ID-7).

use identity_svc::{
    domain::{
        accounts::{AccountStatus, CredentialKind},
        codes::Purpose,
        credential::{Identifier, Region},
        error::IdentityError,
    },
    ops::{
        accounts,
        codes::{self, SendCode},
        login::SignIn,
        messenger::{MessageChannel, MessageKind},
        upsert::upsert_accounts,
    },
};

use crate::{
    login::{World, tokens, world},
    upsert::{batch, guardian},
};

fn id(raw: &str) -> Identifier {
    Identifier::parse(raw, Region::US).unwrap()
}

fn send(identifier: &str, account_id: Option<&str>, purpose: Purpose) -> SendCode {
    SendCode {
        identifier: id(identifier),
        district_id: None,
        account_id: account_id.map(str::to_owned),
        purpose,
        idempotency_key: None,
    }
}

/// Sarah and Kevin share one phone here (and each has an email).
async fn shared_phone(w: &World) -> (String, String) {
    let results = upsert_accounts(
        &w.ctx.db,
        batch(vec![
            guardian(
                "p-sarah",
                "Sarah",
                "Smith",
                "sarah@mail.com",
                "+19876543210",
            ),
            guardian(
                "p-kevin",
                "Kevin",
                "Smith",
                "kevin@mail.com",
                "+19876543210",
            ),
        ]),
    )
    .await
    .unwrap();
    (results[0].account_id.clone(), results[1].account_id.clone())
}

#[tokio::test]
async fn a_code_for_sarah_on_a_shared_phone_is_an_sms_that_names_her() {
    let w = world().await;
    let (sarah, _) = shared_phone(&w).await;
    codes::send(
        &w.ctx,
        send("(987) 654-3210", Some(&sarah), Purpose::Invitation),
    )
    .await
    .unwrap();
    w.ctx.settled().await;
    let sent = w.messages.sent();
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert_eq!(
        (m.kind, m.channel),
        (MessageKind::OneTimeCode, MessageChannel::Sms)
    );
    assert_eq!((m.first_name.as_str(), m.address_shared), ("Sarah", true));
    assert_eq!(m.address, "+19876543210");
    let code = &m.variables["code"];
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    assert_eq!(m.variables["expires_minutes"], "10");
}

#[tokio::test]
async fn a_code_proves_the_address_then_offers_the_accounts_on_it() {
    let w = world().await;
    let (sarah, kevin) = shared_phone(&w).await;
    codes::send(&w.ctx, send("987-654-3210", None, Purpose::Login))
        .await
        .unwrap();
    w.ctx.settled().await;
    assert_eq!(
        w.messages.sent()[0].first_name,
        "",
        "no single account to name"
    );
    let code = w.messages.last_code_to("+19876543210");
    let Ok(SignIn::Choice { options, .. }) =
        codes::verify(&w.ctx, &id("9876543210"), &code, None).await
    else {
        panic!("expected a choice");
    };
    let mut offered: Vec<String> = options.into_iter().map(|o| o.account_id).collect();
    offered.sort();
    let mut both = vec![sarah, kevin];
    both.sort();
    assert_eq!(offered, both);
    // Single use.
    assert!(
        codes::verify(&w.ctx, &id("9876543210"), &code, None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_invitee_joins_with_a_code_and_a_new_password() {
    let w = world().await;
    let (sarah, _) = shared_phone(&w).await;
    codes::send(
        &w.ctx,
        send("+19876543210", Some(&sarah), Purpose::Invitation),
    )
    .await
    .unwrap();
    w.ctx.settled().await;
    let code = w.messages.last_code_to("+19876543210");
    let short =
        codes::accept_invitation(&w.ctx, &id("+19876543210"), &code, "short".into(), None).await;
    assert!(matches!(short, Err(IdentityError::InvalidArgument(m)) if m.contains("at least 8")));
    let t = codes::accept_invitation(
        &w.ctx,
        &id("+19876543210"),
        &code,
        "a-good-password".into(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(w.subject(&t.access_token).await, sarah);
    assert_eq!(
        accounts::get(&w.ctx.db, sarah.clone())
            .await
            .unwrap()
            .status,
        AccountStatus::Active
    );
    let again = tokens(w.login("sarah@mail.com", "a-good-password").await);
    assert_eq!(again.account_id, sarah);
}

#[tokio::test]
async fn five_wrong_tries_kill_a_code() {
    let w = world().await;
    w.smiths().await;
    codes::send(&w.ctx, send("(123) 456-7890", None, Purpose::Login))
        .await
        .unwrap();
    w.ctx.settled().await;
    let code = w.messages.last_code_to("+11234567890");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = codes::verify(&w.ctx, &id("(123) 456-7890"), wrong, None).await;
        assert!(matches!(r, Err(IdentityError::Unauthenticated(_))), "{r:?}");
    }
    assert!(
        codes::verify(&w.ctx, &id("(123) 456-7890"), &code, None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_answer_and_nothing_is_sent() {
    let w = world().await;
    w.smiths().await;
    let known = codes::send(&w.ctx, send("smithparent@mail.com", None, Purpose::Login))
        .await
        .unwrap();
    let unknown = codes::send(&w.ctx, send("nobody@mail.com", None, Purpose::Login))
        .await
        .unwrap();
    w.ctx.settled().await;
    assert_eq!(w.messages.sent().len(), 1);
    assert_eq!(
        known.expires_at.and_utc().timestamp() / 60,
        unknown.expires_at.and_utc().timestamp() / 60
    );
    assert!(unknown.masked_destination.ends_with("@mail.com"));
}

#[tokio::test]
async fn the_same_idempotency_key_sends_one_code() {
    let w = world().await;
    w.smiths().await;
    let mut request = send("smithparent@mail.com", None, Purpose::Login);
    request.idempotency_key = Some("retry-1".into());
    codes::send(&w.ctx, request.clone()).await.unwrap();
    codes::send(&w.ctx, request).await.unwrap();
    w.ctx.settled().await;
    assert_eq!(w.messages.sent().len(), 1);
}

#[tokio::test]
async fn a_credential_is_confirmed_with_the_code_sent_to_it() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    let before = accounts::get(&w.ctx.db, sarah.clone()).await.unwrap();
    assert!(before.credentials.iter().all(|c| c.confirmed_at.is_none()));
    codes::send_confirmation(&w.ctx, &sarah, CredentialKind::MobilePhone, None)
        .await
        .unwrap();
    w.ctx.settled().await;
    let code = w.messages.last_code_to("+19876543210");
    assert_eq!(w.messages.sent()[0].first_name, "Sarah");
    codes::confirm(&w.ctx, &sarah, CredentialKind::MobilePhone, &code)
        .await
        .unwrap();
    let after = accounts::get(&w.ctx.db, sarah.clone()).await.unwrap();
    let phone = after
        .credentials
        .iter()
        .find(|c| c.kind == CredentialKind::MobilePhone)
        .unwrap();
    assert!(phone.confirmed_at.is_some());
    let audit = crate::support::audit_rows(&w.ctx.db, "district-1", "credential_confirmed").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].subject_account_id.as_deref(), Some(sarah.as_str()));
    assert_eq!(audit[0].actor_id.as_deref(), Some(sarah.as_str()));
    assert_eq!(audit[0].detail, "mobile_phone");
}

#[tokio::test]
async fn known_and_unknown_addresses_are_throttled_alike() {
    let w = world().await;
    w.smiths().await;
    let mut seen = Vec::new();
    for identifier in ["smithparent@mail.com", "nobody@mail.com"] {
        let mut answers = Vec::new();
        for _ in 0..8 {
            answers.push(
                match codes::send(&w.ctx, send(identifier, None, Purpose::Login)).await {
                    Ok(_) => "sent",
                    Err(IdentityError::Throttled { .. }) => "throttled",
                    Err(e) => panic!("{e:?}"),
                },
            );
        }
        seen.push(answers);
    }
    assert_eq!(seen[0], seen[1], "{seen:?}");
    assert!(seen[0].contains(&"throttled"), "{seen:?}");
    assert!(seen[0][..5].iter().all(|a| *a == "sent"), "{seen:?}");
}
