//! Clever Data API v3.0 JSON, as `serde` reads it: only the fields the roster
//! uses, every one but `id` optional, `null` lists read as empty.

use serde::Deserialize;

use super::super::bundle::nullable;

/// `/districts` record.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct District {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// `/schools` record.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct School {
    pub id: String,
    #[serde(default)]
    pub district: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub school_number: Option<String>,
}

/// `/terms` record.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Term {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
}

/// `/courses` record.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Course {
    pub id: String,
    #[serde(default)]
    pub district: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
}

/// `/sections` record.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Section {
    pub id: String,
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default)]
    pub course: Option<String>,
    #[serde(default)]
    pub term_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub section_number: Option<String>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub teacher: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub teachers: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub students: Vec<String>,
}

/// `/users` record.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct User {
    pub id: String,
    #[serde(default)]
    pub district: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub name: Name,
    #[serde(default, deserialize_with = "nullable")]
    pub roles: Roles,
}

/// `name`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Name {
    #[serde(default)]
    pub first: Option<String>,
    #[serde(default)]
    pub middle: Option<String>,
    #[serde(default)]
    pub last: Option<String>,
}

/// `roles`: a user may hold several.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Roles {
    #[serde(default)]
    pub student: Option<Student>,
    #[serde(default)]
    pub teacher: Option<Teacher>,
    #[serde(default)]
    pub staff: Option<Staff>,
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// `credentials`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Credentials {
    #[serde(default)]
    pub district_username: Option<String>,
}

/// `roles.student`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Student {
    /// v3.1: the name the student goes by (a string, or a name object).
    #[serde(default)]
    pub preferred_name: Option<serde_json::Value>,
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub schools: Vec<String>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub student_number: Option<String>,
    #[serde(default)]
    pub sis_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub credentials: Credentials,
}

/// `roles.teacher`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Teacher {
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub schools: Vec<String>,
    #[serde(default)]
    pub teacher_number: Option<String>,
    #[serde(default)]
    pub sis_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub credentials: Credentials,
}

/// `roles.staff`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Staff {
    #[serde(default, deserialize_with = "nullable")]
    pub schools: Vec<String>,
    #[serde(default)]
    pub staff_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub credentials: Credentials,
}

/// `roles.contact`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Contact {
    #[serde(default)]
    pub sis_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub phone_type: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub student_relationships: Vec<StudentRelationship>,
}

/// `roles.contact.student_relationships[]`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct StudentRelationship {
    #[serde(default)]
    pub student: Option<String>,
    #[serde(default)]
    pub relationship: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `/events` record: `data.object` is the whole record; `previous_attributes`
/// sits beside `data` (swagger) or inside it (older docs).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub data: EventData,
    #[serde(default)]
    pub previous_attributes: Option<serde_json::Value>,
}

/// An event's `data`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct EventData {
    #[serde(default)]
    pub object: Option<serde_json::Value>,
    #[serde(default)]
    pub previous_attributes: Option<serde_json::Value>,
}

/// `links[]`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Link {
    #[serde(default)]
    pub rel: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
}
