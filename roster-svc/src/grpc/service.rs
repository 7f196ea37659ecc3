//! `homeroom.roster.v1.RosterService`.
//!
//! RPCs not implemented here yet answer UNIMPLEMENTED (the generated defaults).

use homeroom_platform::db::Db;
use homeroom_proto::roster::v1 as pb;

/// The roster service's gRPC face.
#[derive(Debug, Clone)]
pub struct RosterApi {
    #[allow(dead_code)]
    db: Db,
}

impl RosterApi {
    /// A service over the given database.
    pub fn new(db: Db) -> RosterApi {
        RosterApi { db }
    }
}

#[tonic::async_trait]
impl pb::roster_service_server::RosterService for RosterApi {}
