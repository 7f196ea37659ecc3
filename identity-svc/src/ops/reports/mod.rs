//! The identity reports: the shared-credential report (ID-9), listed by page or
//! downloaded as CSV, and the audit log (ID-10), listed and recorded by services.
//!
//! **Sharing rule (ID-9).** An address (email or phone) is shared when two or
//! more accounts *of the same district that are not deactivated* hold it as one
//! of the requested credential kinds; `shared_count` counts exactly those, the
//! same number `GetAccount` shows on each credential (ID-2). Deactivated
//! accounts never make an address shared (a parent's old account is not a
//! second person), but when an address is shared they are still listed among
//! its holders with their DEACTIVATED status, so an administrator sees the whole
//! picture. Accounts of other districts neither count nor appear. A phone held
//! as a mobile by one account and as a home phone by another is shared only when
//! home phones are requested.
//!
//! Both reports are for district administrators of the district only (a
//! DISTRICT_ADMIN grant for the whole district); RecordAuditEvents is for the
//! messaging and roster services.
//!
//! This file holds what the reports share: the administrator check, page sizes
//! and page tokens. `shared_credentials` lists ID-9 by page, `csv` downloads it,
//! `audit` lists and records ID-10; their public items are re-exported here.

mod audit;
mod csv;
mod shared_credentials;

use base64::Engine;
use homeroom_platform::auth::Principal;
use serde_json::Value;

use crate::domain::{accounts::Role, error::IdentityError};

pub use self::{
    audit::{
        AUDIT_RECORDERS, AuditEventView, AuditKind, AuditPage, AuditQuery, NewAuditEvent,
        list_audit_events, record_audit_events,
    },
    csv::{CSV_CONTENT_TYPE, CsvDownload, shared_credentials_csv},
    shared_credentials::{
        HolderView, SharedCache, SharedCredentialView, SharedFilter, SharedPage,
        list_shared_credentials, shared_cache,
    },
};

const SHARED_REPORT: &str = "shared-credential report";
const AUDIT_LOG: &str = "audit log";

/// The district a report is asked for (the caller's when `requested` is empty),
/// if the caller administers all of it.
fn admin_district(
    caller: &Principal,
    requested: &str,
    report: &str,
) -> Result<String, IdentityError> {
    let requested = requested.trim();
    let district = if requested.is_empty() {
        caller.district_id().unwrap_or_default()
    } else {
        requested
    };
    if !district.is_empty() && caller.has_district_role(district, Role::DistrictAdmin) {
        return Ok(district.to_string());
    }
    let scope = if district.is_empty() {
        "a signed-in account with the DISTRICT_ADMIN role for the whole district".to_string()
    } else {
        format!("the DISTRICT_ADMIN role granted for the whole of district {district:?}")
    };
    Err(IdentityError::PermissionDenied(format!(
        "the {report} is for district administrators: it needs {scope}"
    )))
}

/// How much of a list to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page (1..=500).
    pub size: usize,
    /// Opaque token of the previous page, if any.
    pub token: Option<String>,
}

impl PageRequest {
    /// Rows per page when the caller gives none.
    pub const DEFAULT_SIZE: usize = 50;
    /// Most rows per page.
    pub const MAX_SIZE: usize = 500;

    /// `page_size` 0 means the default; above the maximum, the maximum.
    pub fn new(page_size: i32, page_token: &str) -> Result<PageRequest, IdentityError> {
        let size = match usize::try_from(page_size) {
            Err(_) => {
                return Err(IdentityError::InvalidArgument(
                    "page_size: must not be negative (0 means 50)".into(),
                ));
            }
            Ok(0) => Self::DEFAULT_SIZE,
            Ok(n) => n.min(Self::MAX_SIZE),
        };
        let token = Some(page_token.trim().to_string()).filter(|t| !t.is_empty());
        Ok(PageRequest { size, token })
    }
}

fn encode_token(key: Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_string())
}

fn bad_token() -> IdentityError {
    IdentityError::InvalidArgument(
        "page_token: not a token from a previous page of this list; omit it to start again".into(),
    )
}

fn decode_token(token: &str) -> Result<Vec<Value>, IdentityError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad_token())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Array(parts)) => Ok(parts),
        _ => Err(bad_token()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_clamp_and_refuse_negatives() {
        assert_eq!(PageRequest::new(0, "").unwrap().size, 50);
        assert_eq!(PageRequest::new(9999, "").unwrap().size, 500);
        assert!(PageRequest::new(-1, "").is_err());
    }
}
