//! The one error type of messaging-svc; `grpc::status` maps it to gRPC codes.

use homeroom_platform::db::DbError;

/// Everything a messaging operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// The request is malformed; the message names the field.
    #[error("{0}")]
    InvalidArgument(String),
    /// The caller may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// Nothing with this id, or nothing the caller may know exists.
    #[error("{0}")]
    NotFound(String),
    /// The same idempotency key came with a different request.
    #[error("{0}")]
    AlreadyExists(String),
    /// A dependency is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; logged with its cause, returned opaque.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for MessagingError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) | DbError::Cancelled => {
                MessagingError::Unavailable("the messaging database is unavailable".into())
            }
            DbError::Query(q) => MessagingError::Internal(q.into()),
        }
    }
}

impl From<diesel::result::Error> for MessagingError {
    fn from(e: diesel::result::Error) -> Self {
        MessagingError::Internal(e.into())
    }
}
