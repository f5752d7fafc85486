//! # mail-sim — a local SMTP sink
//!
//! Guichet sends its mails through SMTP (`lettre`). In the tests and in the
//! demo, they go to this sink: a real SMTP server on a local port that
//! accepts every mail, keeps it in memory, and shows what it received —
//! decoded — over HTTP:
//!
//! - `GET /messages`: every mail as JSON ([`Received`]: sender, recipients,
//!   subject, plain text and HTML parts, `Message-ID`), oldest first;
//! - `GET /`: the same as plain text, for a person reading the demo;
//! - `POST /_sim/mode` (`{"mode": "fail"}`, `{"mode": "reject"}` or
//!   `{"mode": "normal"}`): while failing, the server answers each mail
//!   with a temporary failure (`4xx`); while rejecting, with a refusal for
//!   good (`5xx`).
//!
//! Libraries: [`mailin_embedded`] runs the SMTP protocol (blocking threads,
//! one per connection); [`mail_parser`] decodes what arrived (MIME parts,
//! quoted-printable, encoded headers). The HTTP side is an axum router
//! served by [`vendor_sim::Server`], as the other simulated vendors are.
//!
//! An SMTP server that is *down* (nothing listening) is simulated by not
//! starting the sink yet: [`MailSink::start_on`] takes the address a test
//! reserved beforehand.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use mailin_embedded::response::{self, Response};
use mailin_embedded::{Handler, Server, SslConfig};
use serde::{Deserialize, Serialize};

/// The SMTP address the demo listens on.
pub const DEFAULT_SMTP: &str = "127.0.0.1:2525";

/// The HTTP address the demo shows the mails on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8094";

/// One mail as the sink received it, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub envelope_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub envelope_to: Vec<String>,
    /// The `From` header's address.
    pub from: Option<String>,
    /// The `Reply-To` header's address.
    pub reply_to: Option<String>,
    /// The `To` header's addresses.
    pub to: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// The plain text part.
    pub text: Option<String>,
    /// The HTML part.
    pub html: Option<String>,
    /// The `Message-ID` header, without angle brackets.
    pub message_id: Option<String>,
}

/// What the sink keeps, shared by the SMTP threads and the HTTP routes.
#[derive(Debug, Clone, Default)]
pub struct Mailbox {
    received: Arc<Mutex<Vec<Received>>>,
    failing: Arc<AtomicBool>,
    rejecting: Arc<AtomicBool>,
}

impl Mailbox {
    /// Every mail received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// While `true`, each mail is refused with a temporary failure (451).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// While `true`, each mail is refused for good (550).
    pub fn set_rejecting(&self, rejecting: bool) {
        self.rejecting.store(rejecting, Ordering::SeqCst);
    }

    fn keep(&self, mail: Received) {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail);
    }
}

