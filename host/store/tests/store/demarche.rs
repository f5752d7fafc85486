//! Démarche import with versioning, and the catalogues.
use guichet_core::id::Slug;

use guichet_core::demarche::DemarcheVisibility;
use guichet_store::demarche::{CatalogueQuery, ImportKind};

use crate::support::*;

fn search(words: &str) -> CatalogueQuery {
    CatalogueQuery {
        category: None,
        search: Some(words.to_owned()),
    }
}

fn slugs(entries: &[guichet_store::demarche::CatalogueEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.slug.as_str()).collect()
}

on_both_backends!(
    first_import_is_version_1_and_keeps_its_source,
    an_identical_import_changes_nothing,
    a_text_change_updates_the_latest_version_in_place,
    a_structural_change_makes_a_new_version_and_filed_demandes_keep_theirs,
    catalogue_search_ignores_case_and_accents,
    the_usager_catalogue_lists_public_demarches_open_now,
    the_catalogue_filters_by_category,
    demande_numbers_use_the_demarche_prefix,
);

async fn first_import_is_version_1_and_keeps_its_source(db: TestDb) {
    let (definition, source) = example("aide-reparation-velo");

    let imported = db
        .import_demarche(&definition, &source, start())
        .await
        .unwrap();

    assert_eq!((imported.version, imported.kind), (1, ImportKind::Created));
    let stored = db.demarche(&definition.slug).await.unwrap();
    assert_eq!(stored.definition, definition);
    assert_eq!(stored.source, source);
}

async fn an_identical_import_changes_nothing(db: TestDb) {
    let (definition, source) = example("aide-reparation-velo");
    db.import_demarche(&definition, &source, start())
        .await
        .unwrap();

    let again = db
        .import_demarche(&definition, &source, start() + days(1))
        .await
        .unwrap();

    assert_eq!((again.version, again.kind), (1, ImportKind::Unchanged));
    assert_eq!(
        db.demarche(&definition.slug).await.unwrap().updated_at,
        start()
    );
}

async fn a_text_change_updates_the_latest_version_in_place(db: TestDb) {
    let (mut definition, source) = example("aide-reparation-velo");
    db.import_demarche(&definition, &source, start())
        .await
        .unwrap();
    definition.title = "Demander l'aide vélo 2026".to_owned();

    let edited = db
        .import_demarche(&definition, &json_source(&definition), start() + days(1))
        .await
        .unwrap();

    assert_eq!(
        (edited.version, edited.kind),
        (1, ImportKind::UpdatedInPlace)
    );
    assert_eq!(db.demarche_versions(&definition.slug).await.unwrap(), [1]);
    let stored = db.demarche_version(&definition.slug, 1).await.unwrap();
    assert_eq!(stored.definition.title, "Demander l'aide vélo 2026");
    assert_eq!(stored.updated_at, start() + days(1));
}

async fn a_structural_change_makes_a_new_version_and_filed_demandes_keep_theirs(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    let mut next = definition.clone();
    next.pages[0].fields.pop();

    let imported = db
        .import_demarche(&next, &json_source(&next), start() + days(1))
        .await
        .unwrap();

    assert_eq!(
        (imported.version, imported.kind),
        (2, ImportKind::NewVersion)
    );
    assert_eq!(
        db.demarche(&definition.slug).await.unwrap().definition,
        next
    );
    let demande = db.demande(filed.demande.id).await.unwrap().demande;
    assert_eq!(demande.demarche.version, 1);
    let filed_on = db.demarche_version(&definition.slug, 1).await.unwrap();
    assert_eq!(filed_on.definition, definition);
}

async fn catalogue_search_ignores_case_and_accents(db: TestDb) {
    import(&db, "aide-reparation-velo").await;
    import(&db, "signalement-voie-publique").await;

    for words in [
        "VELO",
        "vélo",
        "Réparation",
        "reparation velo",
        "mobilite douce",
    ] {
        let found = db.catalogue(&search(words), start()).await.unwrap();
        assert_eq!(slugs(&found), ["aide-reparation-velo"], "{words}");
    }
    let lighting = db.catalogue(&search("eclairage"), start()).await.unwrap();
    assert_eq!(slugs(&lighting), ["signalement-voie-publique"]);
    assert!(
        db.catalogue(&search("velo voirie"), start())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.catalogue(&search("100%"), start())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_usager_catalogue_lists_public_demarches_open_now(db: TestDb) {
    import(&db, "aide-reparation-velo").await;
    import(&db, "signalement-voie-publique").await;
    import(&db, "inscription-restauration-scolaire").await;
    let (mut agents_only, _) = example("aide-reparation-velo");
    agents_only.slug = Slug::from("aide-velo-guichet".to_owned());
    agents_only.visibility = DemarcheVisibility::Agents;
    db.import_demarche(&agents_only, &json_source(&agents_only), start())
        .await
        .unwrap();

    let usager_sees = db
        .catalogue(&CatalogueQuery::default(), start())
        .await
        .unwrap();
    let agents_see = db
        .agent_catalogue(&CatalogueQuery::default())
        .await
        .unwrap();
    let in_may = db
        .catalogue(&CatalogueQuery::default(), start() + days(70))
        .await
        .unwrap();

    assert_eq!(
        slugs(&usager_sees),
        ["aide-reparation-velo", "signalement-voie-publique"]
    );
    assert_eq!(agents_see.len(), 4);
    assert!(slugs(&in_may).contains(&"inscription-restauration-scolaire"));
}

async fn the_catalogue_filters_by_category(db: TestDb) {
    import(&db, "aide-reparation-velo").await;
    import(&db, "signalement-voie-publique").await;
    let query = CatalogueQuery {
        category: Some("Voirie et propreté".to_owned()),
        search: None,
    };

    let found = db.catalogue(&query, start()).await.unwrap();

    assert_eq!(slugs(&found), ["signalement-voie-publique"]);
    assert_eq!(found[0].keywords[0], "signalement");
}

async fn demande_numbers_use_the_demarche_prefix(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    db.set_numero_prefix(&definition.slug, "VELO")
        .await
        .unwrap();

    let first = db.reserve_demande(&definition.slug, start()).await.unwrap();
    let second = db.reserve_demande(&definition.slug, start()).await.unwrap();
    let next_year = db
        .reserve_demande(&definition.slug, start() + days(365))
        .await
        .unwrap();

    assert_eq!(first.numero, "VELO-2026-000001");
    assert_eq!(second.numero, "VELO-2026-000002");
    assert_eq!(next_year.numero, "VELO-2027-000001");
    assert!(
        db.set_numero_prefix(&definition.slug, "vélo")
            .await
            .is_err()
    );
}
