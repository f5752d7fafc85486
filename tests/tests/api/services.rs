//! Rights follow the demande's service (`guichet_core::role`): a group
//! granted on a démarche processes only the demandes of its service (current
//! or joint), while the roles that look across services (Observateur,
//! Qualité, Administrateur) keep their per-démarche perimeter. The whole
//! role × service × action matrix through HTTP, then a transfer and a joint
//! service moving the rights.

use guichet_tests::app::{Client, TestApp, jpeg};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    every_role_of_every_service_gets_exactly_its_rights_on_a_demande,
    a_transfer_moves_the_rights_and_a_joint_service_shares_them,
);

const ECLAIRAGE: &str = "Gest_SVL_DTE_Éclairage";
const PROPRETE: &str = "Gest_SVL_DTE_Propreté";

/// Who tries, and their group (each granted on the signalement démarche,
/// or on every démarche for `None`).
const CAST: [(&str, &str, Option<&str>); 7] = [
    ("gestionnaire de la Voirie", VOIRIE, Some(SIGNALEMENT)),
    (
        "consultant de la Voirie",
        "Cons_SVL_DTE_Voirie",
        Some(SIGNALEMENT),
    ),
    ("gestionnaire de l'Éclairage", ECLAIRAGE, Some(SIGNALEMENT)),
    (
        "consultant de l'Éclairage",
        "Cons_SVL_DTE_Éclairage",
        Some(SIGNALEMENT),
    ),
    (
        "observateur de la GRU",
        "Obs_SVL_DGS_GRU",
        Some(SIGNALEMENT),
    ),
    ("qualité", "Qual_SVL_DGS_Qualité", None),
    ("administrateur", "Admin_SVL_DSI_Guichet", None),
];

#[derive(Debug, Clone, Copy)]
enum Try {
    /// The demande is a row of the processing table.
    Listed,
    Read,
    DownloadPhoto,
    Comment,
    Receptionner,
    Refuser,
}

/// Expected answers for a signalement of the Voirie, in the order of
/// [`CAST`] (for `Listed`, 1 means listed and 0 not).
const MATRIX: [(Try, [u16; 7]); 6] = [
    (Try::Listed, [1, 1, 0, 0, 1, 1, 1]),
    (Try::Read, [200, 200, 403, 403, 200, 200, 200]),
    (Try::DownloadPhoto, [200, 200, 403, 403, 200, 200, 200]),
    (Try::Comment, [200, 200, 403, 403, 403, 200, 200]),
    (Try::Receptionner, [200, 403, 403, 403, 403, 200, 200]),
    (Try::Refuser, [200, 403, 403, 403, 403, 200, 200]),
];

async fn cast(app: &TestApp) -> Vec<Client> {
    app.import("signalement-voie-publique").await;
    let mut clients = Vec::new();
    for (i, (_, group, demarche)) in CAST.into_iter().enumerate() {
        app.grant(group, demarche).await;
        clients.push(app.agent(&format!("agent-{i}@ville.test"), &[group]).await);
    }
    clients
}

/// The first file reference found in a demande's answers.
fn first_file(answers: &Value) -> String {
    answers
        .as_object()
        .into_iter()
        .flat_map(|fields| fields.values())
        .filter(|answer| answer["type"] == "files")
        .find_map(|answer| answer["value"][0]["id"].as_str())
        .expect("a file in the answers")
        .to_owned()
}

async fn attempt(what: Try, client: &Client, demande: &str, photo: &str) -> u16 {
    let actions = format!("/api/agent/demandes/{demande}/actions");
    match what {
        Try::Listed => {
            let table = client.get("/api/agent/demandes").await;
            let rows = table.body["rows"].as_array().cloned().unwrap_or_default();
            u16::from(rows.iter().any(|row| row["id"] == demande))
        }
        Try::Read => {
            client
                .get(&format!("/api/agent/demandes/{demande}"))
                .await
                .status
        }
        Try::DownloadPhoto => {
            client
                .get(&format!("/api/agent/demandes/{demande}/files/{photo}"))
                .await
                .status
        }
        Try::Comment => {
            let comment = json!({ "transition": "commenter", "inputs": { "message": "Vu." } });
            client.post(&actions, comment).await.status
        }
        Try::Receptionner => {
            let take = json!({ "transition": "receptionner" });
            client.post(&actions, take).await.status
        }
        Try::Refuser => {
            let refusal = json!({ "transition": "refuser", "inputs": {
                "refusal_type": "refusee", "justification": "Hors de notre compétence.",
                "confirmed": true } });
            client.post(&actions, refusal).await.status
        }
    }
}

async fn every_role_of_every_service_gets_exactly_its_rights_on_a_demande(app: TestApp) {
    connect_atal(&app).await;
    let clients = cast(&app).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let voirie = &clients[0];

    let mut mismatches = Vec::new();
    for (what, expected) in MATRIX {
        for ((who, _, _), (client, status)) in CAST.iter().zip(clients.iter().zip(expected)) {
            // Every try runs on a fresh signalement of the Voirie, taken by
            // its gestionnaire when the try needs a demande in analysis.
            let demande = file_signalement(&usager, Some(jpeg("lampadaire"))).await;
            if matches!(what, Try::Refuser) {
                step(voirie, &demande, "receptionner").await;
            }
            let photo = first_file(&agent_view(voirie, &demande).await["answers"]);
            let got = attempt(what, client, &demande, &photo).await;
            if got != status {
                mismatches.push(format!("{what:?} by {who}: expected {status}, got {got}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

async fn a_transfer_moves_the_rights_and_a_joint_service_shares_them(app: TestApp) {
    connect_atal(&app).await;
    let clients = cast(&app).await;
    app.grant(PROPRETE, Some(SIGNALEMENT)).await;
    let proprete = app.agent("proprete@ville.test", &[PROPRETE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let (voirie, eclairage, gru) = (&clients[0], &clients[2], &clients[4]);
    let id = file_signalement(&usager, None).await;
    step(voirie, &id, "receptionner").await;

    let moved = act(
        voirie,
        &id,
        json!({ "transition": "transferer", "inputs": {
            "service": ECLAIRAGE, "message": "Pour l'éclairage public." } }),
    )
    .await;

    let view = moved.expect(200);
    assert_eq!(view["service"], ECLAIRAGE);
    assert_eq!(
        view["actions"],
        json!([]),
        "the former service has nothing left to do"
    );
    let former = voirie.get(&format!("/api/agent/demandes/{id}")).await;
    assert_eq!(former.status, 403, "the former service no longer reads it");
    assert_eq!(
        voirie.get("/api/agent/demandes").await.expect(200)["total"],
        0
    );
    assert_eq!(
        eclairage.get("/api/agent/demandes").await.expect(200)["total"],
        1
    );
    assert_eq!(
        gru.get(&format!("/api/agent/demandes/{id}")).await.status,
        200
    );
    assert_eq!(
        proprete
            .get(&format!("/api/agent/demandes/{id}"))
            .await
            .status,
        403
    );

    let joined = act(
        eclairage,
        &id,
        json!({ "transition": "ajouter_service", "inputs": { "service": PROPRETE } }),
    )
    .await;
    assert_eq!(joined.expect(200)["joint_services"], json!([PROPRETE]));
    assert_eq!(
        proprete.get("/api/agent/demandes").await.expect(200)["total"],
        1
    );
    let comment = json!({ "transition": "commenter", "inputs": { "message": "Balayage prévu." } });
    act(&proprete, &id, comment).await.expect(200);
}
