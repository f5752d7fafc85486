//! Anonymisation at 1 year (simple) and 2 years (complexe) after closing,
//! then the proof: no personal value of the demande remains in any text
//! column of any table, nor in the file storage. The only row still holding
//! the usager's identity is their own account (`users`), which lives as
//! long as they keep it.

use guichet_tests::app::{Client, TestApp, jpeg, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    simple_demande_is_anonymised_after_one_year_and_nothing_personal_remains,
    complexe_demande_is_anonymised_after_two_years_and_nothing_personal_remains,
);

/// The values that identify the usager or come from them or about them.
const PERSONAL: [&str; 14] = [
    "Albertine",
    "Zwolinski",
    "albertine.zwolinski@exemple.test",
    "06 12 34 56 78",
    "+33612345678",
    "République",
    "Marseille",
    "FR7630006000",
    "Cycles Zwolinski",
    "vélo de ma fille",
    "depuis une semaine",
    "12 bis",
    "lampadaire 1207",
    "plan du quartier",
];

/// Markers written inside the files the usager and the agents attached.
const FILE_MARKERS: [&str; 4] = [
    "facture Zwolinski",
    "RIB Zwolinski",
    "plan du quartier",
    "lampadaire 1207",
];

/// The usager's own account, which anonymising a demande does not touch.
const ACCOUNT_COLUMNS: [&str; 3] = ["users.login", "users.display_name", "users.profile"];

async fn usager(app: &TestApp) -> Client {
    app.usager("Albertine", "Zwolinski", "albertine.zwolinski@exemple.test")
        .await
}

async fn assert_nothing_personal_remains(app: &TestApp) {
    let leaks: Vec<(String, String)> = app
        .every_stored_text()
        .await
        .into_iter()
        .filter(|(_, value)| PERSONAL.iter().any(|p| value.contains(p)))
        .collect();
    let outside_account: Vec<&(String, String)> = leaks
        .iter()
        .filter(|(column, _)| !ACCOUNT_COLUMNS.contains(&column.as_str()))
        .collect();
    assert!(
        outside_account.is_empty(),
        "personal values left outside the usager's account: {outside_account:#?}"
    );
    for (path, content) in app.stored_files() {
        let text = String::from_utf8_lossy(&content);
        assert!(
            !FILE_MARKERS.iter().any(|m| text.contains(m)),
            "file left in storage: {}",
            path.display()
        );
    }
    assert!(app.stored_files().is_empty(), "the storage holds no file");
}

async fn simple_demande_is_anonymised_after_one_year_and_nothing_personal_remains(app: TestApp) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = usager(&app).await;

    let draft = open_draft(&usager, VELO).await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture.pdf", pdf("facture Zwolinski"))),
        )
        .await
        .expect(201);
    save_page(
        &usager,
        &draft,
        "reparation",
        json!({
            "type_velo": "classique",
            "date_reparation": "2026-02-20",
            "reparateur": "Cycles Zwolinski",
            "montant": 60
        }),
    )
    .await;
    save_page(
        &usager,
        &draft,
        "versement",
        json!({ "titulaire_compte": "Albertine Zwolinski", "iban": "FR7630006000011234567890189", "attestation": true }),
    )
    .await;
    let id = submit(&usager, &draft).await;

    step(&gestionnaire, &id, "prendre_en_compte").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "echanger", "inputs": { "message": "Merci de joindre le RIB de Mme Zwolinski." } }),
    )
    .await
    .expect(200);
    usager
        .post_form(
            &format!("/api/demandes/{id}/reply"),
            &[("message", "Voici le RIB, pour le vélo de ma fille.")],
            Some(("rib.pdf", pdf("RIB Zwolinski"))),
        )
        .await
        .expect(200);
    step(&gestionnaire, &id, "accepter").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Aide versée à Mme Zwolinski.", "confirmed": true } }),
    )
    .await
    .expect(200);
    assert_eq!(app.stored_files().len(), 2);

    app.at_day(7.1).await;
    app.at_day(364.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    app.at_day(365.1).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["status"]["id"], "anonymisee");
    assert_eq!(view["usager"], serde_json::Value::Null);
    assert_eq!(
        view["answers"],
        json!({
            "attestation": { "type": "checkbox", "value": true },
            "type_velo": { "type": "choice", "value": "classique" }
        }),
        "only what statistics need is kept"
    );
    let gone = usager.get(&format!("/api/demandes/{id}")).await;
    assert_eq!(
        gone.status, 404,
        "the demande no longer points at its usager"
    );

    assert_nothing_personal_remains(&app).await;
}

async fn complexe_demande_is_anonymised_after_two_years_and_nothing_personal_remains(app: TestApp) {
    app.import("signalement-voie-publique").await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = usager(&app).await;

    let id = file_signalement(&usager, Some(jpeg("lampadaire 1207"))).await;
    step(&gestionnaire, &id, "receptionner").await;
    let action = json!({ "transition": "echanger", "inputs": {
        "message": "Est-ce bien devant le 12 bis ?" } })
    .to_string();
    gestionnaire
        .post_form(
            &format!("/api/agent/demandes/{id}/actions"),
            &[("action", &action)],
            Some(("plan.pdf", pdf("plan du quartier"))),
        )
        .await
        .expect(200);
    usager
        .post(
            &format!("/api/demandes/{id}/reply"),
            json!({ "message": "Oui, au 12 bis, Albertine Zwolinski." }),
        )
        .await
        .expect(200);
    step(&gestionnaire, &id, "accepter").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Réparé, merci Mme Zwolinski.", "confirmed": true } }),
    )
    .await
    .expect(200);

    app.at_day(27.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    app.at_day(365.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    // Two calendar years after closing on 2 March 2026: 2 March 2028, 731
    // days later (2028 is a leap year).
    app.at_day(730.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    app.at_day(731.1).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["status"]["id"], "anonymisee");
    assert_eq!(view["answers"]["categorie"]["value"], "eclairage");

    assert_nothing_personal_remains(&app).await;
}
