//! Email providers against a real SMTP server (the sink) and the file system:
//! what a relay receives, and how its answers become outcomes (MS-4, MS-6).

use std::time::Duration;

use futures::future::join_all;
use messaging_svc::providers::smtp::{FileProvider, SmtpProvider, SmtpSettings, SmtpTls};
use messaging_svc::providers::{EmailProvider, OutgoingEmail, SendOutcome};

use crate::smtp_sink::{ParsedEmail, SilentServer, SmtpSink, closed_port};

const FROM: &str = "office@lincoln.example";

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        username: None,
        password: None,
        from_address: FROM.into(),
        from_name: "Lincoln Elementary".into(),
        timeout: Duration::from_secs(10),
        max_connections: 4,
        max_per_second: None,
    }
}

fn email(delivery_id: &str, to: &str, language: &str, subject: &str, body: &str) -> OutgoingEmail {
    OutgoingEmail {
        delivery_id: delivery_id.into(),
        to: to.into(),
        subject: subject.into(),
        body: body.into(),
        language: language.into(),
    }
}

fn sent(id: &str) -> SendOutcome {
    SendOutcome::Sent {
        provider_message_id: format!("<{id}@homeroom>"),
    }
}

fn only_message_for(sink: &SmtpSink, address: &str) -> ParsedEmail {
    let messages = sink.received_by(address);
    assert_eq!(messages.len(), 1, "messages for {address}: {messages:?}");
    assert_eq!(messages[0].rcpt_to, [address]);
    assert_eq!(messages[0].mail_from, FROM);
    messages[0].parsed()
}

#[tokio::test]
async fn each_address_receives_one_message_with_its_headers_and_its_language() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpProvider::new(settings(sink.port())).unwrap();
    let english = email(
        "d-en",
        "sarah@mail.example",
        "en",
        "Field trip on Friday",
        "Please sign the form.\nThank you!",
    );
    let spanish = email(
        "d-es",
        "kevin@mail.example",
        "es",
        "Código de acceso",
        "Tu código es 482913.\nNo lo compartas con nadie — ¡gracias!",
    );

    assert_eq!(smtp.send_email(english).await, sent("d-en"));
    assert_eq!(smtp.send_email(spanish).await, sent("d-es"));

    assert_eq!(sink.received().len(), 2);
    let sarah = only_message_for(&sink, "sarah@mail.example");
    let kevin = only_message_for(&sink, "kevin@mail.example");
    for (message, to, id, language) in [
        (&sarah, "sarah@mail.example", "d-en", "en"),
        (&kevin, "kevin@mail.example", "d-es", "es"),
    ] {
        let from = message.header("From").unwrap();
        assert!(from.contains("Lincoln Elementary"), "{from}");
        assert!(from.contains("<office@lincoln.example>"), "{from}");
        assert_eq!(message.header("To"), Some(to));
        assert_eq!(message.header("Content-Language"), Some(language));
        assert_eq!(message.header("X-Homeroom-Delivery"), Some(id));
        assert_eq!(
            message.header("Message-ID"),
            Some(format!("<{id}@homeroom>").as_str())
        );
        assert_eq!(message.count("To"), 1);
        let content_type = message.header("Content-Type").unwrap();
        assert!(
            content_type.starts_with("text/plain; charset=utf-8"),
            "{content_type}"
        );
    }
    assert_eq!(sarah.header("Subject"), Some("Field trip on Friday"));
    assert_eq!(sarah.body.trim_end(), "Please sign the form.\nThank you!");
    assert_eq!(kevin.header("Subject"), Some("Código de acceso"));
    assert_eq!(
        kevin.body.trim_end(),
        "Tu código es 482913.\nNo lo compartas con nadie — ¡gracias!"
    );
}

#[tokio::test]
async fn an_email_without_a_language_is_sent_as_english() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpProvider::new(settings(sink.port())).unwrap();

    let outcome = smtp
        .send_email(email("d-1", "sarah@mail.example", "", "Hello", "Hi"))
        .await;

    assert_eq!(outcome, sent("d-1"));
    let message = only_message_for(&sink, "sarah@mail.example");
    assert_eq!(message.header("Content-Language"), Some("en"));
}

#[tokio::test]
async fn lines_starting_with_a_dot_survive_the_smtp_data_phase() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpProvider::new(settings(sink.port())).unwrap();
    let body = "Agenda:\n.5 hours of reading\n.\n..and more";

    let outcome = smtp
        .send_email(email("d-dot", "sarah@mail.example", "en", "Agenda", body))
        .await;

    assert_eq!(outcome, sent("d-dot"));
    let message = only_message_for(&sink, "sarah@mail.example");
    assert_eq!(message.body.trim_end(), body);
}

