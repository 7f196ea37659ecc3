//! GW-1 browser sessions: the access and refresh tokens in HttpOnly, Secure,
//! SameSite=Strict cookies, and a CSRF token (a readable cookie the page
//! echoes in `x-csrf-token`) that every unsafe request made with the cookies
//! must carry.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine as _;
use homeroom_proto::identity::v1 as idpb;
use subtle::ConstantTimeEq;

/// The access token cookie (the API's and the console's).
pub const ACCESS: &str = "homeroom_access";
/// The refresh token cookie. Path `/`: the console refreshes a session
/// itself when its pages find the access token expired.
pub const REFRESH: &str = "homeroom_refresh";
/// The CSRF cookie (readable by the page, which echoes it in `x-csrf-token`).
pub const CSRF: &str = "homeroom_csrf";
/// The header that must echo the CSRF cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The device token cookie (ID-3): a browser that signed in before is known,
/// so guessing at its address never slows it down. Lax, so it also comes
/// back on an SSO provider's redirect; it grants nothing by itself.
pub const DEVICE: &str = "homeroom_device";
/// How API clients present their device token.
pub const DEVICE_HEADER: &str = "x-device-token";

/// The device token the client presents: its cookie, or the header.
pub fn device_token(headers: &HeaderMap) -> String {
    get(headers, DEVICE)
        .or_else(|| {
            headers
                .get(DEVICE_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .map(|t| t.trim().chars().take(128).collect())
        .unwrap_or_default()
}

/// A cookie's value from the request's `Cookie` headers.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The CSRF cookie alone (a form shown before sign-in carries it too).
pub fn csrf_cookie(csrf: &str) -> Option<HeaderValue> {
    cookie(CSRF, csrf, "/", 86_400, false)
}

/// Whether a form's CSRF field matches the CSRF cookie (the console's forms;
/// scripts send the header instead, see [`csrf_ok`]).
pub fn csrf_field_ok(headers: &HeaderMap, field: &str) -> bool {
    match get(headers, CSRF) {
        Some(cookie) => !field.is_empty() && bool::from(cookie.as_bytes().ct_eq(field.as_bytes())),
        None => false,
    }
}

/// A fresh CSRF token.
pub fn new_csrf() -> String {
    random_token()
}

/// 32 random bytes, URL-safe: CSRF tokens and the idempotency keys of forms.
pub fn random_token() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn seconds_until(t: Option<&prost_types::Timestamp>) -> i64 {
    let now = chrono::Utc::now().timestamp();
    t.map_or(0, |t| (t.seconds - now).max(0))
}

fn cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    http_only: bool,
) -> Option<HeaderValue> {
    let http_only = if http_only { "; HttpOnly" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; Secure; SameSite=Strict{http_only}")
        .parse()
        .ok()
}

/// `Set-Cookie` headers of a signed-in browser session.
pub fn session(tokens: &idpb::AuthTokens, csrf: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let access = seconds_until(tokens.access_token_expires_at.as_ref());
    let refresh = seconds_until(tokens.refresh_token_expires_at.as_ref());
    for value in [
        cookie(ACCESS, &tokens.access_token, "/", access, true),
        cookie(REFRESH, &tokens.refresh_token, "/", refresh, true),
        cookie(CSRF, csrf, "/", refresh, false),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, value);
    }
    if let Some(device) = device(&tokens.device_token) {
        headers.append(header::SET_COOKIE, device);
    }
    headers
}

/// The device cookie, kept a year (not cleared by signing out).
fn device(token: &str) -> Option<HeaderValue> {
    if token.is_empty() {
        return None;
    }
    format!("{DEVICE}={token}; Path=/; Max-Age=31536000; Secure; SameSite=Lax; HttpOnly")
        .parse()
        .ok()
}

/// `Set-Cookie` headers that end a browser session.
pub fn cleared() -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in [
        cookie(ACCESS, "", "/", 0, true),
        cookie(REFRESH, "", "/", 0, true),
        cookie(CSRF, "", "/", 0, false),
        // Where earlier releases kept them.
        cookie(ACCESS, "", "/api", 0, true),
        cookie(REFRESH, "", "/api/v1/auth", 0, true),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, value);
    }
    headers
}

/// Whether a request made with the session cookies may go on: safe methods
/// always; others only with `x-csrf-token` equal to the CSRF cookie.
pub fn csrf_ok(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let (Some(cookie), Some(header)) = (
        get(headers, CSRF),
        headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    bool::from(cookie.as_bytes().ct_eq(header.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn cookies_are_read_from_any_cookie_header() {
        let h = headers(&[
            ("cookie", "a=1; homeroom_csrf=abc"),
            ("cookie", "homeroom_access=tok"),
        ]);
        assert_eq!(get(&h, CSRF).as_deref(), Some("abc"));
        assert_eq!(get(&h, ACCESS).as_deref(), Some("tok"));
        assert_eq!(get(&h, REFRESH), None);
    }

    #[test]
    fn unsafe_methods_need_the_csrf_header_to_match_the_cookie() {
        let good = headers(&[("cookie", "homeroom_csrf=abc"), ("x-csrf-token", "abc")]);
        let wrong = headers(&[("cookie", "homeroom_csrf=abc"), ("x-csrf-token", "abd")]);
        let missing = headers(&[("cookie", "homeroom_csrf=abc")]);
        assert!(csrf_ok(&Method::POST, &good));
        assert!(!csrf_ok(&Method::POST, &wrong));
        assert!(!csrf_ok(&Method::DELETE, &missing));
        assert!(csrf_ok(&Method::GET, &missing));
    }

    #[test]
    fn session_cookies_are_http_only_secure_and_strict_but_the_csrf_one_is_readable() {
        let t = idpb::AuthTokens {
            access_token: "a".into(),
            refresh_token: "r".into(),
            ..Default::default()
        };
        let h = session(&t, "c");
        let all: Vec<&str> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(all.len(), 3);
        assert!(
            all.iter()
                .all(|c| c.contains("Secure") && c.contains("SameSite=Strict"))
        );
        assert!(all[0].starts_with("homeroom_access=a;") && all[0].contains("HttpOnly"));
        assert!(all[1].starts_with("homeroom_refresh=r;") && all[1].contains("HttpOnly"));
        assert!(all[2].starts_with("homeroom_csrf=c;") && !all[2].contains("HttpOnly"));
    }
}
