//! The HTTP API (axum, JSON). One router file per resource, each exposing
//! `router()`; [`router`] assembles them over the shared [`AppState`], and
//! tests call it directly. Errors are [`ApiError`]: a stable snake_case code,
//! an HTTP status and a French message.
//!
//! Authentication, for now: machine clients send `Authorization: Bearer
//! <admin token>`; nothing is served anonymously but the health check.

pub mod connectors;
mod error;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;

use crate::connectors::Registry;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Installed connectors and their instances.
    pub registry: Arc<Registry>,
    /// The journal of connector calls.
    pub journal: Arc<crate::connectors::journal::MemoryJournal>,
    /// Bearer token of the platform administrator (hashed comparison is not
    /// needed for a single static token; it is compared in constant time).
    pub admin_token: Arc<str>,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .nest("/api/connectors", connectors::router())
        .fallback(|| async { ApiError::not_found("cette adresse n'existe pas") })
        .with_state(state)
}

/// An authenticated platform administrator.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "jeton d'accès manquant (en-tête Authorization: Bearer …)",
                )
            })?;
        if constant_time_eq(token.as_bytes(), state.admin_token.as_bytes()) {
            Ok(Admin)
        } else {
            Err(ApiError::unauthenticated("jeton d'accès invalide"))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
