//! A `multipart/form-data` upload streamed into a client-streaming RPC: the
//! option parts first, then the `file` part, sent on chunk by chunk (never
//! the whole file in memory). Guardian uploads and OneRoster bundles both
//! come this way.

use std::future::Future;

use axum::{
    body::Bytes,
    extract::{
        Multipart,
        multipart::{Field, MultipartError, MultipartRejection},
    },
    http::StatusCode,
};
use futures::Stream;
use tokio::sync::{mpsc, oneshot};

use crate::api::error::ApiError;

/// The longest option part read.
const MAX_OPTION_BYTES: usize = 1_024;

/// The largest chunk sent in one message.
const CHUNK_BYTES: usize = 256 * 1024;

/// A form of option parts and a file, and the RPC's messages.
pub trait StreamedForm: Default + Send {
    /// The first message's options.
    type Options: Send + 'static;
    /// A message of the RPC's stream.
    type Message: Send + 'static;
    /// The order the parts must come in, for errors.
    const ORDER: &'static str;
    /// The largest file taken.
    const MAX_FILE_BYTES: usize;
    /// What a file over the limit is told.
    const TOO_LARGE: &'static str;

    /// Takes one option part.
    fn read(&mut self, name: &str, value: &str) -> Result<(), ApiError>;
    /// The first message's options; `given` is the file part's own name.
    fn into_options(self, given: Option<String>) -> Result<Self::Options, ApiError>;
    /// The options as a message.
    fn options_message(options: Self::Options) -> Self::Message;
    /// A chunk of the file as a message.
    fn chunk_message(chunk: Vec<u8>) -> Self::Message;
    /// A message the service refuses, sent when the form broke off, so a
    /// cut-off file is never stored as if whole.
    fn cut_message() -> Self::Message;
}

/// Reads `form` and streams it into `call` (the RPC, called with the request
/// stream once the options are read); the RPC's answer. A form error wins:
/// the service refused the broken-off stream, or was never called.
pub async fn send<F, T, Fut>(
    form: Result<Multipart, MultipartRejection>,
    call: impl FnOnce(Outgoing<F>) -> Fut,
) -> Result<T, ApiError>
where
    F: StreamedForm,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    send_with(F::default(), form, call).await
}

/// [`send`], with options known before the form is read (e.g. from the path).
pub async fn send_with<F, T, Fut>(
    initial: F,
    form: Result<Multipart, MultipartRejection>,
    call: impl FnOnce(Outgoing<F>) -> Fut,
) -> Result<T, ApiError>
where
    F: StreamedForm,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let mut form =
        form.map_err(|e| ApiError::bad_request(format!("{}; {}", e.body_text(), F::ORDER)))?;
    let (first_tx, first_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel(4);
    let call = async {
        let first = first_rx.await.ok()?;
        Some(call(Outgoing::new(first, rx)).await)
    };
    let (answer, fed) = tokio::join!(call, feed(initial, &mut form, first_tx, tx));
    fed?;
    Ok(answer.ok_or_else(|| ApiError::new(tonic::Code::Internal, "the upload was not sent"))??)
}

/// What the form reader hands the RPC's stream.
pub(crate) enum Feed {
    Chunk(Bytes),
    End,
}

/// The request stream: the options, then the chunks until [`Feed::End`].
/// Should the reader stop before the end (a broken form, a client gone), a
/// [`StreamedForm::cut_message`] follows.
pub struct Outgoing<F: StreamedForm> {
    first: Option<F::Options>,
    rx: Option<mpsc::Receiver<Feed>>,
}

impl<F: StreamedForm> Outgoing<F> {
    pub(crate) fn new(first: F::Options, rx: mpsc::Receiver<Feed>) -> Self {
        Outgoing {
            first: Some(first),
            rx: Some(rx),
        }
    }
}

impl<F: StreamedForm> Unpin for Outgoing<F> {}

