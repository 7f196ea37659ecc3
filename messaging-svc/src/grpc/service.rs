//! `homeroom.messaging.v1.MessagingService`.
//!
//! RPCs not implemented here yet answer UNIMPLEMENTED (the generated defaults).

use homeroom_platform::db::Db;
use homeroom_proto::messaging::v1 as pb;

/// The messaging service's gRPC face.
#[derive(Debug, Clone)]
pub struct MessagingApi {
    #[allow(dead_code)]
    db: Db,
}

impl MessagingApi {
    /// A service over the given database.
    pub fn new(db: Db) -> MessagingApi {
        MessagingApi { db }
    }
}

#[tonic::async_trait]
impl pb::messaging_service_server::MessagingService for MessagingApi {}
