//! The failure switch (fail, slow, down) and the `/_sim` helpers.

use std::time::Duration;

use atal_sim::{DEFAULT_API_KEY, Mode};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SHORT_WAIT, SLOW_DELAY, spawn_app};

#[tokio::test]
async fn fail_mode_answers_500_until_back_to_normal() {
    let app = spawn_app().await;

    app.atal.set_mode(Mode::Fail);
    let (failed, error) = app.read("/api/Test").await;
    app.atal.set_mode(Mode::Normal);
    let (recovered, _) = app.read("/api/Test").await;

    assert_eq!(failed, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(error["Message"].is_string());
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn mode_can_be_switched_over_http() {
    let app = spawn_app().await;
    let switch = |body: Value| app.client.post(app.url("/_sim/mode")).json(&body).send();

    let to_fail = switch(json!({ "mode": "fail" }))
        .await
        .expect("the simulator answers");
    let (failed, _) = app.read("/api/Test").await;
    let slow_without_delay = switch(json!({ "mode": "slow" }))
        .await
        .expect("the simulator answers");
    let to_normal = switch(json!({ "mode": "normal" }))
        .await
        .expect("the simulator answers");
    let (recovered, _) = app.read("/api/Test").await;

    assert_eq!(to_fail.status(), StatusCode::OK);
    assert_eq!(failed, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(slow_without_delay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(to_normal.status(), StatusCode::OK);
    assert_eq!(recovered, StatusCode::OK);
    assert_eq!(app.atal.mode(), Mode::Normal);
}

#[tokio::test]
async fn slow_mode_outlasts_a_short_client_timeout() {
    let app = spawn_app().await;
    app.atal.set_mode(Mode::Slow(SLOW_DELAY));

    let slow = tokio::time::timeout(SHORT_WAIT, app.get("/api/Test").send()).await;
    app.atal.set_mode(Mode::Normal);
    let recovered = tokio::time::timeout(SLOW_DELAY, app.get("/api/Test").send()).await;

    assert!(
        slow.is_err(),
        "the answer should not come within {SHORT_WAIT:?}"
    );
    let recovered = recovered
        .expect("no delay once normal")
        .expect("the simulator answers");
    assert_eq!(recovered.status(), StatusCode::OK);
}

#[tokio::test]
async fn slow_mode_set_over_http_delays_the_api() {
    let app = spawn_app().await;
    let switched = app
        .client
        .post(app.url("/_sim/mode"))
        .json(&json!({ "mode": "slow", "delay_ms": 30_000 }))
        .send()
        .await
        .expect("the simulator answers");

    let slow = tokio::time::timeout(SHORT_WAIT, app.get("/api/Thematics").send()).await;

    assert_eq!(switched.status(), StatusCode::OK);
    assert_eq!(app.atal.mode(), Mode::Slow(Duration::from_secs(30)));
    assert!(slow.is_err());
}

#[tokio::test]
async fn down_mode_drops_connections_even_pooled_ones() {
    let app = spawn_app().await;
    let (warm, _) = app.read("/api/Test").await;

    app.atal.set_mode(Mode::Down);
    let pooled = app.get("/api/Test").send().await;
    let fresh = Client::new()
        .get(app.url("/api/Test"))
        .header("X-API-Key", DEFAULT_API_KEY)
        .send()
        .await;
    app.atal.set_mode(Mode::Normal);
    let (recovered, _) = app.read("/api/Test").await;

    assert_eq!(warm, StatusCode::OK);
    assert!(pooled.is_err(), "a pooled connection must fail while down");
    assert!(fresh.is_err(), "a new connection must fail while down");
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn down_mode_set_over_http_is_acknowledged_then_drops_connections() {
    let app = spawn_app().await;

    let switched = app
        .client
        .post(app.url("/_sim/mode"))
        .json(&json!({ "mode": "down" }))
        .send()
        .await
        .expect("the switch is acknowledged");
    let down = app.get("/api/Test").send().await;
    app.atal.set_mode(Mode::Normal);

    assert_eq!(switched.status(), StatusCode::OK);
    assert!(down.is_err());
}

#[tokio::test]
async fn redirect_helper_answers_302_to_the_target() {
    let app = spawn_app().await;

    let answer = app
        .client
        .get(app.url("/_sim/redirect?to=http://169.254.169.254/latest/meta-data"))
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(
        answer
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok()),
        Some("http://169.254.169.254/latest/meta-data")
    );
}

#[tokio::test]
async fn big_helper_answers_the_requested_number_of_bytes() {
    let app = spawn_app().await;

    let answer = app
        .client
        .get(app.url("/_sim/big?bytes=100000"))
        .send()
        .await
        .expect("the simulator answers");
    let missing = app
        .client
        .get(app.url("/_sim/big"))
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(answer.status(), StatusCode::OK);
    let body = answer.bytes().await.expect("a body");
    assert_eq!(body.len(), 100_000);
    assert!(body.iter().all(|byte| *byte == b'a'));
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}
