//! GW-2: Twilio's `X-Twilio-Signature`, as pure functions:
//! base64(HMAC-SHA1(auth token, full URL + every form parameter's name and
//! value, sorted by name then value)), compared in constant time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The header Twilio signs its webhooks in.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The signature Twilio computes for a form POST of `params` to `url`.
pub fn sign(auth_token: &[u8], url: &str, params: &[(String, String)]) -> Option<String> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token).ok()?;
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether `signature` is Twilio's for a POST of `params` to `url`. Twilio is
/// not consistent about default ports, so the URL is also tried without its
/// port, or with the scheme's default port when it has none.
pub fn verify(auth_token: &[u8], url: &str, params: &[(String, String)], signature: &str) -> bool {
    if signature.is_empty() {
        return false;
    }
    url_variants(url).iter().any(|u| {
        sign(auth_token, u, params)
            .is_some_and(|expected| bool::from(expected.as_bytes().ct_eq(signature.as_bytes())))
    })
}

/// The URL Twilio called: the configured public base URL and the request's
/// path and query; without one, `http://<Host><path and query>`.
pub fn signed_url(
    public_url: Option<&str>,
    host: Option<&str>,
    path_and_query: &str,
) -> Option<String> {
    match public_url {
        Some(base) => Some(format!("{}{path_and_query}", base.trim_end_matches('/'))),
        None => host
            .filter(|h| !h.is_empty())
            .map(|h| format!("http://{h}{path_and_query}")),
    }
}

/// `url` itself and `url` without its port (or with the scheme's default one).
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let (authority, tail) = rest
        .find(['/', '?', '#'])
        .map_or((rest, ""), |at| rest.split_at(at));
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, host_port)) => (format!("{user}@"), host_port),
        None => (String::new(), authority),
    };
    let other = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{scheme}://{user}{host}{tail}")
        }
        _ => format!("{scheme}://{user}{host_port}:{default_port}{tail}"),
    };
    variants.push(other);
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    // Twilio's own example (twilio-python's request validator tests).
    const TOKEN: &[u8] = b"12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn call() -> Vec<(String, String)> {
        form(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ])
    }

    #[test]
    fn twilios_documented_example_signs_and_verifies() {
        assert_eq!(sign(TOKEN, URL, &call()).as_deref(), Some(EXPECTED));
        assert!(verify(TOKEN, URL, &call(), EXPECTED));
    }

    #[test]
    fn repeated_parameters_are_signed_in_value_order() {
        let params = form(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            sign(TOKEN, URL, &params).as_deref(),
            Some("IK+Dwps556ElfBT0I3Rgjkr1wJU=")
        );
    }

    #[test]
    fn the_order_parameters_arrive_in_does_not_matter() {
        let mut reordered = call();
        reordered.reverse();
        assert!(verify(TOKEN, URL, &reordered, EXPECTED));
    }

    #[test]
    fn a_forged_signature_a_wrong_token_or_a_changed_form_is_refused() {
        assert!(!verify(TOKEN, URL, &call(), "RSOYDt4T1cUTdK1PDd93/VVr8B8X"));
        assert!(!verify(b"54321", URL, &call(), EXPECTED));
        let mut changed = call();
        changed[1].1 = "9999".into();
        assert!(!verify(TOKEN, URL, &changed, EXPECTED));
        let mut extra = call();
        extra.push(("Body".into(), "STOP".into()));
        assert!(!verify(TOKEN, URL, &extra, EXPECTED));
        assert!(!verify(TOKEN, URL, &call()[1..], EXPECTED));
    }

    #[test]
    fn a_missing_signature_is_refused() {
        assert!(!verify(TOKEN, URL, &call(), ""));
        assert!(!verify(TOKEN, URL, &[], ""));
    }

    #[test]
    fn the_query_string_is_signed() {
        assert!(!verify(
            TOKEN,
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &call(),
            EXPECTED
        ));
        assert!(!verify(
            TOKEN,
            "https://mycompany.com/myapp.php",
            &call(),
            EXPECTED
        ));
        assert!(!verify(
            TOKEN,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &call(),
            EXPECTED
        ));
    }

    #[test]
    fn default_ports_are_tried_with_and_without() {
        // Twilio's port cases: a port is removed; a missing one is added.
        let with_port = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(verify(TOKEN, with_port, &call(), EXPECTED));
        let http_with_port = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(verify(
            TOKEN,
            http_with_port,
            &call(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
        assert!(verify(TOKEN, URL, &call(), "kvajT1Ptam85bY51eRf/AJRuM3w="));
        assert!(verify(
            TOKEN,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &call(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
    }

    #[test]
    fn url_variants_keep_credentials_and_ipv6_hosts() {
        assert_eq!(
            url_variants("https://u:p@example.org:8443/a?b=1"),
            vec![
                "https://u:p@example.org:8443/a?b=1".to_string(),
                "https://u:p@example.org/a?b=1".to_string()
            ]
        );
        assert_eq!(
            url_variants("http://[::1]/hook")[1],
            "http://[::1]:80/hook".to_string()
        );
        assert_eq!(url_variants("not a url"), vec!["not a url".to_string()]);
    }

    #[test]
    fn the_signed_url_is_the_public_url_else_the_host_over_http() {
        let path = "/webhooks/twilio/status?delivery_id=d-1";
        assert_eq!(
            signed_url(
                Some("https://homeroom.example.org/"),
                Some("10.0.0.5"),
                path
            )
            .as_deref(),
            Some("https://homeroom.example.org/webhooks/twilio/status?delivery_id=d-1")
        );
        assert_eq!(
            signed_url(None, Some("127.0.0.1:8080"), path).as_deref(),
            Some("http://127.0.0.1:8080/webhooks/twilio/status?delivery_id=d-1")
        );
        assert_eq!(signed_url(None, None, path), None);
        assert_eq!(signed_url(None, Some(""), path), None);
    }
}
