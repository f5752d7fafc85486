//! A fresh simulator per test and the requests the tests send.

use std::time::Duration;

use espace_famille_sim::{DEFAULT_TOKEN, Handle};
use reqwest::{Client, RequestBuilder, Response, StatusCode, redirect::Policy};
use serde_json::{Value, json};

/// How long a test waits for an answer it expects not to come.
pub const SHORT_WAIT: Duration = Duration::from_millis(300);

/// How long the server waits in slow mode: far beyond [`SHORT_WAIT`].
pub const SLOW_DELAY: Duration = Duration::from_secs(30);

/// A simulated Espace famille of its own and a client that does not follow redirects.
pub struct App {
    pub portail: Handle,
    pub client: Client,
}

/// Starts a freshly seeded simulator on a free port.
pub async fn spawn_app() -> App {
    let portail = espace_famille_sim::spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("the simulator binds a free port");
    let client = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("the HTTP client builds");
    App { portail, client }
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.portail.base_url())
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(DEFAULT_TOKEN)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(DEFAULT_TOKEN)
    }

    pub async fn read(&self, path: &str) -> (StatusCode, Value) {
        let answer = self.get(path).send().await.expect("the simulator answers");
        json_of(answer).await
    }

    pub async fn send(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let answer = self
            .post(path)
            .json(body)
            .send()
            .await
            .expect("the simulator answers");
        json_of(answer).await
    }

    pub async fn register(&self, body: &Value) -> (StatusCode, Value) {
        self.send("/api/inscriptions", body).await
    }
}

pub async fn json_of(answer: Response) -> (StatusCode, Value) {
    let status = answer.status();
    (status, answer.json().await.expect("a JSON body"))
}

/// Léa DUPONT (10) to the school restaurant.
pub fn lea_at_the_cantine() -> Value {
    json!({
        "id_famille": "F-0001",
        "id_enfant": "E-0001",
        "id_activite": "CANT-2026",
        "date_debut": "2026-09-01",
        "jours": ["lundi", "mardi", "jeudi", "vendredi"],
        "commentaire": "Allergie aux arachides (PAI en cours)."
    })
}
