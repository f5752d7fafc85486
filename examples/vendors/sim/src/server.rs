//! A simulator served in a tokio task, as tests and the binaries start it.

use std::{io, net::SocketAddr};

use axum::Router;
use tokio::task::JoinHandle;

use crate::{
    listener::SwitchedListener,
    mode::{Mode, ModeSwitch},
};

/// A running simulator. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    switch: ModeSwitch,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and serves `router` in a
    /// tokio task, with `switch` deciding whether connections are dropped.
    ///
    /// `switch` must be the one the router's gated routes read, so that
    /// [`Server::set_mode`] drives both.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(addr: SocketAddr, router: Router, switch: ModeSwitch) -> io::Result<Self> {
        let listener = SwitchedListener::bind(addr, switch.clone()).await?;
        let addr = listener.bound_addr()?;
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "simulated server stopped");
            }
        });
        Ok(Self { addr, switch, task })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, such as `http://127.0.0.1:8091`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.switch.get()
    }

    /// Switches the mode. This is the way back from [`Mode::Down`], where
    /// the HTTP control routes are unreachable too.
    pub fn set_mode(&self, mode: Mode) {
        self.switch.set(mode);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
