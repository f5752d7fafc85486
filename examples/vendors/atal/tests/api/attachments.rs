//! Multipart attachments to a works request.

use reqwest::{StatusCode, multipart};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{photo, spawn_app};

#[tokio::test]
async fn attachment_keeps_its_name_type_and_size() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;

    let answer = app.attach(id, photo(vec![7; 2048])).await;

    assert_eq!(answer.status(), StatusCode::CREATED);
    let attachment: Value = answer.json().await.expect("a JSON attachment");
    assert_eq!(attachment["FileName"], "trou.jpg");
    assert_eq!(attachment["Size"], 2048);
    let (_, request) = app.read(&format!("/api/WorksRequests/{id}")).await;
    assert_eq!(request["Attachments"][0]["Id"], attachment["Id"]);
    assert_eq!(request["Attachments"][0]["ContentType"], "image/jpeg");
}

#[tokio::test]
async fn same_idempotency_key_and_file_attaches_once() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;
    let send = || {
        app.post(&format!("/api/WorksRequests/{id}/Attachments"))
            .header("Idempotency-Key", "piece-1")
            .multipart(photo(vec![1, 2, 3]))
            .send()
    };

    let first = send().await.expect("the simulator answers");
    let again = send().await.expect("the simulator answers");

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(again.status(), StatusCode::OK);
    let first: Value = first.json().await.expect("a JSON attachment");
    let again: Value = again.json().await.expect("a JSON attachment");
    assert_eq!(first["Id"], again["Id"]);
    let request = app.atal.works_request(id).expect("the request exists");
    assert_eq!(request.attachments.len(), 1);
}

#[tokio::test]
async fn attachment_to_an_unknown_request_is_not_found() {
    let app = spawn_app().await;

    let answer = app.attach(Uuid::new_v4(), photo(vec![1])).await;

    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn attachment_without_a_file_part_is_rejected() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;

    let answer = app
        .attach(id, multipart::Form::new().text("comment", "pas de fichier"))
        .await;

    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let error: Value = answer.json().await.expect("a JSON error");
    assert!(
        error["Message"]
            .as_str()
            .is_some_and(|m| m.contains("file"))
    );
}

#[tokio::test]
async fn attachment_over_10_mb_is_too_large() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;

    let answer = app.attach(id, photo(vec![0; 10 * 1024 * 1024 + 1])).await;

    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = answer.json().await.expect("a JSON error");
    assert!(error["Message"].is_string());
    let request = app.atal.works_request(id).expect("the request exists");
    assert!(request.attachments.is_empty());
}
