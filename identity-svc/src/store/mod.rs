//! identity-svc's tables: small sync functions over `&mut DbConn`, called
//! through `Db::run`.

pub mod accounts;
pub mod audit;
pub mod codes;
pub mod devices;
pub mod invitations;
pub mod merges;
pub mod reports;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod sso;
