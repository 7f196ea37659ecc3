//! `MessagingError` → `tonic::Status`: the one mapping.

use tonic::Status;

use crate::domain::error::MessagingError;

impl From<MessagingError> for Status {
    fn from(e: MessagingError) -> Status {
        match e {
            MessagingError::InvalidArgument(m) => Status::invalid_argument(m),
            MessagingError::PermissionDenied(m) => Status::permission_denied(m),
            MessagingError::NotFound(m) => Status::not_found(m),
            MessagingError::AlreadyExists(m) => Status::already_exists(m),
            MessagingError::Unavailable(m) => Status::unavailable(m),
            MessagingError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "internal error");
                Status::internal("internal error")
            }
        }
    }
}
