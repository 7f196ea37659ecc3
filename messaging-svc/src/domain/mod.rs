//! messaging-svc's rules: no tonic, no diesel.

pub mod system_messages;
