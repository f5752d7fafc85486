//! Anonymisation erases personal values from every table and the files
//! from disk, keeping what statistics need.
use guichet_core::id::FieldId;

use guichet_core::demande::DemarcheRef;

use guichet_core::file::MediaType;
use guichet_core::workflow::Action;
use guichet_store::connector::{CallQuery, ConnectorCall, RemoteLink};
use guichet_store::file::{FileOwner, NewFile};
use guichet_store::job::NOTIFICATION_JOB;
use guichet_store::outcome::Extras;
use serde_json::json;

use crate::support::*;

/// Values of the demande that identify the usager, in answers, free texts,
/// file names, connector logs and cards.
const PERSONAL: [&str; 13] = [
    "Camille",
    "Martin",
    "camille.martin@exemple.fr",
    "06 12 34 56 78",
    "République",
    "Marseille",
    "devant l'école",
    "pair ou impair",
    "devant le 12",
    "Lampe remplacée",
    "photo-du-lampadaire",
    "plan-du-quartier",
    "Lampadaire éteint",
];

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

on_both_backends!(
    after_anonymisation_no_personal_value_remains_in_any_table_or_on_disk,
    anonymisation_keeps_what_statistics_need,
);

async fn after_anonymisation_no_personal_value_remains_in_any_table_or_on_disk(db: TestDb) {
    let definition = import(&db, "signalement-voie-publique").await;
    let owner = usager(&db).await;
    let agent = gestionnaire(usager(&db).await);
    let signalement = DemarcheRef {
        slug: definition.slug.clone(),
        version: 1,
    };
    let draft = db
        .create_draft(owner, &signalement, Default::default(), start())
        .await
        .unwrap();
    let photo = db
        .save_file(
            NewFile {
                owner: FileOwner::Draft(draft.id),
                field: Some(FieldId::from("photos")),
                declared_name: "photo-du-lampadaire.jpg",
                media_type: MediaType::Jpeg,
                content: JPEG,
            },
            start(),
        )
        .await
        .unwrap();
    let outcome = submission(
        &db,
        &definition,
        signalement_answers(vec![photo.file.clone()]),
        owner,
        start(),
    )
    .await;
    let extras = Extras {
        draft: Some(draft.id),
        ..Extras::default()
    };
    db.insert_demande(&outcome, extras, start()).await.unwrap();
    let id = outcome.demande.id;
    let plan = db
        .save_file(
            NewFile {
                owner: FileOwner::Demande(id),
                field: None,
                declared_name: "plan-du-quartier.png",
                media_type: MediaType::Png,
                content: PNG,
            },
            start(),
        )
        .await
        .unwrap();
    act(&db, &outcome, Action::new("receptionner"), &agent, start())
        .await
        .unwrap();
    act(
        &db,
        &outcome,
        Action::new("echanger").message("Le lampadaire est-il côté pair ou impair ?"),
        &agent,
        start(),
    )
    .await
    .unwrap();
    let answer = Action::new("repondre")
        .message("Côté pair, devant le 12.")
        .attachment(plan.file.clone());
    act(
        &db,
        &outcome,
        answer,
        &guichet_core::actor::Actor::Usager(owner),
        start(),
    )
    .await
    .unwrap();
    db.record_connector_call(&ConnectorCall {
        connector: "atal".to_owned(),
        connector_version: "1.0.0".to_owned(),
        instance: "atal-ville".to_owned(),
        operation: "transmit".to_owned(),
        at: start(),
        duration_ms: 80,
        outcome: "error".to_owned(),
        error: Some("contact Camille Martin refusé".to_owned()),
        logs: json!([{ "message": "envoi de camille.martin@exemple.fr" }]),
        exchanges: json!([{ "body": { "LastName": "Martin", "City": "Marseille" } }]),
        demande: Some(id),
        job: None,
    })
    .await
    .unwrap();
    db.upsert_remote_link(&RemoteLink {
        demande: id,
        instance: "atal-ville".to_owned(),
        remote_id: "7f1c".to_owned(),
        display_id: Some("DI-0042".to_owned()),
        remote_status: Some(json!({ "comments": ["Vu avec Camille Martin"] })),
        card: Some(json!({ "contact": "Camille Martin, 12 rue de la République" })),
        updated_at: start(),
    })
    .await
    .unwrap();
    act(&db, &outcome, Action::new("accepter"), &agent, start())
        .await
        .unwrap();
    let close = Action::new("cloturer")
        .closing_comment("Lampe remplacée par l'équipe Éclairage.")
        .confirmed();
    act(&db, &outcome, close, &agent, start()).await.unwrap();
    assert!(db.files().exists(photo.file.id).await);

    let fired = run_scheduler(&db, start() + days(731)).await;

    assert!(fired.contains(&"anonymise".to_owned()), "{fired:?}");
    let stored = db.demande(id).await.unwrap().demande;
    assert_eq!(stored.status.as_str(), "anonymisee");
    assert_eq!(stored.usager, None);
    // The anonymisation notice carries the usager's contact until it is
    // delivered; delivering it erases the contact.
    let now = start() + days(731);
    let jobs = db
        .claim_jobs("test-worker", &[NOTIFICATION_JOB], now, 100)
        .await
        .unwrap();
    let notice = jobs
        .iter()
        .find(|job| job.payload["template"] == "anonymisation_usager")
        .expect("the anonymisation notice");
    assert_eq!(
        notice.payload["contact"]["email"],
        "camille.martin@exemple.fr"
    );
    for job in &jobs {
        db.complete_job(job.id, "test-worker", now).await.unwrap();
    }
    let keys: Vec<(String, String)> = every_stored_text(&db)
        .await
        .into_iter()
        .filter(|(place, _)| place == "data_keys.id")
        .collect();
    assert!(keys.is_empty(), "every key destroyed: {keys:?}");
    for (place, value) in every_stored_text(&db).await {
        // Sealed values would hide personal ones: every key is destroyed
        // (the demande's at anonymisation, the notice's once delivered),
        // so nothing sealed may remain.
        assert!(
            !value.starts_with(guichet_store::seal::SEALED_PREFIX),
            "sealed value left in {place}"
        );
        // The definitions are public texts, not personal data (one of
        // them gives « Lampadaire éteint » as an example).
        if place.starts_with("demarche_versions.") {
            continue;
        }
        for personal in PERSONAL {
            assert!(
                !value.contains(personal),
                "« {personal} » survived in {place}: {value}"
            );
        }
    }
    assert!(!db.files().exists(photo.file.id).await);
    assert!(!db.files().exists(plan.file.id).await);
    assert!(
        db.files_of(FileOwner::Demande(id))
            .await
            .unwrap()
            .is_empty()
    );
    let jobs = db.jobs_of(id).await.unwrap();
    assert!(
        jobs.iter()
            .all(|job| job.payload["template"] == "anonymisation_usager"),
        "{jobs:?}"
    );
    let calls = db
        .connector_calls(&CallQuery {
            demande: Some(id),
            limit: 10,
            ..CallQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(calls[0].1.duration_ms, 80);
    assert_eq!(db.remote_links(id).await.unwrap()[0].remote_id, "7f1c");
}

async fn anonymisation_keeps_what_statistics_need(db: TestDb) {
    let definition = import(&db, "signalement-voie-publique").await;
    let agent = gestionnaire(usager(&db).await);
    let outcome = file_demande(
        &db,
        &definition,
        signalement_answers(vec![]),
        usager(&db).await,
        start(),
    )
    .await;
    act(&db, &outcome, Action::new("receptionner"), &agent, start())
        .await
        .unwrap();
    act(&db, &outcome, Action::new("accepter"), &agent, start())
        .await
        .unwrap();
    let close = Action::new("cloturer").closing_comment("Fait.").confirmed();
    act(&db, &outcome, close, &agent, start() + days(3))
        .await
        .unwrap();

    run_scheduler(&db, start() + days(800)).await;

    let stored = db.demande(outcome.demande.id).await.unwrap().demande;
    assert_eq!(stored.numero, outcome.demande.numero);
    assert_eq!(stored.departement.as_deref(), Some("13"));
    assert_eq!(stored.dates.closed_at, Some(start() + days(3)));
    assert!(stored.answers.get(&FieldId::from("categorie")).is_some());
    let history = db.history(outcome.demande.id).await.unwrap();
    assert!(history.len() > 4);
    assert!(
        history
            .iter()
            .all(|e| e.message.is_none() && e.attachment.is_none())
    );
}
