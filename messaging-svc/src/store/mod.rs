//! messaging-svc's tables: small sync functions over `&mut DbConn`.

pub mod addresses;
pub mod deliveries;
pub mod events;
pub mod history;
pub mod preferences;
pub mod schema;
