//! Migrations apply once, the database survives a restart, and it opens
//! only with the master key that sealed it.

use guichet_core::id::FieldId;
use guichet_store::{FileStore, MasterKey, Store, StoreError};
use sqlx::{Connection, Row};

use crate::support::*;

on_both_backends!(
    migrations_are_idempotent,
    a_database_opens_only_with_its_master_key,
    a_rotated_database_opens_with_the_new_key_only,
);

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

async fn a_database_opens_only_with_its_master_key(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;
    // The default key sits beside the attachments, readable by its owner
    // only; opening again with it reads the sealed answers back.
    let key_file = db
        .files_dir
        .parent()
        .unwrap()
        .join(guichet_store::seal::MASTER_KEY_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let same = MasterKey::load_or_create(&key_file).unwrap();
    let reopened = Store::connect_with_key(&db.url, FileStore::new(&db.files_dir), &same)
        .await
        .unwrap();
    assert_eq!(
        reopened.draft(draft.id).await.unwrap().answers,
        velo_answers()
    );
    reopened.close().await;

    let other = MasterKey::generate().unwrap();
    let refused = Store::connect_with_key(&db.url, FileStore::new(&db.files_dir), &other).await;
    match refused {
        Err(StoreError::Invalid(message)) => {
            assert!(message.contains("clé maîtresse"), "{message}");
        }
        other => panic!("opened with another master key: {other:?}"),
    }
}

async fn a_rotated_database_opens_with_the_new_key_only(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;
    let new = MasterKey::generate().unwrap();

    let rewrapped = db.rotate_master_key(&new).await.unwrap();

    assert!(rewrapped >= 1, "the draft's key at least: {rewrapped}");
    let reopened = Store::connect_with_key(&db.url, FileStore::new(&db.files_dir), &new)
        .await
        .unwrap();
    assert_eq!(
        reopened.draft(draft.id).await.unwrap().answers,
        velo_answers(),
        "the sealed answers open under the new key"
    );
    reopened.close().await;
    let key_file = db
        .files_dir
        .parent()
        .unwrap()
        .join(guichet_store::seal::MASTER_KEY_FILE);
    let old = MasterKey::load_or_create(&key_file).unwrap();
    let refused = Store::connect_with_key(&db.url, FileStore::new(&db.files_dir), &old).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "the old key is refused: {:?}",
        refused.err()
    );
    // A store still holding the old key cannot rotate again.
    let again = db.rotate_master_key(&MasterKey::generate().unwrap()).await;
    assert!(matches!(again, Err(StoreError::Invalid(_))), "{again:?}");
}

/// On PostgreSQL, a sealed demande (and a sealed draft) up to a page long
/// stays in its row: no TOAST chunks written at filing or at each page
/// saved (migrations 0013 and 0014, BENCHMARKS.md §2). The signalement's description at its 2,000
/// characters makes both values larger than the 2 kB past which
/// PostgreSQL moves values out by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_demandes_and_drafts_stay_in_their_row_on_postgres() {
    run(Kind::Postgres, |db| async move {
        let definition = import(&db, "signalement-voie-publique").await;
        let mut long = signalement_answers(vec![]);
        long.insert(FieldId::from("description"), text(&"é".repeat(2000)));
        let owner = usager(&db).await;
        db.create_draft(owner, &first_version(&definition), long.clone(), start())
            .await
            .unwrap();
        let outcome = file_demande(&db, &definition, long.clone(), owner, start()).await;
        let stored = db.demande(outcome.demande.id).await.unwrap().demande;
        assert_eq!(stored.answers, outcome.demande.answers);

        let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        for (table, column) in [("demandes", "data"), ("drafts", "answers")] {
            let size: i64 =
                sqlx::query(&format!("SELECT MIN(octet_length({column})) FROM {table}"))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
                    .get(0);
            assert!(
                size > 2_100,
                "{table}: the sealed value is {size} bytes only"
            );
            let toast: String = sqlx::query(
                "SELECT CAST(CAST(reltoastrelid AS regclass) AS TEXT) FROM pg_class \
                 WHERE relname = $1 AND relnamespace = CAST('public' AS regnamespace)",
            )
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
            let chunks: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {toast}"))
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0);
            assert_eq!(chunks, 0, "{table}: its sealed value went to {toast}");
        }
        conn.close().await.unwrap();
    })
    .await;
}
