//! The compose form as a browser sends it (checkboxes repeat their name),
//! read into one value, checked field by field in the page's words, and
//! turned into the REST API's audience so the console and the API accept
//! the same roles and channels.

use crate::{api::communications::AudienceBody, console::text::Text};

/// Grades (CEDS codes) a sender may pick, youngest first.
pub const GRADES: [&str; 14] = [
    "PK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
];

/// Who of the picked district, schools, grades, classes and students a
/// message reaches (the REST API's names).
pub const ROLES: [&str; 4] = ["guardian", "student", "teacher", "staff"];

/// Which guardians of each student (the REST API's names).
pub const GUARDIAN_CONTACTS: [&str; 3] = ["all", "primary_only", "without_emergency"];

/// The most classes, students or people one message names one by one (a
/// school or a grade reaches more).
pub const MAX_PICKED: usize = 50;

/// The most per-language versions a form carries.
const MAX_VARIANTS: usize = 20;

/// The text in one more language.
#[derive(Debug, Default, Clone)]
pub struct Variant {
    pub language: String,
    pub subject: String,
    pub body: String,
}

/// Everything the compose form holds.
#[derive(Debug, Default, Clone)]
pub struct ComposeForm {
    pub csrf: String,
    /// Made when the form is first shown and carried through previews: the
    /// same form sent twice sends once.
    pub idempotency_key: String,
    /// The button pressed: `preview`, or a search.
    pub step: String,
    pub whole_district: bool,
    pub schools: Vec<String>,
    pub grades: Vec<String>,
    pub classes: Vec<String>,
    pub students: Vec<String>,
    pub accounts: Vec<String>,
    pub roles: Vec<String>,
    pub guardian_contacts: String,
    pub channels: Vec<String>,
    pub subject: String,
    pub body: String,
    pub variants: Vec<Variant>,
    pub emergency: bool,
    pub confirm_emergency: bool,
    /// The class search.
    pub q: String,
    pub student_q: String,
    pub account_q: String,
}

/// What is wrong, next to the field it is about.
#[derive(Debug, Default)]
pub struct FieldErrors {
    pub audience: Option<String>,
    pub channels: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub confirm: Option<String>,
    /// (language, what is wrong with its text).
    pub variants: Vec<(String, String)>,
}

impl FieldErrors {
    /// Whether anything is wrong.
    pub fn any(&self) -> bool {
        self.audience.is_some()
            || self.channels.is_some()
            || self.subject.is_some()
            || self.body.is_some()
            || self.confirm.is_some()
            || !self.variants.is_empty()
    }

    /// The error of `language`'s text, if any.
    pub fn variant(&self, language: &str) -> Option<String> {
        self.variants
            .iter()
            .find(|(l, _)| l == language)
            .map(|(_, e)| e.clone())
    }
}

