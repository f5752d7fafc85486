//! A browser-like HTTP client for the portal's pages: it keeps the cookies
//! it is given (session and CSRF), follows no redirection on its own, and
//! sends forms with the page's CSRF token, as a browser's form would.

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::multipart;

/// An answer: status, `Location`, body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Where a redirection leads.
    pub location: Option<String>,
    /// The body.
    pub html: String,
}

/// A visitor of the portal.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Visitor {
    /// A visitor of the portal at `base` (`http://127.0.0.1:port`).
    ///
    /// # Panics
    /// When the client cannot be built.
    pub fn new(base: &str) -> Visitor {
        Visitor {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().expect("cookies");
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn answer(&self, response: reqwest::Response) -> Answer {
        {
            let mut cookies = self.cookies.lock().expect("cookies");
            for value in response.headers().get_all(SET_COOKIE) {
                let text = value.to_str().unwrap_or_default();
                let pair = text.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() {
                        cookies.remove(name);
                    } else {
                        cookies.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
        }
        Answer {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            html: response.text().await.unwrap_or_default(),
        }
    }

    /// `GET path`.
    ///
    /// # Panics
    /// When the server does not answer.
    pub async fn get(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("an answer");
        self.answer(response).await
    }

    /// This browser's CSRF token (after a first page).
    pub fn csrf(&self) -> String {
        self.cookies
            .lock()
            .expect("cookies")
            .get("guichet_csrf")
            .cloned()
            .unwrap_or_default()
    }

    /// Whether the visitor holds a session cookie.
    pub fn logged_in(&self) -> bool {
        self.cookies
            .lock()
            .expect("cookies")
            .contains_key("guichet_session")
    }

    /// `POST path` with an URL-encoded form, the CSRF token added.
    ///
    /// # Panics
    /// When the server does not answer.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.csrf();
        let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    /// `POST path` with exactly these fields (no token added).
    ///
    /// # Panics
    /// When the server does not answer.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(fields)
            .send()
            .await
            .expect("an answer");
        self.answer(response).await
    }

    /// `POST path` with a multipart form (texts, then files as
    /// `(field, name, content)`), the CSRF token added.
    ///
    /// # Panics
    /// When the server does not answer.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: Vec<(&str, &str, Vec<u8>)>,
    ) -> Answer {
        let token = self.csrf();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_multipart_raw(path, &all, files).await
    }

    /// `POST path` with exactly these multipart fields and files (no token
    /// added; an empty file name and content is a file input left empty).
    ///
    /// # Panics
    /// When the server does not answer.
    pub async fn post_multipart_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: Vec<(&str, &str, Vec<u8>)>,
    ) -> Answer {
        let mut form = multipart::Form::new();
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        for (field, name, content) in files {
            form = form.part(
                field.to_owned(),
                multipart::Part::bytes(content)
                    .file_name(name.to_owned())
                    .mime_str("application/octet-stream")
                    .expect("a media type"),
            );
        }
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await
            .expect("an answer");
        self.answer(response).await
    }

    /// Logs in through `/connexion`'s form (its CSRF cookie taken first).
    ///
    /// # Panics
    /// When the login is refused.
    pub async fn login(&self, login: &str, password: &str) {
        self.get("/connexion").await;
        let answer = self
            .post("/connexion", &[("login", login), ("password", password)])
            .await;
        assert_eq!(answer.status, 303, "{}", answer.html);
        assert!(self.logged_in());
    }

    /// `GET path` of a file: status, `Content-Type`, bytes.
    ///
    /// # Panics
    /// When the server does not answer.
    pub async fn download(&self, path: &str) -> (u16, String, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            kind,
            response.bytes().await.expect("the bytes").to_vec(),
        )
    }

    /// Registers an usager through `/inscription` (logged in after).
    ///
    /// # Panics
    /// When the registration is refused.
    pub async fn register(&self, login: &str, first: &str, last: &str) {
        self.get("/inscription").await;
        let password = "un mot de passe très long 2026";
        let answer = self
            .post(
                "/inscription",
                &[
                    ("login", login),
                    ("password", password),
                    ("password_confirmation", password),
                    ("first_name", first),
                    ("last_name", last),
                    ("phone", "06 12 34 56 78"),
                    ("birth_date", "12/04/1988"),
                    ("street", "3 rue des Lilas"),
                    ("postcode", "13001"),
                    ("city", "Marseille"),
                ],
            )
            .await;
        assert_eq!(answer.status, 303, "{}", answer.html);
        assert!(self.logged_in());
    }
}
