//! SIS Rostering → Upload Guardians (seed 001, RO-7): the context (the
//! district or one of its schools), the file format with the eight headers,
//! a template and the language codes, the upload itself (Dry Run, Abandon
//! with its confirmation, Start Processing) streamed to roster-svc as the
//! REST route streams it, the status that refreshes itself while the file is
//! processed, the result with its rows (errors first) and the Excel file,
//! and the history of earlier uploads. roster decides who may upload where.

use axum::{
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::roster::v1 as rpb;

use super::{Chrome, MessagePage, Signed, render, text::Text, when};
use crate::{
    api::{
        cookies,
        error::ApiError,
        roster::{
            streamed_form::{self, StreamedForm},
            upload_form::{MAX_UPLOAD_BYTES, UploadForm},
        },
    },
    app::AppState,
};

/// The body limit of the upload form: the REST route's.
pub const MAX_FORM_BYTES: usize = MAX_UPLOAD_BYTES;

/// The header row of the template, with one example row.
const TEMPLATE: &str = "student_code,parent_code,first_name,last_name,email,phone,home_phone,language\r\n\
                        S-1001,P-2001,Maria,Lopez,maria.lopez@example.com,(555) 010-0100,,es\r\n";

#[derive(askama::Template)]
#[template(path = "rostering.html")]
struct IndexPage {
    chrome: Chrome,
}

/// `GET /rostering`: what there is to do.
pub async fn index(signed: Signed) -> Response {
    render(
        StatusCode::OK,
        IndexPage {
            chrome: signed.chrome("rostering"),
        },
    )
}

/// An earlier upload, for the history.
struct HistoryRow {
    upload_id: String,
    filename: String,
    when: String,
    status: String,
    dry_run: bool,
    summary: String,
}

#[derive(askama::Template)]
#[template(path = "upload_guardians.html")]
struct UploadPage {
    chrome: Chrome,
    csrf: String,
    /// (value, name): the district, then its schools.
    contexts: Vec<(String, String)>,
    /// The language codes the district takes, with their names.
    languages: Vec<(String, &'static str)>,
    headers: Vec<(&'static str, &'static str)>,
    /// A fresh key per rendering: a form sent twice uploads once.
    idempotency_key: String,
    history: Vec<HistoryRow>,
    error: Option<String>,
}

/// The words for an upload's status.
fn status_words(t: &Text, status: rpb::GuardianUploadStatus) -> String {
    let r = t.rostering;
    match status {
        rpb::GuardianUploadStatus::Queued | rpb::GuardianUploadStatus::InProgress => {
            r.in_progress.to_owned()
        }
        rpb::GuardianUploadStatus::Completed => r.completed.to_owned(),
        rpb::GuardianUploadStatus::Failed => r.failed.to_owned(),
        rpb::GuardianUploadStatus::Unspecified => "—".to_owned(),
    }
}

/// "12 succeeded, 1 failed".
fn summary(t: &Text, u: &rpb::GuardianUpload) -> String {
    let c = u.counts.unwrap_or_default();
    t.rostering
        .summary
        .replace("{ok}", &c.rows_succeeded.to_string())
        .replace("{failed}", &c.rows_failed.to_string())
}

async fn upload_page(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let district_id = signed.district_id();
    let (mut roster, mut districts) = (state.roster(), state.roster());
    let (schools, district, history) = tokio::join!(
        super::roles::schools(state, &signed.caller, &district_id),
        districts.get_district(signed.caller.request(rpb::GetDistrictRequest {
            district_id: district_id.clone(),
        })),
        roster.list_guardian_uploads(signed.caller.request(rpb::ListGuardianUploadsRequest {
            district_id: district_id.clone(),
            page_size: 20,
            ..Default::default()
        })),
    );
    let district = district.ok().and_then(|d| d.into_inner().district);
    let mut contexts = vec![(
        String::new(),
        district
            .as_ref()
            .map_or_else(|| t.staff.whole_district.to_owned(), |d| d.name.clone()),
    )];
    contexts.extend(schools);
    let mut codes: Vec<String> = district
        .and_then(|d| d.settings)
        .map(|s| s.supported_languages)
        .unwrap_or_default()
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
    if codes.is_empty() {
        codes = vec!["en".into(), "es".into()];
    }
    let history = history
        .map(|h| {
            h.into_inner()
                .uploads
                .into_iter()
                .map(|u| HistoryRow {
                    when: when(
                        u.created_at
                            .as_ref()
                            .and_then(crate::api::json::timestamp)
                            .as_deref(),
                    ),
                    status: status_words(t, u.status()),
                    summary: summary(t, &u),
                    dry_run: u.dry_run,
                    filename: u.filename,
                    upload_id: u.upload_id,
                })
                .collect()
        })
        .unwrap_or_default();
    render(
        status,
        UploadPage {
            languages: codes
                .into_iter()
                .map(|c| {
                    let name = t.rostering.language_name(&c);
                    (c, name)
                })
                .collect(),
            headers: t.rostering.headers.to_vec(),
            idempotency_key: cookies::random_token(),
            csrf: signed.csrf.clone(),
            contexts,
            history,
            error,
            chrome,
        },
    )
}

/// `GET /rostering/upload-guardians`: the form, the format and the history.
pub async fn form(State(state): State<AppState>, signed: Signed) -> Response {
    upload_page(&state, &signed, StatusCode::OK, None).await
}

/// `GET /rostering/upload-guardians/template.csv`: the headers and an example.
pub async fn template(_signed: Signed) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"guardians-template.csv\"",
            ),
        ],
        TEMPLATE,
    )
        .into_response()
}

