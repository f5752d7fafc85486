//! # espace-famille-sim — a simulated Espace famille server
//!
//! Espace famille is the proprietary family portal French collectivités use
//! for school catering, after-school care and leisure centres. This crate
//! answers like its REST API — link an usager to a family, read the family,
//! its children and invoices, browse the activity catalogue, register a
//! child — so that Guichet's Espace famille connector and the platform's
//! tests talk real HTTP to something that behaves like the vendor,
//! including when it fails, is slow or is down.
//!
//! Start with [`spawn`] (tests) or the `espace-famille-sim` binary (demo).
//! The model lives in [`famille`], [`activite`] and [`inscription`], the
//! in-memory store in [`state`], the routes in `routes`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let portail = espace_famille_sim::spawn(([127, 0, 0, 1], 0).into()).await?;
//! portail.set_mode(espace_famille_sim::Mode::Down);
//! # Ok(()) }
//! ```

pub mod activite;
pub mod error;
pub mod famille;
pub mod inscription;
mod routes;
pub mod search_key;
pub mod state;

use std::{io, net::SocketAddr};

use uuid::Uuid;
pub use vendor_sim::Mode;
use vendor_sim::Server;

pub use crate::{
    error::ApiError,
    famille::Famille,
    inscription::{CodeStatut, Inscription, NewCommentaire},
    state::State,
};

/// The bearer token the binary and [`State::default`] accept.
pub const DEFAULT_TOKEN: &str = "demo-espace-famille-token";

/// Where the binary listens by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8092";

/// The whole simulator: the gated, token-protected `/api` routes and the
/// `/_sim` control routes.
pub fn router(state: State) -> axum::Router {
    routes::router(state)
}

/// Serves a freshly seeded simulator accepting [`DEFAULT_TOKEN`] on `addr`
/// (port 0 picks a free port).
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

/// A running simulator: its address, its failure switch and its records.
/// Dropping it stops accepting connections.
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

    /// The base URL, such as `http://127.0.0.1:8092`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.server.mode()
    }

    /// Switches the mode; the only way back from [`Mode::Down`].
    pub fn set_mode(&self, mode: Mode) {
        self.server.set_mode(mode);
    }

    /// The in-memory state, for anything the shortcuts below do not cover.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// All registrations, oldest first.
    pub fn inscriptions(&self) -> Vec<Inscription> {
        self.state.inscriptions()
    }

    /// One registration.
    pub fn inscription(&self, id: Uuid) -> Option<Inscription> {
        self.state.inscription(id)
    }

    /// Moves a registration to `code`, as a family-service agent would,
    /// optionally with a comment.
    ///
    /// # Errors
    /// 404 when the registration is unknown.
    pub fn set_statut(
        &self,
        id: Uuid,
        code: CodeStatut,
        commentaire: Option<NewCommentaire>,
    ) -> Result<Inscription, ApiError> {
        self.state.set_statut(id, code, commentaire)
    }

    /// Adds an agent's comment without changing the status.
    ///
    /// # Errors
    /// 404 when the registration is unknown.
    pub fn add_commentaire(
        &self,
        id: Uuid,
        commentaire: NewCommentaire,
    ) -> Result<Inscription, ApiError> {
        self.state.add_commentaire(id, commentaire)
    }

    /// Adds a family beyond the seeded ones (for instance a second household
    /// of a child in shared custody).
    ///
    /// # Errors
    /// 409 when the family id is taken.
    pub fn add_famille(&self, famille: Famille) -> Result<(), ApiError> {
        self.state.add_famille(famille)
    }
}
