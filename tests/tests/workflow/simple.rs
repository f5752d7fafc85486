//! The *parcours standard simple*: the vélo repair aid.

use guichet_tests::app::{Client, TestApp};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    simple_path_runs_from_submission_to_archive,
    reminders_come_at_15_and_21_days_and_the_demande_closes_itself_at_27,
    usager_abandons_only_while_in_progress_and_after_confirming,
    refusal_needs_a_type_and_a_justification,
);

async fn setup(app: &TestApp) -> (Client, Client) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    (usager, gestionnaire)
}

async fn simple_path_runs_from_submission_to_archive(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;

    let id = file_velo(&usager).await;
    let mine = usager.get("/api/demandes").await;
    assert_eq!(mine.expect(200)[0]["status"]["id"], "transmise");
    let table = gestionnaire.get("/api/agent/demandes").await;
    assert_eq!(table.expect(200)["rows"][0]["id"], id.as_str());

    for transition in ["prendre_en_compte", "accepter", "commencer_traitement"] {
        step(&gestionnaire, &id, transition).await;
    }
    let closed = act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Aide de 50 € versée le 10 mars.", "confirmed": true } }),
    )
    .await;
    assert_eq!(closed.expect(200)["status"]["id"], "traitee");
    assert_eq!(
        usager_view(&usager, &id).await["status"]["label"],
        "Demande traitée"
    );

    app.jump_days(6).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "traitee"
    );
    app.jump_days(1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );

    let history = usager.get(&format!("/api/demandes/{id}/history")).await;
    assert_eq!(
        events(history.expect(200)),
        [
            "depot",
            "prendre_en_compte",
            "accepter",
            "commencer_traitement",
            "cloturer",
            "archiver"
        ]
    );
}

async fn reminders_come_at_15_and_21_days_and_the_demande_closes_itself_at_27(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;
    let id = file_velo(&usager).await;
    step(&gestionnaire, &id, "prendre_en_compte").await;

    app.at_day(14.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["reminders_sent"],
        json!([])
    );
    app.at_day(15.1).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["reminders_sent"], json!([15]));
    assert!(events(&view["history"]).contains(&"relance".to_owned()));
    app.at_day(21.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["reminders_sent"],
        json!([15, 21])
    );
    let usager_history = usager.get(&format!("/api/demandes/{id}/history")).await;
    assert!(!events(usager_history.expect(200)).contains(&"relance".to_owned()));

    app.at_day(26.9).await;
    let late = gestionnaire.get("/api/agent/demandes?late=true").await;
    assert_eq!(late.expect(200)["total"], 0);
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "en_cours_analyse"
    );

    app.at_day(27.1).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["status"]["id"], "traitee");
    assert!(events(&view["history"]).contains(&"echeance".to_owned()));
}

async fn usager_abandons_only_while_in_progress_and_after_confirming(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;
    let id = file_velo(&usager).await;
    let abandon = format!("/api/demandes/{id}/abandon");

    let too_early = usager.post(&abandon, json!({ "confirmed": true })).await;
    assert_eq!(
        (too_early.status, too_early.code()),
        (409, "action_not_allowed")
    );

    step(&gestionnaire, &id, "prendre_en_compte").await;
    let offered = usager_view(&usager, &id).await;
    assert!(
        offered["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["transition"] == "abandonner" && a["confirm"] == true)
    );
    let unconfirmed = usager.post(&abandon, json!({})).await;
    assert_eq!(
        (unconfirmed.status, unconfirmed.code()),
        (422, "confirmation_required")
    );
    let done = usager.post(&abandon, json!({ "confirmed": true })).await;
    assert_eq!(done.expect(200)["status"]["id"], "abandonnee");
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "abandonnee"
    );
}

async fn refusal_needs_a_type_and_a_justification(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;
    let id = file_velo(&usager).await;
    step(&gestionnaire, &id, "prendre_en_compte").await;

    let bare = act(
        &gestionnaire,
        &id,
        json!({ "transition": "refuser", "inputs": { "refusal_type": "refusee", "confirmed": true } }),
    )
    .await;
    assert_eq!((bare.status, bare.code()), (422, "invalid_action"));
    assert!(
        bare.body["message"]
            .as_str()
            .unwrap()
            .contains("justification")
    );

    let refused = act(
        &gestionnaire,
        &id,
        json!({ "transition": "refuser", "inputs": {
            "refusal_type": "refusee",
            "justification": "La facture date de plus de trois mois.",
            "confirmed": true } }),
    )
    .await;
    assert_eq!(refused.expect(200)["status"]["id"], "refusee");
    let seen = usager_view(&usager, &id).await;
    assert_eq!(seen["status"]["label"], "Demande refusée par le service");
    let history = usager.get(&format!("/api/demandes/{id}/history")).await;
    let last = history
        .expect(200)
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["message"], "La facture date de plus de trois mois.");
}
