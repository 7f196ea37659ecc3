//! The background workers: delivery workers (MS-4) claim due deliveries under
//! a lease, send each through its provider and record the outcome; the audit
//! forwarder (MS-7) hands the audit outbox to identity.

pub mod audit;
pub mod backoff;
pub mod worker;
