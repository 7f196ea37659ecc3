//! Contact details shared by identity-svc and roster-svc — login identifiers
//! [`Email`], [`Phone`] and the [`Identifier`] that is either — parsed once at
//! the edge so that a value that exists is valid.
//!
//! Normalisation copies Kratos: trim, strip zero-width and bidi control
//! characters (U+200B–U+200F, U+202A–U+202E, U+2060–U+2064, U+2066–U+2069,
//! U+FEFF, which copy-paste from web pages and PDFs smuggles in), lowercase the
//! whole email address, store phones as E.164. NFKC is not applied.
//!
//! Emails are checked with `email_address` with a TLD required and domain
//! literals and display text refused; domain labels must also be letters,
//! digits and hyphens only, and the address at most 254 bytes.
//!
//! Phones go through `phonenumber` (libphonenumber metadata), which has
//! panicked on junk input in the past, so input is pre-filtered (ASCII digits,
//! spaces, `+ - . ( ) /`, one leading `+`, 7 to 20 digits, an optional
//! `x`/`ext`/`ext.` extension of 1 to 6 digits) and the call runs under
//! `catch_unwind`. An extension is accepted and dropped: E.164 has none and a
//! text message cannot reach one. The crate gets the number as typed, then its
//! bare digits; its answer counts only if the E.164 form it produces parses
//! back to itself, so a stored number always re-parses to the same `Phone`.
//!
//! **NANP fallback.** libphonenumber only accepts assigned area codes, so the
//! placeholder numbers used by our seed data and tests, `(987) 654-3210` and
//! `(123) 456-7890`, are not valid to it. When it rejects a number that is
//! NANP-shaped — exactly 10 national digits, optionally preceded by `1` or
//! `+1`, with default region US or CA (or with an explicit `+1` under any
//! region) — the number is accepted as `+1` followed by those 10 digits and
//! [`Phone::is_strictly_valid`] returns `false`. Callers that must reach a
//! real handset (SMS one-time codes) can refuse such numbers.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use email_address::{EmailAddress, Options};
use phonenumber::{Mode, country};

/// How many characters of rejected input an error message may echo.
const ECHO_MAX_CHARS: usize = 64;
/// RFC 5321 path limit minus the angle brackets, in bytes.
const EMAIL_MAX_BYTES: usize = 254;
/// Longer phone input is junk; this bounds the work done on it.
const PHONE_MAX_CHARS: usize = 64;
const PHONE_MIN_DIGITS: usize = 7;
const PHONE_MAX_DIGITS: usize = 20;
const EXTENSION_MAX_DIGITS: usize = 6;

/// Why an identifier was refused; each message names the field and is safe to
/// show to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Not an email address; holds at most 64 characters of the input.
    #[error("email: {0:?} is not a valid email address")]
    InvalidEmail(String),
    /// Not a phone number; holds at most 64 characters of the input.
    #[error("phone: {0:?} is not a valid phone number")]
    InvalidPhone(String),
    /// Not an ISO 3166-1 alpha-2 code with phone metadata.
    #[error("region: {0:?} is not an ISO 3166-1 alpha-2 country code")]
    InvalidRegion(String),
    /// [`Identifier::parse`] was given nothing but whitespace.
    #[error("identifier: enter an email address or a phone number")]
    Empty,
}

/// A region (ISO 3166-1 alpha-2) that a phone number without `+` is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(country::Id);

impl Region {
    /// The United States, the default region.
    pub const US: Region = Region(country::Id::US);
    /// Canada.
    pub const CA: Region = Region(country::Id::CA);

