//! The *parcours standard complexe*: the signalement on the public road
//! (hold up to 60 days, transfer targets, 15 days without answer before
//! cancellation, escalation at the deadline, SMS).

use guichet_tests::app::{Client, TestApp, jpeg, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    complexe_path_escalates_at_27_days_and_flags_the_demande_late,
    hold_moves_the_reminders_and_the_deadline_by_the_time_on_hold,
    transfer_and_joint_processing_change_the_services,
    exchange_and_reply_carry_messages_and_files_in_both_histories,
    silence_of_the_usager_cancels_the_demande_after_the_configured_delay,
    complexe_demande_is_archived_27_days_after_closing,
);

const ECLAIRAGE: &str = "Gest_SVL_DTE_Éclairage";
const PROPRETE: &str = "Gest_SVL_DTE_Propreté";

async fn setup(app: &TestApp) -> (Client, Client) {
    connect_atal(app).await;
    app.import("signalement-voie-publique").await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    (usager, gestionnaire)
}

async fn received(app: &TestApp) -> (Client, Client, String) {
    let (usager, gestionnaire) = setup(app).await;
    let id = file_signalement(&usager, None).await;
    let view = step(&gestionnaire, &id, "receptionner").await;
    assert_eq!(view["status"]["id"], "en_cours_analyse");
    (usager, gestionnaire, id)
}

async fn complexe_path_escalates_at_27_days_and_flags_the_demande_late(app: TestApp) {
    let (_, gestionnaire, id) = received(&app).await;

    app.at_day(15.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["reminders_sent"],
        json!([15])
    );
    app.at_day(21.1).await;
    app.at_day(27.1).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(
        view["status"]["id"], "en_cours_analyse",
        "escalated, not closed"
    );
    assert_eq!(view["late"], true);
    assert!(events(&view["history"]).contains(&"echeance".to_owned()));

    let late = gestionnaire.get("/api/agent/demandes?late=true").await;
    let late = late.expect(200);
    assert_eq!(late["total"], 1);
    assert_eq!(late["rows"][0]["id"], id.as_str());
    assert_eq!(late["rows"][0]["late"], true);
    let on_time = gestionnaire.get("/api/agent/demandes?late=false").await;
    assert_eq!(on_time.expect(200)["total"], 0);
}

async fn hold_moves_the_reminders_and_the_deadline_by_the_time_on_hold(app: TestApp) {
    let (usager, gestionnaire, id) = received(&app).await;
    let before = agent_view(&gestionnaire, &id).await["deadline"].clone();

    app.at_day(10.0).await;
    let held = act(
        &gestionnaire,
        &id,
        json!({ "transition": "mettre_en_attente", "inputs": { "message": "En attente du passage de l'entreprise." } }),
    )
    .await;
    assert_eq!(held.expect(200)["status"]["id"], "en_attente");
    assert_eq!(
        usager_view(&usager, &id).await["status"]["id"],
        "en_attente"
    );
    app.at_day(20.0).await;
    let resumed = step(&gestionnaire, &id, "reprendre").await;
    assert_eq!(resumed["status"]["id"], "en_cours_analyse");

    let after = resumed["deadline"].as_str().unwrap().to_owned();
    let shift = chrono::DateTime::parse_from_rfc3339(&after).unwrap()
        - chrono::DateTime::parse_from_rfc3339(before.as_str().unwrap()).unwrap();
    assert_eq!(shift, chrono::Duration::days(10));

    app.at_day(24.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["reminders_sent"],
        json!([])
    );
    app.at_day(25.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["reminders_sent"],
        json!([15])
    );
    app.at_day(36.9).await;
    assert_eq!(agent_view(&gestionnaire, &id).await["late"], false);
    app.at_day(37.1).await;
    assert_eq!(agent_view(&gestionnaire, &id).await["late"], true);
}

