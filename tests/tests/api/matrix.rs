//! The role × action matrix: each role of the collectivité's table, the
//! usager who filed the demande, another usager and nobody, against each
//! action, with the status each must get. Everything is tried; the
//! mismatches are reported together.

use std::fmt;

use guichet_tests::app::{Client, TestApp, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(every_role_gets_exactly_the_rights_of_the_table);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Agent,
    Observateur,
    Consultant,
    SaisieBo,
    Gestionnaire,
    Qualite,
    Administrateur,
    Usager,
    AutreUsager,
    Anonyme,
}

const EVERYONE: [Who; 10] = [
    Who::Agent,
    Who::Observateur,
    Who::Consultant,
    Who::SaisieBo,
    Who::Gestionnaire,
    Who::Qualite,
    Who::Administrateur,
    Who::Usager,
    Who::AutreUsager,
    Who::Anonyme,
];

/// Groups of each role, and the démarche each is granted on (`None`: all).
const ROLES: [(Who, &str, Option<&str>); 7] = [
    (Who::Agent, "Agent_SVL_DGS_Accueil", Some(VELO)),
    (Who::Observateur, "Obs_SVL_DGS_GRU", Some(VELO)),
    (Who::Consultant, "Cons_SVL_DACT_Mobilités", Some(VELO)),
    (Who::SaisieBo, "Saisie_SVL_DGS_Accueil", Some(VELO)),
    (Who::Gestionnaire, MOBILITES, Some(VELO)),
    (Who::Qualite, "Qual_SVL_DGS_Qualité", None),
    (Who::Administrateur, "Admin_SVL_DSI_Guichet", None),
];

