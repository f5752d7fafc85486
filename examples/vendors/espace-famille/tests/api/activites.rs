//! The activity catalogue.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn catalogue_is_filtered_by_category_and_accent_free_words() {
    let app = spawn_app().await;
    let ids = |body: &Value| -> Vec<String> {
        body.as_array()
            .expect("an array")
            .iter()
            .filter_map(|activite| activite["id"].as_str().map(str::to_owned))
            .collect()
    };

    let (_, all) = app.read("/api/activites").await;
    let (_, cantine) = app.read("/api/activites?categorie=cantine").await;
    let (_, periscolaire) = app.read("/api/activites?q=PERISCOLAIRE").await;
    let (_, loisirs) = app
        .read("/api/activites?categorie=centre_de_loisirs&q=oleron")
        .await;

    assert_eq!(ids(&all).len(), 6);
    assert_eq!(ids(&cantine), ["CANT-2026"]);
    assert_eq!(cantine[0]["age_min"], 3);
    assert_eq!(cantine[0]["age_max"], 11);
    assert_eq!(ids(&periscolaire), ["PERI-MATIN-2026"]);
    assert_eq!(ids(&loisirs), ["SEJ-ETE-2027"]);
}

#[tokio::test]
async fn catalogue_rejects_an_unknown_category() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/activites?categorie=piscine").await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "parametres_invalides");
}

#[tokio::test]
async fn activity_reads_by_id() {
    let app = spawn_app().await;

    let (found, activite) = app.read("/api/activites/ALSH-MERC-2026").await;
    let (missing, error) = app.read("/api/activites/PISCINE").await;

    assert_eq!(found, StatusCode::OK);
    assert_eq!(activite["categorie"], "centre_de_loisirs");
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], "activite_introuvable");
}
