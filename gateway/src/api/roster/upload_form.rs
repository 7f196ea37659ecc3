//! RO-7 over REST: `POST /guardian-uploads` as `multipart/form-data` — the
//! option parts first, then the `file` part, which is streamed chunk by chunk
//! into the client-streaming UploadGuardians RPC (never the whole file in
//! memory).

use axum::{
    Json,
    extract::{Multipart, State, multipart::MultipartRejection},
    http::StatusCode,
};
use homeroom_proto::roster::v1::{
    self as pb, upload_guardians_options::Scope, upload_guardians_request::Payload,
};

use super::{
    params::{BadRequest, Conflict, Forbidden, Unauthenticated, optional_id},
    streamed_form::{self, StreamedForm, boolean, once},
    upload_view::{UploadAccepted, UploadView},
};
use crate::{
    api::{
        caller::Caller,
        error::{ApiError, ErrorBody},
    },
    app::AppState,
};

/// The largest file roster-svc takes.
const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// The body limit of this route: the file and the form's few small parts.
pub const MAX_UPLOAD_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;

/// The form, its parts in the order they are read: the options, then the
/// file. While the form is read, it holds the options read so far.
#[derive(Debug, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadForm {
    /// The district whose guardian list the file is (or `schoolId`).
    district_id: Option<String>,
    /// The school whose guardian list the file is (or `districtId`).
    school_id: Option<String>,
    /// RO-4: the full result and no change at all.
    dry_run: Option<bool>,
    /// The file is the whole guardian list of its scope: guardians it no
    /// longer lists are disconnected from those students.
    abandon: Option<bool>,
    /// With abandon: apply even if the deactivation guard trips.
    force: Option<bool>,
    /// A retry with the same key stores nothing new and answers the first upload.
    idempotency_key: Option<String>,
    /// The name shown in history and given to the result file (default: the
    /// file part's name).
    filename: Option<String>,
    /// The CSV, last: headers `student_code, parent_code, first_name,
    /// last_name, email, phone, home_phone, language`. Streamed on, never
    /// held here.
    #[serde(rename = "file")]
    #[schema(value_type = String, format = Binary, content_media_type = "text/csv")]
    _file: (),
}

/// 413 in the document.
#[derive(utoipa::IntoResponses)]
#[response(status = 413, description = "The file is larger than 50 MB")]
pub struct TooLarge(pub ErrorBody);

/// `POST /api/v1/guardian-uploads`: stores the file and queues it; answers
/// 202 at once with the upload id and status (a wrong header fails the
/// upload, and its `failureMessage` names the expected headers).
#[utoipa::path(
    post,
    operation_id = "upload_guardians",
    path = "/guardian-uploads",
    tag = "uploads",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Stored and queued; follow it at /guardian-uploads/{uploadId}", body = UploadAccepted),
        BadRequest, Unauthenticated, Forbidden, Conflict, TooLarge,
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<UploadAccepted>), ApiError> {
    let answer = streamed_form::send::<UploadForm, _, _>(form, |messages| {
        let mut roster = state.roster();
        let request = caller.request(messages);
        async move { roster.upload_guardians(request).await }
    })
    .await?
    .into_inner();
    let upload = UploadView::from(answer.upload.unwrap_or_default());
    Ok((
        StatusCode::ACCEPTED,
        Json(UploadAccepted {
            upload_id: answer.upload_id,
            status: upload.status,
            upload,
        }),
    ))
}

impl StreamedForm for UploadForm {
    type Options = pb::UploadGuardiansOptions;
    type Message = pb::UploadGuardiansRequest;
    const ORDER: &'static str = "the options (districtId or schoolId, dryRun, abandon, force, idempotencyKey, filename) come first and the file part, named file, last";
    const MAX_FILE_BYTES: usize = MAX_FILE_BYTES;
    const TOO_LARGE: &'static str = "the file is larger than 50 MB; split it into smaller files";