/// The console's upload form: the REST form's parts under the names a page
/// sends, its CSRF field first and the file last (browsers send the parts
/// in the page's order).
#[derive(Debug, Default)]
pub struct ConsoleUpload {
    /// The request's cookies, for the CSRF field.
    headers: HeaderMap,
    district_id: String,
    csrf_ok: bool,
    abandon: bool,
    abandon_confirmed: bool,
    t: Option<&'static Text>,
    inner: UploadForm,
}

impl StreamedForm for ConsoleUpload {
    type Options = rpb::UploadGuardiansOptions;
    type Message = rpb::UploadGuardiansRequest;
    const ORDER: &'static str = "the form's fields come first and the file last";
    const MAX_FILE_BYTES: usize = UploadForm::MAX_FILE_BYTES;
    const TOO_LARGE: &'static str = UploadForm::TOO_LARGE;

    fn read(&mut self, name: &str, value: &str) -> Result<(), ApiError> {
        match name {
            "csrf" => {
                self.csrf_ok = cookies::csrf_field_ok(&self.headers, value);
                Ok(())
            }
            "context" if value.trim().is_empty() => {
                let district = self.district_id.clone();
                self.inner.read("districtId", &district)
            }
            "context" => self.inner.read("schoolId", value),
            "dryRun" | "idempotencyKey" => self.inner.read(name, value),
            "abandon" => {
                self.abandon = streamed_form::boolean(name, value)?;
                self.inner.read(name, value)
            }
            "confirmAbandon" => {
                self.abandon_confirmed = streamed_form::boolean(name, value)?;
                Ok(())
            }
            _ => Err(ApiError::bad_request(format!(
                "unknown field {name:?}; {}",
                Self::ORDER
            ))),
        }
    }

    fn into_options(self, given: Option<String>) -> Result<rpb::UploadGuardiansOptions, ApiError> {
        let words = self.t.unwrap_or(&super::text::EN);
        if !self.csrf_ok {
            return Err(ApiError::new(
                tonic::Code::PermissionDenied,
                words.expired_form,
            ));
        }
        if self.abandon && !self.abandon_confirmed {
            return Err(ApiError::bad_request(words.rostering.abandon_unconfirmed));
        }
        if given.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request(words.rostering.no_file));
        }
        self.inner.into_options(given)
    }

    fn options_message(options: rpb::UploadGuardiansOptions) -> rpb::UploadGuardiansRequest {
        UploadForm::options_message(options)
    }

    fn chunk_message(chunk: Vec<u8>) -> rpb::UploadGuardiansRequest {
        UploadForm::chunk_message(chunk)
    }

    fn cut_message() -> rpb::UploadGuardiansRequest {
        UploadForm::cut_message()
    }
}

/// `POST /rostering/upload-guardians`: streams the file to roster-svc, then
/// the upload's page; a refused form shows the form again with why.
pub async fn upload(
    State(state): State<AppState>,
    signed: Signed,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let t = super::language(&signed.headers);
    let initial = ConsoleUpload {
        headers: signed.headers.clone(),
        district_id: signed.district_id(),
        t: Some(t),
        ..Default::default()
    };
    let sent = streamed_form::send_with(initial, form, |messages| {
        let mut roster = state.roster();
        let request = signed.caller.request(messages);
        async move { roster.upload_guardians(request).await }
    })
    .await;
    match sent {
        Ok(answer) => Redirect::to(&format!(
            "/rostering/uploads/{}",
            answer.into_inner().upload_id
        ))
        .into_response(),
        Err(e) => {
            let text = match e.status.as_u16() {
                403 if e.message == t.expired_form => t.expired_form.to_owned(),
                403 => t.rostering.upload_forbidden.to_owned(),
                400 | 409 | 413 => super::for_people(&e.message),
                _ => t.unavailable.to_owned(),
            };
            upload_page(&state, &signed, e.status, Some(text)).await
        }
    }
}

