//! Authentication, ping, rattachement and reading families.

use espace_famille_sim::{
    DEFAULT_TOKEN, Famille,
    famille::{Adresse, Enfant},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{json_of, spawn_app};

#[tokio::test]
async fn requests_without_the_bearer_token_are_refused() {
    let app = spawn_app().await;
    let ping = || app.client.get(app.url("/api/ping"));

    let answers = [
        ping().send().await,
        ping().bearer_auth("not-the-token").send().await,
        ping().header("Authorization", DEFAULT_TOKEN).send().await,
    ];

    for answer in answers {
        let (status, body) = json_of(answer.expect("the simulator answers")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "non_authentifie");
        assert!(body["erreur"].is_string());
    }
}

#[tokio::test]
async fn ping_reports_the_simulated_version() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/ping").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "statut": "ok", "version": "3.2-sim" }));
}

#[tokio::test]
async fn rattachement_by_code_and_secret_finds_the_family() {
    let app = spawn_app().await;

    let (status, body) = app
        .send(
            "/api/familles/rattachement",
            &json!({ "code_famille": "F-0001", "secret": "s3cret-dupont" }),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "id_famille": "F-0001", "libelle": "Famille DUPONT" })
    );
}

#[tokio::test]
async fn rattachement_by_identity_ignores_case_and_accents() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "nom": "dupont", "prenom": "LEA", "date_naissance": "2016-04-12" }),
            "F-0001",
        ),
        (
            json!({ "nom": "Benoit", "prenom": "thomas", "date_naissance": "1979-02-14" }),
            "F-0003",
        ),
        (
            json!({ "nom": "MARTIN", "prenom": "Elodie", "date_naissance": "1990-11-03" }),
            "F-0002",
        ),
    ];

    for (identity, expected) in cases {
        let (status, body) = app.send("/api/familles/rattachement", &identity).await;

        assert_eq!(status, StatusCode::OK, "{identity}");
        assert_eq!(body["id_famille"], expected, "{identity}");
    }
}

#[tokio::test]
async fn rattachement_with_a_wrong_secret_is_forbidden() {
    let app = spawn_app().await;

    let (status, body) = app
        .send(
            "/api/familles/rattachement",
            &json!({ "code_famille": "F-0001", "secret": "s3cret-martin" }),
        )
        .await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "secret_invalide");
}

#[tokio::test]
async fn rattachement_matching_no_family_is_not_found() {
    let app = spawn_app().await;

    for demande in [
        json!({ "code_famille": "F-9999", "secret": "s3cret-dupont" }),
        json!({ "nom": "DUPONT", "prenom": "Léa", "date_naissance": "2016-04-13" }),
    ] {
        let (status, body) = app.send("/api/familles/rattachement", &demande).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{demande}");
        assert_eq!(body["code"], "famille_introuvable", "{demande}");
    }
}

#[tokio::test]
async fn rattachement_matching_two_families_is_ambiguous() {
    let app = spawn_app().await;
    let lea = app
        .portail
        .state()
        .famille("F-0001")
        .expect("F-0001 is seeded")
        .enfants[0]
        .clone();
    app.portail
        .add_famille(second_household_of(lea))
        .expect("F-0004 is free");

    let (status, body) = app
        .send(
            "/api/familles/rattachement",
            &json!({ "nom": "DUPONT", "prenom": "Léa", "date_naissance": "2016-04-12" }),
        )
        .await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "rattachement_ambigu");
}

/// A family where `enfant` also lives, as in shared custody.
fn second_household_of(enfant: Enfant) -> Famille {
    Famille {
        id_famille: "F-0004".into(),
        libelle: "Famille MOREL".into(),
        secret: "s3cret-morel".into(),
        adresse: Adresse {
            ligne1: "3 rue Garibaldi".into(),
            code_postal: "69006".into(),
            ville: "Lyon".into(),
        },
        responsables: Vec::new(),
        enfants: vec![enfant],
        factures: Vec::new(),
    }
}

#[tokio::test]
async fn rattachement_needs_exactly_one_complete_shape() {
    let app = spawn_app().await;
    let cases = [
        ("neither shape", json!({})),
        (
            "both shapes",
            json!({ "code_famille": "F-0001", "secret": "s3cret-dupont", "nom": "DUPONT" }),
        ),
        ("code without secret", json!({ "code_famille": "F-0001" })),
        (
            "identity without birth date",
            json!({ "nom": "DUPONT", "prenom": "Léa" }),
        ),
        (
            "invalid birth date",
            json!({ "nom": "DUPONT", "prenom": "Léa", "date_naissance": "12/04/2016" }),
        ),
    ];

    for (case, demande) in cases {
        let (status, body) = app.send("/api/familles/rattachement", &demande).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert!(body["erreur"].is_string(), "{case}");
    }
}

#[tokio::test]
async fn family_reads_with_its_responsables_and_children_but_no_secret() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/familles/F-0001").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["libelle"], "Famille DUPONT");
    assert_eq!(body["adresse"]["ville"], "Lyon");
    assert_eq!(
        body["responsables"][0],
        json!({
            "id": "R-0001",
            "nom": "DUPONT",
            "prenom": "Marc",
            "email": "marc.dupont@example.fr",
            "telephone": "06 12 34 56 78"
        })
    );
    assert_eq!(body["enfants"][0]["date_naissance"], "2016-04-12");
    assert_eq!(body["enfants"][1]["prenom"], "Hugo");
    assert!(body.get("secret").is_none());
    assert!(body.get("factures").is_none());
}

#[tokio::test]
async fn children_and_invoices_of_a_family_read_separately() {
    let app = spawn_app().await;

    let (enfants_status, enfants) = app.read("/api/familles/F-0002/enfants").await;
    let (factures_status, factures) = app.read("/api/familles/F-0001/factures").await;

    assert_eq!(enfants_status, StatusCode::OK);
    assert_eq!(enfants.as_array().map(Vec::len), Some(1));
    assert_eq!(enfants[0]["prenom"], "Chloé");
    assert_eq!(enfants[0]["ecole"], "École maternelle Les Tilleuls");
    assert_eq!(factures_status, StatusCode::OK);
    assert_eq!(factures.as_array().map(Vec::len), Some(3));
    assert_eq!(
        factures[2],
        json!({ "numero": "FAC-2026-001305", "date": "2026-10-31", "montant": 78.3, "payee": false })
    );
}

#[tokio::test]
async fn unknown_families_are_not_found() {
    let app = spawn_app().await;

    for path in [
        "/api/familles/F-9999",
        "/api/familles/F-9999/enfants",
        "/api/familles/F-9999/factures",
    ] {
        let (status, body) = app.read(path).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "famille_introuvable", "{path}");
    }
}
