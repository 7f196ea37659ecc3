//! `homeroom.identity.v1.IdentityService`.
//!
//! RPCs not implemented here yet answer UNIMPLEMENTED (the generated defaults).

use homeroom_platform::db::Db;
use homeroom_proto::identity::v1 as pb;

/// The identity service's gRPC face.
#[derive(Debug, Clone)]
pub struct IdentityApi {
    #[allow(dead_code)]
    db: Db,
}

impl IdentityApi {
    /// A service over the given database.
    pub fn new(db: Db) -> IdentityApi {
        IdentityApi { db }
    }
}

#[tonic::async_trait]
impl pb::identity_service_server::IdentityService for IdentityApi {}
