//! The one error type of identity-svc; `grpc::status` maps it to gRPC codes.

use std::time::Duration;

use homeroom_platform::db::DbError;

/// Everything an identity operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The request is malformed; the message names the field.
    #[error("{0}")]
    InvalidArgument(String),
    /// Wrong identifier or password, an expired or reused token: one message for all,
    /// so callers cannot tell which.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// The thing does not exist (or the caller may not know it does).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the state (e.g. contact details managed by the sync).
    #[error("{0}")]
    FailedPrecondition(String),
    /// Too many failures: try again after this long.
    #[error("too many attempts; try again in {} seconds", retry_after.as_secs().max(1))]
    Throttled {
        /// How long to wait.
        retry_after: Duration,
    },
    /// A dependency (database, messaging) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; logged with its cause, returned opaque.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for IdentityError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) | DbError::Cancelled => {
                IdentityError::Unavailable("the account database is unavailable".into())
            }
            DbError::Query(q) => IdentityError::Internal(q.into()),
        }
    }
}

impl From<diesel::result::Error> for IdentityError {
    fn from(e: diesel::result::Error) -> Self {
        IdentityError::Internal(e.into())
    }
}

/// The one message for every failed login, whatever failed.
pub const LOGIN_FAILED: &str = "the identifier or the password is not correct";

/// ID-8: the refusal naming the RO-6 setting.
pub const SYNC_MANAGES_CONTACTS: &str = "contact details of this active user are managed by the sync: \
the setting \"Allow the sync to update contact details of active users\" is ON, so change them in the SIS";
