//! # atal-sim — a simulated ATAL (v6 REST) server
//!
//! ATAL is the proprietary application French collectivités use to run
//! their technical services. This crate answers like its v6 REST API for
//! works requests (demandes d'intervention), so that Guichet's ATAL
//! connector and the platform's tests talk real HTTP to something that
//! behaves like the vendor — including when it fails, is slow or is down.
//!
//! Start with [`spawn`] (tests) or the `atal-sim` binary (demo). The routes
//! live in `routes`, the works-request model and its validation in
//! [`works_request`], the seeded thematics and third parties in
//! [`referential`], the in-memory store in [`state`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let atal = atal_sim::spawn(([127, 0, 0, 1], 0).into()).await?;
//! atal.set_mode(atal_sim::Mode::Fail);
//! # Ok(()) }
//! ```

pub mod error;
pub mod referential;
mod routes;
pub mod state;
pub mod works_request;

use std::{io, net::SocketAddr};

use uuid::Uuid;
pub use vendor_sim::Mode;
use vendor_sim::Server;

pub use crate::{
    error::ApiError,
    state::State,
    works_request::{NewResponse, StateCode, WorksRequest},
};

/// The API key the binary and [`State::default`] accept.
pub const DEFAULT_API_KEY: &str = "demo-atal-key";

/// Where the binary listens by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8091";

/// The whole simulator: the gated, key-protected `/api` routes and the
/// `/_sim` control routes.
pub fn router(state: State) -> axum::Router {
    routes::router(state)
}

/// Serves a freshly seeded simulator accepting [`DEFAULT_API_KEY`] on `addr`
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

    /// The base URL, such as `http://127.0.0.1:8091`.
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

    /// All works requests, oldest first.
    pub fn works_requests(&self) -> Vec<WorksRequest> {
        self.state.works_requests()
    }

    /// One works request.
    pub fn works_request(&self, id: Uuid) -> Option<WorksRequest> {
        self.state.works_request(id)
    }

    /// Moves a works request to `code`, as an ATAL agent would, optionally
    /// with a response to the requester.
    ///
    /// # Errors
    /// 404 when the request is unknown.
    pub fn set_request_state(
        &self,
        id: Uuid,
        code: StateCode,
        response: Option<NewResponse>,
    ) -> Result<WorksRequest, ApiError> {
        self.state.set_request_state(id, code, response)
    }

    /// Adds an agent's response to a works request without changing its state.
    ///
    /// # Errors
    /// 404 when the request is unknown.
    pub fn add_response(&self, id: Uuid, response: NewResponse) -> Result<WorksRequest, ApiError> {
        self.state.add_response(id, response)
    }
}
