//! messaging-svc's rules: no tonic, no diesel.

pub mod address_rules;
pub mod error;
pub mod masking;
pub mod plan;
pub mod system_messages;
