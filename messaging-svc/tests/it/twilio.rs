//! The Twilio provider against the mock: what reaches Twilio, and how each of
//! Twilio's answers becomes a send outcome (MS-4, MS-6).

use std::num::NonZeroU32;
use std::time::Duration;

use messaging_svc::providers::twilio::{TwilioProvider, TwilioSettings, say_language, say_twiml};
use messaging_svc::providers::{OutgoingCall, OutgoingSms, PhoneProvider, SendOutcome};
use secrecy::SecretString;

use crate::mock_twilio::{ACCOUNT_SID, AUTH_TOKEN, Failure, MockTwilio};

const FROM: &str = "+15005550006";
const TO: &str = "+15551234567";
const CALLBACK: &str = "https://homeroom.example/twilio/status";

fn settings(mock: &MockTwilio) -> TwilioSettings {
    let mut settings = TwilioSettings::new(ACCOUNT_SID, SecretString::from(AUTH_TOKEN));
    settings.base_url = mock.base_url();
    settings.from = Some(FROM.into());
    settings.status_callback = Some(CALLBACK.into());
    settings
}

fn provider(mock: &MockTwilio) -> TwilioProvider {
    TwilioProvider::new(settings(mock)).unwrap()
}

fn sms(delivery_id: &str, to: &str) -> OutgoingSms {
    OutgoingSms {
        delivery_id: delivery_id.into(),
        to: to.into(),
        body: "School closes at noon today.".into(),
    }
}

fn error(code: u32, message: &str) -> Failure {
    Failure::Error {
        status: 400,
        code,
        message: message.into(),
    }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn an_sms_reaches_twilio_with_its_exact_form_fields_auth_and_idempotency_token() {
    let mock = MockTwilio::start().await;

    let outcome = provider(&mock).send_sms(sms("delivery-1", TO)).await;

    let messages = mock.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: message.sid.clone()
        }
    );
    assert!(message.sid.starts_with("SM"), "{}", message.sid);
    assert_eq!(message.account_sid, ACCOUNT_SID);
    assert_eq!(message.idempotency_token.as_deref(), Some("delivery-1"));
    assert_eq!(
        message.form,
        form(&[
            ("To", TO),
            ("From", FROM),
            ("Body", "School closes at noon today."),
            ("StatusCallback", CALLBACK),
        ])
    );
}

#[tokio::test]
async fn a_messaging_service_replaces_the_from_number() {
    let mock = MockTwilio::start().await;
    let mut settings = settings(&mock);
    settings.from = None;
    settings.status_callback = None;
    settings.messaging_service_sid = Some("MG0123456789abcdef0123456789abcdef".into());

    let provider = TwilioProvider::new(settings).unwrap();
    let outcome = provider.send_sms(sms("delivery-1", TO)).await;

    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    assert_eq!(
        mock.messages()[0].form,
        form(&[
            ("To", TO),
            ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
            ("Body", "School closes at noon today."),
        ])
    );
}

#[tokio::test]
async fn a_retry_with_the_same_delivery_id_is_not_sent_twice() {
    let mock = MockTwilio::start().await;
    let provider = provider(&mock);

    let first = provider.send_sms(sms("delivery-1", TO)).await;
    let retry = provider.send_sms(sms("delivery-1", TO)).await;
    let other = provider.send_sms(sms("delivery-2", TO)).await;

    assert_eq!(first, retry);
    assert_ne!(first, other);
    assert_eq!(mock.requests(), 3);
    assert_eq!(mock.messages().len(), 2);
}

#[tokio::test]
async fn an_invalid_number_21211_is_permanent_with_code_and_message() {
    let mock = MockTwilio::start().await;
    let message = "The 'To' number +15551234567 is not a valid phone number.";
    mock.fail(TO, error(21211, message));

    let outcome = provider(&mock).send_sms(sms("delivery-1", TO)).await;

    assert_eq!(
        outcome,
        SendOutcome::Permanent {
            code: "21211".into(),
            reason: message.into()
        }
    );
    assert!(mock.messages().is_empty());
}

#[tokio::test]
async fn every_twilio_code_that_means_a_bad_number_is_permanent() {
    let mock = MockTwilio::start().await;
    let provider = provider(&mock);
    for code in [21211, 21408, 21612, 21614, 30003, 30005, 30006] {
        mock.fail(TO, error(code, "bad number"));
        let outcome = provider.send_sms(sms(&format!("d-{code}"), TO)).await;
        assert_eq!(
            outcome,
            SendOutcome::Permanent {
                code: code.to_string(),
                reason: "bad number".into()
            }
        );
    }
}

#[tokio::test]
async fn a_number_that_replied_stop_21610_is_opted_out_not_bad() {
    let mock = MockTwilio::start().await;
    let message = "Attempt to send to unsubscribed recipient";
    mock.fail(TO, error(21610, message));

    let outcome = provider(&mock).send_sms(sms("delivery-1", TO)).await;

    assert_eq!(
        outcome,
        SendOutcome::OptedOut {
            reason: message.into()
        }
    );
}