    fn read(&mut self, name: &str, value: &str) -> Result<(), ApiError> {
        let text = |slot: &mut Option<String>| {
            let v = optional_id(name, Some(value))?;
            once(name, slot, v)
        };
        let flag = |slot: &mut Option<bool>| once(name, slot, boolean(name, value)?);
        match name {
            "districtId" => text(&mut self.district_id),
            "schoolId" => text(&mut self.school_id),
            "idempotencyKey" => text(&mut self.idempotency_key),
            "filename" => text(&mut self.filename),
            "dryRun" => flag(&mut self.dry_run),
            "abandon" => flag(&mut self.abandon),
            "force" => flag(&mut self.force),
            _ => Err(ApiError::bad_request(format!(
                "unknown part {name:?}; {}",
                Self::ORDER
            ))),
        }
    }

    fn into_options(self, given: Option<String>) -> Result<pb::UploadGuardiansOptions, ApiError> {
        let scope = match (self.district_id, self.school_id) {
            (Some(d), None) if !d.is_empty() => Scope::DistrictId(d),
            (None, Some(s)) if !s.is_empty() => Scope::SchoolId(s),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "districtId or schoolId: give exactly one before the file part; {}",
                    Self::ORDER
                )));
            }
        };
        let filename = match self.filename.filter(|f| !f.is_empty()) {
            Some(f) => f,
            None => optional_id("file name", given.as_deref())?,
        };
        Ok(pb::UploadGuardiansOptions {
            scope: Some(scope),
            dry_run: self.dry_run.unwrap_or_default(),
            abandon: self.abandon.unwrap_or_default(),
            force: self.force.unwrap_or_default(),
            filename,
            idempotency_key: self.idempotency_key.unwrap_or_default(),
        })
    }

    fn options_message(options: pb::UploadGuardiansOptions) -> pb::UploadGuardiansRequest {
        pb::UploadGuardiansRequest {
            payload: Some(Payload::Options(options)),
        }
    }

    fn chunk_message(chunk: Vec<u8>) -> pb::UploadGuardiansRequest {
        pb::UploadGuardiansRequest {
            payload: Some(Payload::Chunk(chunk)),
        }
    }

    fn cut_message() -> pb::UploadGuardiansRequest {
        Self::options_message(Default::default())
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use tokio::sync::mpsc;

    use super::*;
    use crate::api::roster::streamed_form::{Feed, Outgoing};

    #[test]
    fn exactly_one_scope_is_needed() {
        let both = UploadForm {
            district_id: Some("d".into()),
            school_id: Some("s".into()),
            ..Default::default()
        };
        assert!(both.into_options(None).is_err());
        assert!(UploadForm::default().into_options(None).is_err());
        let school = UploadForm {
            school_id: Some("s".into()),
            dry_run: Some(true),
            ..Default::default()
        };
        let o = school.into_options(Some("Parents.csv".into())).unwrap();
        assert_eq!(o.scope, Some(Scope::SchoolId("s".into())));
        assert!(o.dry_run);
        assert_eq!(o.filename, "Parents.csv");
    }

    #[tokio::test]
    async fn a_stream_cut_off_before_its_end_ends_with_a_message_the_service_refuses() {
        let first = pb::UploadGuardiansOptions::default();
        let (tx, rx) = mpsc::channel(4);
        tx.send(Feed::Chunk(axum::body::Bytes::from_static(b"student_code")))
            .await
            .unwrap();
        drop(tx);
        let sent: Vec<_> = Outgoing::<UploadForm>::new(first.clone(), rx)
            .collect()
            .await;
        let kinds: Vec<_> = sent
            .iter()
            .map(|m| match m.payload {
                Some(Payload::Options(_)) => "options",
                Some(Payload::Chunk(_)) => "chunk",
                None => "none",
            })
            .collect();
        assert_eq!(kinds, ["options", "chunk", "options"]);

        let (tx, rx) = mpsc::channel(4);
        tx.send(Feed::Chunk(axum::body::Bytes::from_static(b"x")))
            .await
            .unwrap();
        tx.send(Feed::End).await.unwrap();
        assert_eq!(
            Outgoing::<UploadForm>::new(first, rx).count().await,
            2,
            "a whole file ends cleanly"
        );
    }
}
