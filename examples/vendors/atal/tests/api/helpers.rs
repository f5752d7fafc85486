//! A fresh simulator per test and the requests the tests send.

use std::time::Duration;

use atal_sim::{DEFAULT_API_KEY, Handle};
use reqwest::{Client, RequestBuilder, Response, StatusCode, multipart, redirect::Policy};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long a test waits for an answer it expects not to come.
pub const SHORT_WAIT: Duration = Duration::from_millis(300);

/// How long the server waits in slow mode: far beyond [`SHORT_WAIT`].
pub const SLOW_DELAY: Duration = Duration::from_secs(30);

/// A simulated ATAL of its own and a client that does not follow redirects.
pub struct App {
    pub atal: Handle,
    pub client: Client,
}

/// Starts a freshly seeded simulator on a free port.
pub async fn spawn_app() -> App {
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
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.atal.base_url())
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client
            .get(self.url(path))
            .header("X-API-Key", DEFAULT_API_KEY)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(self.url(path))
            .header("X-API-Key", DEFAULT_API_KEY)
    }

    pub async fn transmit(&self, body: &Value) -> Response {
        self.post("/api/WorksRequests")
            .json(body)
            .send()
            .await
            .expect("the simulator answers")
    }

    pub async fn transmit_pothole(&self) -> Uuid {
        let answer = self.transmit(&pothole()).await;
        assert_eq!(answer.status(), StatusCode::CREATED);
        let receipt: Value = answer.json().await.expect("a JSON receipt");
        receipt["Id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .expect("a UUID id")
    }

    pub async fn attach(&self, id: Uuid, form: multipart::Form) -> Response {
        self.post(&format!("/api/WorksRequests/{id}/Attachments"))
            .multipart(form)
            .send()
            .await
            .expect("the simulator answers")
    }

    pub async fn read(&self, path: &str) -> (StatusCode, Value) {
        let answer = self.get(path).send().await.expect("the simulator answers");
        let status = answer.status();
        (status, answer.json().await.expect("a JSON body"))
    }
}

pub fn pothole() -> Value {
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

pub fn photo(bytes: Vec<u8>) -> multipart::Form {
    let part = multipart::Part::bytes(bytes)
        .file_name("trou.jpg")
        .mime_str("image/jpeg")
        .expect("a valid content type");
    multipart::Form::new().part("file", part)
}
