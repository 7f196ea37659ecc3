//! messaging-svc's tables: small sync functions over `&mut DbConn`.

pub mod addresses;
pub mod communications;
pub mod deliveries;
pub mod delivery_views;
pub mod events;
pub mod history;
pub mod preferences;
pub mod schema;
