//! Outbound HTTP for guests: one `reqwest` client per instance, behind the
//! instance's [`AllowList`].
//!
//! Rules, checked here and nowhere else:
//! - the URL, and every redirect target, must be allowed (redirects are followed
//!   by hand, never by reqwest, so each hop is re-checked);
//! - DNS answers that are private or loopback are dropped unless the URL is
//!   matched by an entry naming its host exactly, with the same scheme and
//!   port (see [`allowlist`](super::allowlist)): such URLs go through a second
//!   client whose resolver keeps private answers, every other URL through a
//!   client whose resolver never does;
//! - TLS certificates are verified (rustls with the web PKI roots);
//! - a connect timeout and a total timeout per request;
//! - the response body is read up to a cap, then the request fails with
//!   `too-large`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
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

/// The HTTP clients of one instance.
#[derive(Clone)]
pub struct Outbound {
    /// For URLs that may not reach private addresses (most of them).
    client: reqwest::Client,
    /// For URLs matched by an entry naming their host exactly.
    exempt: reqwest::Client,
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
        Self::with_lookup(allow, policy, Arc::new(SystemLookup))
    }

    fn with_lookup(
        allow: AllowList,
        policy: HttpPolicy,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, reqwest::Error> {
        let allow = Arc::new(allow);
        let client = |private_allowed: bool| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_millis(policy.connect_timeout_ms))
                .dns_resolver(Arc::new(GuardedResolver {
                    allow: allow.clone(),
                    private_allowed,
                    lookup: lookup.clone(),
                }))
                .no_proxy()
                .user_agent(concat!("guichet-connector/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Self {
            client: client(false)?,
            exempt: client(true)?,
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
            let client = if self.allow.names_exactly(&url) {
                &self.exempt
            } else {
                &self.client
            };
            let mut builder = client.request(method.clone(), url.clone());
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

/// How names are resolved (the system resolver, or a fixed table in tests).
trait Lookup: Send + Sync {
    fn lookup(&self, host: String) -> LookupFuture;
}

type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;

struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> LookupFuture {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    }
}

/// Resolves names, dropping private and loopback addresses unless this is the
/// client of exactly-named URLs and the name is listed exactly.
struct GuardedResolver {
    allow: Arc<AllowList>,
    private_allowed: bool,
    lookup: Arc<dyn Lookup>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let private_allowed = self.private_allowed;
        let lookup = self.lookup.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs = lookup.lookup(host.clone()).await?;
            let exempt = private_allowed && allow.lists_name(&host);
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| exempt || !is_private(a.ip()))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Every name resolves to 127.0.0.1, as a vendor's DNS might answer.
    struct Loopback;

    impl Lookup for Loopback {
        fn lookup(&self, _host: String) -> LookupFuture {
            Box::pin(async { Ok(vec![SocketAddr::from(([127, 0, 0, 1], 0))]) })
        }
    }

    /// A loopback HTTP server answering 200 and counting its connections.
    async fn counting_server() -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            }
        });
        (port, count)
    }

    fn outbound(entries: &[String]) -> Outbound {
        let allow = AllowList::parse(entries).expect("valid list");
        Outbound::with_lookup(allow, HttpPolicy::default(), Arc::new(Loopback)).expect("client")
    }

    fn get(url: String) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    #[tokio::test]
    async fn an_exact_name_on_another_port_does_not_open_loopback_to_a_wildcard() {
        // Issue 7's entries, with `exact.vendor.test` resolving to 127.0.0.1:
        // the wildcard entry's port must not inherit the exact entry's exemption.
        let (port, connections) = counting_server().await;
        let other_port = if port == 65535 { port - 1 } else { port + 1 };
        let client = outbound(&[
            format!("http://*.vendor.test:{port}"),
            format!("http://exact.vendor.test:{other_port}"),
        ]);

        let (result, _) = client
            .send(get(format!("http://exact.vendor.test:{port}/")))
            .await;

        assert!(
            matches!(&result, Err(HttpError::Forbidden(m)) if m.contains(PRIVATE_REFUSED)),
            "{result:?}"
        );
        assert_eq!(connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn the_whole_exact_entry_reaches_loopback() {
        let (port, connections) = counting_server().await;
        let client = outbound(&[
            format!("http://*.vendor.test:{port}"),
            format!("http://exact.vendor.test:{port}"),
        ]);

        let (result, _) = client
            .send(get(format!("http://exact.vendor.test:{port}/")))
            .await;
        let (wildcard, _) = client
            .send(get(format!("http://other.vendor.test:{port}/")))
            .await;

        assert_eq!(result.expect("allowed").status, 200);
        assert!(
            matches!(wildcard, Err(HttpError::Forbidden(_))),
            "{wildcard:?}"
        );
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }
}
