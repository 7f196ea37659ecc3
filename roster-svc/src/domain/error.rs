//! The one error type of roster-svc; `grpc::status` maps it to gRPC codes.

use homeroom_platform::db::DbError;

/// Everything a roster operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The request is malformed; the message names the field.
    #[error("{0}")]
    InvalidArgument(String),
    /// The caller may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// The thing does not exist (or the caller may not know it does).
    #[error("{0}")]
    NotFound(String),
    /// The same idempotency key came with a different request.
    #[error("{0}")]
    AlreadyExists(String),
    /// The request conflicts with the state.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A dependency (database, identity, messaging) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; logged with its cause, returned opaque.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for RosterError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) | DbError::Cancelled => {
                RosterError::Unavailable("the roster database is unavailable".into())
            }
            DbError::Query(q) => RosterError::Internal(q.into()),
        }
    }
}

impl From<diesel::result::Error> for RosterError {
    fn from(e: diesel::result::Error) -> Self {
        RosterError::Internal(e.into())
    }
}