/// Adds a trimmed, non-empty value once.
fn push(list: &mut Vec<String>, value: &str) {
    let value = value.trim();
    if !value.is_empty() && !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

/// A language code as a field name carries it (`es`, `zh-Hant`).
pub fn language_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 35
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl ComposeForm {
    /// A fresh form: guardians, every guardian, a new idempotency key.
    pub fn fresh(idempotency_key: String, q: String) -> ComposeForm {
        ComposeForm {
            idempotency_key,
            roles: vec!["guardian".into()],
            guardian_contacts: "all".into(),
            q,
            ..ComposeForm::default()
        }
    }

    /// The form's fields in the browser's order; unknown fields are left
    /// out, and so are grades, roles and channels the form does not offer.
    pub fn parse(pairs: Vec<(String, String)>) -> ComposeForm {
        let mut f = ComposeForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => f.csrf = value,
                "idempotency_key" => f.idempotency_key = value.trim().to_owned(),
                "step" => f.step = value,
                "whole_district" => f.whole_district = true,
                "school" => push(&mut f.schools, &value),
                "grade" if GRADES.contains(&value.as_str()) => push(&mut f.grades, &value),
                "class" => push(&mut f.classes, &value),
                "student" => push(&mut f.students, &value),
                "account" => push(&mut f.accounts, &value),
                "role" if ROLES.contains(&value.as_str()) => push(&mut f.roles, &value),
                "guardian_contacts" if GUARDIAN_CONTACTS.contains(&value.as_str()) => {
                    f.guardian_contacts = value;
                }
                "channel" if crate::api::my_contacts::CHANNELS.contains(&value.as_str()) => {
                    push(&mut f.channels, &value);
                }
                "subject" => f.subject = value,
                "body" => f.body = value,
                "emergency" => f.emergency = true,
                "confirm_emergency" => f.confirm_emergency = true,
                "q" => f.q = value,
                "student_q" => f.student_q = value,
                "account_q" => f.account_q = value,
                other => {
                    if let Some(code) = other.strip_prefix("subject.")
                        && let Some(v) = f.variant(code)
                    {
                        v.subject = value;
                    } else if let Some(code) = other.strip_prefix("body.")
                        && let Some(v) = f.variant(code)
                    {
                        v.body = value;
                    }
                }
            }
        }
        if f.guardian_contacts.is_empty() {
            f.guardian_contacts = "all".into();
        }
        f
    }

    /// The text in `code`, made on first use (none for a code that is not
    /// one, or past the limit).
    fn variant(&mut self, code: &str) -> Option<&mut Variant> {
        if !language_code(code) {
            return None;
        }
        match self.variants.iter().position(|v| v.language == code) {
            Some(i) => self.variants.get_mut(i),
            None if self.variants.len() < MAX_VARIANTS => {
                self.variants.push(Variant {
                    language: code.to_owned(),
                    ..Variant::default()
                });
                self.variants.last_mut()
            }
            None => None,
        }
    }

    /// The text typed in `language`, if any.
    pub fn variant_of(&self, language: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.language == language)
    }

    /// Whether nothing is picked.
    fn nobody(&self) -> bool {
        !self.whole_district
            && self.schools.is_empty()
            && self.grades.is_empty()
            && self.classes.is_empty()
            && self.students.is_empty()
            && self.accounts.is_empty()
    }

    /// What is wrong with the form: the audience and the channels for a
    /// preview; for sending also the texts and, for an emergency, its
    /// confirmation. `offered` are the languages the form offers versions in.
    pub fn check(&self, t: &Text, sending: bool, offered: &[String]) -> FieldErrors {
        let m = t.messages;
        let mut errors = FieldErrors::default();
        let too_many = [&self.classes, &self.students, &self.accounts]
            .iter()
            .any(|picked| picked.len() > MAX_PICKED);
        if self.nobody() {
            errors.audience = Some(m.no_audience.to_owned());
        } else if too_many {
            errors.audience = Some(Text::with_n(m.too_many_picked, MAX_PICKED as u64));
        }
        if self.channels.is_empty() {
            errors.channels = Some(m.no_channel.to_owned());
        }
        if !sending {
            return errors;
        }
        errors.subject = subject_error(t, &self.subject, true);
        errors.body = body_error(t, &self.body, true);
        for v in self
            .variants
            .iter()
            .filter(|v| offered.contains(&v.language))
        {
            let wrong = if v.body.trim().is_empty() && !v.subject.trim().is_empty() {
                Some(m.variant_without_body.to_owned())
            } else {
                subject_error(t, &v.subject, false).or_else(|| body_error(t, &v.body, false))
            };
            if let Some(wrong) = wrong {
                errors.variants.push((v.language.clone(), wrong));
            }
        }
        if self.emergency && !self.confirm_emergency {
            errors.confirm = Some(m.emergency_unconfirmed.to_owned());
        }
        errors
    }

    /// The audience as the REST API takes it; `grade_students` are the
    /// students of the picked grades.
    pub fn audience_body(&self, grade_students: Vec<String>) -> AudienceBody {
        let mut student_ids = self.students.clone();
        student_ids.extend(grade_students);
        // The same form makes the same request: a resubmission is a replay.
        let sorted = |mut ids: Vec<String>| {
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        AudienceBody {
            account_ids: sorted(self.accounts.clone()),
            student_ids: sorted(student_ids),
            class_ids: sorted(self.classes.clone()),
            school_ids: sorted(self.schools.clone()),
            whole_district: self.whole_district,
            roles: self.roles.clone(),
            guardian_contacts: Some(self.guardian_contacts.clone())
                .filter(|c| !c.is_empty() && c != "all"),
        }
    }

    /// The versions in other languages to send: those offered, with a body.
    pub fn variants_to_send(&self, offered: &[String]) -> Vec<Variant> {
        self.variants
            .iter()
            .filter(|v| offered.contains(&v.language) && !v.body.trim().is_empty())
            .cloned()
            .collect()
    }
}

