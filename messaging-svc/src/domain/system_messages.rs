//! System messages (one-time codes, invitations, contact-change notices):
//! their text per language, and the `For <first name>:` prefix that tells the
//! people sharing a phone whom an SMS or call is for (MS-4, ID-4, seed 004).

use std::collections::BTreeMap;

/// Which system message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemKind {
    /// A one-time code (variables: `code`, `expires_minutes`).
    OneTimeCode,
    /// An invitation to join (variables: `district_name`).
    Invitation,
    /// An invitation with its join link (variables: `district_name`,
    /// `join_url`, `valid_days`); what [`render`] makes of an invitation that
    /// carries a `join_url`.
    InvitationLink,
    /// "Your contact details changed" (variables: `field`).
    ContactChanged,
}

/// How it reaches the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Email: subject and body.
    Email,
    /// SMS: body only.
    Sms,
    /// Voice: the body is read out (TwiML `<Say>`).
    Voice,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Email subject (empty for SMS and voice).
    pub subject: String,
    /// The text.
    pub body: String,
    /// The language actually used (BCP 47 primary tag).
    pub language: &'static str,
}

/// Why a message cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A template variable the message needs was not given.
    #[error("variables: {0:?} is required for this message")]
    MissingVariable(&'static str),
}

/// Languages with templates; anything else falls back to English.
pub const LANGUAGES: [&str; 2] = ["en", "es"];

struct Template {
    subject: &'static str,
    body: &'static str,
}

fn template(kind: SystemKind, language: &str) -> Template {
    match (kind, language) {
        (SystemKind::OneTimeCode, "es") => Template {
            subject: "Tu código de Homeroom",
            body: "Tu código de Homeroom es {code}. Vence en {expires_minutes} minutos. No lo compartas con nadie.",
        },
        (SystemKind::OneTimeCode, _) => Template {
            subject: "Your Homeroom code",
            body: "Your Homeroom code is {code}. It expires in {expires_minutes} minutes. Do not share it with anyone.",
        },
        (SystemKind::Invitation, "es") => Template {
            subject: "Invitación a Homeroom",
            body: "{district_name} te invita a Homeroom. Inicia sesión con este correo o número de teléfono para empezar.",
        },
        (SystemKind::Invitation, _) => Template {
            subject: "You're invited to Homeroom",
            body: "{district_name} invites you to Homeroom. Sign in with this email or phone number to get started.",
        },
        (SystemKind::InvitationLink, "es") => Template {
            subject: "Invitación a Homeroom",
            body: "{district_name} te invita a Homeroom. Abre este enlace para crear tu contraseña: {join_url} (vale {valid_days} días).",
        },
        (SystemKind::InvitationLink, _) => Template {
            subject: "You're invited to Homeroom",
            body: "{district_name} invites you to Homeroom. Open this link to set your password: {join_url} (it works for {valid_days} days).",
        },
        (SystemKind::ContactChanged, "es") => Template {
            subject: "Tus datos de contacto cambiaron",
            body: "Tu {field} en Homeroom se actualizó con los registros de tu escuela.",
        },
        (SystemKind::ContactChanged, _) => Template {
            subject: "Your contact details changed",
            body: "Your {field} in Homeroom was updated from your school's records.",
        },
    }
}

/// The supported language for a BCP 47 tag ("es-MX" → "es"; unknown → "en").
pub fn language(tag: &str) -> &'static str {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    LANGUAGES
        .iter()
        .copied()
        .find(|l| *l == primary)
        .unwrap_or("en")
}

/// Renders a system message. On SMS and voice to an address several accounts
/// share, the text starts with `For <first name>:`.
pub fn render(
    kind: SystemKind,
    channel: Channel,
    language_tag: &str,
    first_name: &str,
    address_shared: bool,
    variables: &BTreeMap<String, String>,
) -> Result<Rendered, RenderError> {
    let lang = language(language_tag);
    let kind = match kind {
        SystemKind::Invitation if variables.contains_key("join_url") => SystemKind::InvitationLink,
        other => other,
    };
    let t = template(kind, lang);
    let mut body = if variables
        .get("district_name")
        .is_some_and(|d| d.trim().is_empty())
    {
        // A district whose name is not known yet is "your school".
        let mut named = variables.clone();
        let school = if lang == "es" {
            "Tu escuela"
        } else {
            "Your school"
        };
        named.insert("district_name".into(), school.into());
        fill(t.body, &named)?
    } else {
        fill(t.body, variables)?
    };
    let first_name = first_name.trim();
    if channel != Channel::Email && address_shared && !first_name.is_empty() {
        body = format!("For {first_name}: {body}");
    }
    Ok(Rendered {
        subject: if channel == Channel::Email {
            t.subject.to_string()
        } else {
            String::new()
        },
        body,
        language: lang,
    })
}

/// Replaces `{name}` placeholders; every placeholder must have a value.
fn fill(text: &'static str, variables: &BTreeMap<String, String>) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        let value = variables
            .get(name)
            .ok_or(RenderError::MissingVariable(name))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_vars() -> BTreeMap<String, String> {
        [("code", "042917"), ("expires_minutes", "10")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_code_sms_to_a_shared_phone_starts_with_the_first_name() {
        let r = render(
            SystemKind::OneTimeCode,
            Channel::Sms,
            "",
            "Sarah",
            true,
            &code_vars(),
        )
        .unwrap();
        assert!(
            r.body
                .starts_with("For Sarah: Your Homeroom code is 042917."),
            "{}",
            r.body
        );
        assert_eq!(r.subject, "");
    }

    #[test]
    fn no_prefix_when_the_phone_is_not_shared_or_no_one_is_named_or_on_email() {
        let plain = render(
            SystemKind::OneTimeCode,
            Channel::Sms,
            "en",
            "Sarah",
            false,
            &code_vars(),
        )
        .unwrap();
        assert!(plain.body.starts_with("Your Homeroom code"));
        let nameless = render(
            SystemKind::OneTimeCode,
            Channel::Voice,
            "en",
            " ",
            true,
            &code_vars(),
        )
        .unwrap();
        assert!(nameless.body.starts_with("Your Homeroom code"));
        let email = render(
            SystemKind::OneTimeCode,
            Channel::Email,
            "en",
            "Sarah",
            true,
            &code_vars(),
        )
        .unwrap();
        assert!(email.body.starts_with("Your Homeroom code"));
        assert_eq!(email.subject, "Your Homeroom code");
    }

    #[test]
    fn the_recipients_language_is_used_and_unknown_ones_fall_back_to_english() {
        let es = render(
            SystemKind::OneTimeCode,
            Channel::Sms,
            "es-MX",
            "Ana",
            true,
            &code_vars(),
        )
        .unwrap();
        assert_eq!(es.language, "es");
        assert!(
            es.body
                .starts_with("For Ana: Tu código de Homeroom es 042917."),
            "{}",
            es.body
        );
        let other = render(
            SystemKind::OneTimeCode,
            Channel::Sms,
            "tlh",
            "",
            false,
            &code_vars(),
        )
        .unwrap();
        assert_eq!(other.language, "en");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = render(
            SystemKind::Invitation,
            Channel::Email,
            "en",
            "",
            false,
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(err, RenderError::MissingVariable("district_name"));
        assert!(err.to_string().contains("district_name"));
    }
}
