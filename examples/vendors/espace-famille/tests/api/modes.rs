//! The failure switch (fail, slow, down) and the `/_sim` helpers.

use espace_famille_sim::Mode;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SHORT_WAIT, SLOW_DELAY, json_of, spawn_app};

#[tokio::test]
async fn fail_mode_answers_500_until_back_to_normal() {
    let app = spawn_app().await;

    app.portail.set_mode(Mode::Fail);
    let (failed, error) = app.read("/api/ping").await;
    app.portail.set_mode(Mode::Normal);
    let (recovered, _) = app.read("/api/ping").await;

    assert_eq!(failed, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error["code"], "erreur_interne");
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn mode_can_be_switched_over_http() {
    let app = spawn_app().await;
    let switch = |body: Value| app.client.post(app.url("/_sim/mode")).json(&body).send();

    let to_fail = switch(json!({ "mode": "fail" }))
        .await
        .expect("the simulator answers");
    let (failed, _) = app.read("/api/activites").await;
    let (current, mode) = json_of(
        app.client
            .get(app.url("/_sim/mode"))
            .send()
            .await
            .expect("the simulator answers"),
    )
    .await;
    let to_normal = switch(json!({ "mode": "normal" }))
        .await
        .expect("the simulator answers");
    let (recovered, _) = app.read("/api/activites").await;

    assert_eq!(to_fail.status(), StatusCode::OK);
    assert_eq!(failed, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(current, StatusCode::OK);
    assert_eq!(mode, json!({ "mode": "fail" }));
    assert_eq!(to_normal.status(), StatusCode::OK);
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn slow_mode_outlasts_a_short_client_timeout() {
    let app = spawn_app().await;
    app.portail.set_mode(Mode::Slow(SLOW_DELAY));

    let slow = tokio::time::timeout(SHORT_WAIT, app.get("/api/ping").send()).await;
    app.portail.set_mode(Mode::Normal);
    let recovered = tokio::time::timeout(SLOW_DELAY, app.get("/api/ping").send()).await;

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
async fn down_mode_drops_connections_then_recovers() {
    let app = spawn_app().await;
    let (warm, _) = app.read("/api/ping").await;

    app.portail.set_mode(Mode::Down);
    let pooled = app.get("/api/ping").send().await;
    let fresh = Client::new().get(app.url("/_sim/mode")).send().await;
    app.portail.set_mode(Mode::Normal);
    let (recovered, _) = app.read("/api/ping").await;

    assert_eq!(warm, StatusCode::OK);
    assert!(pooled.is_err(), "a pooled connection must fail while down");
    assert!(fresh.is_err(), "the control routes are down too");
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn redirect_and_big_helpers_need_no_token() {
    let app = spawn_app().await;

    let redirect = app
        .client
        .get(app.url("/_sim/redirect?to=https://evil.example/"))
        .send()
        .await
        .expect("the simulator answers");
    let big = app
        .client
        .get(app.url("/_sim/big?bytes=2048"))
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert_eq!(
        redirect
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok()),
        Some("https://evil.example/")
    );
    assert_eq!(big.status(), StatusCode::OK);
    assert_eq!(big.bytes().await.expect("a body").as_ref(), [b'a'; 2048]);
}
