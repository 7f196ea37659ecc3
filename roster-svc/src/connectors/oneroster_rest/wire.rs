//! OneRoster 1.1 REST JSON, read leniently: text fields take strings or
//! numbers, references take `{"sourcedId":…}` objects or bare ids, lists take
//! arrays, one item, or a comma list. Only `sourcedId` is required; values the
//! roster rules judge (status, role, booleans) stay raw for the converter.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `orgs[]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Org {
    #[serde(deserialize_with = "id")]
    pub sourced_id: String,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "text")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub identifier: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub parent: Option<String>,
}

/// `academicSessions[]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AcademicSession {
    #[serde(deserialize_with = "id")]
    pub sourced_id: String,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub title: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "text")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub start_date: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub end_date: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub parent: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub school_year: Option<String>,
}

/// `courses[]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Course {
    #[serde(deserialize_with = "id")]
    pub sourced_id: String,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub course_code: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub org: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub school_year: Option<String>,
}

/// `classes[]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Class {
    #[serde(deserialize_with = "id")]
    pub sourced_id: String,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub class_code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub class_type: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub course: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub school: Option<String>,
    #[serde(default, deserialize_with = "references")]
    pub terms: Vec<String>,
    #[serde(default, deserialize_with = "references")]
    pub grades: Vec<String>,
}

/// `users[]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct User {
    #[serde(deserialize_with = "id")]
    pub sourced_id: String,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub enabled_user: Option<String>,
    #[serde(default, deserialize_with = "references")]
    pub orgs: Vec<String>,
    #[serde(default, deserialize_with = "text")]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub given_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub family_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub middle_name: Option<String>,
    /// 1.2's `preferredFirstName` (the CSV calls it `preferredGivenName`).
    #[serde(default, deserialize_with = "text")]
    pub preferred_first_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub identifier: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub sms: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "references")]
    pub agents: Vec<String>,
    #[serde(default, deserialize_with = "references")]
    pub grades: Vec<String>,
}

/// `enrollments[]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Enrollment {
    #[serde(deserialize_with = "id")]
    pub sourced_id: String,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, rename = "class", deserialize_with = "reference")]
    pub class: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub school: Option<String>,
    #[serde(default, deserialize_with = "reference")]
    pub user: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub primary: Option<String>,
}

/// A scalar as trimmed text: strings, numbers and booleans; `null` and blank
/// are `None`.
fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty() && text != "NULL").then_some(text)
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Value::deserialize(d)?;
    match value {
        Value::Array(_) | Value::Object(_) => Err(D::Error::custom("expected text")),
        other => Ok(scalar(&other)),
    }
}

/// `sourcedId`: required, never blank.
fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    text(d)?.ok_or_else(|| D::Error::custom("sourcedId is blank"))
}

/// A reference's id: `{"sourcedId":"…"}` or a bare id.
fn ref_id(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.get("sourcedId").and_then(scalar),
        other => scalar(other),
    }
}

fn reference<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(ref_id(&Value::deserialize(d)?))
}

/// A list of references or values: an array, one reference, or `"a,b"`.
fn references<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |id: String| {
        if !out.contains(&id) {
            out.push(id);
        }
    };
    match Value::deserialize(d)? {
        Value::Array(items) => items.iter().filter_map(ref_id).for_each(&mut add),
        Value::String(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .for_each(&mut add),
        other => ref_id(&other).into_iter().for_each(&mut add),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_read_every_shape_classlink_and_others_send() {
        let user: User = serde_json::from_value(serde_json::json!({
            "sourcedId": 19051,
            "enabledUser": true,
            "orgs": {"sourcedId": "2", "type": "org"},
            "agents": [{"sourcedId": "p1"}, "p2", {"sourcedId": "p1"}],
            "grades": "09, 10",
            "sms": "",
            "phone": null,
            "givenName": " Ann ",
        }))
        .unwrap();
        assert_eq!(user.sourced_id, "19051");
        assert_eq!(user.enabled_user.as_deref(), Some("true"));
        assert_eq!(user.orgs, ["2"]);
        assert_eq!(user.agents, ["p1", "p2"]);
        assert_eq!(user.grades, ["09", "10"]);
        assert_eq!((user.sms, user.phone), (None, None));
        assert_eq!(user.given_name.as_deref(), Some("Ann"));
    }

    #[test]
    fn a_record_without_a_sourced_id_does_not_read() {
        let missing = serde_json::from_value::<Org>(serde_json::json!({"name": "x"}));
        assert!(missing.unwrap_err().to_string().contains("sourcedId"));
        let blank = serde_json::from_value::<Org>(serde_json::json!({"sourcedId": " "}));
        assert!(
            blank
                .unwrap_err()
                .to_string()
                .contains("sourcedId is blank")
        );
    }
}
