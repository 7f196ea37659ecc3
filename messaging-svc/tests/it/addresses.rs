//! Address status (MS-3, MS-6, MS-7): bad addresses are skipped, Reset Status
//! clears bad but never a STOP.

use chrono::Utc;
use homeroom_platform::{db::DbError, testing::TestDb};
use messaging_svc::{
    MIGRATIONS,
    domain::plan::{AddressState, Channel},
    store::addresses,
};

#[tokio::test]
async fn reset_clears_a_bounce_but_keeps_a_stop_and_the_history() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let phone = "+19876543210".to_string();
    let p = phone.clone();
    let after = test_db
        .db
        .transaction(move |c| {
            let now = Utc::now().naive_utc();
            addresses::mark_bad(c, Channel::Sms, &p, "30003 unreachable", now)?;
            addresses::record_event(
                c,
                Channel::Sms,
                &p,
                "hard_bounce",
                "30003 unreachable",
                None,
                None,
                now,
            )?;
            addresses::set_opted_out(c, &p, true, now)?;
            let before = addresses::states(c, std::slice::from_ref(&p))?;
            let cleared = addresses::reset(c, &[Channel::Sms, Channel::Voice], &p, now)?;
            addresses::record_event(c, Channel::Sms, &p, "reset", "", None, Some("staff-1"), now)?;
            let after = addresses::states(c, std::slice::from_ref(&p))?;
            Ok::<_, DbError>((before, cleared, after))
        })
        .await
        .unwrap();
    let (before, cleared, after) = after;
    assert_eq!(
        before[&(Channel::Sms, phone.clone())],
        AddressState {
            bad: true,
            opted_out: true
        }
    );
    assert_eq!(cleared, 1);
    assert_eq!(
        after[&(Channel::Sms, phone)],
        AddressState {
            bad: false,
            opted_out: true
        }
    );
}

#[tokio::test]
async fn start_lifts_a_stop() {
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let state = test_db
        .db
        .transaction(|c| {
            let now = Utc::now().naive_utc();
            let p = "+11234567890".to_string();
            addresses::set_opted_out(c, &p, true, now)?;
            addresses::set_opted_out(c, &p, false, now)?;
            Ok::<_, DbError>(addresses::states(c, &[p])?)
        })
        .await
        .unwrap();
    assert_eq!(
        state[&(Channel::Sms, "+11234567890".to_string())],
        AddressState::default()
    );
}

#[tokio::test]
async fn after_a_reset_soft_bounces_count_from_zero_again() {
    use messaging_svc::{domain::address_rules::Bounce, queue::worker::bounce};
    let test_db = TestDb::migrated(&MIGRATIONS).await.unwrap();
    let address = "full@mail.com".to_string();
    let a = address.clone();
    let states = test_db
        .db
        .transaction(move |c| {
            let t0 = Utc::now().naive_utc() - chrono::Duration::hours(3);
            for i in 0..3 {
                bounce(
                    c,
                    Channel::Email,
                    &a,
                    Bounce::Soft,
                    "452 mailbox full",
                    None,
                    t0 + chrono::Duration::minutes(i),
                )?;
            }
            let bad_after_three = addresses::states(c, std::slice::from_ref(&a))?;
            let reset_at = t0 + chrono::Duration::hours(1);
            addresses::reset(c, &[Channel::Email], &a, reset_at)?;
            addresses::record_event(
                c,
                Channel::Email,
                &a,
                "reset",
                "",
                None,
                Some("staff-1"),
                reset_at,
            )?;
            bounce(
                c,
                Channel::Email,
                &a,
                Bounce::Soft,
                "452 mailbox full",
                None,
                t0 + chrono::Duration::hours(2),
            )?;
            let after_one_more = addresses::states(c, std::slice::from_ref(&a))?;
            Ok::<_, DbError>((bad_after_three, after_one_more))
        })
        .await
        .unwrap();
    assert!(states.0[&(Channel::Email, address.clone())].bad);
    assert!(
        !states.1[&(Channel::Email, address)].bad,
        "one soft bounce after a reset is not three"
    );
}
