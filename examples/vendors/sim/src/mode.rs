//! The failure switch: a simulator answers normally, fails, is slow, or is
//! down, so tests can prove the platform's retries and isolation.
//!
//! [`gate`] applies `Fail` and `Slow` to a router's routes;
//! [`crate::SwitchedListener`] applies `Down` to the TCP connections.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};

use crate::error::{Error, ErrorShape};

/// How a simulator behaves right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every route answers as the vendor would.
    #[default]
    Normal,
    /// Every gated route answers 500 with the vendor's JSON error body.
    Fail,
    /// Every gated route waits this long before answering.
    Slow(Duration),
    /// Connections are closed without an HTTP response, as if the host
    /// were unreachable.
    Down,
}

/// The shared, cloneable switch holding the current [`Mode`].
#[derive(Debug, Clone, Default)]
pub struct ModeSwitch(Arc<Mutex<Mode>>);

impl ModeSwitch {
    /// A switch in [`Mode::Normal`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The current mode.
    pub fn get(&self) -> Mode {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether connections must be dropped.
    pub fn is_down(&self) -> bool {
        self.get() == Mode::Down
    }

    /// Switches to `mode`.
    pub fn set(&self, mode: Mode) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = mode;
        tracing::info!(?mode, "simulator mode changed");
    }
}

/// Wraps every route of `router` so that it fails in [`Mode::Fail`] (with
/// shape `S`) and waits in [`Mode::Slow`].
pub fn gate<S, St>(router: Router<St>, switch: ModeSwitch) -> Router<St>
where
    S: ErrorShape,
    St: Clone + Send + Sync + 'static,
{
    router.layer(middleware::from_fn_with_state(switch, apply_mode::<S>))
}

async fn apply_mode<S: ErrorShape>(
    State(switch): State<ModeSwitch>,
    request: Request,
    next: Next,
) -> Response {
    match switch.get() {
        Mode::Fail => Error::<S>::internal("Erreur interne simulée (mode panne)").into_response(),
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Mode::Normal | Mode::Down => next.run(request).await,
    }
}
