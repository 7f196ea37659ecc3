//! SIS Rostering → a OneRoster CSV source's bundle from the browser (RO-2,
//! RO-4): `POST /rostering/sources/{id}/bundles`, the zip streamed to
//! roster-svc's ImportOneRosterBundle as the REST route streams it (never
//! whole in memory), as a run or a dry run; then the run's page. A refused
//! upload shows the source's page with why. roster decides who may upload.

use axum::{
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use homeroom_proto::roster::v1 as rpb;

use super::{Signed, sync, text::Text};
use crate::{
    api::{
        cookies,
        error::ApiError,
        roster::{
            bundle_form::BundleForm,
            streamed_form::{self, StreamedForm},
        },
    },
    app::AppState,
};

/// The body limit of the upload form: the REST route's.
pub use crate::api::roster::bundle_form::MAX_FORM_BYTES;

/// The console's bundle form: the REST form's parts under the names the
/// page sends, its CSRF field first and the file last.
#[derive(Debug, Default)]
pub struct ConsoleBundle {
    /// The request's cookies, for the CSRF field.
    headers: HeaderMap,
    csrf_ok: bool,
    t: Option<&'static Text>,
    inner: BundleForm,
}

impl StreamedForm for ConsoleBundle {
    type Options = rpb::ImportOneRosterBundleOptions;
    type Message = rpb::ImportOneRosterBundleRequest;
    const ORDER: &'static str = "the form's fields come first and the bundle last";
    const MAX_FILE_BYTES: usize = <BundleForm as StreamedForm>::MAX_FILE_BYTES;
    const TOO_LARGE: &'static str = <BundleForm as StreamedForm>::TOO_LARGE;

    fn read(&mut self, name: &str, value: &str) -> Result<(), ApiError> {
        match name {
            "csrf" => {
                self.csrf_ok = cookies::csrf_field_ok(&self.headers, value);
                Ok(())
            }
            "dryRun" | "idempotencyKey" => self.inner.read(name, value),
            _ => Err(ApiError::bad_request(format!(
                "unknown field {name:?}; {}",
                Self::ORDER
            ))),
        }
    }

    fn into_options(
        self,
        given: Option<String>,
    ) -> Result<rpb::ImportOneRosterBundleOptions, ApiError> {
        let words = self.t.unwrap_or(&super::text::EN);
        if !self.csrf_ok {
            return Err(ApiError::new(
                tonic::Code::PermissionDenied,
                words.expired_form,
            ));
        }
        if given.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request(words.sync.no_bundle));
        }
        self.inner.into_options(given)
    }

    fn options_message(
        options: rpb::ImportOneRosterBundleOptions,
    ) -> rpb::ImportOneRosterBundleRequest {
        BundleForm::options_message(options)
    }

    fn chunk_message(chunk: Vec<u8>) -> rpb::ImportOneRosterBundleRequest {
        BundleForm::chunk_message(chunk)
    }

    fn cut_message() -> rpb::ImportOneRosterBundleRequest {
        BundleForm::cut_message()
    }
}

/// `POST /rostering/sources/{id}/bundles`: streams the bundle to roster-svc,
/// then the run's page; a refused upload shows the source's page with why.
pub async fn upload(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let t = super::language(&signed.headers);
    let initial = ConsoleBundle {
        headers: signed.headers.clone(),
        t: Some(t),
        inner: BundleForm::for_source(id.clone()),
        ..Default::default()
    };
    let sent = streamed_form::send_with(initial, form, |messages| {
        let mut roster = state.roster();
        let request = signed.caller.request(messages);
        async move { roster.import_one_roster_bundle(request).await }
    })
    .await;
    match sent {
        Ok(answer) => {
            let run = answer.into_inner().sync_run.unwrap_or_default();
            Redirect::to(&format!("/rostering/runs/{}", run.sync_run_id)).into_response()
        }
        Err(e) => {
            let text = match e.status.as_u16() {
                403 if e.message == t.expired_form => t.expired_form.to_owned(),
                403 => t.sync.bundle_forbidden.to_owned(),
                // Not a source the caller may see: its page says so.
                404 => return sync::refused(&signed, &e),
                400 | 409 | 413 => super::for_people(&e.message),
                _ => t.unavailable.to_owned(),
            };
            sync::source_page(&state, &signed, id, None, Some(text), e.status).await
        }
    }
}
