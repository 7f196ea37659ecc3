//! The roster-svc binary as a process: health and reflection as any gRPC client sees them.

use homeroom_platform::testing::assert_binary_serves;
use homeroom_proto::roster::v1 as pb;

#[tokio::test]
async fn the_binary_reaches_serving_and_lists_its_service_by_reflection() {
    assert_binary_serves(
        env!("CARGO_BIN_EXE_roster-svc"),
        "roster",
        pb::SERVICE_NAME,
        &[],
    )
    .await
    .unwrap();
}
