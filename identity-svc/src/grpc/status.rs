//! `IdentityError` → `tonic::Status`: the one mapping.

use tonic::{Code, Status};

use crate::domain::error::IdentityError;

impl From<IdentityError> for Status {
    fn from(e: IdentityError) -> Status {
        match e {
            IdentityError::InvalidArgument(m) => Status::invalid_argument(m),
            IdentityError::Unauthenticated(m) => Status::unauthenticated(m),
            IdentityError::PermissionDenied(m) => Status::permission_denied(m),
            IdentityError::NotFound(m) => Status::not_found(m),
            IdentityError::FailedPrecondition(m) => Status::failed_precondition(m),
            IdentityError::Throttled { retry_after } => {
                let seconds = retry_after.as_secs().max(1);
                let mut status = Status::new(
                    Code::ResourceExhausted,
                    format!("too many attempts; try again in {seconds} seconds"),
                );
                if let Ok(value) = seconds.to_string().parse() {
                    status.metadata_mut().insert("retry-after", value);
                }
                status
            }
            IdentityError::Unavailable(m) => Status::unavailable(m),
            IdentityError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "internal error");
                Status::internal("internal error")
            }
        }
    }
}