async fn transfer_and_joint_processing_change_the_services(app: TestApp) {
    let (_, gestionnaire, id) = received(&app).await;
    app.grant(ECLAIRAGE, Some(SIGNALEMENT)).await;
    let eclairage = app.agent("eclairage@ville.test", &[ECLAIRAGE]).await;

    let outside = act(
        &gestionnaire,
        &id,
        json!({ "transition": "transferer", "inputs": { "service": MOBILITES } }),
    )
    .await;
    assert_eq!((outside.status, outside.code()), (422, "invalid_service"));

    let moved = act(
        &gestionnaire,
        &id,
        json!({ "transition": "transferer", "inputs": {
            "service": ECLAIRAGE, "message": "Lampadaire : pour l'éclairage public." } }),
    )
    .await;
    assert_eq!(moved.expect(200)["service"], ECLAIRAGE);
    // The demande has moved: its new service adds the joint one.
    let joined = act(
        &eclairage,
        &id,
        json!({ "transition": "ajouter_service", "inputs": { "service": PROPRETE } }),
    )
    .await;
    assert_eq!(joined.expect(200)["joint_services"], json!([PROPRETE]));

    let by_service = eclairage
        .get(&format!("/api/agent/demandes?service={ECLAIRAGE}"))
        .await;
    assert_eq!(by_service.expect(200)["rows"][0]["id"], id.as_str());
    let joint = eclairage
        .get(&format!("/api/agent/demandes?service={PROPRETE}"))
        .await;
    assert_eq!(joint.expect(200)["total"], 1);
    let voirie = eclairage
        .get(&format!("/api/agent/demandes?service={VOIRIE}"))
        .await;
    assert_eq!(voirie.expect(200)["total"], 0);
}

async fn exchange_and_reply_carry_messages_and_files_in_both_histories(app: TestApp) {
    let (usager, gestionnaire, id) = received(&app).await;
    let action = json!({ "transition": "echanger", "inputs": {
        "message": "Pouvez-vous préciser le numéro du lampadaire ?" } })
    .to_string();
    let sent = gestionnaire
        .post_form(
            &format!("/api/agent/demandes/{id}/actions"),
            &[("action", &action)],
            Some(("plan.pdf", pdf("plan du quartier"))),
        )
        .await;
    sent.expect(200);
    gestionnaire
        .post(
            &format!("/api/agent/demandes/{id}/actions"),
            json!({ "transition": "commenter", "inputs": { "message": "Voir avec l'équipe de nuit." } }),
        )
        .await
        .expect(200);

    let history = usager.get(&format!("/api/demandes/{id}/history")).await;
    let entries = history.expect(200).as_array().unwrap().clone();
    assert!(!events(&json!(entries)).contains(&"commenter".to_owned()));
    let exchange = entries.iter().find(|e| e["event"] == "echanger").unwrap();
    assert_eq!(
        exchange["message"],
        "Pouvez-vous préciser le numéro du lampadaire ?"
    );
    let file = exchange["attachment"]["id"].as_str().unwrap();
    let download = usager
        .get(&format!("/api/demandes/{id}/files/{file}"))
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.bytes, pdf("plan du quartier"));

    let replied = usager
        .post_form(
            &format!("/api/demandes/{id}/reply"),
            &[("message", "C'est le lampadaire n° 1207.")],
            Some(("photo.jpg", jpeg("lampadaire 1207"))),
        )
        .await;
    replied.expect(200);
    let view = agent_view(&gestionnaire, &id).await;
    let reply = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "repondre")
        .unwrap()
        .clone();
    assert_eq!(reply["message"], "C'est le lampadaire n° 1207.");
    assert_eq!(reply["attachment"]["media_type"], "jpeg");
    assert!(events(&view["history"]).contains(&"commenter".to_owned()));
}

async fn silence_of_the_usager_cancels_the_demande_after_the_configured_delay(app: TestApp) {
    let (usager, gestionnaire, silent) = received(&app).await;
    let answering = file_signalement(&usager, None).await;
    step(&gestionnaire, &answering, "receptionner").await;

    app.at_day(1.0).await;
    for id in [&silent, &answering] {
        act(
            &gestionnaire,
            id,
            json!({ "transition": "echanger", "inputs": { "message": "Une photo serait utile." } }),
        )
        .await
        .expect(200);
    }
    app.at_day(5.0).await;
    usager
        .post(
            &format!("/api/demandes/{answering}/reply"),
            json!({ "message": "Je n'ai pas pu en prendre." }),
        )
        .await
        .expect(200);

    app.at_day(15.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &silent).await["status"]["id"],
        "en_cours_analyse"
    );
    app.at_day(16.1).await;
    let cancelled = usager_view(&usager, &silent).await;
    assert_eq!(cancelled["status"]["id"], "annulee_absence_reponse");
    assert_eq!(
        cancelled["status"]["label"],
        "Demande annulée par le service pour absence de réponse"
    );
    assert_eq!(
        agent_view(&gestionnaire, &answering).await["status"]["id"],
        "en_cours_analyse"
    );
}

async fn complexe_demande_is_archived_27_days_after_closing(app: TestApp) {
    let (_, gestionnaire, id) = received(&app).await;
    step(&gestionnaire, &id, "accepter").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Lampadaire réparé.", "confirmed": true } }),
    )
    .await
    .expect(200);

    app.at_day(7.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "traitee"
    );
    app.at_day(26.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "traitee"
    );
    app.at_day(27.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
}
