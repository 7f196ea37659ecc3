//! Placeholder: the OneRoster bundle generator is being written.
