//! Why a read from a vendor API failed, worded for the district admin who set
//! the source up. No variant ever holds a token or a secret.

/// A failed read. Every variant names the URL that failed (URLs never carry
/// credentials: they travel in headers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The source's settings cannot be used (a base URL that is not a URL …).
    #[error("the source settings cannot be used: {0}")]
    InvalidConfig(String),
    /// HTTP 401 or 403: the token, key or secret is wrong, expired or revoked.
    #[error(
        "{url} rejected the credentials (HTTP {status}); check the token, key or secret \
         in the source settings and that the district still shares its data with Homeroom"
    )]
    CredentialsRejected {
        /// The URL that answered.
        url: String,
        /// 401 or 403 (or the token endpoint's 400 `invalid_client`).
        status: u16,
    },
    /// The server refused the request with a status that retrying will not change.
    #[error("{url} refused the request (HTTP {status}): {message}")]
    Rejected {
        /// The URL that answered.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's own message, shortened.
        message: String,
    },
    /// A page that is not what the API promises: the whole read is dropped.
    #[error("{url} sent data that cannot be used ({reason}); nothing from this read was kept")]
    Malformed {
        /// The page's URL.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The server could not be reached or kept failing after every retry.
    #[error("{url} is unavailable ({reason}); the read will be tried again later")]
    Unavailable {
        /// The URL that failed.
        url: String,
        /// The last failure.
        reason: String,
    },
}

impl ConnectorError {
    pub(crate) fn malformed(url: &reqwest::Url, reason: impl Into<String>) -> Self {
        ConnectorError::Malformed {
            url: url.to_string(),
            reason: reason.into(),
        }
    }
}
