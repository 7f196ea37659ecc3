//! What the audience pickers offer and what picked ids are called: the
//! district's schools, classes and students and its people, searched with
//! the sender's token (roster and identity show what the sender may see),
//! and the languages the district writes in.

use homeroom_proto::{identity::v1 as idpb, roster::v1 as rpb};

use super::form::ComposeForm;
use crate::{
    api::{
        accounts::{self, AccountsQuery},
        caller::Caller,
        directory::{self, DirectoryQuery},
        error::ApiError,
    },
    app::AppState,
    console::text::Text,
};

/// How many search results a picker lists.
const RESULTS: i32 = 25;

/// One thing a sender may tick.
pub struct Choice {
    pub id: String,
    pub label: String,
    /// Words that tell two alike apart (a class's code and teachers, a
    /// student's grade, an account's kind and email).
    pub detail: String,
    pub checked: bool,
}

/// What the compose form offers.
pub struct Pickers {
    pub schools: Vec<Choice>,
    /// The picked classes first, then the search's.
    pub classes: Vec<Choice>,
    pub students: Vec<Choice>,
    pub accounts: Vec<Choice>,
    /// The languages the district writes in besides English: (code, name).
    pub languages: Vec<(String, String)>,
}

/// The pickers of `f`: its picks, named, and its searches' results.
pub async fn pickers(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    t: &Text,
    f: &ComposeForm,
) -> Pickers {
    let (schools, languages, classes, students, accounts) = tokio::join!(
        crate::console::roles::schools(state, caller, district_id),
        offered_languages(state, caller, district_id),
        class_choices(state, caller, district_id, t, f),
        student_choices(state, caller, district_id, t, f),
        account_choices(state, caller, district_id, t, f),
    );
    Pickers {
        schools: schools
            .into_iter()
            .map(|(id, name)| Choice {
                checked: f.schools.contains(&id),
                id,
                label: name,
                detail: String::new(),
            })
            .collect(),
        languages: languages
            .into_iter()
            .map(|code| {
                let name = language_name(t, &code);
                (code, name)
            })
            .collect(),
        classes,
        students,
        accounts,
    }
}

/// The picked ones first (ticked), then the others found.
fn merge(picked: Vec<Choice>, found: impl Iterator<Item = Choice>) -> Vec<Choice> {
    let mut all = picked;
    for choice in found {
        if !all.iter().any(|p| p.id == choice.id) {
            all.push(choice);
        }
    }
    all
}

/// A picked id nobody could name (gone, or out of the sender's sight).
fn unnamed(t: &Text, id: &str) -> Choice {
    Choice {
        id: id.to_owned(),
        label: id.to_owned(),
        detail: t.messages.not_found_pick.to_owned(),
        checked: true,
    }
}

/// The languages the district writes messages in besides English (Spanish
/// for a district that lists only English).
pub async fn offered_languages(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
) -> Vec<String> {
    let district = state
        .roster()
        .get_district(caller.request(rpb::GetDistrictRequest {
            district_id: district_id.to_owned(),
        }))
        .await
        .ok()
        .and_then(|d| d.into_inner().district);
    let codes: Vec<String> = district
        .and_then(|d| d.settings)
        .map(|s| s.supported_languages)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let mut offered: Vec<String> = Vec::new();
    for code in codes {
        if super::form::language_code(&code) && primary(&code) != "en" && !offered.contains(&code) {
            offered.push(code);
        }
    }
    // A district that lists only English (every district lists English)
    // is still offered Spanish, the other language the product writes in.
    if offered.is_empty() {
        offered.push("es".into());
    }
    offered
}

/// `es` of `es-MX`; English for an account that never chose.
pub fn primary(code: &str) -> String {
    let first = code.trim().split(['-', '_']).next().unwrap_or_default();
    if first.is_empty() {
        "en".to_owned()
    } else {
        first.to_ascii_lowercase()
    }
}

/// A language's name in the page's language, or its code.
pub fn language_name(t: &Text, code: &str) -> String {
    match t.rostering.language_name(&primary(code)) {
        "" => code.to_owned(),
        name => name.to_owned(),
    }
}

/// "Kindergarten", "Grade 3".
pub fn grade_words(t: &Text, grade: &str) -> String {
    let m = t.messages;
    match grade {
        "" => String::new(),
        "PK" => m.grade_pk.to_owned(),
        "KG" => m.grade_kg.to_owned(),
        number => m
            .grade_n
            .replace("{n}", number.trim_start_matches('0').trim()),
    }
}

fn class_choice(c: rpb::Class) -> Choice {
    let mut detail: Vec<String> = Vec::new();
    if !c.class_code.is_empty() {
        detail.push(c.class_code.clone());
    }
    detail.extend(c.teacher_names.iter().cloned());
    Choice {
        id: c.class_id,
        label: c.title,
        detail: detail.join(" · "),
        checked: false,
    }
}

async fn class_choices(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    t: &Text,
    f: &ComposeForm,
) -> Vec<Choice> {
    let mut roster = state.roster();
    let search = roster.list_classes(caller.request(rpb::ListClassesRequest {
        district_id: district_id.to_owned(),
        query: f.q.trim().chars().take(200).collect(),
        page_size: RESULTS,
        ..Default::default()
    }));
    let (found, picked) = tokio::join!(search, class_labels(state, caller, t, &f.classes));
    let found = found.map(|a| a.into_inner().classes).unwrap_or_default();
    merge(picked, found.into_iter().map(class_choice))
}

