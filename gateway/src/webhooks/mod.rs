//! GW-2: provider webhooks. Twilio status callbacks and inbound SMS are
//! verified by `X-Twilio-Signature`, SendGrid email events by its signed event
//! webhook; only verified events reach messaging-svc, sent as the gateway.

pub mod sendgrid;
pub mod twilio;
pub mod twilio_routes;

use axum::{Router, routing::post};

use crate::{api::error::ApiError, app::AppState};

/// The webhook routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/twilio/status", post(twilio_routes::status))
        .route("/webhooks/twilio/inbound", post(twilio_routes::inbound))
        .route("/webhooks/email/sendgrid", post(sendgrid::events))
}

/// 403: the webhook is not accepted (not enabled, or not verified).
fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(tonic::Code::PermissionDenied, message)
}

/// Now, as a protobuf timestamp.
fn now() -> prost_types::Timestamp {
    let now = chrono::Utc::now();
    prost_types::Timestamp {
        seconds: now.timestamp(),
        nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::{app::App, config::Config};

    /// A gateway whose upstreams are unreachable: anything passed on fails.
    async fn gateway(twilio_auth_token: Option<&str>) -> SocketAddr {
        let nowhere = "http://127.0.0.1:1".to_string();
        let config = Config {
            listen_addr: homeroom_platform::config::loopback(0),
            identity_url: nowhere.clone(),
            roster_url: nowhere.clone(),
            messaging_url: nowhere,
            service_secret: Some("secret".into()),
            twilio_auth_token: twilio_auth_token.map(Into::into),
            ..Config::defaults()
        };
        let app = App::build(config).await.unwrap();
        let addr = app.local_addr().unwrap();
        tokio::spawn(app.run_until(std::future::pending()));
        addr
    }

    async fn post(addr: SocketAddr, path: &str, headers: &str, body: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, body.to_string())
    }

    #[tokio::test]
    async fn each_webhook_is_refused_while_its_secret_is_not_configured() {
        let addr = gateway(None).await;
        for (path, names) in [
            ("/webhooks/twilio/status", "HOMEROOM_TWILIO_AUTH_TOKEN"),
            ("/webhooks/twilio/inbound", "HOMEROOM_TWILIO_AUTH_TOKEN"),
            ("/webhooks/email/sendgrid", "HOMEROOM_SENDGRID_WEBHOOK_KEY"),
        ] {
            let (status, body) = post(addr, path, "", "").await;
            assert_eq!(status, 403, "{path}: {body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["code"], "PERMISSION_DENIED");
            assert!(json["message"].as_str().unwrap().contains(names), "{body}");
        }
    }

    #[tokio::test]
    async fn only_a_valid_twilio_signature_gets_as_far_as_messaging() {
        let addr = gateway(Some("token")).await;
        let path = "/webhooks/twilio/inbound";
        let form = [("From".to_string(), "+15005550006".to_string())];
        let body = "From=%2B15005550006";
        let form_type = "Content-Type: application/x-www-form-urlencoded\r\n";

        let (status, missing) = post(addr, path, form_type, body).await;
        assert_eq!(status, 403, "{missing}");
        let url = format!("http://{addr}{path}");
        let forged = super::twilio::sign(b"another token", &url, &form).unwrap();
        let headers = format!("{form_type}X-Twilio-Signature: {forged}\r\n");
        let (status, body_forged) = post(addr, path, &headers, body).await;
        assert_eq!(status, 403, "{body_forged}");
        assert!(body_forged.contains("PERMISSION_DENIED"));

        // Verified, it is passed on: the unreachable upstream answers 503.
        let valid = super::twilio::sign(b"token", &url, &form).unwrap();
        let headers = format!("{form_type}X-Twilio-Signature: {valid}\r\n");
        let (status, answer) = post(addr, path, &headers, body).await;
        assert_eq!(status, 503, "{answer}");
    }
}
