//! Registrations: validation, duplicates, idempotency and the agents' answers.

use chrono::Datelike;
use espace_famille_sim::{CodeStatut, NewCommentaire};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{json_of, lea_at_the_cantine, spawn_app};

#[tokio::test]
async fn registration_is_filed_waiting_for_validation() {
    let app = spawn_app().await;
    let year = chrono::Utc::now().year();

    let (status, accuse) = app.register(&lea_at_the_cantine()).await;

    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(accuse["numero"], format!("INS-{year}-0001"));
    assert_eq!(
        accuse["statut"],
        json!({ "code": "EN_ATTENTE", "libelle": "En attente de validation", "definitif": false })
    );
    let id = accuse["id"].as_str().expect("an id");
    let (read, inscription) = app.read(&format!("/api/inscriptions/{id}")).await;
    assert_eq!(read, StatusCode::OK);
    assert_eq!(inscription["id_enfant"], "E-0001");
    assert_eq!(inscription["date_debut"], "2026-09-01");
    assert_eq!(
        inscription["jours"],
        json!(["lundi", "mardi", "jeudi", "vendredi"])
    );
    assert_eq!(inscription["commentaires"], json!([]));
}

#[tokio::test]
async fn registration_breaking_a_rule_is_rejected_with_its_code() {
    let app = spawn_app().await;
    let cases = [
        ("date_invalide", json!({ "date_debut": "2026-02-30" })),
        ("famille_inconnue", json!({ "id_famille": "F-9999" })),
        ("enfant_inconnu", json!({ "id_enfant": "E-9999" })),
        ("enfant_hors_famille", json!({ "id_enfant": "E-0003" })),
        ("activite_inconnue", json!({ "id_activite": "PISCINE" })),
        (
            "age_hors_tranche",
            json!({ "id_activite": "ALSH-MATER-2026" }),
        ),
        ("corps_invalide", json!({ "jours": ["funday"] })),
        ("corps_invalide", json!({ "id_enfant": null })),
    ];

    for (code, change) in cases {
        let mut body = lea_at_the_cantine();
        for (field, value) in change.as_object().expect("an object") {
            body[field] = value.clone();
        }

        let (status, error) = app.register(&body).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(error["code"], code);
    }
    assert!(app.portail.inscriptions().is_empty());
}

#[tokio::test]
async fn child_too_young_for_the_evening_study_is_refused() {
    let app = spawn_app().await;
    let chloe = json!({
        "id_famille": "F-0002",
        "id_enfant": "E-0003",
        "id_activite": "PERI-SOIR-2026",
        "date_debut": "2026-09-01"
    });

    let (status, error) = app.register(&chloe).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "age_hors_tranche");
    assert!(
        error["erreur"]
            .as_str()
            .is_some_and(|m| m.contains("4 ans"))
    );
}

#[tokio::test]
async fn malformed_json_is_rejected_with_a_json_error() {
    let app = spawn_app().await;

    let answer = app
        .post("/api/inscriptions")
        .header("Content-Type", "application/json")
        .body("{\"id_famille\": ")
        .send()
        .await
        .expect("the simulator answers");

    let (status, error) = json_of(answer).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "json_invalide");
}

#[tokio::test]
async fn second_registration_of_the_same_child_returns_the_first() {
    let app = spawn_app().await;

    let (first_status, first) = app.register(&lea_at_the_cantine()).await;
    let (again_status, again) = app.register(&lea_at_the_cantine()).await;

    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(again_status, StatusCode::OK);
    assert_eq!(first["id"], again["id"]);
    assert_eq!(app.portail.inscriptions().len(), 1);
}

#[tokio::test]
async fn refused_registration_frees_the_place_for_a_new_one() {
    let app = spawn_app().await;
    let (_, first) = app.register(&lea_at_the_cantine()).await;
    let first_id = first["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .expect("a UUID");
    app.portail
        .set_statut(first_id, CodeStatut::Refusee, None)
        .expect("the registration exists");

    let (status, second) = app.register(&lea_at_the_cantine()).await;

    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(first["id"], second["id"]);
}

#[tokio::test]
async fn same_idempotency_key_and_body_files_one_registration() {
    let app = spawn_app().await;
    let send = || {
        app.post("/api/inscriptions")
            .header("Idempotency-Key", "demande-7")
            .json(&lea_at_the_cantine())
            .send()
    };

    let (first_status, first) = json_of(send().await.expect("the simulator answers")).await;
    let (again_status, again) = json_of(send().await.expect("the simulator answers")).await;

    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(again_status, StatusCode::OK);
    assert_eq!(first, again);
    let (_, listed) = app.read("/_sim/inscriptions").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn same_idempotency_key_with_another_body_conflicts() {
    let app = spawn_app().await;
    let mut hugo = lea_at_the_cantine();
    hugo["id_enfant"] = json!("E-0002");
    let send = |body: Value| {
        app.post("/api/inscriptions")
            .header("Idempotency-Key", "demande-8")
            .json(&body)
            .send()
    };

    let first = send(lea_at_the_cantine())
        .await
        .expect("the simulator answers");
    let (status, error) = json_of(send(hugo).await.expect("the simulator answers")).await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["code"], "cle_idempotence_reutilisee");
    assert_eq!(app.portail.inscriptions().len(), 1);
}

#[tokio::test]
async fn agent_validation_and_comment_show_on_the_registration() {
    let app = spawn_app().await;
    let (_, accuse) = app.register(&lea_at_the_cantine()).await;
    let id = accuse["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .expect("a UUID");

    app.portail
        .set_statut(
            id,
            CodeStatut::Validee,
            Some(NewCommentaire::new(
                "Service enfance",
                "Inscription validée, PAI reçu.",
            )),
        )
        .expect("the registration exists");
    let (_, inscription) = app.read(&format!("/api/inscriptions/{id}")).await;

    assert_eq!(
        inscription["statut"],
        json!({ "code": "VALIDEE", "libelle": "Validée", "definitif": true })
    );
    assert_eq!(inscription["commentaires"][0]["auteur"], "Service enfance");
    assert!(inscription["commentaires"][0]["date"].is_string());
}

#[tokio::test]
async fn control_route_moves_a_registration_like_an_agent() {
    let app = spawn_app().await;
    let (_, accuse) = app.register(&lea_at_the_cantine()).await;
    let id = accuse["id"].as_str().expect("an id");
    let change = |body: Value| {
        app.client
            .post(app.url(&format!("/_sim/inscriptions/{id}/statut")))
            .json(&body)
            .send()
    };

    let refused = change(json!({ "code": "REFUSEE", "commentaire": { "auteur": "Service enfance", "texte": "Plus de place." } }))
        .await
        .expect("the simulator answers");
    let invalid = change(json!({ "code": "PERDUE" }))
        .await
        .expect("the simulator answers");

    let (status, inscription) = json_of(refused).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inscription["statut"]["code"], "REFUSEE");
    assert_eq!(inscription["commentaires"][0]["texte"], "Plus de place.");
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_registrations_are_not_found() {
    let app = spawn_app().await;

    for path in [
        format!("/api/inscriptions/{}", Uuid::new_v4()),
        "/api/inscriptions/INS-1".to_owned(),
    ] {
        let (status, body) = app.read(&path).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "inscription_introuvable", "{path}");
    }
    let missing = app
        .client
        .post(app.url(&format!("/_sim/inscriptions/{}/statut", Uuid::new_v4())))
        .json(&json!({ "code": "VALIDEE" }))
        .send()
        .await
        .expect("the simulator answers");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
