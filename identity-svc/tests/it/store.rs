//! identity-svc's schema on both backends.

use homeroom_platform::testing::{TestDb, assert_migration_trees_match};
use identity_svc::MIGRATIONS;

#[test]
fn both_migration_trees_have_identical_names() {
    assert_migration_trees_match(&MIGRATIONS).unwrap();
}

#[tokio::test]
async fn migrations_apply_to_a_fresh_database_once() {
    let test_db = TestDb::empty().await.unwrap();
    assert!(test_db.db.migrate(&MIGRATIONS).await.unwrap() > 0);
    assert_eq!(test_db.db.migrate(&MIGRATIONS).await.unwrap(), 0);
}
