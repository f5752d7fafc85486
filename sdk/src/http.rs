//! Outbound HTTP through the host.
//!
//! The host only lets a request through when its `scheme://host:port` is in the
//! instance's allow-list (redirects included); it verifies TLS and applies
//! timeouts and a response size cap. A connector never opens sockets itself.
//!
//! ```ignore
//! let response = http::Request::post(format!("{base}/api/WorksRequests"))
//!     .header("X-API-Key", key.expose())
//!     .json(&body)
//!     .send()?
//!     .error_for_status()?;
//! let created: Created = response.json()?;
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::bindings::guichet::connector::http as wit;

pub use wit::{HttpError, Method};

/// An outgoing request, built step by step and sent with [`Request::send`].
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// A request with `method` to `url`.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A GET request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// A PUT request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// A DELETE request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// Sets a raw body and its content type.
    pub fn body(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.body = Some(bytes);
        self.header("Content-Type", content_type)
    }

    /// Sets a JSON body (`Content-Type: application/json`).
    ///
    /// # Errors
    /// [`Error::Other`] when `value` cannot be serialised (a map with non-string keys).
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::Other(format!("sérialisation JSON impossible : {e}")))?;
        Ok(self.body("application/json", bytes))
    }

    /// Sets a `multipart/form-data` body.
    pub fn multipart(self, form: Multipart) -> Self {
        let content_type = format!("multipart/form-data; boundary={}", Multipart::BOUNDARY);
        self.body(&content_type, form.finish())
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Sends the request through the host.
    ///
    /// # Errors
    /// [`HttpError`] when the host refused the URL, the connection failed, a
    /// timeout expired or the response was too large. HTTP error statuses are
    /// not errors here: see [`Response::error_for_status`].
    pub fn send(self) -> Result<Response, HttpError> {
        let request = wit::Request {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
        };
        send(request).map(|r| Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
        })
    }
}

#[cfg(target_arch = "wasm32")]
fn send(request: wit::Request) -> Result<wit::Response, HttpError> {
    wit::send(&request)
}

#[cfg(not(target_arch = "wasm32"))]
fn send(request: wit::Request) -> Result<wit::Response, HttpError> {
    crate::testing::http(request)
}

/// A response received through the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a status and a raw body (for tests with the mock host).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A JSON response (for tests with the mock host).
    pub fn json_body(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// [`Error::Other`] naming the parse error when the body is not the expected JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Other(format!(
                "réponse inattendue de l'application métier (HTTP {}) : {e}",
                self.status
            ))
        })
    }

    /// Turns an HTTP error status into the matching connector error, keeping the
    /// vendor's message: 400/409/422 → `rejected`, 401/403 → `configuration`,
    /// 404 → `not-found`, 5xx and 429 → `unavailable`.
    ///
    /// # Errors
    /// The connector error matching the status.
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.is_success() {
            return Ok(self);
        }
        let detail = vendor_message(&self.body);
        let status = self.status;
        Err(match status {
            401 | 403 => Error::Configuration(format!(
                "accès refusé par l'application métier (HTTP {status}) : {detail}"
            )),
            404 => Error::NotFound(detail),
            400 | 409 | 413 | 422 => Error::Rejected(detail),
            429 | 500..=599 => Error::Unavailable(format!(
                "l'application métier est indisponible (HTTP {status}) : {detail}"
            )),
            _ => Error::Other(format!("réponse HTTP {status} inattendue : {detail}")),
        })
    }
}

/// Extracts a human message from a vendor error body: the first string member
/// among common names, else the text itself (shortened).
fn vendor_message(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
        for key in ["Message", "message", "erreur", "error", "detail", "title"] {
            if let Some(serde_json::Value::String(text)) = map.get(key) {
                return text.clone();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl HttpError {
    /// A French sentence describing the error, for logs and connector errors.
    pub fn message(&self) -> String {
        match self {
            HttpError::Forbidden(url) => format!("hôte non autorisé : {url}"),
            HttpError::InvalidUrl(url) => format!("URL invalide : {url}"),
            HttpError::Connection(why) => format!("connexion impossible : {why}"),
            HttpError::Timeout => "délai d'attente dépassé".to_string(),
            HttpError::TooLarge(cap) => format!("réponse trop volumineuse (plus de {cap} octets)"),
            HttpError::TooManyRedirects => "trop de redirections".to_string(),
            HttpError::Other(why) => why.clone(),
        }
    }
}

/// A `multipart/form-data` body, for file uploads.
#[derive(Clone, Debug, Default)]
pub struct Multipart {
    body: Vec<u8>,
}

impl Multipart {
    const BOUNDARY: &'static str = "----guichet-connector-boundary-7f3a9c";

    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text part.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.open_part(&format!("form-data; name=\"{}\"", quote(name)), None);
        self.body.extend_from_slice(value.as_bytes());
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a file part.
    pub fn file(mut self, name: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Self {
        let disposition = format!(
            "form-data; name=\"{}\"; filename=\"{}\"",
            quote(name),
            quote(filename)
        );
        self.open_part(&disposition, Some(content_type));
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    fn open_part(&mut self, disposition: &str, content_type: Option<&str>) {
        let mut head = format!(
            "--{}\r\nContent-Disposition: {disposition}\r\n",
            Self::BOUNDARY
        );
        if let Some(content_type) = content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str("\r\n");
        self.body.extend_from_slice(head.as_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.body
            .extend_from_slice(format!("--{}--\r\n", Self::BOUNDARY).as_bytes());
        self.body
    }
}

/// Escapes a header parameter value: quotes and line breaks cannot appear in it.
fn quote(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\r' | '\n' => ' ',
            c => c,
        })
        .collect()
}

/// Joins a base URL and a path with exactly one `/` between them.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Percent-encodes a value for a URL query or path segment.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