/// The SMTP session of one connection.
#[derive(Clone)]
struct Session {
    mailbox: Mailbox,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Session {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        if self.mailbox.failing.load(Ordering::SeqCst) {
            return response::INTERNAL_ERROR;
        }
        if self.mailbox.rejecting.load(Ordering::SeqCst) {
            return response::NO_MAILBOX;
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let Some(message) = mail_parser::MessageParser::default().parse(&self.data) else {
            return response::TRANSACTION_FAILED;
        };
        let addresses = |list: Option<&mail_parser::Address>| -> Vec<String> {
            list.map(|list| {
                list.iter()
                    .filter_map(|addr| addr.address().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
        };
        let mail = Received {
            envelope_from: self.from.clone(),
            envelope_to: self.to.clone(),
            from: addresses(message.from()).into_iter().next(),
            reply_to: addresses(message.reply_to()).into_iter().next(),
            to: addresses(message.to()),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).map(|text| text.into_owned()),
            html: message.body_html(0).map(|html| html.into_owned()),
            message_id: message.message_id().map(str::to_owned),
        };
        self.mailbox.keep(mail);
        self.data.clear();
        response::OK
    }
}

/// SMTP sessions served at once (each holds a thread while open).
const SESSIONS: u32 = 32;

/// A running sink: the SMTP server in its threads. It runs until the
/// process ends (the SMTP library has no stop), so tests start one per
/// test on a free port.
#[derive(Debug, Clone)]
pub struct MailSink {
    smtp: SocketAddr,
    mailbox: Mailbox,
}

impl MailSink {
    /// Starts the SMTP server on a free local port.
    ///
    /// # Errors
    /// When no port can be bound.
    pub fn start() -> io::Result<MailSink> {
        MailSink::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Starts the SMTP server on `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn start_on(addr: SocketAddr) -> io::Result<MailSink> {
        let listener = TcpListener::bind(addr)?;
        let smtp = listener.local_addr()?;
        let mailbox = Mailbox::default();
        let session = Session {
            mailbox: mailbox.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(session);
        server
            .with_name("mail-sim.localhost")
            // One thread per open connection: room for the idle connections
            // an SMTP client's pool keeps besides those sending.
            .with_num_threads(SESSIONS)
            .with_ssl(SslConfig::None)
            .map_err(|e| io::Error::other(e.to_string()))?
            .with_tcp_listener(listener);
        std::thread::Builder::new()
            .name(format!("mail-sim {smtp}"))
            .spawn(move || {
                if let Err(error) = server.serve() {
                    tracing::error!(%error, "mail-sim stopped");
                }
            })?;
        Ok(MailSink { smtp, mailbox })
    }

    /// The SMTP address.
    pub fn smtp_addr(&self) -> SocketAddr {
        self.smtp
    }

    /// The URL `lettre` connects to: `smtp://127.0.0.1:<port>` (no TLS).
    pub fn smtp_url(&self) -> String {
        format!("smtp://{}", self.smtp)
    }

    /// What it received and how it answers.
    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    /// Every mail received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.mailbox.received()
    }
}

/// The mode asked through `POST /_sim/mode`.
#[derive(Debug, Deserialize)]
struct ModeBody {
    mode: String,
}

/// The HTTP routes showing a mailbox (see the crate's docs).
pub fn router(mailbox: Mailbox) -> Router {
    Router::new()
        .route("/", get(listing))
        .route("/messages", get(messages))
        .route("/_sim/mode", post(set_mode))
        .with_state(mailbox)
}

async fn messages(State(mailbox): State<Mailbox>) -> Json<Vec<Received>> {
    Json(mailbox.received())
}

async fn set_mode(
    State(mailbox): State<Mailbox>,
    Json(body): Json<ModeBody>,
) -> Result<&'static str, (axum::http::StatusCode, &'static str)> {
    match body.mode.as_str() {
        "fail" => mailbox.set_failing(true),
        "reject" => mailbox.set_rejecting(true),
        "normal" => {
            mailbox.set_failing(false);
            mailbox.set_rejecting(false);
        }
        _ => {
            return Err((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "mode attendu : \"fail\", \"reject\" ou \"normal\"",
            ));
        }
    }
    Ok("ok")
}

async fn listing(State(mailbox): State<Mailbox>) -> String {
    let mails = mailbox.received();
    if mails.is_empty() {
        return "Aucun mail reçu pour l'instant.\n".to_owned();
    }
    let mut out = format!(
        "{} mail(s) reçu(s), du plus ancien au plus récent.\n",
        mails.len()
    );
    for (n, mail) in mails.iter().enumerate() {
        out.push_str(&format!(
            "\n──── n° {} ────\nDe : {}\nÀ : {}\nObjet : {}\n\n{}\n",
            n + 1,
            mail.from.as_deref().unwrap_or(&mail.envelope_from),
            mail.envelope_to.join(", "),
            mail.subject,
            mail.text
                .as_deref()
                .unwrap_or("(pas de partie texte)")
                .trim_end(),
        ));
    }
    out
}

/// Starts the SMTP sink on `smtp` and its HTTP routes on `listen`.
///
/// # Errors
/// When either address cannot be bound.
pub async fn spawn(
    smtp: SocketAddr,
    listen: SocketAddr,
) -> io::Result<(MailSink, vendor_sim::Server)> {
    let sink = MailSink::start_on(smtp)?;
    let http = vendor_sim::Server::start(
        listen,
        router(sink.mailbox().clone()),
        vendor_sim::ModeSwitch::default(),
    )
    .await?;
    Ok((sink, http))
}
