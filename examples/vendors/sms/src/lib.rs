//! # sms-sim — a simulated SMS provider
//!
//! Collectivités send SMS through commercial providers with small REST
//! APIs. This crate answers like one, so that Guichet's SMS gateway
//! connector (`plugins/sms`) and the platform's tests talk real HTTP to
//! something that behaves like a provider — including when it fails, is
//! slow or is down — and can read back every message it received.
//!
//! - `GET /api/status` → `{"status":"ok","version":"1.0-sim"}`;
//! - `POST /api/messages` `{"to":"+33612345678","from":"MAIRIE","text":"…"}`
//!   with an optional `Idempotency-Key` → 201
//!   `{"id":"MSG-2026-000001","to":…,"status":"accepted"}`; the same key and
//!   body again → 200 with the same message, nothing sent twice; the same
//!   key with another body → 409; rules in [`message`];
//! - both need `Authorization: Bearer <key>` (else 401);
//! - `GET /_sim/messages` (no key): every message received, oldest first;
//!   `/_sim/mode` switches failures as for every simulator (`vendor-sim`).
//!
//! Errors are `{"error": {"code", "message"}}`. Start with [`spawn`] (tests)
//! or the `sms-sim` binary (demo).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sms = sms_sim::spawn(([127, 0, 0, 1], 0).into()).await?;
//! sms.set_mode(sms_sim::Mode::Down);
//! assert!(sms.messages().is_empty());
//! # Ok(()) }
//! ```

pub mod error;
pub mod message;
mod routes;
pub mod state;

use std::{io, net::SocketAddr};

pub use vendor_sim::Mode;
use vendor_sim::Server;

pub use crate::{error::ApiError, message::Message, state::State};

/// The API key the binary and [`State::default`] accept.
pub const DEFAULT_API_KEY: &str = "demo-sms-key";

/// Where the binary listens by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8093";

/// The whole simulator: the gated, key-protected `/api` routes and the
/// `/_sim` routes.
pub fn router(state: State) -> axum::Router {
    routes::router(state)
}

/// Serves a fresh provider accepting [`DEFAULT_API_KEY`] on `addr` (port 0
/// picks a free port).
///
/// # Errors
/// When the address cannot be bound.
pub async fn spawn(addr: SocketAddr) -> io::Result<Handle> {
    spawn_with(addr, State::default()).await
}

/// Serves `state` on `addr`.
///
/// # Errors
/// When the address cannot be bound.
pub async fn spawn_with(addr: SocketAddr, state: State) -> io::Result<Handle> {
    let server = Server::start(addr, router(state.clone()), state.mode_switch().clone()).await?;
    Ok(Handle { server, state })
}

/// A running provider: its address, its failure switch and the messages it
/// received. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct Handle {
    server: Server,
    state: State,
}

impl Handle {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The base URL, such as `http://127.0.0.1:8093`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Switches the mode; the only way back from [`Mode::Down`].
    pub fn set_mode(&self, mode: Mode) {
        self.server.set_mode(mode);
    }

    /// Every message received, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.state.messages()
    }
}
