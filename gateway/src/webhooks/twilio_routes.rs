//! GW-2: Twilio's webhooks, status callbacks and inbound SMS: the form is
//! verified against `X-Twilio-Signature` before anything reaches messaging-svc
//! (a missing or forged signature is 403), then passed on as the gateway.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use homeroom_proto::messaging::v1 as pb;
use secrecy::ExposeSecret;

use super::{
    now, refused,
    twilio::{SIGNATURE_HEADER, signed_url, verify},
};
use crate::{
    api::{caller::RequestId, error::ApiError},
    app::AppState,
};

/// A webhook's form fields, in the order received.
type Form = Vec<(String, String)>;

/// `POST /webhooks/twilio/status`: an SMS or call status callback; 204.
pub async fn status(
    State(state): State<AppState>,
    id: RequestId,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let form = verified(&state, &uri, &headers, &body)?;
    let request = status_request(&form, &uri, &id);
    let answer = state
        .messaging()
        .record_twilio_status_callback(id.as_gateway(&state, request).await?)
        .await?
        .into_inner();
    tracing::info!(
        matched = answer.matched,
        address_marked_bad = answer.address_marked_bad,
        "twilio status callback recorded"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /webhooks/twilio/inbound`: an inbound SMS (STOP, START, HELP …);
/// answered with TwiML: empty, or messaging's reply as a `<Message>`.
pub async fn inbound(
    State(state): State<AppState>,
    id: RequestId,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = verified(&state, &uri, &headers, &body)?;
    let request = pb::RecordInboundSmsRequest {
        message_sid: field(&form, &["MessageSid", "SmsSid"]),
        from: field(&form, &["From"]),
        to: field(&form, &["To"]),
        body: field(&form, &["Body"]),
        form_fields: form.iter().cloned().collect(),
        received_at: Some(now()),
        request_id: id.id.clone(),
    };
    let answer = state
        .messaging()
        .record_inbound_sms(id.as_gateway(&state, request).await?)
        .await?
        .into_inner();
    tracing::info!(action = answer.action, "inbound sms recorded");
    Ok((
        [(header::CONTENT_TYPE, "text/xml")],
        twiml(&answer.reply_body),
    )
        .into_response())
}

/// The form of a request whose `X-Twilio-Signature` holds; 403 otherwise, and
/// when no Twilio auth token is configured.
fn verified(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Form, ApiError> {
    let token = state.config.twilio_auth_token.as_ref().ok_or_else(|| {
        refused("Twilio webhooks are not enabled: HOMEROOM_TWILIO_AUTH_TOKEN is not set")
    })?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            tracing::warn!(
                path = uri.path(),
                "twilio webhook without a signature refused"
            );
            refused("X-Twilio-Signature is missing")
        })?;
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let form: Form = form_urlencoded::parse(body).into_owned().collect();
    let valid = signed_url(state.config.public_url.as_deref(), host, path)
        .is_some_and(|url| verify(token.expose_secret().as_bytes(), &url, &form, signature));
    if !valid {
        tracing::warn!(
            path = uri.path(),
            "twilio webhook signature mismatch refused"
        );
        return Err(refused("X-Twilio-Signature does not match this request"));
    }
    Ok(form)
}

/// A status callback as messaging's request. Our delivery id comes from the
/// callback URL's `delivery_id` query parameter, when it has one.
fn status_request(form: &Form, uri: &Uri, id: &RequestId) -> pb::RecordTwilioStatusCallbackRequest {
    let query: Form = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    pb::RecordTwilioStatusCallbackRequest {
        message_sid: field(form, &["MessageSid", "SmsSid"]),
        call_sid: field(form, &["CallSid"]),
        status: field(form, &["MessageStatus", "SmsStatus", "CallStatus"]),
        error_code: field(form, &["ErrorCode"]),
        answered_by: field(form, &["AnsweredBy"]),
        to: field(form, &["To"]),
        from: field(form, &["From"]),
        delivery_id: field(&query, &["delivery_id"]),
        form_fields: form.iter().cloned().collect(),
        received_at: Some(now()),
        request_id: id.id.clone(),
    }
}

/// The value of the first of `names` the form has; empty if none.
fn field(form: &Form, names: &[&str]) -> String {
    names
        .iter()
        .find_map(|name| form.iter().find(|(k, _)| k == name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// TwiML answering an inbound SMS: `reply` as a message, or nothing.
fn twiml(reply: &str) -> String {
    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    if reply.trim().is_empty() {
        return format!("{HEAD}<Response/>");
    }
    let escaped = homeroom_platform::xml::escape(reply);
    format!("{HEAD}<Response><Message>{escaped}</Message></Response>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_sms_status_callback_becomes_messagings_request() {
        let uri: Uri = "/webhooks/twilio/status?delivery_id=d-42".parse().unwrap();
        let callback = form(&[
            ("SmsSid", "SM1"),
            ("MessageSid", "SM1"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30006"),
            ("To", "+15558675310"),
            ("From", "+15017122661"),
            ("AccountSid", "AC1"),
        ]);
        let r = status_request(&callback, &uri, &RequestId::new("req-1"));
        assert_eq!(
            (
                r.message_sid.as_str(),
                r.call_sid.as_str(),
                r.status.as_str()
            ),
            ("SM1", "", "undelivered")
        );
        assert_eq!(
            (r.error_code.as_str(), r.to.as_str()),
            ("30006", "+15558675310")
        );
        assert_eq!(
            (r.delivery_id.as_str(), r.request_id.as_str()),
            ("d-42", "req-1")
        );
        assert_eq!(r.form_fields.len(), 7);
        assert!(r.received_at.is_some());
    }

    #[test]
    fn a_call_status_callback_carries_the_call_sid_and_answered_by() {
        let uri: Uri = "/webhooks/twilio/status".parse().unwrap();
        let callback = form(&[
            ("CallSid", "CA1"),
            ("CallStatus", "completed"),
            ("AnsweredBy", "human"),
        ]);
        let r = status_request(&callback, &uri, &RequestId::default());
        assert_eq!(
            (
                r.message_sid.as_str(),
                r.call_sid.as_str(),
                r.status.as_str()
            ),
            ("", "CA1", "completed")
        );
        assert_eq!(
            (r.answered_by.as_str(), r.delivery_id.as_str()),
            ("human", "")
        );
    }

    #[test]
    fn an_empty_reply_is_an_empty_response_and_a_reply_is_escaped() {
        assert_eq!(
            twiml(""),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
        );
        assert_eq!(
            twiml("Help: <reply> STOP & \"quit\""),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>Help: &lt;reply&gt; STOP &amp; &quot;quit&quot;</Message></Response>"#
        );
    }
}
