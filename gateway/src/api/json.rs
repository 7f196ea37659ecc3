//! Shapes shared by the REST answers.

/// A protobuf timestamp as RFC 3339 (UTC).
pub fn timestamp(t: &prost_types::Timestamp) -> Option<String> {
    let nanos = u32::try_from(t.nanos).ok()?;
    chrono::DateTime::from_timestamp(t.seconds, nanos)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A protobuf enum named in a request: its short lowercase name (`email`) or
/// its full name (`CHANNEL_EMAIL`). `prefix` is the full names' prefix
/// (`CHANNEL_`); `names` the short names accepted, for the error message.
pub fn enum_value<E: Into<i32>>(
    field: &str,
    value: &str,
    prefix: &str,
    names: &[&str],
    parse: fn(&str) -> Option<E>,
) -> Result<i32, super::error::ApiError> {
    let upper = value.trim().to_ascii_uppercase();
    let full = if upper.starts_with(prefix) {
        upper
    } else {
        format!("{prefix}{upper}")
    };
    match parse(&full) {
        Some(e)
            if names
                .iter()
                .any(|n| full.eq_ignore_ascii_case(&format!("{prefix}{n}"))) =>
        {
            Ok(e.into())
        }
        _ => Err(super::error::ApiError::bad_request(format!(
            "{field}: one of {}",
            names.join(", ")
        ))),
    }
}

/// Comma-separated enum names, as wire values.
pub fn listed<E: Into<i32>>(
    field: &str,
    names: &str,
    prefix: &str,
    accepted: &[&str],
    parse: fn(&str) -> Option<E>,
) -> Result<Vec<i32>, super::error::ApiError> {
    names
        .split(',')
        .filter(|n| !n.trim().is_empty())
        .map(|n| enum_value(field, n, prefix, accepted, parse))
        .collect()
}

/// A page size: `default` when absent, else 1 to `max`.
pub fn page_size(
    given: Option<i32>,
    default: i32,
    max: i32,
) -> Result<i32, super::error::ApiError> {
    match given {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(super::error::ApiError::bad_request(format!(
            "pageSize: from 1 to {max}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_enum_is_named_short_or_in_full_and_nothing_else() {
        use homeroom_proto::messaging::v1::Channel;
        let parse = |v| {
            super::enum_value(
                "channel",
                v,
                "CHANNEL_",
                &["email", "sms"],
                Channel::from_str_name,
            )
        };
        assert_eq!(parse("email").ok(), Some(Channel::Email as i32));
        assert_eq!(parse(" SMS ").ok(), Some(Channel::Sms as i32));
        assert_eq!(parse("CHANNEL_EMAIL").ok(), Some(Channel::Email as i32));
        assert!(parse("voice").is_err(), "not among the names accepted");
        assert!(parse("unspecified").is_err());
        let e = parse("fax").unwrap_err();
        assert_eq!(e.message, "channel: one of email, sms");
    }

    #[test]
    fn a_page_size_is_bounded() {
        assert_eq!(super::page_size(None, 50, 200).ok(), Some(50));
        assert_eq!(super::page_size(Some(200), 50, 200).ok(), Some(200));
        assert!(super::page_size(Some(0), 50, 200).is_err());
        assert!(super::page_size(Some(201), 50, 200).is_err());
    }

    #[test]
    fn a_timestamp_is_rfc_3339_in_utc() {
        let t = prost_types::Timestamp {
            seconds: 1_795_000_000,
            nanos: 0,
        };
        assert_eq!(
            super::timestamp(&t).as_deref(),
            Some("2026-11-18T11:06:40Z")
        );
    }
}
