//! RO-2 over REST: `POST /sync-sources/{sourceId}/bundles` — a district
//! brings its OneRoster CSV bundle (a `.zip`) by uploading it, streamed into
//! the client-streaming ImportOneRosterBundle RPC; the run is queued at once.

use axum::{
    Json,
    extract::{Multipart, Path, State, multipart::MultipartRejection, rejection::PathRejection},
    http::StatusCode,
};
use homeroom_proto::roster::v1::{self as pb, import_one_roster_bundle_request::Payload};

use super::{
    params::{BadRequest, Conflict, Forbidden, NotFound, Unauthenticated, optional_id, path_id},
    run_view::RunView,
    streamed_form::{self, StreamedForm, boolean, once},
};
use crate::{
    api::{caller::Caller, error::ApiError},
    app::AppState,
};

/// The largest bundle roster-svc takes.
const MAX_BUNDLE_BYTES: usize = 512 * 1024 * 1024;

/// The body limit of this route: the bundle and the form's few small parts.
pub const MAX_FORM_BYTES: usize = MAX_BUNDLE_BYTES + 64 * 1024;

/// 413 in the document.
#[derive(utoipa::IntoResponses)]
#[response(status = 413, description = "The bundle is larger than 512 MiB")]
pub struct TooLargeBundle(pub crate::api::error::ErrorBody);

/// The form, its parts in the order they are read: the options, then the
/// bundle.
#[derive(Debug, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleForm {
    /// RO-4: report only, change nothing.
    dry_run: Option<bool>,
    /// RO-3: apply even if the deactivation guard trips.
    force: Option<bool>,
    /// A retry with the same key imports nothing new and answers the first run.
    idempotency_key: Option<String>,
    /// The name shown in the run (default: the file part's name).
    filename: Option<String>,
    /// The OneRoster CSV bundle as a `.zip`, last. Streamed on, never held here.
    #[serde(rename = "file")]
    #[schema(value_type = String, format = Binary, content_media_type = "application/zip")]
    _file: (),
    #[serde(skip)]
    #[schema(ignore)]
    source_id: String,
}

impl BundleForm {
    /// The form of a bundle for source `source_id` (the path's).
    pub fn for_source(source_id: String) -> BundleForm {
        BundleForm {
            source_id,
            ..BundleForm::default()
        }
    }
}

/// `POST /api/v1/sync-sources/{sourceId}/bundles`: imports an uploaded
/// bundle into a ONEROSTER_CSV source; answers 202 with the queued run.
#[utoipa::path(
    post,
    operation_id = "import_oneroster_bundle",
    path = "/sync-sources/{sourceId}/bundles",
    tag = "sync",
    params(("sourceId" = String, Path, description = "A ONEROSTER_CSV source")),
    request_body(content = BundleForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Stored and queued; follow it at /sync-runs/{runId}", body = RunView),
        BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, TooLargeBundle,
    )
)]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    source_id: Result<Path<String>, PathRejection>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let source_id = path_id(source_id, "sourceId")?;
    let answer = streamed_form::send_with::<BundleForm, _, _>(
        BundleForm::for_source(source_id),
        form,
        |messages| {
            let mut roster = state.roster();
            let request = caller.request(messages);
            async move { roster.import_one_roster_bundle(request).await }
        },
    )
    .await?
    .into_inner();
    Ok((
        StatusCode::ACCEPTED,
        Json(answer.sync_run.unwrap_or_default().into()),
    ))
}

impl StreamedForm for BundleForm {
    type Options = pb::ImportOneRosterBundleOptions;
    type Message = pb::ImportOneRosterBundleRequest;
    const ORDER: &'static str = "the options (dryRun, force, idempotencyKey, filename) come first and the bundle's part, named file, last";
    const MAX_FILE_BYTES: usize = MAX_BUNDLE_BYTES;
    const TOO_LARGE: &'static str = "the bundle is larger than 512 MiB";

    fn read(&mut self, name: &str, value: &str) -> Result<(), ApiError> {
        let text = |slot: &mut Option<String>| {
            let v = optional_id(name, Some(value))?;
            once(name, slot, v)
        };
        let flag = |slot: &mut Option<bool>| once(name, slot, boolean(name, value)?);
        match name {
            "idempotencyKey" => text(&mut self.idempotency_key),
            "filename" => text(&mut self.filename),
            "dryRun" => flag(&mut self.dry_run),
            "force" => flag(&mut self.force),
            _ => Err(ApiError::bad_request(format!(
                "unknown part {name:?}; {}",
                Self::ORDER
            ))),
        }
    }

    fn into_options(
        self,
        given: Option<String>,
    ) -> Result<pb::ImportOneRosterBundleOptions, ApiError> {
        let filename = match self.filename.filter(|f| !f.is_empty()) {
            Some(f) => f,
            None => optional_id("file name", given.as_deref())?,
        };
        Ok(pb::ImportOneRosterBundleOptions {
            sync_source_id: self.source_id,
            dry_run: self.dry_run.unwrap_or_default(),
            force: self.force.unwrap_or_default(),
            filename,
            idempotency_key: self.idempotency_key.unwrap_or_default(),
        })
    }

    fn options_message(
        options: pb::ImportOneRosterBundleOptions,
    ) -> pb::ImportOneRosterBundleRequest {
        pb::ImportOneRosterBundleRequest {
            payload: Some(Payload::Options(options)),
        }
    }

    fn chunk_message(chunk: Vec<u8>) -> pb::ImportOneRosterBundleRequest {
        pb::ImportOneRosterBundleRequest {
            payload: Some(Payload::Chunk(chunk)),
        }
    }

    fn cut_message() -> pb::ImportOneRosterBundleRequest {
        Self::options_message(Default::default())
    }
}
