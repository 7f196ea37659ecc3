//! Login by email or phone with shared credentials (ID-3, ID-6), on both backends.

use homeroom_platform::{auth::Verifier, testing::TestDb};
use identity_svc::{
    MIGRATIONS,
    domain::{
        accounts::{AccountKind, Role},
        credential::{Identifier, Region},
        error::IdentityError,
    },
    ops::{
        Ctx,
        login::{LoginAttempt, SignIn, login, select},
        sessions,
        tokens::OwnKeys,
        upsert::upsert_accounts,
    },
    store,
};

use crate::upsert::{batch, guardian, smiths};

pub struct World {
    _db: TestDb,
    pub ctx: Ctx,
    pub messages: std::sync::Arc<crate::support::RecordingMessenger>,
}

pub async fn world() -> World {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let (ctx, messages) = crate::support::ctx(test_db.db.clone());
    World {
        _db: test_db,
        ctx,
        messages,
    }
}

impl World {
    pub async fn set_password(&self, account_id: &str, password: &str) {
        let hash = self.ctx.passwords.hash(password).unwrap();
        let id = account_id.to_string();
        self.ctx
            .db
            .run(move |c| {
                store::accounts::activate_with_password(
                    c,
                    &id,
                    &hash,
                    chrono::Utc::now().naive_utc(),
                )
                .map_err(homeroom_platform::db::DbError::from)
            })
            .await
            .unwrap();
    }

    /// Sarah and Kevin (seed 000), each with a password; returns their ids.
    pub async fn smiths(&self) -> (String, String) {
        let results = upsert_accounts(&self.ctx.db, batch(smiths()))
            .await
            .unwrap();
        let (sarah, kevin) = (results[0].account_id.clone(), results[1].account_id.clone());
        self.set_password(&sarah, "sarah-secret-1").await;
        self.set_password(&kevin, "kevin-secret-2").await;
        (sarah, kevin)
    }

    pub async fn login(&self, identifier: &str, password: &str) -> Result<SignIn, IdentityError> {
        self.login_from(identifier, password, "203.0.113.7").await
    }

    async fn login_from(
        &self,
        identifier: &str,
        password: &str,
        ip: &str,
    ) -> Result<SignIn, IdentityError> {
        let attempt = LoginAttempt {
            identifier: Identifier::parse(identifier, Region::US).unwrap(),
            password: password.into(),
            district_id: None,
            client_address: Some(ip.into()),
            device_token: None,
        };
        login(&self.ctx, attempt).await
    }

    pub async fn subject(&self, access_token: &str) -> String {
        let verifier = Verifier::new(OwnKeys(self.ctx.tokens.clone()));
        match verifier.verify(access_token).await.unwrap() {
            homeroom_platform::auth::Principal::Account { account_id, .. } => account_id,
            other => panic!("not an account token: {other:?}"),
        }
    }
}