#[derive(Debug, Clone, Copy)]
enum Action {
    BackOffice,
    ReadDemande,
    ReadAgentsHistory,
    ReadOwnDemande,
    ReadUsagerHistory,
    Comment,
    FileOnBehalf,
    Process,
    ProcessingTable,
    AgentFields,
    Reply,
    Administration,
    AdminTrash,
    ConnectorAdministration,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Expected statuses, in the order of [`EVERYONE`]: Agent, Observateur,
/// Consultant, Saisie BO, Gestionnaire, Qualité, Administrateur, the
/// usager, another usager, nobody.
const MATRIX: [(Action, [u16; 10]); 14] = [
    (
        Action::BackOffice,
        [200, 200, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    (
        Action::ReadDemande,
        [403, 200, 200, 403, 200, 200, 200, 403, 403, 401],
    ),
    (
        Action::ReadAgentsHistory,
        [403, 200, 200, 403, 200, 200, 200, 403, 403, 401],
    ),
    (
        Action::ReadOwnDemande,
        [403, 403, 403, 403, 403, 403, 403, 200, 404, 401],
    ),
    (
        Action::ReadUsagerHistory,
        [403, 403, 403, 403, 403, 403, 403, 200, 404, 401],
    ),
    (
        Action::Comment,
        [403, 403, 200, 403, 200, 200, 200, 403, 403, 401],
    ),
    (
        Action::FileOnBehalf,
        [403, 403, 403, 201, 201, 201, 201, 403, 403, 401],
    ),
    (
        Action::Process,
        [403, 403, 403, 403, 200, 200, 200, 403, 403, 401],
    ),
    (
        Action::ProcessingTable,
        [403, 200, 200, 403, 200, 200, 200, 403, 403, 401],
    ),
    (
        Action::AgentFields,
        [403, 403, 403, 403, 200, 200, 200, 403, 403, 401],
    ),
    (
        Action::Reply,
        [403, 403, 403, 403, 403, 403, 403, 200, 404, 401],
    ),
    (
        Action::Administration,
        [403, 403, 403, 403, 403, 403, 200, 403, 403, 401],
    ),
    (
        Action::AdminTrash,
        [403, 403, 403, 403, 403, 403, 200, 403, 403, 401],
    ),
    (
        Action::ConnectorAdministration,
        [403, 403, 403, 403, 403, 403, 200, 403, 403, 401],
    ),
];

const USAGER_LOGIN: &str = "camille.martin@exemple.test";

struct Cast {
    clients: Vec<(Who, Client)>,
    usager: Client,
}

impl Cast {
    fn client(&self, who: Who) -> &Client {
        &self
            .clients
            .iter()
            .find(|(w, _)| *w == who)
            .expect("every actor has a client")
            .1
    }
}

async fn cast(app: &TestApp) -> Cast {
    let mut clients = Vec::new();
    for (who, group, demarche) in ROLES {
        app.grant(group, demarche).await;
        let login = format!("{who:?}@ville.test").to_lowercase();
        clients.push((who, app.agent(&login, &[group]).await));
    }
    let usager = app.usager("Camille", "Martin", USAGER_LOGIN).await;
    clients.push((Who::Usager, usager.clone()));
    clients.push((
        Who::AutreUsager,
        app.usager("Dominique", "Autre", "dominique.autre@exemple.test")
            .await,
    ));
    clients.push((Who::Anonyme, app.anonymous()));
    Cast { clients, usager }
}

/// Runs one action as one actor on `demande`; returns the status.
async fn attempt(action: Action, client: &Client, demande: &str) -> u16 {
    let actions = format!("/api/agent/demandes/{demande}/actions");
    match action {
        Action::BackOffice => client.get("/api/agent/demarches").await.status,
        Action::ReadDemande => {
            client
                .get(&format!("/api/agent/demandes/{demande}"))
                .await
                .status
        }
        Action::ReadAgentsHistory => {
            let reply = client.get(&format!("/api/agent/demandes/{demande}")).await;
            if reply.status == 200 {
                assert!(
                    events(&reply.body["history"]).contains(&"commenter".to_owned()),
                    "the agents' history holds the internal comment"
                );
            }
            reply.status
        }
        Action::ReadOwnDemande => client.get(&format!("/api/demandes/{demande}")).await.status,
        Action::ReadUsagerHistory => {
            let reply = client
                .get(&format!("/api/demandes/{demande}/history"))
                .await;
            if reply.status == 200 {
                assert!(
                    !events(&reply.body).contains(&"commenter".to_owned()),
                    "the usager's history hides the internal comment"
                );
            }
            reply.status
        }
        Action::Comment => {
            client
                .post(
                    &actions,
                    json!({ "transition": "commenter", "inputs": { "message": "Vu." } }),
                )
                .await
                .status
        }
        Action::FileOnBehalf => file_on_behalf(client).await,
        Action::Process => {
            client
                .post(&actions, json!({ "transition": "prendre_en_compte" }))
                .await
                .status
        }
        Action::ProcessingTable => client.get("/api/agent/demandes").await.status,
        Action::AgentFields => {
            client
                .put(
                    &format!("/api/agent/demandes/{demande}/agent-fields"),
                    json!({ "montant_accorde": 50 }),
                )
                .await
                .status
        }
        Action::Reply => {
            client
                .post(
                    &format!("/api/demandes/{demande}/reply"),
                    json!({ "message": "Merci." }),
                )
                .await
                .status
        }
        Action::Administration => client.get("/api/admin/groups").await.status,
        Action::AdminTrash => {
            client
                .post(
                    &actions,
                    json!({ "transition": "corbeille", "inputs": { "confirmed": true } }),
                )
                .await
                .status
        }
        Action::ConnectorAdministration => client.get("/api/connectors/instances").await.status,
    }
}

/// *Saisie au nom de l'usager*, by telephone: draft prefilled from the
/// usager's profile, pages, invoice, submission with the channel.
async fn file_on_behalf(client: &Client) -> u16 {
    let opened = client
        .post(
            "/api/drafts",
            json!({ "demarche": VELO, "usager": USAGER_LOGIN }),
        )
        .await;
    if opened.status != 201 {
        return opened.status;
    }
    assert_eq!(
        opened.body["answers"]["nom"]["value"], "Martin",
        "prefilled"
    );
    let draft = opened.body["id"].as_str().unwrap().to_owned();
    client
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture.pdf", pdf("facture apportée au guichet"))),
        )
        .await
        .expect(201);
    save_page(client, &draft, "reparation", velo_repair()).await;
    save_page(
        client,
        &draft,
        "versement",
        json!({ "titulaire_compte": "Camille Martin", "iban": "FR7630006000011234567890189", "attestation": true }),
    )
    .await;
    let filed = client
        .post(
            &format!("/api/drafts/{draft}/submit"),
            json!({ "consent": true, "channel": "telephone", "usager": USAGER_LOGIN }),
        )
        .await;
    filed.status
}

async fn every_role_gets_exactly_the_rights_of_the_table(app: TestApp) {
    app.import("aide-reparation-velo").await;
    let cast = cast(&app).await;
    let shared = file_velo(&cast.usager).await;
    let gestionnaire = cast.client(Who::Gestionnaire);
    act(
        gestionnaire,
        &shared,
        json!({ "transition": "commenter", "inputs": { "message": "Pièce à vérifier." } }),
    )
    .await
    .expect(200);

    let mut mismatches = Vec::new();
    for (action, expected) in MATRIX {
        for (who, status) in EVERYONE.into_iter().zip(expected) {
            let changes_state = matches!(
                action,
                Action::Process
                    | Action::AgentFields
                    | Action::AdminTrash
                    | Action::Reply
                    | Action::Comment
            );
            let demande = if changes_state {
                let fresh = file_velo(&cast.usager).await;
                if matches!(action, Action::AgentFields | Action::Reply) {
                    step(gestionnaire, &fresh, "prendre_en_compte").await;
                }
                fresh
            } else {
                shared.clone()
            };
            let got = attempt(action, cast.client(who), &demande).await;
            if got != status {
                mismatches.push(format!("{action} by {who:?}: expected {status}, got {got}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    let mut by_phone = 0;
    let mine = cast.usager.get("/api/demandes").await;
    for demande in mine.expect(200).as_array().unwrap() {
        let view = agent_view(gestionnaire, demande["id"].as_str().unwrap()).await;
        if view["filed_by"]["channel"] == "telephone" {
            by_phone += 1;
        }
    }
    assert_eq!(
        by_phone, 4,
        "Saisie BO, Gestionnaire, Qualité and Administrateur filed by phone"
    );
}
