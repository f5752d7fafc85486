//! The simulated ATAL, spoken to over real HTTP as a connector would.

use std::time::Duration;

use atal_sim::{DEFAULT_API_KEY, Handle, Mode, NewResponse, StateCode};
use chrono::Datelike;
use reqwest::{Client, RequestBuilder, Response, StatusCode, multipart, redirect::Policy};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long a test waits for an answer it expects not to come.
const SHORT_WAIT: Duration = Duration::from_millis(300);

/// How long the server waits in slow mode: far beyond [`SHORT_WAIT`].
const SLOW_DELAY: Duration = Duration::from_secs(30);

struct App {
    atal: Handle,
    client: Client,
}

async fn spawn_app() -> App {
    let atal = atal_sim::spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("the simulator binds a free port");
    let client = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("the HTTP client builds");
    App { atal, client }
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.atal.base_url())
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.client
            .get(self.url(path))
            .header("X-API-Key", DEFAULT_API_KEY)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(self.url(path))
            .header("X-API-Key", DEFAULT_API_KEY)
    }

    async fn transmit(&self, body: &Value) -> Response {
        self.post("/api/WorksRequests")
            .json(body)
            .send()
            .await
            .expect("the simulator answers")
    }

    async fn transmit_pothole(&self) -> Uuid {
        let answer = self.transmit(&pothole()).await;
        assert_eq!(answer.status(), StatusCode::CREATED);
        let receipt: Value = answer.json().await.expect("a JSON receipt");
        receipt["Id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .expect("a UUID id")
    }

    async fn attach(&self, id: Uuid, form: multipart::Form) -> Response {
        self.post(&format!("/api/WorksRequests/{id}/Attachments"))
            .multipart(form)
            .send()
            .await
            .expect("the simulator answers")
    }

    async fn read(&self, path: &str) -> (StatusCode, Value) {
        let answer = self.get(path).send().await.expect("the simulator answers");
        let status = answer.status();
        (status, answer.json().await.expect("a JSON body"))
    }
}

fn pothole() -> Value {
    json!({
        "Contact": {
            "FirstName": "Léa",
            "LastName": "Dupont",
            "Email": "lea.dupont@example.fr",
            "Phone": "04 78 00 00 00",
            "Mobile": "06 12 34 56 78",
            "Address1": "12 rue des Lilas",
            "ZipCode": "69003",
            "City": "Lyon"
        },
        "Object": "Nid de poule dangereux",
        "Description": "Trou profond sur la chaussée, devant l'école.",
        "RequestType": "12",
        "Localization": "14 avenue Jean Jaurès, 69003 Lyon",
        "Latitude": 45.7485,
        "Longitude": 4.8467,
        "RequesterId": "110",
        "RecipientId": "201",
        "RequestingDepartmentId": "105",
        "DesiredDate": "2026-12-15"
    })
}

fn photo(bytes: Vec<u8>) -> multipart::Form {
    let part = multipart::Part::bytes(bytes)
        .file_name("trou.jpg")
        .mime_str("image/jpeg")
        .expect("a valid content type");
    multipart::Form::new().part("file", part)
}

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

    for path in ["/api/ThirdParties", "/api/ThirdParties?type=3", "/api/ThirdParties?type=abc"] {
        let (status, body) = app.read(path).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(body["Message"].as_str().is_some_and(|m| m.contains("type")), "{path}");
    }
}

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
    assert!(first["Id"].as_str().is_some_and(|id| Uuid::parse_str(id).is_ok()));
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
    assert_eq!(body["RequestState"], json!({ "Code": "RECEIVED", "Label": "Reçue" }));
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
        ("recipient of the wrong type", json!({ "RecipientId": "105" })),
        ("invalid desired date", json!({ "DesiredDate": "15/12/2026" })),
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
        assert!(error["Message"].as_str().is_some_and(|m| !m.is_empty()), "{case}");
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
    assert!(error["Message"].as_str().is_some_and(|m| m.starts_with("JSON invalide")));
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
    assert!(error["Message"].as_str().is_some_and(|m| m.contains("file")));
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

#[tokio::test]
async fn agent_responses_appear_only_when_expanded() {
    let app = spawn_app().await;
    let id = app.transmit_pothole().await;
    app.atal
        .set_request_state(
            id,
            StateCode::InProgress,
            Some(NewResponse::new("Centre technique municipal", "Intervention prévue lundi.")),
        )
        .expect("the request exists");

    let (_, plain) = app.read(&format!("/api/WorksRequests/{id}")).await;
    let (_, expanded) = app
        .read(&format!("/api/WorksRequests/{id}?$expand=Responses"))
        .await;

    assert_eq!(plain["RequestState"]["Code"], "IN_PROGRESS");
    assert!(plain.get("Responses").is_none());
    assert_eq!(expanded["RequestState"]["Label"], "En cours de traitement");
    assert_eq!(expanded["Responses"][0]["Author"], "Centre technique municipal");
    assert_eq!(expanded["Responses"][0]["Text"], "Intervention prévue lundi.");
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

    let to_fail = switch(json!({ "mode": "fail" })).await.expect("the simulator answers");
    let (failed, _) = app.read("/api/Test").await;
    let slow_without_delay = switch(json!({ "mode": "slow" })).await.expect("the simulator answers");
    let to_normal = switch(json!({ "mode": "normal" })).await.expect("the simulator answers");
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

    assert!(slow.is_err(), "the answer should not come within {SHORT_WAIT:?}");
    let recovered = recovered.expect("no delay once normal").expect("the simulator answers");
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
        answer.headers().get("location").and_then(|l| l.to_str().ok()),
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
