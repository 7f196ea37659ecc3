//! Addresses inside text shown to people who may not see them (logs, staff
//! without the administrator role): replaced by their masked form.

use homeroom_platform::telemetry::mask_address;

/// `text` with every occurrence of `address` (any case) masked; relays and
/// providers often quote the recipient in their replies.
pub fn redact(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_owned();
    }
    // ASCII case folding keeps byte offsets, so matches index `text` itself.
    let (lower, needle) = (text.to_ascii_lowercase(), address.to_ascii_lowercase());
    let mut out = String::new();
    let mut last = 0;
    for (start, _) in lower.match_indices(&needle) {
        out += &text[last..start];
        out += &mask_address(address);
        last = start + needle.len();
    }
    out + &text[last..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_recipients_are_masked_in_any_case() {
        assert_eq!(
            redact(
                "550 5.1.1 <Gone@Mail.example>: user unknown",
                "gone@mail.example"
            ),
            "550 5.1.1 <g***@mail.example>: user unknown"
        );
        assert_eq!(
            redact("451 try later", "gone@mail.example"),
            "451 try later"
        );
        assert_eq!(redact("no +15551234567 here", ""), "no +15551234567 here");
    }
}
