//! Drafts saved page by page.

use guichet_core::demande::DemarcheRef;
use guichet_core::field::FieldId;
use guichet_store::StoreError;
use guichet_store::outcome::Extras;

use crate::support::*;

fn ids(names: &[&str]) -> Vec<FieldId> {
    names.iter().map(|n| FieldId::from(*n)).collect()
}

on_both_backends!(
    a_draft_is_saved_page_by_page,
    one_draft_per_person_and_version,
    filing_deletes_the_draft_in_the_same_transaction,
    a_draft_of_an_unknown_version_is_refused,
);

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

    db.save_draft_page(
        draft.id,
        &ids(&["prenom", "nom", "courriel"]),
        answers(vec![
            ("prenom", text("Camille")),
            ("courriel", text("c@exemple.fr")),
        ]),
        start() + days(1),
    )
    .await
    .unwrap();
    db.save_draft_page(
        draft.id,
        &ids(&["type_velo"]),
        answers(vec![("type_velo", choice("cargo"))]),
        start() + days(2),
    )
    .await
    .unwrap();

    let saved = db.draft_for(owner, &velo).await.unwrap().unwrap();
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
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let velo = DemarcheRef {
        slug: definition.slug.clone(),
        version: 1,
    };
    let draft = db
        .create_draft(owner, &velo, velo_answers(), start())
        .await
        .unwrap();
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