/// An upload that cannot be shown (not found, not allowed, unavailable).
fn not_shown(signed: &Signed, e: &ApiError) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let (status, text) = match e.status.as_u16() {
        403 | 404 => (StatusCode::NOT_FOUND, t.rostering.no_such_upload.to_owned()),
        400 => (e.status, super::for_people(&e.message)),
        _ => (e.status, t.unavailable.to_owned()),
    };
    render(
        status,
        MessagePage {
            chrome,
            title: t.rostering.upload_guardians.into(),
            text,
            tone: "bad",
            link: "/rostering/upload-guardians".into(),
            link_text: t.rostering.upload_guardians.into(),
        },
    )
}

/// A result row as the table shows it.
struct RowView {
    line: u64,
    student_code: String,
    name: String,
    contact: String,
    result: String,
    action: String,
    error: String,
}

#[derive(askama::Template)]
#[template(path = "upload.html")]
struct StatusPage {
    chrome: Chrome,
    upload_id: String,
    filename: String,
    dry_run: bool,
    abandon: bool,
    /// Queued or in progress: the page refreshes itself.
    running: bool,
    status: String,
    /// "1,200 of 3,400 rows".
    progress: String,
    failure: String,
    counts: Vec<(&'static str, u64)>,
    rows: Vec<RowView>,
    /// How many rows the table leaves out (the files have them all).
    more_rows: u64,
    completed: bool,
}

const SHOWN_ROWS: i32 = 200;

fn row_view(t: &Text, r: rpb::GuardianUploadRow) -> RowView {
    let contact = [r.email.as_str(), r.phone.as_str()]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    RowView {
        line: r.line_number,
        name: format!("{} {}", r.first_name, r.last_name)
            .trim()
            .to_owned(),
        result: t
            .staff
            .enum_name(r.result().as_str_name(), "UPLOAD_ROW_RESULT_"),
        action: if r.action == 0 {
            String::new()
        } else {
            r.action()
                .as_str_name()
                .trim_start_matches("RECORD_ACTION_")
                .to_owned()
        },
        student_code: r.student_code,
        contact,
        error: r.error,
    }
}

/// `GET /rostering/uploads/{id}`: status while it runs, then the result.
pub async fn status(
    State(state): State<AppState>,
    signed: Signed,
    Path(upload_id): Path<String>,
) -> Response {
    let chrome = signed.chrome("rostering");
    let t = chrome.t;
    let mut roster = state.roster();
    let upload = match roster
        .get_guardian_upload(signed.caller.request(rpb::GetGuardianUploadRequest {
            upload_id: upload_id.clone(),
        }))
        .await
    {
        Ok(a) => a.into_inner().upload.unwrap_or_default(),
        Err(e) => return not_shown(&signed, &ApiError::from(e)),
    };
    let status = upload.status();
    let running = matches!(
        status,
        rpb::GuardianUploadStatus::Queued | rpb::GuardianUploadStatus::InProgress
    );
    let completed = status == rpb::GuardianUploadStatus::Completed;
    let mut rows = Vec::new();
    let mut shown = 0u64;
    let c = upload.counts.unwrap_or_default();
    if completed {
        // Errors first, then the rows that went through.
        for result in [rpb::UploadRowResult::Error, rpb::UploadRowResult::Success] {
            let room = SHOWN_ROWS - i32::try_from(rows.len()).unwrap_or(SHOWN_ROWS);
            if room <= 0 {
                break;
            }
            let page = roster
                .list_guardian_upload_rows(signed.caller.request(
                    rpb::ListGuardianUploadRowsRequest {
                        upload_id: upload_id.clone(),
                        result: result as i32,
                        page_size: room,
                        ..Default::default()
                    },
                ))
                .await;
            if let Ok(page) = page {
                rows.extend(page.into_inner().rows.into_iter().map(|r| row_view(t, r)));
            }
        }
        shown = rows.len() as u64;
    }
    let r = t.rostering;
    let page = StatusPage {
        progress: if upload.rows_total > 0 {
            r.progress
                .replace("{done}", &upload.rows_done.to_string())
                .replace("{total}", &upload.rows_total.to_string())
        } else {
            String::new()
        },
        status: status_words(t, status),
        counts: vec![
            (r.count_succeeded, c.rows_succeeded),
            (r.count_failed, c.rows_failed),
            (r.count_created, c.created),
            (r.count_updated, c.updated),
            (r.count_unchanged, c.unchanged),
            (r.count_abandoned, c.links_abandoned),
            (r.count_invited, c.invitations_sent),
        ],
        more_rows: (c.rows_succeeded + c.rows_failed).saturating_sub(shown),
        failure: upload.failure_message,
        filename: upload.filename,
        dry_run: upload.dry_run,
        abandon: upload.abandon,
        upload_id,
        running,
        completed,
        rows,
        chrome,
    };
    render(StatusCode::OK, page)
}
