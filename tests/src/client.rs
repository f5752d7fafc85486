//! A client of the API under test: requests with the caller's session
//! cookie or API token, and the answers with their status and JSON body.

use std::sync::{Arc, Mutex, PoisonError};

use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use serde_json::Value;

/// An answer of the API.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The `Set-Cookie` headers.
    pub cookies: Vec<String>,
    /// The raw body.
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The codes of the field errors, as `field:code`.
    pub fn field_errors(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| {
                        format!(
                            "{}:{}",
                            e["field"].as_str().unwrap_or_default(),
                            e["code"].as_str().unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the status, printing the body otherwise; returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        &self.body
    }
}

/// What a client sends to prove who it is.
#[derive(Clone)]
pub(crate) enum Auth {
    None,
    /// A session cookie, renewed by [`TestApp`] after clock jumps.
    Cookie(Arc<Mutex<String>>),
    Bearer(String),
}

/// A client of the API, logged in or not.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) auth: Auth,
}

impl Client {
    /// The same client (same credentials) speaking to another host of the
    /// same database, at `base` (`http://127.0.0.1:<port>`).
    pub fn at(&self, base: &str) -> Client {
        Client {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = match &self.auth {
            Auth::Cookie(cookie) => {
                let value = cookie
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                request.header(COOKIE, value)
            }
            Auth::Bearer(secret) => request.header(AUTHORIZATION, format!("Bearer {secret}")),
            Auth::None => request,
        };
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let cookies = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let bytes = response.bytes().await.expect("body read").to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            cookies,
            bytes,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path))).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    /// `PUT` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    /// `DELETE`, with an optional JSON body.
    pub async fn delete(&self, path: &str, body: Option<Value>) -> Reply {
        let request = self.http.delete(self.url(path));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        self.send(request).await
    }

    /// A request with a raw body and content type.
    pub async fn raw(&self, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.send(
            self.http
                .request(method, self.url(path))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }

    /// `POST` of a multipart form: text parts and at most one file.
    pub async fn post_form(
        &self,
        path: &str,
        texts: &[(&str, &str)],
        file: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in texts {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        if let Some((name, content)) = file {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(content).file_name(name.to_owned()),
            );
        }
        self.send(self.http.post(self.url(path)).multipart(form))
            .await
    }
}

/// The session cookie (`name=value`) of a login answer.
pub fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .cookies
        .iter()
        .find(|c| c.starts_with("guichet_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}
