//! Login identifiers: the shared [`homeroom_platform::contact`] types, which
//! roster-svc uses too so both services normalise alike.

pub use homeroom_platform::contact::*;
