//! The `/_sim/` routes every simulator offers, without credential:
//!
//! - `GET /_sim/mode` and `POST /_sim/mode` `{"mode":"normal"|"fail"|"slow"|"down","delay_ms":N}`;
//! - `GET /_sim/redirect?to=<url>`: 302 to `to`, for tests of redirect refusal;
//! - `GET /_sim/big?bytes=N`: N bytes of `a`, for tests of response size caps.
//!
//! Once down, these routes are unreachable too: use `Server::set_mode`.

use std::{collections::HashMap, time::Duration};

use axum::{
    Json, Router,
    extract::{Query, State, rejection::JsonRejection, rejection::QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, ErrorShape},
    mode::{Mode, ModeSwitch},
};

/// Largest body `/_sim/big` produces (64 MiB).
pub const MAX_BIG_BYTES: usize = 64 * 1024 * 1024;

/// The control routes, sharing `switch` with the gated API.
pub fn router<S, St>(switch: ModeSwitch) -> Router<St>
where
    S: ErrorShape,
    St: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/_sim/mode", get(current_mode).post(change_mode::<S>))
        .route("/_sim/redirect", get(redirect::<S>))
        .route("/_sim/big", get(big::<S>))
        .with_state(switch)
}

/// The fallback of every simulator: an unknown route is a 404 in the
/// vendor's shape.
pub async fn unknown_route<S: ErrorShape>() -> Error<S> {
    Error::not_found("route_inconnue", "Ressource introuvable")
}

/// The mode as the control route reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeName {
    /// [`Mode::Normal`].
    Normal,
    /// [`Mode::Fail`].
    Fail,
    /// [`Mode::Slow`], with `delay_ms`.
    Slow,
    /// [`Mode::Down`].
    Down,
}

/// Body of `POST /_sim/mode` and answer of both mode routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeBody {
    /// The mode.
    pub mode: ModeName,
    /// The delay in milliseconds, required for `slow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

impl From<Mode> for ModeBody {
    fn from(mode: Mode) -> Self {
        let (mode, delay_ms) = match mode {
            Mode::Normal => (ModeName::Normal, None),
            Mode::Fail => (ModeName::Fail, None),
            Mode::Slow(delay) => (
                ModeName::Slow,
                Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
            ),
            Mode::Down => (ModeName::Down, None),
        };
        Self { mode, delay_ms }
    }
}

async fn current_mode(State(switch): State<ModeSwitch>) -> Json<ModeBody> {
    Json(switch.get().into())
}

async fn change_mode<S: ErrorShape>(
    State(switch): State<ModeSwitch>,
    body: Result<Json<ModeBody>, JsonRejection>,
) -> Result<Json<ModeBody>, Error<S>> {
    let Json(body) = body?;
    let mode = match (body.mode, body.delay_ms) {
        (ModeName::Normal, _) => Mode::Normal,
        (ModeName::Fail, _) => Mode::Fail,
        (ModeName::Down, _) => Mode::Down,
        (ModeName::Slow, Some(delay_ms)) => Mode::Slow(Duration::from_millis(delay_ms)),
        (ModeName::Slow, None) => {
            return Err(Error::bad_request(
                "delai_manquant",
                "delay_ms est obligatoire pour le mode slow",
            ));
        }
    };
    switch.set(mode);
    Ok(Json(mode.into()))
}

async fn redirect<S: ErrorShape>(
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, Error<S>> {
    let Query(query) = query?;
    let target = query
        .get("to")
        .and_then(|to| HeaderValue::try_from(to.as_str()).ok())
        .ok_or_else(|| {
            Error::bad_request("cible_manquante", "Paramètre « to » manquant ou invalide")
        })?;
    Ok((StatusCode::FOUND, [(header::LOCATION, target)]).into_response())
}

async fn big<S: ErrorShape>(
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, Error<S>> {
    let Query(query) = query?;
    let bytes = query
        .get("bytes")
        .and_then(|bytes| bytes.parse::<usize>().ok())
        .filter(|bytes| *bytes <= MAX_BIG_BYTES)
        .ok_or_else(|| {
            Error::bad_request(
                "taille_invalide",
                format!("Paramètre « bytes » manquant ou invalide (0 à {MAX_BIG_BYTES})"),
            )
        })?;
    let body = vec![b'a'; bytes];
    Ok(([(header::CONTENT_TYPE, "text/plain")], body).into_response())
}
