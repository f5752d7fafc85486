//! Requests whose answers keep their headers (security headers,
//! `Retry-After`, `Content-Disposition`), and the settings-taking variant of
//! `on_both_backends!`.

use guichet_tests::app::{TestApp, session_cookie};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// Runs each named `async fn(TestApp)` on both backends with the settings
/// of the expression (evaluated in the test module's parent).
macro_rules! on_both_backends_with {
    ($settings:expr; $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                guichet_tests::app::run_with(
                    guichet_tests::app::Backend::Sqlite,
                    $settings,
                    super::$name,
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                guichet_tests::app::run_with(
                    guichet_tests::app::Backend::Postgres,
                    $settings,
                    super::$name,
                )
                .await;
            }
        }
    )+};
}

/// An answer with its headers.
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Raw {
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Sends a request and keeps the answer's headers.
pub(crate) async fn raw(request: reqwest::RequestBuilder) -> Raw {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    Raw {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// A client that sends exactly what a test asks (no cookie jar).
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// `POST /api/auth/login`, with the answer's headers.
pub(crate) async fn login_raw(app: &TestApp, login: &str, password: &str) -> Raw {
    raw(http()
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "login": login, "password": password })))
    .await
}

/// Logs in and returns the session cookie (`guichet_session=…`).
pub(crate) async fn cookie(app: &TestApp, login: &str, password: &str) -> String {
    let reply = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({ "login": login, "password": password }),
        )
        .await;
    session_cookie(&reply).unwrap()
}
