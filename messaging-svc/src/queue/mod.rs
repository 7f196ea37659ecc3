//! The delivery workers (MS-4): claim due deliveries under a lease, send each
//! through its provider, and record the outcome.

pub mod backoff;
pub mod worker;
