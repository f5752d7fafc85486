//! The end of life of demandes and drafts in the store: the trash rows
//! follow the status, only a trashed demande is purged (whole), expired
//! drafts go with their files, and an erasure is scrubbed from SQLite's WAL.

use chrono::Duration;
use guichet_core::actor::Actor;
use guichet_core::file::MediaType;
use guichet_core::role::Role;
use guichet_core::trash;
use guichet_core::workflow::Action;
use guichet_store::StoreError;
use guichet_store::file::{FileOwner, NewFile};
use guichet_store::outcome::Extras;

use crate::support::*;

on_both_backends!(
    only_a_demande_in_the_trash_is_purged_and_it_goes_whole,
    a_restored_demande_leaves_the_trash,
    drafts_not_saved_since_the_cutoff_are_deleted_with_their_files,
    an_erasure_is_scrubbed_from_the_sqlite_wal,
);

fn admin(id: guichet_core::id::UserId) -> Actor {
    Actor::Agent {
        id,
        rights: Role::Administrateur.rights(),
    }
}

async fn trashed_velo(db: &TestDb) -> guichet_core::workflow::Outcome {
    let definition = import(db, "aide-reparation-velo").await;
    let owner = usager(db).await;
    let outcome = file_demande(db, &definition, velo_answers(), owner, start()).await;
    let agent = account(
        db,
        "admin@ville.test",
        guichet_store::account::UserKind::Agent,
    )
    .await;
    act(
        db,
        &outcome,
        Action::new("corbeille").confirmed(),
        &admin(agent),
        start() + days(1),
    )
    .await
    .unwrap();
    outcome
}

async fn only_a_demande_in_the_trash_is_purged_and_it_goes_whole(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let kept = file_demande(&db, &definition, velo_answers(), owner, start()).await;
    assert!(!db.purge_demande(kept.demande.id, start()).await.unwrap());
    assert!(db.demande(kept.demande.id).await.is_ok());

    let outcome = trashed_velo(&db).await;
    let id = outcome.demande.id;
    assert_eq!(db.trashed_at(id).await.unwrap(), Some(start() + days(1)));
    assert!(db.trashed_before(start(), 10).await.unwrap().is_empty());
    assert_eq!(
        db.trashed_before(start() + days(1), 10).await.unwrap(),
        vec![id]
    );
    assert!(db.purge_demande(id, start() + days(31)).await.unwrap());
    assert!(matches!(db.demande(id).await, Err(StoreError::NotFound(_))));
    assert!(db.history(id).await.unwrap().is_empty());
    assert!(db.jobs_of(id).await.unwrap().is_empty());
    assert_eq!(db.trashed_at(id).await.unwrap(), None);
    assert!(!db.purge_demande(id, start() + days(31)).await.unwrap());
}

async fn a_restored_demande_leaves_the_trash(db: TestDb) {
    let outcome = trashed_velo(&db).await;
    let id = outcome.demande.id;
    let stored = db.demande(id).await.unwrap();
    let workflow = db
        .demarche_version(&stored.demande.demarche.slug, 1)
        .await
        .unwrap()
        .definition
        .workflow();
    let agent = account(
        &db,
        "admin2@ville.test",
        guichet_store::account::UserKind::Agent,
    )
    .await;
    let now = start() + days(2);
    let restored = trash::restore(
        &workflow,
        &stored.demande,
        &admin(agent),
        true,
        trash::Stay {
            since: start() + days(1),
            period: Duration::days(30),
        },
        now,
        ZONE,
    )
    .unwrap();
    db.apply_outcome(&restored, stored.revision, Extras::default(), now)
        .await
        .unwrap();
    assert_eq!(
        db.demande(id).await.unwrap().demande.status.as_str(),
        "transmise"
    );
    assert_eq!(db.trashed_at(id).await.unwrap(), None);
    assert!(!db.purge_demande(id, start() + days(60)).await.unwrap());
}

async fn drafts_not_saved_since_the_cutoff_are_deleted_with_their_files(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;
    let file = db
        .save_file(
            NewFile {
                owner: FileOwner::Draft(draft.id),
                field: None,
                declared_name: "facture.pdf",
                media_type: MediaType::Pdf,
                content: b"%PDF-1.4 facture",
            },
            start(),
        )
        .await
        .unwrap();
    let now = start() + days(100);
    let deleted = db
        .delete_drafts_saved_before(start() - days(1), 10, now)
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    assert!(db.files().exists(file.file.id).await);
    let deleted = db
        .delete_drafts_saved_before(start(), 10, now)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(matches!(
        db.draft(draft.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(!db.files().exists(file.file.id).await);
}

async fn an_erasure_is_scrubbed_from_the_sqlite_wal(db: TestDb) {
    velo_draft(&db).await;
    assert!(!db.scrub().await.unwrap(), "nothing erased yet");
    db.delete_drafts_saved_before(start(), 10, start() + days(91))
        .await
        .unwrap();
    let scrubbed = db.scrub().await.unwrap();
    match db.kind {
        Kind::Sqlite => {
            assert!(scrubbed);
            let wal = std::fs::metadata(format!("{}-wal", db.url.trim_start_matches("sqlite://")))
                .map(|m| m.len())
                .unwrap_or(0);
            assert_eq!(wal, 0, "the WAL is truncated");
        }
        Kind::Postgres => assert!(scrubbed, "the deleted keys are vacuumed"),
    }
    assert!(!db.scrub().await.unwrap(), "once is enough");
}
