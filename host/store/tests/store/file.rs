//! Attachments: metadata in the database, content on disk.
use guichet_core::id::FieldId;

use guichet_core::file::MediaType;
use guichet_core::value::Value;
use guichet_store::StoreError;
use guichet_store::file::{FileOwner, NewFile, StoredFile};
use guichet_store::outcome::Extras;
use sha2::{Digest, Sha256};
use sqlx::Connection;

use crate::support::*;

const PDF: &[u8] = b"%PDF-1.7\nfacture de Camille Martin\n%%EOF";

async fn upload(db: &TestDb, owner: FileOwner, field: &str, name: &str) -> StoredFile {
    let new = NewFile {
        owner,
        field: Some(FieldId::from(field)),
        declared_name: name,
        media_type: MediaType::Pdf,
        content: PDF,
    };
    db.save_file(new, start()).await.unwrap()
}

on_both_backends!(
    a_file_round_trips_through_disk_with_its_checksum,
    filing_moves_the_files_its_answers_name_and_deletes_the_others,
    deleting_a_draft_deletes_its_files_from_disk,
    deletions_left_by_a_crash_are_finished_by_the_purge,
    a_file_of_an_unknown_owner_leaves_nothing_on_disk,
);

async fn a_file_round_trips_through_disk_with_its_checksum(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;

    let stored = upload(
        &db,
        FileOwner::Draft(draft.id),
        "facture",
        "C:\\scans\\facture.png",
    )
    .await;

    let id = stored.file.id;
    assert_eq!(stored.file.name, "facture.pdf");
    assert_eq!(stored.file.size, PDF.len() as u64);
    assert_eq!(stored.sha256, hex::encode(Sha256::digest(PDF)));
    assert_eq!(db.file(id).await.unwrap(), stored);
    assert_eq!(db.file_content(id).await.unwrap(), PDF);
    assert!(db.files().path(id).starts_with(&db.files_dir));
    assert_eq!(
        db.files_of(FileOwner::Draft(draft.id)).await.unwrap(),
        [stored]
    );
}

async fn filing_moves_the_files_its_answers_name_and_deletes_the_others(db: TestDb) {
    let (definition, _, draft) = velo_draft(&db).await;
    let kept = upload(&db, FileOwner::Draft(draft.id), "facture", "facture.pdf").await;
    let replaced = upload(&db, FileOwner::Draft(draft.id), "facture", "ancienne.pdf").await;
    let mut answers = velo_answers();
    answers.insert(
        FieldId::from("facture"),
        Value::Files(vec![kept.file.clone()]),
    );
    let outcome = submission(&db, &definition, answers, draft.owner, start()).await;

    let extras = Extras {
        draft: Some(draft.id),
        ..Extras::default()
    };
    db.insert_demande(&outcome, extras, start()).await.unwrap();

    let owned = db
        .files_of(FileOwner::Demande(outcome.demande.id))
        .await
        .unwrap();
    assert_eq!(
        owned.iter().map(|f| f.file.id).collect::<Vec<_>>(),
        [kept.file.id]
    );
    assert!(db.files().exists(kept.file.id).await);
    assert!(matches!(
        db.file(replaced.file.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(!db.files().exists(replaced.file.id).await);
}

async fn deleting_a_draft_deletes_its_files_from_disk(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;
    let stored = upload(&db, FileOwner::Draft(draft.id), "facture", "facture.pdf").await;

    db.delete_draft(draft.id, start()).await.unwrap();

    assert!(!db.files().exists(stored.file.id).await);
    assert!(db.file(stored.file.id).await.is_err());
}

async fn deletions_left_by_a_crash_are_finished_by_the_purge(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;
    let stored = upload(&db, FileOwner::Draft(draft.id), "facture", "facture.pdf").await;
    let id = stored.file.id.to_string();
    // What a crash between the commit and the disk deletion leaves.
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    sqlx::query("DELETE FROM files WHERE id = $1")
        .bind(id.clone())
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO file_deletions (file_id, requested_at) VALUES ($1, 0)")
        .bind(id)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let purged = db.purge_deleted_files().await.unwrap();

    assert_eq!(purged, 1);
    assert!(!db.files().exists(stored.file.id).await);
    assert_eq!(db.purge_deleted_files().await.unwrap(), 0);
}

async fn a_file_of_an_unknown_owner_leaves_nothing_on_disk(db: TestDb) {
    let ghost = guichet_store::draft::DraftId(uuid::Uuid::new_v4());

    let refused = db
        .save_file(
            NewFile {
                owner: FileOwner::Draft(ghost),
                field: None,
                declared_name: "x.pdf",
                media_type: MediaType::Pdf,
                content: PDF,
            },
            start(),
        )
        .await;

    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    let left: Vec<_> = walk(&db.files_dir);
    assert!(left.is_empty(), "{left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}
