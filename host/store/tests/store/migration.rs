//! Migrations apply once, and the database survives a restart.

use guichet_store::{FileStore, Store};

use crate::support::*;

on_both_backends!(migrations_are_idempotent);

async fn migrations_are_idempotent(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;

    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    let restarted = Store::connect(&db.url, FileStore::new(&db.files_dir))
        .await
        .unwrap();

    let stored = restarted.demarche(&definition.slug).await.unwrap();
    assert_eq!(stored.version, 1);
    restarted.close().await;
}

#[tokio::test]
async fn the_sqlite_file_and_its_directory_are_created_on_first_start() {
    let dir = std::env::temp_dir()
        .join("guichet-store-tests")
        .join(uuid::Uuid::new_v4().simple().to_string());
    let path = dir.join("data").join("guichet.db");

    let store = Store::connect(
        &format!("sqlite://{}", path.display()),
        FileStore::new(dir.join("files")),
    )
    .await
    .unwrap();

    assert!(path.is_file());
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}
