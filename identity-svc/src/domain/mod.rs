//! identity-svc's rules: no tonic, no diesel.

pub mod accounts;
pub mod authz;
pub mod codes;
pub mod credential;
pub mod error;
pub mod id_token;
pub mod password;
pub mod sso;
pub mod throttle;
pub mod upsert;
