//! RO-5 / RO-7 / RO-8 / ID-9: a server-streaming RPC of file chunks as an HTTP
//! download — each chunk goes to the client as it arrives, never the whole
//! file in memory.

use axum::{
    body::{Body, Bytes},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures::{StreamExt, stream};
use homeroom_proto::{identity::v1 as idpb, roster::v1 as pb};

use super::error::ApiError;

/// A message of a file stream: the first names the type and the file.
pub trait FileChunk: Send + 'static {
    /// Content type, file name (both empty after the first message), bytes.
    fn into_parts(self) -> (String, String, Vec<u8>);
}

macro_rules! file_chunk {
    ($($message:ty),+) => {
        $(impl FileChunk for $message {
            fn into_parts(self) -> (String, String, Vec<u8>) {
                (self.content_type, self.filename, self.chunk)
            }
        })+
    };
}

file_chunk!(
    pb::DownloadSyncReportResponse,
    pb::DownloadGuardianUploadResultResponse,
    pb::DownloadDuplicateGuardiansResponse,
    idpb::DownloadSharedCredentialsReportResponse
);

/// The file of `stream` as an attachment. An error before the first chunk
/// is an ordinary error answer; a later one cuts the body short, so the
/// client sees an incomplete transfer rather than a wrong file.
pub async fn download<M: FileChunk>(mut stream: tonic::Streaming<M>) -> Result<Response, ApiError> {
    let Some(first) = stream.message().await? else {
        return Err(ApiError::new(
            tonic::Code::Internal,
            "the service sent no file; try again",
        ));
    };
    let (content_type, filename, chunk) = first.into_parts();
    let content_type = HeaderValue::from_str(&content_type)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let rest = stream.map(|m| m.map(|m| Bytes::from(m.into_parts().2)));
    let body = Body::from_stream(stream::once(async { Ok(Bytes::from(chunk)) }).chain(rest));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition(&filename)),
        ],
        body,
    )
        .into_response())
}

/// `attachment` with the file name twice: plain ASCII for old clients and
/// RFC 8187 UTF-8 for the rest.
fn disposition(filename: &str) -> HeaderValue {
    let name = match filename.trim() {
        "" => "download",
        n => n,
    };
    let plain: String = name
        .chars()
        .map(|c| match c {
            ' ' | '-' | '.' | '_' | '(' | ')' => c,
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        })
        .collect();
    let encoded: String =
        name.bytes()
            .map(|b| match b {
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|'
                | b'~' => char::from(b).to_string(),
                b if b.is_ascii_alphanumeric() => char::from(b).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_name_is_given_in_ascii_and_in_utf_8() {
        assert_eq!(
            super::disposition("Parents Fall-result.xlsx"),
            "attachment; filename=\"Parents Fall-result.xlsx\"; filename*=UTF-8''Parents%20Fall-result.xlsx"
        );
        assert_eq!(
            super::disposition("Año \"1\".csv"),
            "attachment; filename=\"A_o _1_.csv\"; filename*=UTF-8''A%C3%B1o%20%221%22.csv"
        );
        assert_eq!(
            super::disposition(""),
            "attachment; filename=\"download\"; filename*=UTF-8''download"
        );
    }
}