#[tokio::test]
async fn too_many_requests_is_transient_and_keeps_retry_after() {
    let mock = MockTwilio::start().await;
    mock.fail(
        TO,
        Failure::TooManyRequests {
            retry_after_secs: 1,
        },
    );

    let outcome = provider(&mock).send_sms(sms("delivery-1", TO)).await;

    let SendOutcome::Transient { retry_after, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(retry_after, Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn a_server_error_is_transient_and_a_later_retry_is_sent() {
    let mock = MockTwilio::start().await;
    let provider = provider(&mock);
    mock.fail(TO, Failure::ServerError);

    let outcome = provider.send_sms(sms("delivery-1", TO)).await;
    assert!(
        matches!(&outcome, SendOutcome::Transient { retry_after: None, reason } if reason.contains("500")),
        "{outcome:?}"
    );

    mock.clear_failure(TO);
    let retry = provider.send_sms(sms("delivery-1", TO)).await;
    assert!(matches!(retry, SendOutcome::Sent { .. }), "{retry:?}");
    assert_eq!(mock.messages().len(), 1);
}

#[tokio::test]
async fn wrong_credentials_are_transient_so_the_number_is_not_marked_bad() {
    let mock = MockTwilio::start().await;
    let mut settings = settings(&mock);
    settings.auth_token = SecretString::from("wrong-token");

    let outcome = TwilioProvider::new(settings)
        .unwrap()
        .send_sms(sms("delivery-1", TO))
        .await;

    assert!(
        matches!(&outcome, SendOutcome::Transient { reason, .. } if reason.contains("credentials")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_unknown_client_error_is_transient_not_a_bad_number() {
    let mock = MockTwilio::start().await;
    mock.fail(
        TO,
        error(
            21606,
            "The From phone number is not a valid, SMS-capable inbound phone number",
        ),
    );

    let outcome = provider(&mock).send_sms(sms("delivery-1", TO)).await;

    assert!(
        matches!(outcome, SendOutcome::Transient { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut settings = TwilioSettings::new(ACCOUNT_SID, SecretString::from(AUTH_TOKEN));
    settings.base_url = format!("http://{addr}");
    settings.from = Some(FROM.into());

    let outcome = TwilioProvider::new(settings)
        .unwrap()
        .send_sms(sms("delivery-1", TO))
        .await;

    assert!(
        matches!(&outcome, SendOutcome::Transient { reason, .. } if reason.contains("connect")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_twilio_that_does_not_answer_in_time_is_transient() {
    let mock = MockTwilio::start().await;
    mock.fail(TO, Failure::Hang(Duration::from_secs(30)));
    let mut settings = settings(&mock);
    settings.timeout = Duration::from_millis(200);

    let outcome = TwilioProvider::new(settings)
        .unwrap()
        .send_sms(sms("delivery-1", TO))
        .await;

    assert!(
        matches!(&outcome, SendOutcome::Transient { reason, .. } if reason.contains("timed out")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_call_says_the_escaped_text_in_the_recipients_language() {
    let mock = MockTwilio::start().await;
    let call = OutgoingCall {
        delivery_id: "delivery-1".into(),
        to: TO.into(),
        text: "Ciencias & Artes <hoy> a las 3".into(),
        language: "es".into(),
    };

    let outcome = provider(&mock).place_call(call).await;

    let calls = mock.calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].sid.starts_with("CA"), "{}", calls[0].sid);
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: calls[0].sid.clone()
        }
    );
    assert_eq!(calls[0].idempotency_token.as_deref(), Some("delivery-1"));
    assert!(
        calls[0]
            .field("Twiml")
            .unwrap()
            .contains(r#"<Say language="es-"#)
    );
    assert_eq!(
        calls[0].form,
        form(&[
            ("To", TO),
            ("From", FROM),
            (
                "Twiml",
                r#"<Response><Say language="es-MX">Ciencias &amp; Artes &lt;hoy&gt; a las 3</Say></Response>"#
            ),
            ("StatusCallback", CALLBACK),
        ])
    );
}

#[test]
fn bcp47_tags_map_to_twilio_say_locales() {
    for (tag, locale) in [
        ("en", "en-US"),
        ("en-GB", "en-GB"),
        ("es", "es-MX"),
        ("es-US", "es-US"),
        ("es-419", "es-MX"),
        ("ES_es", "es-ES"),
        ("zh-Hant", "zh-TW"),
        ("zh-Hans-CN", "zh-CN"),
        ("vi", "vi-VN"),
        ("so", "en-US"),
        ("", "en-US"),
    ] {
        assert_eq!(say_language(tag), locale, "{tag}");
    }
    assert_eq!(
        say_twiml("\"Tom's\" bus\u{7}", "fr-CA"),
        r#"<Response><Say language="fr-CA">&quot;Tom&apos;s&quot; bus</Say></Response>"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_r_per_second_n_messages_take_at_least_n_minus_one_over_r_seconds() {
    const R: u32 = 20;
    const N: u32 = 21;
    let mock = MockTwilio::start().await;
    let mut settings = settings(&mock);
    settings.max_per_second = NonZeroU32::new(R);
    let provider = TwilioProvider::new(settings).unwrap();
    let start = tokio::time::Instant::now();

    let sends = (0..N).map(|i| provider.send_sms(sms(&format!("d-{i}"), TO)));
    let outcomes = futures::future::join_all(sends).await;
    let elapsed = start.elapsed();

    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, SendOutcome::Sent { .. }))
    );
    let least = Duration::from_secs(u64::from(N - 1)) / R;
    assert!(elapsed >= least, "{elapsed:?}");
    assert!(elapsed < least * 4, "{elapsed:?}");
    let mut arrivals: Vec<_> = mock.messages().iter().map(|m| m.at).collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), N as usize);
    // An unlimited burst would arrive within milliseconds.
    assert!(
        arrivals[N as usize - 1] - arrivals[0] >= least.mul_f64(0.8),
        "{arrivals:?}"
    );
}
