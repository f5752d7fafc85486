//! Filing and reading works requests, their validation, idempotency and
//! the agents' answers.

use atal_sim::{NewResponse, StateCode};
use chrono::Datelike;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{pothole, spawn_app};

#[tokio::test]
async fn transmit_files_works_requests_with_sequential_numbers() {
    let app = spawn_app().await;
    let year = chrono::Utc::now().year();

    let first = app.transmit(&pothole()).await;
    let second = app.transmit(&pothole()).await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("a JSON receipt");
    let second: Value = second.json().await.expect("a JSON receipt");
    assert_eq!(first["RequestNumber"], format!("DI-{year}-000001"));
    assert_eq!(second["RequestNumber"], format!("DI-{year}-000002"));
    assert!(
        first["Id"]
            .as_str()
            .is_some_and(|id| Uuid::parse_str(id).is_ok())
    );
    assert_ne!(first["Id"], second["Id"]);
    assert_eq!(app.atal.works_requests().len(), 2);
}

#[tokio::test]
async fn transmitted_request_reads_back_as_received_without_responses() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;

    let (status, body) = app.read(&format!("/api/WorksRequests/{id}")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Id"], id.to_string());
    assert_eq!(body["Object"], "Nid de poule dangereux");
    assert_eq!(body["RequestType"], "12");
    assert_eq!(body["Latitude"], 45.7485);
    assert_eq!(body["Contact"]["City"], "Lyon");
    assert_eq!(
        body["RequestState"],
        json!({ "Code": "RECEIVED", "Label": "Reçue" })
    );
    assert_eq!(body["Attachments"], json!([]));
    assert!(body["CreationDate"].is_string());
    assert!(body.get("Responses").is_none());
}

#[tokio::test]
async fn transmit_without_object_or_with_bad_references_is_rejected() {
    let app = spawn_app().await;
    let cases: [(&str, Value); 11] = [
        ("no object", json!({ "Object": null })),
        ("blank object", json!({ "Object": "   " })),
        ("no request type", json!({ "RequestType": null })),
        ("unknown request type", json!({ "RequestType": "999" })),
        ("latitude out of range", json!({ "Latitude": 91.0 })),
        ("longitude out of range", json!({ "Longitude": -180.5 })),
        ("latitude alone", json!({ "Longitude": null })),
        ("unknown recipient", json!({ "RecipientId": "999" })),
        (
            "recipient of the wrong type",
            json!({ "RecipientId": "105" }),
        ),
        (
            "invalid desired date",
            json!({ "DesiredDate": "15/12/2026" }),
        ),
        ("latitude as text", json!({ "Latitude": "45.7" })),
    ];

    for (case, change) in cases {
        let mut body = pothole();
        for (field, value) in change.as_object().expect("an object") {
            body[field] = value.clone();
        }

        let answer = app.transmit(&body).await;

        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{case}");
        let error: Value = answer.json().await.expect("a JSON error");
        assert!(
            error["Message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}"
        );
    }
    assert!(app.atal.works_requests().is_empty());
}

#[tokio::test]
async fn malformed_json_is_rejected_with_a_json_message() {
    let app = spawn_app().await;

    let answer = app
        .post("/api/WorksRequests")
        .header("Content-Type", "application/json")
        .body("{\"Object\": ")
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let error: Value = answer.json().await.expect("a JSON error");
    assert!(
        error["Message"]
            .as_str()
            .is_some_and(|m| m.starts_with("JSON invalide"))
    );
}

#[tokio::test]
async fn unknown_works_requests_are_not_found() {
    let app = spawn_app().await;

    for path in [
        format!("/api/WorksRequests/{}", Uuid::new_v4()),
        "/api/WorksRequests/not-a-uuid".to_owned(),
        "/api/Nothing".to_owned(),
    ] {
        let (status, body) = app.read(&path).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body["Message"].is_string(), "{path}");
    }
}

#[tokio::test]
async fn same_idempotency_key_and_body_files_one_request() {
    let app = spawn_app().await;
    let send = || {
        app.post("/api/WorksRequests")
            .header("Idempotency-Key", "demande-42")
            .json(&pothole())
            .send()
    };

    let first = send().await.expect("the simulator answers");
    let again = send().await.expect("the simulator answers");

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(again.status(), StatusCode::OK);
    let first: Value = first.json().await.expect("a JSON receipt");
    let again: Value = again.json().await.expect("a JSON receipt");
    assert_eq!(first, again);
    let (_, listed) = app.read("/_sim/WorksRequests").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn same_idempotency_key_with_another_body_conflicts() {
    let app = spawn_app().await;
    let mut other = pothole();
    other["Object"] = json!("Lampadaire éteint");

    let first = app
        .post("/api/WorksRequests")
        .header("Idempotency-Key", "demande-43")
        .json(&pothole())
        .send()
        .await
        .expect("the simulator answers");
    let conflicting = app
        .post("/api/WorksRequests")
        .header("Idempotency-Key", "demande-43")
        .json(&other)
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(conflicting.status(), StatusCode::CONFLICT);
    let error: Value = conflicting.json().await.expect("a JSON error");
    assert!(error["Message"].is_string());
    assert_eq!(app.atal.works_requests().len(), 1);
}

#[tokio::test]
async fn agent_responses_appear_only_when_expanded() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;
    app.atal
        .set_request_state(
            id,
            StateCode::InProgress,
            Some(NewResponse::new(
                "Centre technique municipal",
                "Intervention prévue lundi.",
            )),
        )
        .expect("the request exists");

    let (_, plain) = app.read(&format!("/api/WorksRequests/{id}")).await;
    let (_, expanded) = app
        .read(&format!("/api/WorksRequests/{id}?$expand=Responses"))
        .await;

    assert_eq!(plain["RequestState"]["Code"], "IN_PROGRESS");
    assert!(plain.get("Responses").is_none());
    assert_eq!(expanded["RequestState"]["Label"], "En cours de traitement");
    assert_eq!(
        expanded["Responses"][0]["Author"],
        "Centre technique municipal"
    );
    assert_eq!(
        expanded["Responses"][0]["Text"],
        "Intervention prévue lundi."
    );
}

#[tokio::test]
async fn control_route_closes_a_request_like_an_agent() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;

    let answer = app
        .client
        .post(app.url(&format!("/_sim/WorksRequests/{id}/state")))
        .json(&json!({ "Code": "DONE", "Response": { "Author": "Voirie", "Text": "Trou rebouché." } }))
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(answer.status(), StatusCode::OK);
    let request = app.atal.works_request(id).expect("the request exists");
    assert_eq!(request.request_state.code, StateCode::Done);
    assert!(request.request_state.code.is_final());
    assert_eq!(request.responses[0].text, "Trou rebouché.");
}

#[tokio::test]
async fn control_route_rejects_an_unknown_state() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;

    let answer = app
        .client
        .post(app.url(&format!("/_sim/WorksRequests/{id}/state")))
        .json(&json!({ "Code": "LOST" }))
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}
