//! RO-7 over REST: `POST /guardian-uploads` as `multipart/form-data` — the
//! option parts first, then the `file` part, which is streamed chunk by chunk
//! into the client-streaming UploadGuardians RPC (never the whole file in
//! memory).

use axum::{
    Json,
    body::Bytes,
    extract::{
        Multipart, State,
        multipart::{Field, MultipartError, MultipartRejection},
    },
    http::StatusCode,
};
use futures::{Stream, StreamExt, stream};
use homeroom_proto::roster::v1::{
    self as pb, upload_guardians_options::Scope, upload_guardians_request::Payload,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    params::{BadRequest, Conflict, Forbidden, Unauthenticated, optional_id},
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

/// The longest option part read.
const MAX_OPTION_BYTES: usize = 1_024;

/// The largest chunk sent in one message.
const CHUNK_BYTES: usize = 256 * 1024;

const ORDER: &str = "the options (districtId or schoolId, dryRun, abandon, force, idempotencyKey, filename) come first and the file part, named file, last";

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
    let mut form =
        form.map_err(|e| ApiError::bad_request(format!("{}; {ORDER}", e.body_text())))?;
    let (first_tx, first_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel(4);
    // The RPC opens once the options are read; the form is read meanwhile.
    let call = async {
        let first = first_rx.await.ok()?;
        Some(
            state
                .roster()
                .upload_guardians(caller.request(outgoing(first, rx)))
                .await,
        )
    };
    let (answer, fed) = tokio::join!(call, feed(&mut form, first_tx, tx));
    // A form error wins: the service refused the broken-off stream, or was
    // never called.
    fed?;
    let answer = answer
        .ok_or_else(|| ApiError::new(tonic::Code::Internal, "the upload was not sent"))??
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

/// What the form reader hands the RPC's stream.
enum Feed {
    Chunk(Bytes),
    End,
}

/// The request stream: the options, then the chunks until [`Feed::End`].
/// Should the reader stop before the end (a broken form, a client gone), a
/// second options message follows, which roster-svc refuses — so a cut-off
/// file is never stored as if whole.
fn outgoing(
    first: pb::UploadGuardiansOptions,
    rx: mpsc::Receiver<Feed>,
) -> impl Stream<Item = pb::UploadGuardiansRequest> + Send + 'static {
    let message = |payload| pb::UploadGuardiansRequest {
        payload: Some(payload),
    };
    let rest = stream::unfold(Some(rx), move |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Feed::Chunk(bytes)) => Some((message(Payload::Chunk(bytes.to_vec())), Some(rx))),
            Some(Feed::End) => None,
            None => Some((message(Payload::Options(Default::default())), None)),
        }
    });
    stream::once(async move { message(Payload::Options(first)) }).chain(rest)
}

/// Reads the options, hands them over, streams the file part and checks
/// nothing follows it; only then ends the stream.
async fn feed(
    form: &mut Multipart,
    first: oneshot::Sender<pb::UploadGuardiansOptions>,
    tx: mpsc::Sender<Feed>,
) -> Result<(), ApiError> {
    let mut options = UploadForm::default();
    let mut file = loop {
        let Some(field) = form.next_field().await.map_err(form_error)? else {
            return Err(ApiError::bad_request(format!("file: required; {ORDER}")));
        };
        match field.name() {
            Some("file") => break field,
            _ => options.read(field).await?,
        }
    };
    let given = file.file_name().map(str::to_string);
    if first.send(options.into_pb(given)?).is_err() {
        return Ok(());
    }
    let mut size = 0;
    while let Some(mut bytes) = file.chunk().await.map_err(form_error)? {
        // Said here rather than by the service, so the answer is always 413.
        size += bytes.len();
        if size > MAX_FILE_BYTES {
            return Err(too_large());
        }
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(CHUNK_BYTES));
            if tx.send(Feed::Chunk(piece)).await.is_err() {
                // The service answered already; its answer says why.
                return Ok(());
            }
        }
    }
    drop(file);
    if form.next_field().await.map_err(form_error)?.is_some() {
        return Err(ApiError::bad_request(format!(
            "the file part must come last; {ORDER}"
        )));
    }
    // The service may have answered already; then its answer says why.
    let _ = tx.send(Feed::End).await;
    Ok(())
}