    /// Parses a two-letter region code, case-insensitively: `"us"` → [`Region::US`].
    pub fn parse(input: &str) -> Result<Region, CredentialError> {
        let code = input.trim();
        let invalid = || CredentialError::InvalidRegion(echo(code));
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(invalid());
        }
        country::Id::from_str(&code.to_ascii_uppercase())
            .map(Region)
            .map_err(|_| invalid())
    }

    /// The upper-case two-letter code.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    fn is_nanp_default(self) -> bool {
        self == Region::US || self == Region::CA
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::US
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A normalised (trimmed, lowercased) and syntactically valid email address.
///
/// `Debug` prints the [masked](Email::masked) form so that it cannot leak into logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Normalises and validates an email address: `" Parent@Mail.COM "` → `parent@mail.com`.
    pub fn parse(input: &str) -> Result<Email, CredentialError> {
        let cleaned = clean(input);
        let address = cleaned.to_lowercase();
        let invalid = || CredentialError::InvalidEmail(echo(&cleaned));
        if address.len() > EMAIL_MAX_BYTES {
            return Err(invalid());
        }
        let options = Options::default()
            .with_required_tld()
            .without_domain_literal()
            .without_display_text();
        EmailAddress::parse_with_options(&address, options).map_err(|_| invalid())?;
        let (_, domain) = address.rsplit_once('@').ok_or_else(invalid)?;
        let label_ok = |l: &str| l.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !domain.split('.').all(label_ok) {
            return Err(invalid());
        }
        Ok(Email(address))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the last `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    /// A form fit for logs and "we sent a code to …" screens: `s***@mail.com`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first = local.chars().next().map(String::from).unwrap_or_default();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Email").field(&self.masked()).finish()
    }
}

/// A phone number in E.164 form (`+19876543210`).
///
/// `Debug` prints the [masked](Phone::masked) form so that it cannot leak into logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    e164: String,
    strict: bool,
}

impl Phone {
    /// Parses a phone number as typed, reading numbers without `+` in `default_region`.
    /// Never panics; see the module docs for the NANP fallback.
    pub fn parse(input: &str, default_region: Region) -> Result<Phone, CredentialError> {
        let cleaned = clean(input);
        let invalid = || CredentialError::InvalidPhone(echo(&cleaned));
        let main = prefilter_phone(&cleaned).ok_or_else(invalid)?;
        // The crate trips over some separators ("+1201200-0000" overflows), so
        // the bare digits get a second chance; this also keeps E.164 output
        // stable when it is parsed again.
        let compact: String = main
            .chars()
            .filter(|c| *c == '+' || c.is_ascii_digit())
            .collect();
        let strict = libphonenumber_e164(main, default_region)
            .or_else(|| libphonenumber_e164(&compact, default_region));
        if let Some(e164) = strict {
            return Ok(Phone { e164, strict: true });
        }
        let e164 = nanp_fallback(main, default_region).ok_or_else(invalid)?;
        Ok(Phone {
            e164,
            strict: false,
        })
    }

    /// The E.164 form.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// `false` when the number was accepted only by the NANP fallback, i.e.
    /// libphonenumber does not know its area code or exchange.
    pub fn is_strictly_valid(&self) -> bool {
        self.strict
    }

    /// The last four digits only: `•••-•••-3210`.
    pub fn masked(&self) -> String {
        let tail = self.e164.len().saturating_sub(4);
        format!("•••-•••-{}", self.e164.get(tail..).unwrap_or_default())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Phone")
            .field("masked", &self.masked())
            .field("strict", &self.strict)
            .finish()
    }
}

/// What a person types into the single "email or phone" sign-in box.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// Anything containing `@`.
    Email(Email),
    /// Anything else.
    Phone(Phone),
}

impl Identifier {
    /// Input containing `@` is parsed as an [`Email`], anything else as a [`Phone`].
    pub fn parse(input: &str, default_region: Region) -> Result<Identifier, CredentialError> {
        let cleaned = clean(input);
        if cleaned.is_empty() {
            Err(CredentialError::Empty)
        } else if cleaned.contains('@') {
            Email::parse(&cleaned).map(Identifier::Email)
        } else {
            Phone::parse(&cleaned, default_region).map(Identifier::Phone)
        }
    }

    /// The normalised email address or E.164 number.
    pub fn as_str(&self) -> &str {
        match self {
            Identifier::Email(email) => email.as_str(),
            Identifier::Phone(phone) => phone.as_str(),
        }
    }

    /// The masked form of either.
    pub fn masked(&self) -> String {
        match self {
            Identifier::Email(email) => email.masked(),
            Identifier::Phone(phone) => phone.masked(),
        }
    }
}

/// Strips invisible formatting characters anywhere, then trims.
fn clean(input: &str) -> String {
    let invisible = |c: char| {
        matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    };
    let kept: String = input.chars().filter(|&c| !invisible(c)).collect();
    kept.trim().to_owned()
}

/// At most [`ECHO_MAX_CHARS`] characters of `input`, for error messages.
fn echo(input: &str) -> String {
    input.chars().take(ECHO_MAX_CHARS).collect()
}

/// Returns the number without its extension when `input` looks like a phone
/// number, so that `phonenumber` only ever sees `[0-9 +\-.()/]`.
fn prefilter_phone(input: &str) -> Option<&str> {
    if input.chars().count() > PHONE_MAX_CHARS || !input.is_ascii() {
        return None;
    }
    let (main, extension) = split_extension(input)?;
    let allowed = |c: char| c.is_ascii_digit() || " +-.()/".contains(c);
    let plus_ok = main.rfind('+').is_none_or(|i| i == 0);
    let digits = main.bytes().filter(u8::is_ascii_digit).count();
    let ext_digits = extension.map_or(0, str::len);
    let shape_ok = main.chars().all(allowed) && plus_ok;
    let count_ok = digits >= PHONE_MIN_DIGITS && digits + ext_digits <= PHONE_MAX_DIGITS;
    (shape_ok && count_ok).then_some(main)
}

/// Splits `"… x12"`, `"… ext 12"`, `"… ext. 12"` into the number and its digits.
/// `None` when a marker letter appears but is not followed by 1–6 digits alone.
fn split_extension(input: &str) -> Option<(&str, Option<&str>)> {
    let Some(at) = input.find(|c: char| c.is_ascii_alphabetic()) else {
        return Some((input, None));
    };
    let (main, tail) = input.split_at(at);
    let tail = tail.to_ascii_lowercase();
    let digits_from = ["ext.", "ext", "x"]
        .iter()
        .find_map(|marker| tail.strip_prefix(marker))?
        .trim_start();
    let ext_ok = (1..=EXTENSION_MAX_DIGITS).contains(&digits_from.len())
        && digits_from.bytes().all(|b| b.is_ascii_digit());
    let ext = input.get(input.len() - digits_from.len()..)?;
    ext_ok.then_some((main.trim_end(), Some(ext)))
}

/// The E.164 form when libphonenumber parses `text`, calls it valid, and
/// gives the same answer for that E.164 form (it does not always:
/// `+611113000000` formats as `+6113000000`, which it then rejects). A panic
/// inside the crate counts as "not a number".
fn libphonenumber_e164(text: &str, region: Region) -> Option<String> {
    let valid_e164 = |text: &str| {
        catch_unwind(AssertUnwindSafe(|| {
            let number = phonenumber::parse(Some(region.0), text).ok()?;
            number
                .is_valid()
                .then(|| number.format().mode(Mode::E164).to_string())
        }))
        .ok()
        .flatten()
    };
    let e164 = valid_e164(text)?;
    (valid_e164(&e164)? == e164).then_some(e164)
}

/// `+1` and the 10 national digits of a NANP-shaped number (see module docs).
fn nanp_fallback(main: &str, region: Region) -> Option<String> {
    let digits: String = main.chars().filter(char::is_ascii_digit).collect();
    let plus = main.starts_with('+');
    let national = match (plus, digits.len()) {
        (false, 10) if region.is_nanp_default() => digits.as_str(),
        (false, 11) if region.is_nanp_default() => digits.strip_prefix('1')?,
        (true, 11) => digits.strip_prefix('1')?,
        _ => return None,
    };
    Some(format!("+1{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn us(input: &str) -> Result<Phone, CredentialError> {
        Phone::parse(input, Region::US)
    }

    #[test]
    fn every_common_us_format_of_the_seed_number_becomes_the_same_e164() {
        for input in [
            "(987) 654-3210",
            "987-654-3210",
            "9876543210",
            "987.654.3210",
            "+19876543210",
            "1 987 654 3210",
            "+1 (987) 654-3210",
            "\u{202A}(987) 654-3210\u{202C}",
            "  987 654 3210\u{200B} ",
        ] {
            assert_eq!(
                us(input).map(|p| p.e164),
                Ok("+19876543210".to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn placeholder_area_codes_are_accepted_but_not_strictly_valid() {
        let sarah = us("(987) 654-3210");
        let kevin = us("(123) 456-7890");
        assert_eq!(sarah.as_ref().map(Phone::is_strictly_valid), Ok(false));
        assert_eq!(kevin.as_ref().map(Phone::as_str), Ok("+11234567890"));
        assert_eq!(kevin.map(|p| p.is_strictly_valid()), Ok(false));
    }

    #[test]
    fn an_assigned_us_number_is_strictly_valid() {
        for input in ["(201) 555-0123", "+1201555-0123"] {
            let phone = us(input);
            assert_eq!(
                phone.as_ref().map(Phone::as_str),
                Ok("+12015550123"),
                "{input}"
            );
            assert_eq!(phone.map(|p| p.is_strictly_valid()), Ok(true), "{input}");
        }
    }

    #[test]
    fn the_nanp_fallback_needs_a_nanp_region_or_an_explicit_plus_one() {
        let gb = Region::parse("GB");
        assert!(gb.is_ok_and(|gb| Phone::parse("987-654-3210", gb).is_err()));
        let from_gb = Region::parse("gb").and_then(|gb| Phone::parse("+1 987 654 3210", gb));
        assert_eq!(from_gb.map(|p| p.e164), Ok("+19876543210".to_owned()));
        assert!(us("+1 98 765 4321").is_err());
        assert!(us("12 987 654 3210").is_err());
    }

    #[test]
    fn a_number_in_another_region_is_read_with_its_trunk_prefix() {
        let gb = Region::parse("GB").and_then(|gb| Phone::parse("020 7946 0958", gb));
        assert_eq!(gb.map(|p| p.e164), Ok("+442079460958".to_owned()));
        let idd = us("011 44 20 7946 0958").map(|p| p.e164);
        assert_eq!(idd, Ok("+442079460958".to_owned()));
    }

    #[test]
    fn an_extension_is_accepted_and_dropped() {
        for input in [
            "201-555-0123 x12",
            "201-555-0123 ext. 12",
            "201-555-0123 EXT 12",
        ] {
            assert_eq!(
                us(input).map(|p| p.e164),
                Ok("+12015550123".to_owned()),
                "{input}"
            );
        }
        assert!(us("201-555-0123 x").is_err());
        assert!(us("201-555-0123 x1234567").is_err());
        assert!(us("201-555-0123 call me").is_err());
    }

    #[test]
    fn junk_is_never_a_phone_number() {
        let fifty_ones = "1".repeat(50);
        for input in [
            "",
            "@",
            "+",
            "++1",
            "12",
            "+1+9876543210",
            "0000000",
            fifty_ones.as_str(),
            "\u{0}",
            "📞 987 654 3210",
            "javascript:alert(1)",
            "987-654-321O",
            "９８７６５４３２１０",
        ] {
            assert!(us(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn a_masked_phone_shows_only_the_last_four_digits() {
        assert_eq!(
            us("987-654-3210").map(|p| p.masked()),
            Ok("•••-•••-3210".to_owned())
        );
        assert!(us("987-654-3210").is_ok_and(|p| !format!("{p:?}").contains("987")));
    }

    #[test]
    fn an_email_is_trimmed_and_lowercased() {
        let email = Email::parse(" Parent@Mail.COM ");
        assert_eq!(email.as_ref().map(Email::as_str), Ok("parent@mail.com"));
        assert_eq!(email.as_ref().map(Email::domain), Ok("mail.com"));
        assert_eq!(
            email.as_ref().map(ToString::to_string),
            Ok("parent@mail.com".to_owned())
        );
        assert_eq!(email.map(|e| e.masked()), Ok("p***@mail.com".to_owned()));
    }

    #[test]
    fn invisible_characters_are_stripped_from_an_email() {
        let email = Email::parse("\u{FEFF}sarah\u{200B}@mail.com\u{202E}");
        assert_eq!(email.map(|e| e.0), Ok("sarah@mail.com".to_owned()));
    }

    #[test]
    fn junk_is_never_an_email_address() {
        let long = format!("{}@mail.com", "a".repeat(250));
        for input in [
            "",
            "@",
            "x@",
            "@mail.com",
            "a@b",
            "a@localhost",
            "a@[127.0.0.1]",
            "Sarah <sarah@mail.com>",
            "sarah@ma!l.com",
            "sa rah@mail.com",
            "\u{0}",
            "📧",
            "javascript:alert(1)",
            long.as_str(),
        ] {
            assert!(Email::parse(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn a_masked_email_keeps_the_first_letter_and_the_domain() {
        let email = Email::parse("sarah.jones@mail.com");
        assert_eq!(
            email.as_ref().map(Email::masked),
            Ok("s***@mail.com".to_owned())
        );
        assert!(email.is_ok_and(|e| !format!("{e:?}").contains("jones")));
    }

    #[test]
    fn an_identifier_with_an_at_sign_is_an_email_and_otherwise_a_phone() {
        let email = Identifier::parse(" Kevin@School.ORG", Region::US);
        assert_eq!(
            email.map(|i| i.as_str().to_owned()),
            Ok("kevin@school.org".to_owned())
        );
        let phone = Identifier::parse("(123) 456-7890", Region::US);
        assert!(matches!(phone, Ok(Identifier::Phone(p)) if p.as_str() == "+11234567890"));
    }

    #[test]
    fn error_messages_name_the_field_and_what_to_do() {
        let message = |r: Result<Identifier, CredentialError>| r.map_err(|e| e.to_string());
        assert_eq!(
            message(Identifier::parse(" \u{200B} ", Region::US)),
            Err("identifier: enter an email address or a phone number".to_owned())
        );
        assert_eq!(
            message(Identifier::parse("x@", Region::US)),
            Err("email: \"x@\" is not a valid email address".to_owned())
        );
        assert_eq!(
            message(Identifier::parse("12", Region::US)),
            Err("phone: \"12\" is not a valid phone number".to_owned())
        );
        assert_eq!(
            Region::parse("USA").map_err(|e| e.to_string()),
            Err("region: \"USA\" is not an ISO 3166-1 alpha-2 country code".to_owned())
        );
    }

    #[test]
    fn an_error_echoes_at_most_64_characters_of_input() {
        let input = "9".repeat(500);
        assert_eq!(
            us(&input),
            Err(CredentialError::InvalidPhone("9".repeat(64)))
        );
        let email = format!("{}@", "é".repeat(300));
        assert_eq!(
            Email::parse(&email),
            Err(CredentialError::InvalidEmail("é".repeat(64)))
        );
    }

    #[test]
    fn a_region_is_two_letters_in_any_case() {
        assert_eq!(Region::parse("us"), Ok(Region::US));
        assert_eq!(Region::parse(" Ca "), Ok(Region::CA));
        assert_eq!(Region::default().to_string(), "US");
        for input in ["", "U", "USA", "1A", "ZZ", "\u{0}\u{0}", "ü"] {
            assert!(Region::parse(input).is_err(), "{input:?}");
        }
    }

    /// Mostly well-formed numbers, so that the round trip is exercised, plus raw phone-ish text.
    fn phone_text() -> impl Strategy<Value = String> {
        prop_oneof![
            r"(\+1 ?|1 ?)?\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}( x[0-9]{1,3})?",
            r"(\+|011 )(44|33|49|61|81|91) ?[1-9][0-9 ]{6,12}",
            r"[+]?[0-9() .-]{7,24}",
        ]
    }

    fn region() -> impl Strategy<Value = Region> {
        prop::sample::select(vec![Region::US, Region::CA, Region(country::Id::GB)])
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(input in any::<String>(), region in region()) {
            let _ = Phone::parse(&input, region);
            let _ = Email::parse(&input);
            let _ = Identifier::parse(&input, region);
        }

        #[test]
        fn parsing_phone_like_text_never_panics(input in "[+0-9() ./x-]{0,40}", region in region()) {
            let _ = Phone::parse(&input, region);
            let _ = Identifier::parse(&input, region);
        }

        #[test]
        fn a_parsed_phone_reparses_to_itself(input in phone_text(), region in region()) {
            if let Ok(phone) = Phone::parse(&input, region) {
                prop_assert_eq!(Phone::parse(phone.as_str(), region), Ok(phone));
            }
        }

        #[test]
        fn a_parsed_email_reparses_to_itself(
            input in "[ \u{200B}]?[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9-]{1,12}\\.[A-Za-z]{2,6}[ \u{FEFF}]?"
        ) {
            if let Ok(email) = Email::parse(&input) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
            }
        }
    }
}