/// The picked classes, named.
pub async fn class_labels(
    state: &AppState,
    caller: &Caller,
    t: &Text,
    ids: &[String],
) -> Vec<Choice> {
    let look = |id: &String| {
        let mut roster = state.roster();
        let request = caller.request(rpb::GetClassRequest {
            class_id: id.clone(),
        });
        async move { roster.get_class(request).await.ok()?.into_inner().class }
    };
    labelled(t, ids, look, |_, c| Choice {
        checked: true,
        ..class_choice(c)
    })
    .await
}

/// Each picked id as a checked choice: named by `look` when the reader may
/// see it, else "unnamed". The lookups go out together.
async fn labelled<T, Fut>(
    t: &Text,
    ids: &[String],
    look: impl Fn(&String) -> Fut,
    choice: impl Fn(&String, T) -> Choice,
) -> Vec<Choice>
where
    Fut: std::future::Future<Output = Option<T>>,
{
    let looked = futures::future::join_all(ids.iter().map(look)).await;
    ids.iter()
        .zip(looked)
        .map(|(id, found)| match found {
            Some(found) => choice(id, found),
            None => unnamed(t, id),
        })
        .collect()
}

async fn student_choices(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    t: &Text,
    f: &ComposeForm,
) -> Vec<Choice> {
    let search = async {
        if f.student_q.trim().is_empty() {
            return Vec::new();
        }
        let query = DirectoryQuery {
            district_id: district_id.to_owned(),
            q: f.student_q.clone(),
            page_size: Some(RESULTS),
            ..Default::default()
        };
        directory::students_page(state, caller, &query)
            .await
            .map(|page| page.students)
            .unwrap_or_default()
    };
    let (found, picked) = tokio::join!(search, student_labels(state, caller, t, &f.students));
    merge(
        picked,
        found.into_iter().map(|s| Choice {
            detail: grade_words(t, &s.grade),
            id: s.student_id,
            label: s.display_name,
            checked: false,
        }),
    )
}

/// The picked students, named.
pub async fn student_labels(
    state: &AppState,
    caller: &Caller,
    t: &Text,
    ids: &[String],
) -> Vec<Choice> {
    let look = |id: &String| {
        let mut roster = state.roster();
        let request = caller.request(rpb::GetStudentRequest {
            student_id: id.clone(),
        });
        async move { roster.get_student(request).await.ok()?.into_inner().student }
    };
    labelled(t, ids, look, |id, s| Choice {
        id: id.clone(),
        detail: grade_words(t, &s.grade),
        label: s.display_name,
        checked: true,
    })
    .await
}

fn account_choice(t: &Text, a: idpb::Account) -> Choice {
    let mut detail = crate::console::kind_and_roles(t, a.kind(), a.roles.iter().map(|r| r.role()));
    detail.extend(a.credentials.first().map(|c| c.value.clone()));
    Choice {
        id: a.account_id,
        label: a.display_name,
        detail: detail.join(" · "),
        checked: false,
    }
}

async fn account_choices(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    t: &Text,
    f: &ComposeForm,
) -> Vec<Choice> {
    let search = async {
        if f.account_q.trim().is_empty() {
            return Vec::new();
        }
        let query = AccountsQuery {
            district_id: district_id.to_owned(),
            q: f.account_q.clone(),
            statuses: "active,invitee".into(),
            page_size: Some(RESULTS),
            ..Default::default()
        };
        accounts::search(state, caller, &query)
            .await
            .map(|found| found.page.accounts)
            .unwrap_or_default()
    };
    let (found, picked) = tokio::join!(
        search,
        account_labels(state, caller, district_id, t, &f.accounts)
    );
    merge(picked, found.into_iter().map(|a| account_choice(t, a)))
}

/// The picked accounts, named.
pub async fn account_labels(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    t: &Text,
    ids: &[String],
) -> Vec<Choice> {
    let mut found = account_list(state, caller, district_id, ids)
        .await
        .unwrap_or_default();
    ids.iter()
        .map(|id| match found.iter().position(|a| &a.account_id == id) {
            Some(i) => Choice {
                checked: true,
                ..account_choice(t, found.swap_remove(i))
            },
            None => unnamed(t, id),
        })
        .collect()
}

/// The accounts of `ids` the caller may list, in identity's order.
pub async fn account_list(
    state: &AppState,
    caller: &Caller,
    district_id: &str,
    ids: &[String],
) -> Result<Vec<idpb::Account>, ApiError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let page = state
            .identity()
            .list_accounts(caller.request(idpb::ListAccountsRequest {
                district_id: district_id.to_owned(),
                account_ids: chunk.to_vec(),
                page_size: 500,
                ..Default::default()
            }))
            .await?
            .into_inner();
        out.extend(page.accounts);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{grade_words, language_name, primary};
    use crate::console::text::{EN, ES};

    #[test]
    fn grades_and_languages_read_as_words() {
        assert_eq!(grade_words(&EN, "KG"), "Kindergarten");
        assert_eq!(grade_words(&EN, "03"), "Grade 3");
        assert_eq!(grade_words(&ES, "10"), "Grado 10");
        assert_eq!(primary("es-MX"), "es");
        assert_eq!(primary(""), "en");
        assert_eq!(language_name(&EN, ""), "English");
        assert_eq!(language_name(&ES, "es"), "Español");
        assert_eq!(language_name(&EN, "vi"), "vi");
    }
}
