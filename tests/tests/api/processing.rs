//! An action with an attachment is decided once by the workflow, and its
//! file row is written in the transaction of the outcome: an accepted
//! action stores exactly one file, the one its history entry names; an
//! action that loses a race with another agent's (a conflict when storing)
//! leaves neither a row nor content behind.

use std::sync::Arc;

use guichet_core::actor::Actor;
use guichet_core::id::DemandeId;
use guichet_core::workflow::{Action, Inputs};
use guichet_host::service::processing::{self, Attachment, Loaded};
use guichet_host::service::{Guichet, ServiceError};
use guichet_store::StoreError;
use guichet_tests::app::{TestApp, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    an_action_with_a_file_stores_exactly_the_file_its_history_names,
    an_action_that_loses_a_race_leaves_no_file_behind,
);

async fn setup(app: &TestApp) -> (guichet_tests::app::Client, String) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    (gestionnaire, id)
}

async fn an_action_with_a_file_stores_exactly_the_file_its_history_names(app: TestApp) {
    let (gestionnaire, id) = setup(&app).await;
    let rows = app.count("files").await;
    let contents = app.stored_files().len();
    let action = json!({ "transition": "commenter", "inputs": { "message": "Voir la note." } });
    let sent = gestionnaire
        .post_form(
            &format!("/api/agent/demandes/{id}/actions"),
            &[("action", &action.to_string())],
            Some(("note.pdf", pdf("note interne"))),
        )
        .await;
    let view = sent.expect(200);
    assert_eq!(app.count("files").await, rows + 1, "one row");
    assert_eq!(app.stored_files().len(), contents + 1, "one content");
    let comment = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["event"] == "commenter")
        .unwrap()
        .clone();
    let file = comment["attachment"]["id"].as_str().unwrap();
    gestionnaire
        .get(&format!("/api/agent/demandes/{id}/files/{file}"))
        .await
        .expect(200);
}

async fn an_action_that_loses_a_race_leaves_no_file_behind(app: TestApp) {
    let (gestionnaire, id) = setup(&app).await;
    let guichet = Guichet {
        store: app.store.clone(),
        clock: Arc::new(app.clock.clone()),
        registry: app.registry.clone(),
        zone: guichet_core::calendar::Zone::default(),
        breakers: Default::default(),
        delivery: Default::default(),
        environment: Default::default(),
    };
    let demande = DemandeId::from_uuid(id.parse().unwrap());
    let stale = Loaded::read(&guichet, demande).await.unwrap();
    // Another agent acts meanwhile.
    step(&gestionnaire, &id, "prendre_en_compte").await;
    let rows = app.count("files").await;
    let contents = app.stored_files().len();
    let agent = app
        .store
        .user_by_login("gestionnaire@ville.test")
        .await
        .unwrap();
    let actor = Actor::Agent {
        id: agent.id,
        rights: guichet_core::role::Role::Gestionnaire.rights(),
    };
    let mut action = Action::new("commenter");
    action.inputs = Inputs {
        message: Some("Trop tard.".into()),
        ..Inputs::default()
    };
    let content = pdf("trop tard");
    let refused = processing::apply(
        &guichet,
        &stale,
        action,
        &actor,
        Some(Attachment {
            name: "tard.pdf",
            content: &content,
        }),
    )
    .await;
    assert!(
        matches!(refused, Err(ServiceError::Store(StoreError::Conflict(_)))),
        "{refused:?}"
    );
    assert_eq!(app.count("files").await, rows, "no row");
    assert_eq!(app.stored_files().len(), contents, "no content");
}