fn subject_error(t: &Text, subject: &str, required: bool) -> Option<String> {
    let m = t.messages;
    if required && subject.trim().is_empty() {
        Some(m.no_subject.to_owned())
    } else if subject.chars().any(char::is_control) {
        Some(m.subject_one_line.to_owned())
    } else if subject.chars().count() > homeroom_platform::text::SUBJECT {
        Some(Text::with_n(
            m.too_long,
            homeroom_platform::text::SUBJECT as u64,
        ))
    } else {
        None
    }
}

fn body_error(t: &Text, body: &str, required: bool) -> Option<String> {
    let m = t.messages;
    if required && body.trim().is_empty() {
        Some(m.no_body.to_owned())
    } else if body.chars().count() > homeroom_platform::text::BODY {
        Some(Text::with_n(
            m.too_long,
            homeroom_platform::text::BODY as u64,
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::text::EN;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn repeated_checkboxes_are_read_once_each_and_unknown_values_left_out() {
        let f = ComposeForm::parse(pairs(&[
            ("class", "c2"),
            ("class", "c1"),
            ("class", "c2"),
            ("grade", "03"),
            ("grade", "99"),
            ("role", "guardian"),
            ("role", "principal"),
            ("channel", "email"),
            ("channel", "fax"),
            ("subject.es", "Día de nieve"),
            ("body.es", "No hay clases."),
            ("subject.<b>", "x"),
        ]));
        assert_eq!(f.classes, ["c2", "c1"]);
        assert_eq!(f.grades, ["03"]);
        assert_eq!(f.roles, ["guardian"]);
        assert_eq!(f.channels, ["email"]);
        assert_eq!(f.variants.len(), 1);
        assert_eq!(f.guardian_contacts, "all");
        let body = f.audience_body(vec!["s9".into(), "s1".into()]);
        assert_eq!(body.class_ids, ["c1", "c2"]);
        assert_eq!(body.student_ids, ["s1", "s9"]);
        assert_eq!(body.guardian_contacts, None);
    }

    #[test]
    fn each_field_says_what_to_do_and_an_emergency_needs_its_confirmation() {
        let empty = ComposeForm::parse(Vec::new());
        let errors = empty.check(&EN, true, &[]);
        assert!(errors.audience.is_some() && errors.channels.is_some());
        assert!(errors.subject.is_some() && errors.body.is_some());
        assert!(errors.confirm.is_none());

        let emergency = ComposeForm::parse(pairs(&[
            ("whole_district", "1"),
            ("channel", "sms"),
            ("subject", "Lockdown"),
            ("body", "Stay inside."),
            ("emergency", "1"),
            ("subject.es", "Cierre"),
        ]));
        let errors = emergency.check(&EN, true, &["es".into()]);
        assert!(errors.confirm.is_some());
        assert_eq!(errors.variants.len(), 1, "a subject without a body");
        assert!(
            !emergency.check(&EN, false, &[]).any(),
            "a preview asks less"
        );
    }
}
