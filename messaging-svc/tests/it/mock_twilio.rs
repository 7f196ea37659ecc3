//! The local Twilio, shared with the launcher tests: `homeroom_platform::testing::twilio`.

pub use homeroom_platform::testing::twilio::*;
