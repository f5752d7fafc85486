//! A mock host, so that a connector's logic runs under native `cargo test`.
//!
//! Build a [`MockHost`] with the configuration, secrets, attachments and HTTP
//! routes the test needs, then call the connector's hooks inside
//! [`MockHost::run`]. Afterwards, [`MockHost::requests`] and [`MockHost::logs`]
//! tell what the connector sent and wrote.
//!
//! ```
//! use guichet_sdk::http::{Method, Request, Response};
//! use guichet_sdk::testing::MockHost;
//!
//! let host = MockHost::new()
//!     .config("base_url", "https://vendor.test")
//!     .respond(Method::Get, "https://vendor.test/api/ping", Response::new(200, "pong"));
//! let body = host.run(|| Request::get("https://vendor.test/api/ping").send().map(|r| r.text()));
//! assert_eq!(body.ok().as_deref(), Some("pong"));
//! assert_eq!(host.requests().len(), 1);
//! ```
//!
//! Only HTTP routes registered on the mock answer: anything else is a
//! `connection` error, as a real host would give for an unreachable server.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::http::{HttpError, Method, Request, Response};
use crate::log::Level;

type Handler = Box<dyn Fn(&Request) -> Result<Response, HttpError>>;

struct Route {
    method: Method,
    url: String,
    handler: Handler,
}

/// A log record written by the connector under test.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// Severity.
    pub level: Level,
    /// Message.
    pub message: String,
    /// Key/value fields.
    pub fields: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    config: HashMap<String, String>,
    secrets: HashMap<String, String>,
    attachments: HashMap<String, Vec<u8>>,
    routes: Vec<Route>,
    requests: Vec<Request>,
    logs: Vec<LogRecord>,
}

/// A fake host for native tests. Cheap to clone: clones share their state.
#[derive(Clone, Default)]
pub struct MockHost {
    state: Rc<RefCell<State>>,
}

thread_local! {
    static CURRENT: RefCell<Option<MockHost>> = const { RefCell::new(None) };
}

impl MockHost {
    /// A host with no configuration and no routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a configuration value (strings raw, other values as JSON text).
    pub fn config(self, key: &str, value: &str) -> Self {
        self.state
            .borrow_mut()
            .config
            .insert(key.to_string(), value.to_string());
        self
    }

    /// Sets a secret.
    pub fn secret(self, key: &str, value: &str) -> Self {
        self.state
            .borrow_mut()
            .secrets
            .insert(key.to_string(), value.to_string());
        self
    }

    /// Provides the content of an attachment.
    pub fn attachment(self, id: &str, bytes: &[u8]) -> Self {
        self.state
            .borrow_mut()
            .attachments
            .insert(id.to_string(), bytes.to_vec());
        self
    }

    /// Answers requests with `method` to `url` (compared without its query
    /// string) by calling `handler`.
    pub fn route(
        self,
        method: Method,
        url: &str,
        handler: impl Fn(&Request) -> Result<Response, HttpError> + 'static,
    ) -> Self {
        self.state.borrow_mut().routes.push(Route {
            method,
            url: url.to_string(),
            handler: Box::new(handler),
        });
        self
    }

    /// Answers requests with `method` to `url` with a fixed response.
    pub fn respond(self, method: Method, url: &str, response: Response) -> Self {
        self.route(method, url, move |_| Ok(response.clone()))
    }

    /// Runs `f` with this host installed for the current thread.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        let result = f();
        CURRENT.with(|c| c.replace(previous));
        result
    }

    /// The requests the connector sent, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.borrow().requests.clone()
    }

    /// The log records the connector wrote, in order.
    pub fn logs(&self) -> Vec<LogRecord> {
        self.state.borrow().logs.clone()
    }
}

fn with_current<R>(f: impl FnOnce(&MockHost) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_ref().map(f))
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn http(
    request: crate::bindings::guichet::connector::http::Request,
) -> Result<crate::bindings::guichet::connector::http::Response, HttpError> {
    let request = Request {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
    };
    let answered = with_current(|host| {
        host.state.borrow_mut().requests.push(request.clone());
        let state = host.state.borrow();
        let route = state.routes.iter().find(|r| {
            r.method == request.method && strip_query(&r.url) == strip_query(&request.url)
        });
        match route {
            Some(route) => (route.handler)(&request),
            None => Err(HttpError::Connection(format!(
                "aucune route simulée pour {:?} {}",
                request.method, request.url
            ))),
        }
    });
    let response = answered.unwrap_or_else(|| {
        Err(HttpError::Other(
            "aucun hôte simulé : appelez le connecteur dans MockHost::run".to_string(),
        ))
    })?;
    Ok(crate::bindings::guichet::connector::http::Response {
        status: response.status,
        headers: response.headers,
        body: response.body,
    })
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn config(key: &str) -> Option<String> {
    with_current(|host| host.state.borrow().config.get(key).cloned()).flatten()
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn secret(key: &str) -> Option<String> {
    with_current(|host| host.state.borrow().secrets.get(key).cloned()).flatten()
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn attachment(id: &str) -> Result<Vec<u8>, String> {
    with_current(|host| host.state.borrow().attachments.get(id).cloned())
        .flatten()
        .ok_or_else(|| format!("pièce jointe inconnue : {id}"))
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn log(level: Level, message: &str, fields: Vec<(String, String)>) {
    with_current(|host| {
        host.state.borrow_mut().logs.push(LogRecord {
            level,
            message: message.to_string(),
            fields,
        })
    });
}
