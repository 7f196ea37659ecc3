//! Shapes shared by the REST answers.

/// A protobuf timestamp as RFC 3339 (UTC).
pub fn timestamp(t: &prost_types::Timestamp) -> Option<String> {
    let nanos = u32::try_from(t.nanos).ok()?;
    chrono::DateTime::from_timestamp(t.seconds, nanos)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
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
