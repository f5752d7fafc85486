//! Outbound HTTP for guests: one `reqwest` client per instance, behind the
//! instance's [`AllowList`].
//!
//! Rules, checked here and nowhere else:
//! - the URL, and every redirect target, must be allowed (redirects are followed
//!   by hand, never by reqwest, so each hop is re-checked);
//! - DNS answers that are private or loopback are dropped unless the name is
//!   listed exactly (see [`allowlist`](super::allowlist));
//! - TLS certificates are verified (rustls with the web PKI roots);
//! - a connect timeout and a total timeout per request;
//! - the response body is read up to a cap, then the request fails with
//!   `too-large`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::{Deserialize, Serialize};
use url::Url;

use super::allowlist::{AllowList, is_private};
use super::model::{HttpError, HttpRequest, HttpResponse};

/// Limits on outbound HTTP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpPolicy {
    /// Connect timeout, milliseconds.
    pub connect_timeout_ms: u64,
    /// Total timeout of one request (redirects included), milliseconds.
    pub total_timeout_ms: u64,
    /// Largest response body accepted, bytes.
    pub max_response_bytes: u64,
    /// Redirects followed at most.
    pub max_redirects: u8,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 3_000,
            total_timeout_ms: 8_000,
            max_response_bytes: 4 * 1024 * 1024,
            max_redirects: 5,
        }
    }
}

/// What one outbound exchange looked like, for the journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Method.
    pub method: String,
    /// URL requested by the guest (the first hop).
    pub url: String,
    /// Final status, when a response came back.
    pub status: Option<u16>,
    /// Error, when none did.
    pub error: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: f64,
}

/// The HTTP client of one instance.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow: Arc<AllowList>,
    policy: HttpPolicy,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("allow", &self.allow.entries())
            .field("policy", &self.policy)
            .finish()
    }
}

impl Outbound {
    /// A client for this allow-list and policy.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(allow: AllowList, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        let allow = Arc::new(allow);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_millis(policy.connect_timeout_ms))
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
            }))
            .no_proxy()
            .user_agent(concat!("guichet-connector/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow,
            policy,
        })
    }

    /// The allow-list entries, normalised.
    pub fn allowed_entries(&self) -> Vec<String> {
        self.allow.entries()
    }

    /// Sends a guest's request, following allowed redirects.
    ///
    /// # Errors
    /// [`HttpError`] for a forbidden or invalid URL, a connection failure, a
    /// timeout, an oversized body or too many redirects.
    pub async fn send(&self, request: HttpRequest) -> (Result<HttpResponse, HttpError>, Exchange) {
        let started = Instant::now();
        let method = request.method.clone();
        let first_url = request.url.clone();
        let total = Duration::from_millis(self.policy.total_timeout_ms);
        let result = match tokio::time::timeout(total, self.follow(request)).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout),
        };
        let exchange = Exchange {
            method,
            url: first_url,
            status: result.as_ref().ok().map(|r| r.status),
            error: result.as_ref().err().map(ToString::to_string),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        (result, exchange)
    }

    async fn follow(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let mut method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpError::Other(format!("méthode invalide : {}", request.method)))?;
        let mut url = Url::parse(&request.url)
            .map_err(|e| HttpError::InvalidUrl(format!("{} ({e})", request.url)))?;
        let mut body = request.body;
        let mut hops = 0u8;
        let first_origin = origin(&url);
        loop {
            if url.scheme() != "http" && url.scheme() != "https" {
                return Err(HttpError::InvalidUrl(url.to_string()));
            }
            if !self.allow.allows(&url) {
                return Err(HttpError::Forbidden(origin(&url)));
            }
            let mut builder = self.client.request(method.clone(), url.clone());
            for (name, value) in &request.headers {
                if is_forwardable(name, hops > 0 && origin(&url) != first_origin) {
                    builder = builder.header(name.as_str(), value.as_str());
                }
            }
            if let Some(bytes) = &body {
                builder = builder.body(bytes.clone());
            }
            let response = builder.send().await.map_err(classify)?;
            let status = response.status();
            if status.is_redirection()
                && let Some(location) = response.headers().get(reqwest::header::LOCATION)
            {
                {
                    hops += 1;
                    if hops > self.policy.max_redirects {
                        return Err(HttpError::TooManyRedirects);
                    }
                    let location = location
                        .to_str()
                        .map_err(|_| HttpError::InvalidUrl("redirection illisible".into()))?;
                    url = url
                        .join(location)
                        .map_err(|e| HttpError::InvalidUrl(format!("{location} ({e})")))?;
                    // Browsers' rule: 303, and 301/302 after a POST, continue as GET.
                    if status == reqwest::StatusCode::SEE_OTHER
                        || (method == reqwest::Method::POST && matches!(status.as_u16(), 301 | 302))
                    {
                        method = reqwest::Method::GET;
                        body = None;
                    }
                    continue;
                }
            }
            return self.read(response).await;
        }
    }

    async fn read(&self, response: reqwest::Response) -> Result<HttpResponse, HttpError> {
        let cap = self.policy.max_response_bytes;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(HttpError::TooLarge(cap));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(classify)?;
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(HttpError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Whether a guest header is sent: connection-level headers are the host's
/// business, and credentials do not follow a redirect to another origin.
fn is_forwardable(name: &str, cross_origin_redirect: bool) -> bool {
    let name = name.to_ascii_lowercase();
    let connection_level = matches!(
        name.as_str(),
        "host" | "content-length" | "transfer-encoding" | "connection" | "upgrade" | "te"
    );
    let credential = matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "x-api-key"
    );
    let dropped = connection_level || (cross_origin_redirect && credential);
    !dropped
}

/// `scheme://host:port` of a URL, for messages.
fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn classify(error: reqwest::Error) -> HttpError {
    if error.is_timeout() {
        return HttpError::Timeout;
    }
    // The resolver's refusal surfaces as a connect error: report it as forbidden.
    let text = full_message(&error);
    if text.contains(PRIVATE_REFUSED) {
        return HttpError::Forbidden(text);
    }
    if error.is_connect() || error.is_request() {
        return HttpError::Connection(text);
    }
    HttpError::Other(text)
}

fn full_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

const PRIVATE_REFUSED: &str = "adresse privée ou locale refusée";

/// Resolves names with the system resolver, dropping private and loopback
/// addresses unless the name is listed exactly in the allow-list.
struct GuardedResolver {
    allow: Arc<AllowList>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let exact = allow.names_exactly(&host);
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| exact || !is_private(a.ip()))
                .collect();
            if kept.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    format!("{PRIVATE_REFUSED} pour {host}").into();
                return Err(error);
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}