pub fn tokens(outcome: Result<SignIn, IdentityError>) -> identity_svc::ops::tokens::IssuedTokens {
    match outcome {
        Ok(SignIn::Tokens(t)) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

#[tokio::test]
async fn a_shared_email_signs_in_whoever_the_password_belongs_to() {
    let w = world().await;
    let (sarah, kevin) = w.smiths().await;
    let t = tokens(w.login("smithparent@mail.com", "sarah-secret-1").await);
    assert_eq!(w.subject(&t.access_token).await, sarah);
    let t = tokens(w.login(" SmithParent@Mail.com ", "kevin-secret-2").await);
    assert_eq!(w.subject(&t.access_token).await, kevin);
}

#[tokio::test]
async fn a_phone_signs_in_written_in_any_common_form() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    for form in [
        "(987) 654-3210",
        "987-654-3210",
        "9876543210",
        "+19876543210",
    ] {
        let t = tokens(w.login(form, "sarah-secret-1").await);
        assert_eq!(w.subject(&t.access_token).await, sarah, "{form}");
    }
}

#[tokio::test]
async fn unknown_identifier_and_wrong_password_fail_alike_after_one_verification_each() {
    let w = world().await;
    w.smiths().await;
    let before = w.ctx.passwords.verifications();
    let unknown = w
        .login("nobody@mail.com", "sarah-secret-1")
        .await
        .unwrap_err();
    let after_unknown = w.ctx.passwords.verifications();
    let wrong = w
        .login("(987) 654-3210", "not-her-password")
        .await
        .unwrap_err();
    let after_wrong = w.ctx.passwords.verifications();
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert!(matches!(unknown, IdentityError::Unauthenticated(_)));
    assert!(matches!(wrong, IdentityError::Unauthenticated(_)));
    assert_eq!(after_unknown - before, 1);
    assert_eq!(after_wrong - after_unknown, 1);
}

#[tokio::test]
async fn a_teacher_who_is_a_parent_chooses_between_the_accounts_the_password_unlocked() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    let mut teacher = guardian("t-1", "Dana", "Lee", "dana@school.org", "");
    teacher.kind = AccountKind::Staff;
    teacher
        .roles
        .insert(identity_svc::domain::accounts::ScopedRole {
            role: Role::Teacher,
            school_id: "school-1".into(),
        });
    let mut staff_batch = batch(vec![teacher]);
    staff_batch.source_system = "staff-sis".into();
    staff_batch
        .org_labels
        .push(("school-1".into(), "Lincoln Elementary".into()));
    let staff = upsert_accounts(&w.ctx.db, staff_batch).await.unwrap()[0]
        .account_id
        .clone();
    let parent = upsert_accounts(
        &w.ctx.db,
        batch(vec![guardian(
            "p-dana",
            "Dana",
            "Lee",
            "dana@school.org",
            "",
        )]),
    )
    .await
    .unwrap()[0]
        .account_id
        .clone();
    w.set_password(&staff, "same-password").await;
    w.set_password(&parent, "same-password").await;

    let Ok(SignIn::Choice {
        selection_token,
        options,
        ..
    }) = w.login("dana@school.org", "same-password").await
    else {
        panic!("expected a choice");
    };
    let mut offered: Vec<&str> = options.iter().map(|o| o.account_id.as_str()).collect();
    offered.sort();
    let mut expected = vec![staff.as_str(), parent.as_str()];
    expected.sort();
    assert_eq!(offered, expected);
    assert!(!offered.contains(&sarah.as_str()));
    let teacher_option = options.iter().find(|o| o.account_id == staff).unwrap();
    assert_eq!(teacher_option.role, Some(Role::Teacher));
    assert_eq!(teacher_option.school_name, "Lincoln Elementary");
    assert_eq!(teacher_option.display_name, "Dana Lee");

    let chosen = select(&w.ctx, &selection_token, &staff).await.unwrap();
    assert_eq!(w.subject(&chosen.access_token).await, staff);
    assert!(
        select(&w.ctx, &selection_token, &parent).await.is_err(),
        "selection tokens are single use"
    );
}

#[tokio::test]
async fn a_choice_is_offered_only_among_accounts_the_password_matched() {
    let w = world().await;
    let (_, _) = w.smiths().await;
    // Sarah's password on the shared email unlocks Sarah alone: no choice.
    assert!(matches!(
        w.login("smithparent@mail.com", "sarah-secret-1").await,
        Ok(SignIn::Tokens(_))
    ));
}

