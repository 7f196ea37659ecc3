//! `RosterError` → `tonic::Status`: the one mapping.

use tonic::Status;

use crate::domain::error::RosterError;

impl From<RosterError> for Status {
    fn from(e: RosterError) -> Status {
        match e {
            RosterError::InvalidArgument(m) => Status::invalid_argument(m),
            RosterError::PermissionDenied(m) => Status::permission_denied(m),
            RosterError::NotFound(m) => Status::not_found(m),
            RosterError::AlreadyExists(m) => Status::already_exists(m),
            RosterError::FailedPrecondition(m) => Status::failed_precondition(m),
            RosterError::Unavailable(m) => Status::unavailable(m),
            RosterError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "internal error");
                Status::internal("internal error")
            }
        }
    }
}
