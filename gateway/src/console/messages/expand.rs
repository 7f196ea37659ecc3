//! What an audience comes to before it is sent: the students of the picked
//! grades (the audience names students, not grades), and the languages of
//! its accounts, counted from roster's resolution of it (as messaging will
//! resolve it) and identity's accounts.

use std::collections::{BTreeMap, BTreeSet};

use homeroom_proto::{messaging::v1 as mpb, roster::v1 as rpb};

use super::audience::{account_list, primary};
use crate::{
    api::{caller::Caller, error::ApiError},
    app::AppState,
    console::text::Text,
};

/// The most accounts whose languages a preview counts.
const LANGUAGE_SAMPLE: usize = 1_000;
/// The most students the picked grades may add.
const MAX_GRADE_STUDENTS: usize = 10_000;

/// The students of the picked grades, across the district.
pub async fn grade_students(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    t: &Text,
    grades: &[String],
) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    for grade in grades {
        let mut page_token = String::new();
        loop {
            let page = state
                .roster()
                .list_students(caller.request(rpb::ListStudentsRequest {
                    district_id: district_id.to_owned(),
                    grade: grade.clone(),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                    ..Default::default()
                }))
                .await?
                .into_inner();
            ids.extend(page.students.into_iter().map(|s| s.student_id));
            if ids.len() > MAX_GRADE_STUDENTS {
                return Err(ApiError::bad_request(Text::with_n(
                    t.messages.grade_too_large,
                    MAX_GRADE_STUDENTS as u64,
                )));
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    Ok(ids)
}

/// The languages of an audience's accounts, most first.
pub struct Languages {
    /// (language code, accounts).
    pub counts: Vec<(String, u64)>,
    /// Only the first [`LANGUAGE_SAMPLE`] accounts were counted.
    pub sampled: bool,
}

/// Counts the audience's languages: roster resolves it to accounts (as
/// messaging will), identity says each one's language.
pub async fn languages(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    audience: &mpb::Audience,
) -> Result<Languages, ApiError> {
    let mut ids: BTreeSet<String> = audience.account_ids.iter().cloned().collect();
    let mut sampled = false;
    let named = audience.whole_district
        || !audience.school_ids.is_empty()
        || !audience.class_ids.is_empty()
        || !audience.student_ids.is_empty();
    if named {
        let mut stream = state
            .roster()
            .resolve_audience(caller.request(rpb::ResolveAudienceRequest {
                district_id: district_id.to_owned(),
                student_ids: audience.student_ids.clone(),
                class_ids: audience.class_ids.clone(),
                school_ids: audience.school_ids.clone(),
                whole_district: audience.whole_district,
                // roster's enums are copies of messaging's: the same numbers.
                roles: audience.roles.clone(),
                scope: None,
                guardian_contacts: audience.guardian_contacts,
            }))
            .await?
            .into_inner();
        'read: while let Some(batch) = stream.message().await? {
            for member in batch.members {
                if ids.len() >= LANGUAGE_SAMPLE {
                    sampled = true;
                    break 'read;
                }
                ids.insert(member.account_id);
            }
        }
    }
    let ids: Vec<String> = ids.into_iter().collect();
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for account in account_list(state, caller, district_id, &ids).await? {
        *counted
            .entry(primary(&account.preferred_language))
            .or_default() += 1;
    }
    let mut counts: Vec<(String, u64)> = counted.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Languages { counts, sampled })
}
