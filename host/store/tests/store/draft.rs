//! Drafts saved page by page.

use chrono::{DateTime, Utc};
use guichet_core::demande::DemarcheRef;
use guichet_core::id::FieldId;

use guichet_core::file::MediaType;
use guichet_core::value::{Answers, Value};
use guichet_store::account::UserKind;
use guichet_store::draft::Draft;
use guichet_store::file::{FileOwner, NewFile};
use guichet_store::outcome::Extras;
use guichet_store::{FileStore, Store, StoreError};
use std::collections::BTreeSet;

use crate::support::*;

fn ids(names: &[&str]) -> Vec<FieldId> {
    names.iter().map(|n| FieldId::from(*n)).collect()
}

/// Replaces the answers of `fields` by `update`, as a page save does.
async fn save_page(
    db: &TestDb,
    draft: &Draft,
    fields: &[&str],
    update: Answers,
    at: DateTime<Utc>,
) -> Draft {
    let fields = ids(fields);
    db.update_draft(draft.id, at, |current| {
        let mut merged = current.answers.clone();
        merged.retain(|id, _| !fields.contains(id));
        merged.merge(update.clone());
        Ok::<_, StoreError>(merged)
    })
    .await
    .unwrap()
}

on_both_backends!(
    a_draft_is_saved_page_by_page,
    one_draft_per_person_and_version,
    filing_deletes_the_draft_in_the_same_transaction,
    a_draft_of_an_unknown_version_is_refused,
    an_agent_has_one_draft_per_usager_and_none_is_reused_across_usagers,
    concurrent_uploads_all_land_and_the_limit_holds,
    a_refused_change_writes_nothing,
    filing_a_draft_changed_since_it_was_read_is_a_conflict,
    a_stale_draft_filed_among_concurrent_filings_fails_alone,
    a_draft_reads_its_definition_as_updated_in_place,
    concurrent_page_saves_of_one_draft_lose_nothing,
    a_page_saved_on_a_stale_read_is_checked_again_on_the_stored_draft,
    a_key_read_with_another_draft_is_not_used,
    a_second_draft_among_concurrent_creations_fails_alone,
    cancelled_saves_do_not_fail_the_filings_written_with_them,
    a_filing_whose_draft_changed_takes_no_number,
    a_draft_saved_on_another_host_loses_nothing_here,
    a_draft_deleted_here_is_not_remembered,
);

/// Files `draft`, read with `context` ([`guichet_store::Store::draft_to_file`]),
/// for `usager` as the host does: checked at the revision read.
async fn file_read_draft(
    db: &TestDb,
    definition: &guichet_core::demarche::Definition,
    usager: guichet_core::id::UserId,
    draft: Draft,
    context: guichet_store::draft::FilingContext,
) -> Result<guichet_core::workflow::Outcome, StoreError> {
    let extras = Extras {
        draft: Some(draft.id),
        draft_revision: Some(draft.revision),
        ..Extras::default()
    };
    db.file_demande(&definition.slug, context, start(), extras, |reserved| {
        let filing = guichet_core::submission::Filing {
            version: draft.demarche.version,
            id: reserved.id,
            numero: reserved.numero,
            answers: draft.answers.clone(),
            consent: true,
            filer: guichet_core::submission::Filer::Usager(usager),
        };
        guichet_core::submission::submit(definition, filing, &source_choices(), start(), ZONE)
            .map_err(|e| StoreError::Invalid(format!("{e:?}")))
    })
    .await
}

/// A filing whose draft was saved since it was read fails having taken no
/// number, on both backends (on PostgreSQL the number's statement checks
/// the draft's revision): the next filing is number 1.
async fn a_filing_whose_draft_changed_takes_no_number(db: TestDb) {
    let (definition, owner, draft) = velo_draft(&db).await;
    let (read, _, context) = db.draft_to_file(draft.id, None).await.unwrap();
    save_page(
        &db,
        &draft,
        &["reparateur"],
        answers(vec![("reparateur", text("Atelier"))]),
        start(),
    )
    .await;

    let refused = file_read_draft(&db, &definition, owner, read, context).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );

    let (read, _, context) = db.draft_to_file(draft.id, None).await.unwrap();
    let filed = file_read_draft(&db, &definition, owner, read, context)
        .await
        .unwrap();
    assert_eq!(filed.demande.numero, "ARV-2026-000001");
}