#[tokio::test]
async fn guessing_at_kevin_slows_down_guesses_but_sarah_still_signs_in() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    let mut throttled = None;
    for _ in 0..8 {
        match w
            .login_from("(123) 456-7890", "guess", "198.51.100.9")
            .await
        {
            Err(IdentityError::Throttled { retry_after }) => {
                throttled = Some(retry_after);
                break;
            }
            Err(IdentityError::Unauthenticated(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let retry_after = throttled.expect("guessing was never slowed down");
    assert!(retry_after.as_secs() >= 1);
    // The throttled attempt is in the audit log with the address it came from.
    let audit = crate::support::audit_rows(&w.ctx.db, "district-1", "login_throttled").await;
    assert!(!audit.is_empty());
    assert_eq!(audit[0].client_address.as_deref(), Some("198.51.100.9"));
    // Kevin's correct password is also held back while his account cools down…
    assert!(matches!(
        w.login_from("(123) 456-7890", "kevin-secret-2", "198.51.100.9")
            .await,
        Err(IdentityError::Throttled { .. })
    ));
    // …but Sarah, on the email they share, signs in from home.
    let t = tokens(
        w.login_from("smithparent@mail.com", "sarah-secret-1", "192.0.2.1")
            .await,
    );
    assert_eq!(w.subject(&t.access_token).await, sarah);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reusing_a_rotated_one_revokes_the_family() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    let first = tokens(w.login("smithparent@mail.com", "sarah-secret-1").await);
    let second = sessions::refresh(&w.ctx, &first.refresh_token)
        .await
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(w.subject(&second.access_token).await, sarah);

    // The first token again: reuse. The whole family is revoked, the newest too.
    assert!(matches!(
        sessions::refresh(&w.ctx, &first.refresh_token).await,
        Err(IdentityError::Unauthenticated(_))
    ));
    assert!(
        sessions::refresh(&w.ctx, &second.refresh_token)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let w = world().await;
    w.smiths().await;
    let t = tokens(w.login("smithparent@mail.com", "kevin-secret-2").await);
    sessions::logout(&w.ctx, &t.refresh_token, false)
        .await
        .unwrap();
    assert!(sessions::refresh(&w.ctx, &t.refresh_token).await.is_err());
    sessions::logout(&w.ctx, "never-issued", false)
        .await
        .unwrap();
}

impl World {
    /// A login as from a device presenting `device` (or a new one).
    async fn login_on(
        &self,
        identifier: &str,
        password: &str,
        ip: &str,
        device: Option<&str>,
    ) -> Result<SignIn, IdentityError> {
        login(
            &self.ctx,
            LoginAttempt {
                identifier: Identifier::parse(identifier, Region::US).unwrap(),
                password: password.into(),
                district_id: None,
                client_address: Some(ip.into()),
                device_token: device.map(str::to_owned),
            },
        )
        .await
    }
}

#[tokio::test]
async fn guessing_at_a_shared_email_never_delays_sarah_on_her_known_device() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    // Sarah signed in on her laptop before: it is a known device for her account.
    let laptop = identity_svc::ops::devices::remember(&w.ctx, None, &sarah)
        .await
        .unwrap();

    // 40 wrong guesses at the email she shares with Kevin, from elsewhere,
    // and on until a guess is counted again (the wait then starts afresh and
    // is longer than what follows takes).
    let guess = || w.login_on("smithparent@mail.com", "guess", "198.51.100.9", None);
    let mut throttled = 0;
    for _ in 0..40 {
        match guess().await {
            Err(IdentityError::Throttled { .. }) => throttled += 1,
            Err(IdentityError::Unauthenticated(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(throttled > 0, "the guesser is slowed down");
    while matches!(guess().await, Err(IdentityError::Throttled { .. })) {}

    // A new device, or one that presents a made-up token, is slowed down as before.
    for device in [None, Some("not-a-device-token")] {
        assert!(
            matches!(
                w.login_on(
                    "smithparent@mail.com",
                    "sarah-secret-1",
                    "192.0.2.2",
                    device
                )
                .await,
                Err(IdentityError::Throttled { .. })
            ),
            "{device:?}"
        );
    }
    // Her laptop signs her in at once.
    let t = tokens(
        w.login_on(
            "smithparent@mail.com",
            "sarah-secret-1",
            "192.0.2.1",
            Some(&laptop),
        )
        .await,
    );
    assert_eq!(w.subject(&t.access_token).await, sarah);
}

#[tokio::test]
async fn a_known_devices_own_failures_count_against_the_device() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    let laptop = identity_svc::ops::devices::remember(&w.ctx, None, &sarah)
        .await
        .unwrap();
    let mut throttled = false;
    for _ in 0..8 {
        match w
            .login_on("smithparent@mail.com", "wrong", "192.0.2.1", Some(&laptop))
            .await
        {
            Err(IdentityError::Throttled { .. }) => throttled = true,
            Err(IdentityError::Unauthenticated(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(throttled, "a stolen device token still guesses slowly");
    // The identifier was not counted.
    let key = identity_svc::domain::throttle::Scope::Identifier.key("smithparent@mail.com");
    let counted = w
        .ctx
        .db
        .run(move |c| {
            store::sessions::throttles(c, &[key]).map_err(homeroom_platform::db::DbError::from)
        })
        .await
        .unwrap();
    assert!(counted.is_empty(), "{counted:?}");
}

#[tokio::test]
async fn a_login_answers_no_sooner_than_the_floor_however_many_hold_the_address() {
    let w = world().await;
    w.smiths().await;
    for identifier in ["nobody@mail.com", "smithparent@mail.com"] {
        // The floor moves a little with each measured verification.
        let floor = w.ctx.pacing.floor().mul_f64(0.9);
        assert!(floor > std::time::Duration::ZERO);
        let started = std::time::Instant::now();
        let _ = w.login(identifier, "wrong").await;
        let took = started.elapsed();
        assert!(took >= floor, "{identifier}: {took:?} < {floor:?}");
    }
}

#[tokio::test]
async fn an_account_its_source_disabled_cannot_sign_in_until_enabled_again() {
    let w = world().await;
    let (sarah, _) = w.smiths().await;
    let upsert = |disabled: bool| {
        let mut items = crate::upsert::smiths();
        for i in &mut items {
            i.sign_in_disabled = disabled && i.source_id == "p-sarah";
        }
        upsert_accounts(&w.ctx.db, batch(items))
    };
    upsert(true).await.unwrap();
    assert!(matches!(
        w.login("smithparent@mail.com", "sarah-secret-1").await,
        Err(IdentityError::Unauthenticated(_))
    ));
    // Kevin, on the same email, still signs in.
    tokens(w.login("smithparent@mail.com", "kevin-secret-2").await);
    upsert(false).await.unwrap();
    let t = tokens(w.login("smithparent@mail.com", "sarah-secret-1").await);
    assert_eq!(w.subject(&t.access_token).await, sarah);
}