impl<F: StreamedForm> Stream for Outgoing<F> {
    type Item = F::Message;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<F::Message>> {
        use std::task::Poll;
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(F::options_message(first)));
        }
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Feed::Chunk(bytes))) => {
                Poll::Ready(Some(F::chunk_message(bytes.to_vec())))
            }
            Poll::Ready(Some(Feed::End)) => {
                self.rx = None;
                Poll::Ready(None)
            }
            Poll::Ready(None) => {
                self.rx = None;
                Poll::Ready(Some(F::cut_message()))
            }
        }
    }
}

/// Reads the options, hands them over, streams the file part and checks
/// nothing follows it; only then ends the stream.
async fn feed<F: StreamedForm>(
    mut options: F,
    form: &mut Multipart,
    first: oneshot::Sender<F::Options>,
    tx: mpsc::Sender<Feed>,
) -> Result<(), ApiError> {
    let mut file = loop {
        let Some(field) = form.next_field().await.map_err(form_error::<F>)? else {
            return Err(ApiError::bad_request(format!(
                "file: required; {}",
                F::ORDER
            )));
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            break field;
        }
        let value = small_text(F::ORDER, field).await?;
        options.read(&name, &value)?;
    };
    let given = file.file_name().map(str::to_string);
    if first.send(options.into_options(given)?).is_err() {
        return Ok(());
    }
    let mut size = 0;
    while let Some(mut bytes) = file.chunk().await.map_err(form_error::<F>)? {
        // Said here rather than by the service, so the answer is always 413.
        size += bytes.len();
        if size > F::MAX_FILE_BYTES {
            return Err(too_large::<F>());
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
    if form.next_field().await.map_err(form_error::<F>)?.is_some() {
        return Err(ApiError::bad_request(format!(
            "the file part must come last; {}",
            F::ORDER
        )));
    }
    // The service may have answered already; then its answer says why.
    let _ = tx.send(Feed::End).await;
    Ok(())
}

/// An option given at most once.
pub fn once<T>(name: &str, slot: &mut Option<T>, value: T) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(ApiError::bad_request(format!("{name}: given twice")));
    }
    Ok(())
}

/// A flag as forms send them.
pub fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(ApiError::bad_request(format!("{name}: true or false"))),
    }
}

/// An option part's text, refusing long ones without reading them whole.
/// (Not generic over the form: an async fn generic over it and borrowing the
/// part's name trips rustc's higher-ranked `Send` check in axum's handlers.)
async fn small_text(order: &'static str, mut field: Field<'_>) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_string();
    let mut bytes = Vec::new();
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(form_read_error(e, order)),
        };
        if bytes.len() + chunk.len() > MAX_OPTION_BYTES {
            return Err(ApiError::bad_request(format!(
                "{name}: at most {MAX_OPTION_BYTES} bytes; {order}"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request(format!("{name}: not UTF-8 text")))
}

/// An option part that cannot be read (its size is far below any limit).
fn form_read_error(e: MultipartError, order: &str) -> ApiError {
    ApiError::bad_request(format!(
        "the form cannot be read: {}; {order}",
        e.body_text()
    ))
}

/// A form that cannot be read: 413 when too large, else 400.
fn form_error<F: StreamedForm>(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large::<F>()
    } else {
        ApiError::bad_request(format!("the form cannot be read: {}", e.body_text()))
    }
}

/// 413: the file (or the form) is over the limit.
fn too_large<F: StreamedForm>() -> ApiError {
    let mut e = ApiError::new(tonic::Code::ResourceExhausted, F::TOO_LARGE);
    e.status = StatusCode::PAYLOAD_TOO_LARGE;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_forms_send_them() {
        assert!(boolean("dryRun", "true").unwrap());
        assert!(boolean("dryRun", "on").unwrap());
        assert!(!boolean("dryRun", "0").unwrap());
        assert!(boolean("dryRun", "maybe").is_err());
    }
}