/// Another host (a second store on the same database) saves a draft this
/// host remembers. Here, a page save starts from memory, finds the draft
/// changed and saves on the stored one; a filing from memory fails having
/// taken no number; filing from the database then files what was saved
/// elsewhere, with number 1.
async fn a_draft_saved_on_another_host_loses_nothing_here(db: TestDb) {
    let (definition, owner, draft) = velo_draft(&db).await;
    let other = Store::connect(&db.url, FileStore::new(&db.files_dir))
        .await
        .unwrap();
    let set = |field: &'static str, value: &'static str| {
        move |current: &Draft| {
            let mut merged = current.answers.clone();
            merged.merge(answers(vec![(field, text(value))]));
            Ok::<_, StoreError>(merged)
        }
    };
    other
        .update_draft(draft.id, start(), set("reparateur", "Atelier"))
        .await
        .unwrap();

    let (remembered, _, key) = db.draft_to_change(draft.id).await.unwrap();
    assert_eq!(remembered.revision, draft.revision, "this host's memory");
    let saved = db
        .update_read_draft(
            remembered,
            key,
            start(),
            set("titulaire_compte", "C. Martin"),
        )
        .await
        .unwrap();
    assert_eq!(saved.revision, draft.revision + 2);
    assert_eq!(
        saved.answers.get(&FieldId::from("reparateur")),
        Some(&text("Atelier")),
        "the page saved elsewhere is kept"
    );
    assert_eq!(
        saved.answers.get(&FieldId::from("titulaire_compte")),
        Some(&text("C. Martin"))
    );

    other
        .update_draft(draft.id, start(), set("reparateur", "Vélo Cité"))
        .await
        .unwrap();
    let account = db.user(owner).await.unwrap();
    let (read, _, context) = db.draft_to_file(draft.id, Some(&account)).await.unwrap();
    assert!(context.remembered());
    assert_eq!(read.revision, saved.revision);
    let refused = file_read_draft(&db, &definition, owner, read, context).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );

    let (read, _, context) = db.draft_to_file(draft.id, Some(&account)).await.unwrap();
    assert!(!context.remembered(), "a failed filing forgets the draft");
    let filed = file_read_draft(&db, &definition, owner, read, context)
        .await
        .unwrap();
    assert_eq!(filed.demande.numero, "ARV-2026-000001");
    assert_eq!(
        filed.demande.answers.get(&FieldId::from("reparateur")),
        Some(&text("Vélo Cité"))
    );
    assert_eq!(
        filed
            .demande
            .answers
            .get(&FieldId::from("titulaire_compte")),
        Some(&text("C. Martin"))
    );
    other.close().await;
}

