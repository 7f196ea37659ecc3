//! identity-svc's tables: small sync functions over `&mut DbConn`, called
//! through `Db::run`.

pub mod accounts;
pub mod audit;
pub mod schema;
pub mod sessions;
