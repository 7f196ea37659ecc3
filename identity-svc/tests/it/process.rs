//! The identity-svc binary as a process: health and reflection as any gRPC client sees them.

use std::time::Duration;

use homeroom_platform::testing::{ServiceProcess, TestDb, reflected_services, wait_serving};
use homeroom_proto::identity::v1 as pb;

#[tokio::test]
async fn the_binary_reaches_serving_and_lists_its_service_by_reflection() {
    let test_db = TestDb::empty().await.unwrap();
    let service = ServiceProcess::spawn(
        env!("CARGO_BIN_EXE_identity-svc"),
        &[],
        &[
            ("HOMEROOM_LISTEN_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", test_db.url.as_str()),
        ],
        &["identity"],
    )
    .await
    .unwrap();
    let addr = service.addr("identity").unwrap();

    wait_serving(addr, pb::SERVICE_NAME, Duration::from_secs(30))
        .await
        .unwrap();
    wait_serving(addr, "", Duration::from_secs(5))
        .await
        .unwrap();
    let services = reflected_services(addr).await.unwrap();
    assert!(
        services.iter().any(|s| s == pb::SERVICE_NAME),
        "{services:?}"
    );
    assert!(
        services.iter().any(|s| s == "grpc.health.v1.Health"),
        "{services:?}"
    );
}