/// A draft deleted here, or expired, is not filed nor saved from memory.
async fn a_draft_deleted_here_is_not_remembered(db: TestDb) {
    let (_, owner, draft) = velo_draft(&db).await;
    let account = db.user(owner).await.unwrap();
    db.draft_to_change(draft.id).await.unwrap();
    db.delete_draft(draft.id, start()).await.unwrap();
    assert!(matches!(
        db.draft_to_change(draft.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        db.draft_to_file(draft.id, Some(&account)).await,
        Err(StoreError::NotFound(_))
    ));

    let (_, owner, draft) = velo_draft(&db).await;
    let account = db.user(owner).await.unwrap();
    let deleted = db
        .delete_drafts_saved_before(start(), 10, start())
        .await
        .unwrap();
    assert!(deleted >= 1);
    assert!(matches!(
        db.draft_to_file(draft.id, Some(&account)).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn an_agent_has_one_draft_per_usager_and_none_is_reused_across_usagers(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let agent = account(&db, "saisie@ville.test", UserKind::Agent).await;
    let (camille, dominique) = (usager(&db).await, usager(&db).await);
    let for_camille = db
        .create_draft_for(
            agent,
            Some(camille),
            &first_version(&definition),
            answers(vec![("nom", text("Martin"))]),
            start(),
        )
        .await
        .unwrap();

    let for_dominique = db
        .draft_for(agent, dominique, &first_version(&definition))
        .await
        .unwrap();
    let second = db
        .create_draft_for(
            agent,
            Some(dominique),
            &first_version(&definition),
            answers(vec![]),
            start(),
        )
        .await
        .unwrap();
    let again_for_camille = db
        .create_draft_for(
            agent,
            Some(camille),
            &first_version(&definition),
            answers(vec![]),
            start(),
        )
        .await;
    let anonymous = [
        db.create_draft_for(
            agent,
            None,
            &first_version(&definition),
            answers(vec![]),
            start(),
        )
        .await,
        db.create_draft_for(
            agent,
            None,
            &first_version(&definition),
            answers(vec![]),
            start(),
        )
        .await,
    ];

    assert_eq!(for_dominique, None);
    assert_eq!(second.usager, Some(dominique));
    assert_ne!(second.id, for_camille.id);
    assert!(matches!(again_for_camille, Err(StoreError::Conflict(_))));
    assert!(anonymous.iter().all(Result::is_ok), "{anonymous:?}");
    let found = db
        .draft_for(agent, camille, &first_version(&definition))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, for_camille.id);
    assert_eq!(found.answers, answers(vec![("nom", text("Martin"))]));
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake png";

async fn concurrent_uploads_all_land_and_the_limit_holds(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let draft = db
        .create_draft(owner, &first_version(&definition), answers(vec![]), start())
        .await
        .unwrap();
    let field = FieldId::from("photos");
    let upload = |n: usize| {
        let db = &db;
        let field = field.clone();
        async move {
            let name = format!("photo-{n}.png");
            let new = NewFile {
                owner: FileOwner::Draft(draft.id),
                field: Some(field.clone()),
                declared_name: &name,
                media_type: MediaType::Png,
                content: PNG,
            };
            db.attach_draft_file(draft.id, new, start(), |current, added| {
                let mut files = match current.answers.get(&field) {
                    Some(Value::Files(files)) => files.clone(),
                    _ => Vec::new(),
                };
                if files.len() >= 3 {
                    return Err(StoreError::Conflict("trop de fichiers".into()));
                }
                files.push(added.clone());
                let mut answers = current.answers.clone();
                answers.insert(field.clone(), Value::Files(files));
                Ok(answers)
            })
            .await
        }
    };

    let results = futures::future::join_all((0..5).map(upload)).await;

    let accepted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(accepted, 3, "{results:?}");
    let saved = db.draft(draft.id).await.unwrap();
    let Some(Value::Files(files)) = saved.answers.get(&field) else {
        panic!("no files: {saved:?}");
    };
    assert_eq!(files.len(), 3);
    assert_eq!(saved.revision, 4);
    // Contents are sharded in sub-directories by the first characters of
    // their id.
    let on_disk: usize = std::fs::read_dir(&db.files_dir)
        .unwrap()
        .flatten()
        .map(|shard| std::fs::read_dir(shard.path()).unwrap().count())
        .sum();
    assert_eq!(on_disk, 3, "refused uploads leave no content behind");
}

async fn a_refused_change_writes_nothing(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let draft = db
        .create_draft(
            owner,
            &first_version(&definition),
            answers(vec![("nom", text("Martin"))]),
            start(),
        )
        .await
        .unwrap();

    let refused = db
        .update_draft(draft.id, start() + days(1), |_| {
            Err::<Answers, _>(StoreError::Conflict("refusé".into()))
        })
        .await;

    assert!(refused.is_err());
    assert_eq!(db.draft(draft.id).await.unwrap(), draft);
}

async fn filing_a_draft_changed_since_it_was_read_is_a_conflict(db: TestDb) {
    let (definition, owner, draft) = velo_draft(&db).await;
    let outcome = submission(&db, &definition, draft.answers.clone(), owner, start()).await;
    save_page(
        &db,
        &draft,
        &["reparateur"],
        answers(vec![("reparateur", text("Atelier"))]),
        start(),
    )
    .await;

    let extras = Extras {
        draft: Some(draft.id),
        draft_revision: Some(draft.revision),
        ..Extras::default()
    };
    let filed = db.insert_demande(&outcome, extras, start()).await;

    assert!(matches!(filed, Err(StoreError::Conflict(_))), "{filed:?}");
    assert!(db.draft(draft.id).await.is_ok());
    assert!(matches!(
        db.demande(outcome.demande.id).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_draft_is_saved_page_by_page(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let velo = DemarcheRef {
        slug: definition.slug.clone(),
        version: 1,
    };
    let prefill = answers(vec![("prenom", text("Camille")), ("nom", text("Martin"))]);
    let draft = db
        .create_draft(owner, &velo, prefill, start())
        .await
        .unwrap();

    save_page(
        &db,
        &draft,
        &["prenom", "nom", "courriel"],
        answers(vec![
            ("prenom", text("Camille")),
            ("courriel", text("c@exemple.fr")),
        ]),
        start() + days(1),
    )
    .await;
    save_page(
        &db,
        &draft,
        &["type_velo"],
        answers(vec![("type_velo", choice("cargo"))]),
        start() + days(2),
    )
    .await;

    let saved = db.draft_for(owner, owner, &velo).await.unwrap().unwrap();
    assert_eq!(
        saved.answers,
        answers(vec![
            ("courriel", text("c@exemple.fr")),
            ("prenom", text("Camille")),
            ("type_velo", choice("cargo")),
        ])
    );
    assert_eq!(saved.updated_at, start() + days(2));
    assert_eq!(db.drafts_of(owner).await.unwrap().len(), 1);
}

async fn one_draft_per_person_and_version(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let velo = DemarcheRef {
        slug: definition.slug.clone(),
        version: 1,
    };
    db.create_draft(owner, &velo, answers(vec![]), start())
        .await
        .unwrap();

    let second = db
        .create_draft(owner, &velo, answers(vec![]), start())
        .await;
    let other = db
        .create_draft(usager(&db).await, &velo, answers(vec![]), start())
        .await;

    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    assert!(other.is_ok());
}

async fn filing_deletes_the_draft_in_the_same_transaction(db: TestDb) {
    let (definition, owner, draft) = velo_draft(&db).await;
    let outcome = submission(&db, &definition, draft.answers.clone(), owner, start()).await;

    let extras = Extras {
        draft: Some(draft.id),
        ..Extras::default()
    };
    db.insert_demande(&outcome, extras, start()).await.unwrap();

    assert!(matches!(
        db.draft(draft.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(db.demande(outcome.demande.id).await.is_ok());
}

async fn a_draft_of_an_unknown_version_is_refused(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let missing = DemarcheRef {
        slug: definition.slug.clone(),
        version: 9,
    };

    let refused = db
        .create_draft(owner, &missing, answers(vec![]), start())
        .await;

    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
}

/// The parsed definition a draft is read with is shared from memory
/// (`Store::draft_with_definition`) until its version is updated in place,
/// even at the same instant (a frozen clock).
async fn a_draft_reads_its_definition_as_updated_in_place(db: TestDb) {
    let (mut definition, _owner, draft) = velo_draft(&db).await;
    let (_, first) = db.draft_with_definition(draft.id).await.unwrap();
    assert_eq!(first.title, definition.title);
    let (_, again) = db.draft_with_definition(draft.id).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "parsed once");

    definition.title = "Demander l'aide vélo 2026".to_owned();
    db.import_demarche(&definition, &json_source(&definition), start())
        .await
        .unwrap();

    let (_, updated) = db.draft_with_definition(draft.id).await.unwrap();
    assert_eq!(updated.title, "Demander l'aide vélo 2026");
}

/// Filings that arrive together share one transaction on SQLite (group
/// commit, `group_commit.rs`): the one refused by the database rolls back
/// alone, the others are filed, and no number is lost.
async fn a_stale_draft_filed_among_concurrent_filings_fails_alone(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let latecomer = usager(&db).await;
    let draft = db
        .create_draft(
            latecomer,
            &first_version(&definition),
            velo_answers(),
            start(),
        )
        .await
        .unwrap();
    save_page(
        &db,
        &draft,
        &["reparateur"],
        answers(vec![("reparateur", text("Atelier"))]),
        start(),
    )
    .await;
    let db = std::sync::Arc::new(db);

    let filings: Vec<_> = (0..21)
        .map(|n| {
            let db = db.clone();
            let definition = definition.clone();
            let draft = draft.clone();
            tokio::spawn(async move {
                if n == 10 {
                    let context = db
                        .filing_context(&first_version(&definition), Some(latecomer))
                        .await
                        .unwrap();
                    let extras = Extras {
                        draft: Some(draft.id),
                        draft_revision: Some(draft.revision),
                        ..Extras::default()
                    };
                    db.file_demande(&definition.slug, context, start(), extras, |reserved| {
                        let filing = guichet_core::submission::Filing {
                            version: first_version(&definition).version,
                            id: reserved.id,
                            numero: reserved.numero,
                            answers: draft.answers.clone(),
                            consent: true,
                            filer: guichet_core::submission::Filer::Usager(latecomer),
                        };
                        guichet_core::submission::submit(
                            &definition,
                            filing,
                            &source_choices(),
                            start(),
                            ZONE,
                        )
                        .map_err(|e| StoreError::Invalid(format!("{e:?}")))
                    })
                    .await
                    .map(|outcome| outcome.demande.numero)
                } else {
                    try_file_demande(&db, &definition, velo_answers(), owner, true, start())
                        .await
                        .map(|outcome| outcome.demande.numero)
                }
            })
        })
        .collect();
    let mut filed = BTreeSet::new();
    let mut refused = Vec::new();
    for filing in filings {
        match filing.await.unwrap() {
            Ok(numero) => {
                filed.insert(numero);
            }
            Err(error) => refused.push(error),
        }
    }

    assert!(
        matches!(refused.as_slice(), [StoreError::Conflict(_)]),
        "{refused:?}"
    );
    assert_eq!(filed.len(), 20);
    assert_eq!(db.usager_demandes(owner).await.unwrap().len(), 20);
    assert!(db.usager_demandes(latecomer).await.unwrap().is_empty());
    assert!(db.draft(draft.id).await.is_ok());
    // The refused filing took no number: on SQLite it went back with its
    // savepoint, on PostgreSQL the number's statement found the draft
    // changed.
    let expected: BTreeSet<String> = (1..=20).map(|n| format!("ARV-2026-{n:06}")).collect();
    assert_eq!(filed, expected);
}

/// Page saves are written optimistically (the draft read as committed,
/// written if still at its revision) and, when the draft was saved
/// meanwhile, again with its row locked: concurrent saves of one draft
/// each see the others', and none is lost.
async fn concurrent_page_saves_of_one_draft_lose_nothing(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;
    let db = std::sync::Arc::new(db);

    let saves: Vec<_> = (0..12)
        .map(|n| {
            let db = db.clone();
            let draft = draft.clone();
            tokio::spawn(async move {
                let field = format!("note_{n}");
                save_page(
                    &db,
                    &draft,
                    &[field.as_str()],
                    answers(vec![(field.as_str(), text(&format!("{n}")))]),
                    start(),
                )
                .await
            })
        })
        .collect();
    for save in saves {
        save.await.unwrap();
    }

    let saved = db.draft(draft.id).await.unwrap();
    assert_eq!(saved.revision, draft.revision + 12);
    for n in 0..12 {
        assert_eq!(
            saved
                .answers
                .get(&FieldId::from(format!("note_{n}").as_str())),
            Some(&text(&format!("{n}"))),
            "note_{n} lost"
        );
    }
    assert_eq!(
        saved.answers.get(&FieldId::from("nom")),
        draft.answers.get(&FieldId::from("nom"))
    );
}

/// A page is saved on the draft as the caller read it
/// (`Store::draft_to_save`); if another save landed since, the change runs
/// again on the stored draft and neither save is lost.
async fn a_page_saved_on_a_stale_read_is_checked_again_on_the_stored_draft(db: TestDb) {
    let (_, _, draft) = velo_draft(&db).await;
    let (read, _, key) = db.draft_to_save(draft.id).await.unwrap();
    assert_eq!(read, draft);
    save_page(
        &db,
        &draft,
        &["note_a"],
        answers(vec![("note_a", text("a"))]),
        start(),
    )
    .await;

    let mut seen = Vec::new();
    let saved = db
        .update_read_draft(read, key, start() + days(1), |current| {
            seen.push(current.revision);
            let mut merged = current.answers.clone();
            merged.merge(answers(vec![("note_b", text("b"))]));
            Ok::<_, StoreError>(merged)
        })
        .await
        .unwrap();

    assert_eq!(
        seen,
        vec![draft.revision, draft.revision + 1],
        "the change ran on the read draft, then on the stored one"
    );
    assert_eq!(saved, db.draft(draft.id).await.unwrap());
    assert_eq!(saved.revision, draft.revision + 2);
    assert_eq!(
        saved.answers.get(&FieldId::from("note_a")),
        Some(&text("a"))
    );
    assert_eq!(
        saved.answers.get(&FieldId::from("note_b")),
        Some(&text("b"))
    );
}

/// `Store::update_read_draft` given the key of another draft does not seal
/// with it: it reads the draft again, whose answers stay readable.
async fn a_key_read_with_another_draft_is_not_used(db: TestDb) {
    let (definition, _, draft) = velo_draft(&db).await;
    let other = db
        .create_draft(
            usager(&db).await,
            &first_version(&definition),
            velo_answers(),
            start(),
        )
        .await
        .unwrap();
    let (read, _, _) = db.draft_to_save(draft.id).await.unwrap();
    let (_, _, other_key) = db.draft_to_save(other.id).await.unwrap();

    let mut runs = 0;
    let saved = db
        .update_read_draft(read, other_key, start() + days(1), |current| {
            runs += 1;
            let mut merged = current.answers.clone();
            merged.merge(answers(vec![("note_a", text("a"))]));
            Ok::<_, StoreError>(merged)
        })
        .await
        .unwrap();

    assert_eq!(runs, 1, "only on the draft read again");
    assert_eq!(saved, db.draft(draft.id).await.unwrap(), "still readable");
    assert_eq!(
        saved.answers.get(&FieldId::from("note_a")),
        Some(&text("a"))
    );
}

/// Drafts are created in the group of writes on SQLite: a usager's second
/// draft of a version, refused by the database, is rolled back alone and
/// the drafts created with it are kept.
async fn a_second_draft_among_concurrent_creations_fails_alone(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let first = usager(&db).await;
    db.create_draft(first, &first_version(&definition), velo_answers(), start())
        .await
        .unwrap();
    let mut owners = Vec::new();
    for _ in 0..10 {
        owners.push(usager(&db).await);
    }
    owners.insert(5, first);
    let db = std::sync::Arc::new(db);

    let creations: Vec<_> = owners
        .iter()
        .map(|&owner| {
            let db = db.clone();
            let version = first_version(&definition);
            tokio::spawn(async move {
                db.create_draft(owner, &version, velo_answers(), start())
                    .await
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut refused = Vec::new();
    for creation in creations {
        match creation.await.unwrap() {
            Ok(draft) => created.push(draft),
            Err(error) => refused.push(error),
        }
    }

    assert!(
        matches!(refused.as_slice(), [StoreError::Conflict(message)]
            if message.contains("brouillon de cette démarche est déjà en cours")),
        "{refused:?}"
    );
    assert_eq!(created.len(), 10);
    for draft in &created {
        assert_eq!(&db.draft(draft.id).await.unwrap(), draft);
    }
    assert_eq!(db.drafts_of(first).await.unwrap().len(), 1);
}

/// Polls `future` at most `polls` times, then drops it: a request whose
/// client goes away at its `polls`-th wait.
async fn cancelled_after<F: std::future::Future>(polls: usize, future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut left = polls;
    std::future::poll_fn(move |cx| match future.as_mut().poll(cx) {
        std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
        std::task::Poll::Pending if left <= 1 => std::task::Poll::Ready(None),
        std::task::Poll::Pending => {
            left -= 1;
            std::task::Poll::Pending
        }
    })
    .await
}

/// Page saves cancelled at each of their waits in turn (clients gone
/// mid-request), among concurrent filings: on SQLite they share the
/// filings' group of writes, and a save cancelled while its statement is
/// at the database must neither fail the filings nor be half-written.
async fn cancelled_saves_do_not_fail_the_filings_written_with_them(db: TestDb) {
    const ROUNDS: usize = 4;
    let definition = import(&db, "aide-reparation-velo").await;
    let filer = usager(&db).await;
    let mut drafts = Vec::new();
    for _ in 0..48 {
        let owner = usager(&db).await;
        drafts.push(
            db.create_draft(owner, &first_version(&definition), velo_answers(), start())
                .await
                .unwrap(),
        );
    }
    let db = std::sync::Arc::new(db);

    // Several rounds: whether a cancellation falls while a save's
    // statement is at the database depends on the interleaving.
    for _ in 0..ROUNDS {
        let mut saves = Vec::new();
        let mut filings = Vec::new();
        for (n, draft) in drafts.iter().enumerate() {
            let (store, draft) = (db.clone(), draft.clone());
            saves.push(tokio::spawn(async move {
                cancelled_after(
                    1 + n % 16,
                    save_page(
                        &store,
                        &draft,
                        &["reparateur"],
                        answers(vec![("reparateur", text("Atelier du canal"))]),
                        start(),
                    ),
                )
                .await
            }));
            let (store, definition) = (db.clone(), definition.clone());
            filings.push(tokio::spawn(async move {
                try_file_demande(&store, &definition, velo_answers(), filer, true, start()).await
            }));
        }
        for save in saves {
            save.await.unwrap();
        }
        for filing in filings {
            filing.await.unwrap().unwrap();
        }
    }

    assert_eq!(
        db.usager_demandes(filer).await.unwrap().len(),
        ROUNDS * drafts.len()
    );
    for draft in &drafts {
        let stored = db.draft(draft.id).await.unwrap();
        let saved = stored.revision > draft.revision;
        assert_eq!(
            stored.answers.get(&FieldId::from("reparateur")) == Some(&text("Atelier du canal")),
            saved,
            "a save is written whole or not at all"
        );
    }
}