#[tokio::test]
async fn an_address_the_server_refuses_with_550_is_a_permanent_bounce() {
    let sink = SmtpSink::start().await;
    sink.reply_to_rcpt("gone@mail.example", "550 5.1.1 user unknown");
    let smtp = SmtpProvider::new(settings(sink.port())).unwrap();

    let outcome = smtp
        .send_email(email("d-gone", "gone@mail.example", "en", "Hi", "Hello"))
        .await;

    match outcome {
        SendOutcome::Permanent { code, reason } => {
            assert_eq!(code, "550");
            assert_eq!(reason, "550 5.1.1 user unknown", "the code once");
        }
        other => panic!("expected a permanent bounce, got {other:?}"),
    }
    assert!(sink.received().is_empty());

    // The refused dialogue does not spoil the pool for the next address.
    let next = smtp
        .send_email(email("d-ok", "sarah@mail.example", "en", "Hi", "Hello"))
        .await;
    assert_eq!(next, sent("d-ok"));
    only_message_for(&sink, "sarah@mail.example");
}

#[tokio::test]
async fn a_451_from_the_server_is_transient() {
    let sink = SmtpSink::start().await;
    sink.reply_to_rcpt("busy@mail.example", "451 4.7.1 try later");
    let smtp = SmtpProvider::new(settings(sink.port())).unwrap();

    let outcome = smtp
        .send_email(email("d-busy", "busy@mail.example", "en", "Hi", "Hello"))
        .await;

    match outcome {
        SendOutcome::Transient { reason, .. } => {
            assert_eq!(reason, "451 4.7.1 try later", "the code once");
        }
        other => panic!("expected a transient failure, got {other:?}"),
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_server_that_is_not_listening_is_transient() {
    let smtp = SmtpProvider::new(settings(closed_port().await)).unwrap();

    let outcome = smtp
        .send_email(email("d-1", "sarah@mail.example", "en", "Hi", "Hello"))
        .await;

    assert!(
        matches!(outcome, SendOutcome::Transient { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_transient() {
    let silent = SilentServer::start().await;
    let smtp = SmtpProvider::new(SmtpSettings {
        timeout: Duration::from_millis(300),
        ..settings(silent.port)
    })
    .unwrap();

    let outcome = smtp
        .send_email(email("d-1", "sarah@mail.example", "en", "Hi", "Hello"))
        .await;

    match outcome {
        SendOutcome::Transient { reason, .. } => assert!(reason.contains("timed out"), "{reason}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn concurrent_sends_share_the_pool_and_each_address_gets_one_message() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpProvider::new(settings(sink.port())).unwrap();
    let emails: Vec<_> = (0..25)
        .map(|i| {
            email(
                &format!("d-{i}"),
                &format!("parent{i}@mail.example"),
                "en",
                "Hi",
                "Hello",
            )
        })
        .collect();

    let outcomes = join_all(emails.into_iter().map(|e| smtp.send_email(e))).await;

    for (i, outcome) in outcomes.into_iter().enumerate() {
        assert_eq!(outcome, sent(&format!("d-{i}")));
        only_message_for(&sink, &format!("parent{i}@mail.example"));
    }
    assert_eq!(sink.received().len(), 25);
}

#[tokio::test]
async fn the_file_provider_writes_one_parseable_eml_per_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileProvider::new(dir.path().join("outbox"), FROM, "Lincoln Elementary").unwrap();

    let outcomes = [
        files
            .send_email(email(
                "d-en",
                "sarah@mail.example",
                "en",
                "Hello",
                "Hi Sarah",
            ))
            .await,
        files
            .send_email(email(
                "d-es",
                "kevin@mail.example",
                "es",
                "Código",
                "Tu código es 1234",
            ))
            .await,
    ];

    assert_eq!(outcomes, [sent("d-en"), sent("d-es")]);
    let mut names: Vec<_> = std::fs::read_dir(files.dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["d-en.eml", "d-es.eml"]);
    let kevin = ParsedEmail::parse(&std::fs::read(files.path_for("d-es")).unwrap());
    assert_eq!(kevin.header("To"), Some("kevin@mail.example"));
    assert_eq!(kevin.header("Subject"), Some("Código"));
    assert_eq!(kevin.header("Content-Language"), Some("es"));
    assert_eq!(kevin.header("X-Homeroom-Delivery"), Some("d-es"));
    assert_eq!(kevin.body.trim_end(), "Tu código es 1234");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_r_per_second_n_emails_take_at_least_n_minus_one_over_r_seconds() {
    const R: u32 = 20;
    const N: u32 = 21;
    let sink = SmtpSink::start().await;
    let mut limited = settings(sink.port());
    limited.max_per_second = std::num::NonZeroU32::new(R);
    let smtp = SmtpProvider::new(limited).unwrap();
    let start = tokio::time::Instant::now();

    let sends = (0..N).map(|i| {
        let id = format!("d-{i}");
        smtp.send_email(email(&id, "sarah@mail.example", "en", "Bus", "Late today."))
    });
    let outcomes = join_all(sends).await;
    let elapsed = start.elapsed();

    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, SendOutcome::Sent { .. }))
    );
    assert_eq!(sink.received().len(), N as usize);
    let least = Duration::from_secs(u64::from(N - 1)) / R;
    assert!(elapsed >= least, "{elapsed:?}");
    assert!(elapsed < least * 4, "{elapsed:?}");
}
