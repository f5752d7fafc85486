//! Authentication, `GET /api/Test` and the reference data.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn requests_without_the_api_key_are_refused() {
    let app = spawn_app().await;

    let missing = app
        .client
        .get(app.url("/api/Test"))
        .send()
        .await
        .expect("the simulator answers");
    let wrong = app
        .client
        .get(app.url("/api/Thematics"))
        .header("X-API-Key", "not-the-key")
        .send()
        .await
        .expect("the simulator answers");

    for answer in [missing, wrong] {
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        let body: Value = answer.json().await.expect("a JSON body");
        assert_eq!(body, json!({ "Message": "Clé d'API invalide" }));
    }
}

#[tokio::test]
async fn test_route_reports_the_simulated_version() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/Test").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "Status": "OK", "Version": "6.0-sim" }));
}

#[tokio::test]
async fn thematics_list_the_seeded_request_types() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/Thematics").await;

    assert_eq!(status, StatusCode::OK);
    let thematics = body.as_array().expect("an array");
    assert_eq!(thematics.len(), 9);
    assert!(thematics.contains(&json!({ "Id": "12", "Label": "Voirie - nid de poule" })));
}

#[tokio::test]
async fn third_parties_are_filtered_by_type() {
    let app = spawn_app().await;

    let (requesting_status, requesting) = app.read("/api/ThirdParties?type=2").await;
    let (recipient_status, recipients) = app.read("/api/ThirdParties?type=1").await;

    assert_eq!(requesting_status, StatusCode::OK);
    assert_eq!(recipient_status, StatusCode::OK);
    let requesting = requesting.as_array().expect("an array");
    assert!(requesting.contains(&json!({ "Id": "105", "Name": "Mairie annexe Nord", "Type": 2 })));
    assert!(requesting.iter().all(|party| party["Type"] == 2));
    let recipients = recipients.as_array().expect("an array");
    assert_eq!(recipients.len(), 5);
    assert!(recipients.iter().all(|party| party["Type"] == 1));
}

#[tokio::test]
async fn third_parties_without_a_valid_type_are_rejected() {
    let app = spawn_app().await;

    for path in [
        "/api/ThirdParties",
        "/api/ThirdParties?type=3",
        "/api/ThirdParties?type=abc",
    ] {
        let (status, body) = app.read(path).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            body["Message"].as_str().is_some_and(|m| m.contains("type")),
            "{path}"
        );
    }
}