impl UploadForm {
    /// Takes one option part.
    async fn read(&mut self, field: Field<'_>) -> Result<(), ApiError> {
        let name = field.name().unwrap_or_default().to_string();
        let value = small_text(&name, field).await?;
        let text = |slot: &mut Option<String>| {
            let v = optional_id(&name, Some(&value))?;
            once(&name, slot, v)
        };
        let flag = |slot: &mut Option<bool>| once(&name, slot, boolean(&name, &value)?);
        match name.as_str() {
            "districtId" => text(&mut self.district_id),
            "schoolId" => text(&mut self.school_id),
            "idempotencyKey" => text(&mut self.idempotency_key),
            "filename" => text(&mut self.filename),
            "dryRun" => flag(&mut self.dry_run),
            "abandon" => flag(&mut self.abandon),
            "force" => flag(&mut self.force),
            _ => Err(ApiError::bad_request(format!(
                "unknown part {name:?}; {ORDER}"
            ))),
        }
    }

    /// The first message's options; `given` is the file part's own name.
    fn into_pb(self, given: Option<String>) -> Result<pb::UploadGuardiansOptions, ApiError> {
        let scope = match (self.district_id, self.school_id) {
            (Some(d), None) if !d.is_empty() => Scope::DistrictId(d),
            (None, Some(s)) if !s.is_empty() => Scope::SchoolId(s),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "districtId or schoolId: give exactly one before the file part; {ORDER}"
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
}

fn once<T>(name: &str, slot: &mut Option<T>, value: T) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(ApiError::bad_request(format!("{name}: given twice")));
    }
    Ok(())
}

fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(ApiError::bad_request(format!("{name}: true or false"))),
    }
}

/// An option part's text, refusing long ones without reading them whole.
async fn small_text(name: &str, mut field: Field<'_>) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(form_error)? {
        if bytes.len() + chunk.len() > MAX_OPTION_BYTES {
            return Err(ApiError::bad_request(format!(
                "{name}: at most {MAX_OPTION_BYTES} bytes; {ORDER}"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request(format!("{name}: not UTF-8 text")))
}

/// A form that cannot be read: 413 when too large, else 400.
fn form_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::bad_request(format!("the form cannot be read: {}", e.body_text()))
    }
}

/// 413: the file (or the form) is over the limit.
fn too_large() -> ApiError {
    let mut e = ApiError::new(
        tonic::Code::ResourceExhausted,
        "the file is larger than 50 MB; split it into smaller files",
    );
    e.status = StatusCode::PAYLOAD_TOO_LARGE;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_scope_is_needed() {
        let both = UploadForm {
            district_id: Some("d".into()),
            school_id: Some("s".into()),
            ..Default::default()
        };
        assert!(both.into_pb(None).is_err());
        assert!(UploadForm::default().into_pb(None).is_err());
        let school = UploadForm {
            school_id: Some("s".into()),
            dry_run: Some(true),
            ..Default::default()
        };
        let o = school.into_pb(Some("Parents.csv".into())).unwrap();
        assert_eq!(o.scope, Some(Scope::SchoolId("s".into())));
        assert!(o.dry_run);
        assert_eq!(o.filename, "Parents.csv");
    }

    #[test]
    fn flags_read_as_forms_send_them() {
        assert!(boolean("dryRun", "true").unwrap());
        assert!(boolean("dryRun", "on").unwrap());
        assert!(!boolean("dryRun", "0").unwrap());
        assert!(boolean("dryRun", "maybe").is_err());
    }

    #[tokio::test]
    async fn a_stream_cut_off_before_its_end_ends_with_a_message_the_service_refuses() {
        let first = pb::UploadGuardiansOptions::default();
        let (tx, rx) = mpsc::channel(4);
        tx.send(Feed::Chunk(Bytes::from_static(b"student_code")))
            .await
            .unwrap();
        drop(tx);
        let sent: Vec<_> = outgoing(first.clone(), rx).collect().await;
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
        tx.send(Feed::Chunk(Bytes::from_static(b"x")))
            .await
            .unwrap();
        tx.send(Feed::End).await.unwrap();
        assert_eq!(
            outgoing(first, rx).count().await,
            2,
            "a whole file ends cleanly"
        );
    }
}
