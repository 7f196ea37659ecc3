//! Homeroom's v1 gRPC contract, generated from `proto/homeroom/**.proto`.
//!
//! Services write `use homeroom_proto::identity::v1 as pb;`; nobody else calls
//! `include_proto!`. Each package also exposes its encoded
//! `FILE_DESCRIPTOR_SET` for gRPC reflection.

#![allow(clippy::all, missing_docs, unreachable_pub)]

/// `homeroom.identity.v1`: accounts, credentials, login, tokens, audit.
pub mod identity {
    pub mod v1 {
        tonic::include_proto!("homeroom.identity.v1");
        /// Encoded descriptor set of the package and its imports.
        pub const FILE_DESCRIPTOR_SET: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), "/identity_descriptor.bin"));
        /// Fully qualified service name, as health checks and reflection use it.
        pub const SERVICE_NAME: &str = "homeroom.identity.v1.IdentityService";
    }
}

/// `homeroom.roster.v1`: organisations, people, syncs, uploads, audiences.
pub mod roster {
    pub mod v1 {
        tonic::include_proto!("homeroom.roster.v1");
        /// Encoded descriptor set of the package and its imports.
        pub const FILE_DESCRIPTOR_SET: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), "/roster_descriptor.bin"));
        /// Fully qualified service name, as health checks and reflection use it.
        pub const SERVICE_NAME: &str = "homeroom.roster.v1.RosterService";
    }
}

/// `homeroom.messaging.v1`: communications, deliveries, preferences, bounces.
pub mod messaging {
    pub mod v1 {
        tonic::include_proto!("homeroom.messaging.v1");
        /// Encoded descriptor set of the package and its imports.
        pub const FILE_DESCRIPTOR_SET: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), "/messaging_descriptor.bin"));
        /// Fully qualified service name, as health checks and reflection use it.
        pub const SERVICE_NAME: &str = "homeroom.messaging.v1.MessagingService";
    }
}
