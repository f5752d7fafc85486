//! `POST /api/inscriptions` and `GET /api/inscriptions/{id}`.

use axum::{
    Json, Router,
    extract::{
        self, Path,
        rejection::{JsonRejection, PathRejection},
    },
    http::HeaderMap,
    routing::{get, post},
};
use serde::Serialize;
use uuid::Uuid;
use vendor_sim::{Claim, Outcome};

use super::inscription_id;
use crate::{
    error::ApiError,
    inscription::{Inscription, NewInscription, Statut},
    state::{State, unknown_inscription},
};

pub(super) fn router() -> Router<State> {
    Router::new()
        .route("/api/inscriptions", post(inscrire))
        .route("/api/inscriptions/{id}", get(inscription))
}

/// What the creation answers: the id, the number and the status.
#[derive(Debug, Serialize)]
struct Accuse {
    id: Uuid,
    numero: String,
    statut: Statut,
}

impl From<Inscription> for Accuse {
    fn from(inscription: Inscription) -> Self {
        Self {
            id: inscription.id,
            numero: inscription.numero,
            statut: inscription.statut,
        }
    }
}

async fn inscrire(
    extract::State(state): extract::State<State>,
    headers: HeaderMap,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Outcome<Accuse>, ApiError> {
    let Json(body) = body?;
    let claim = Claim::from_headers(&headers, body.clone())?;
    let demande: NewInscription =
        serde_json::from_value(body).map_err(|error| ApiError::invalid_body(&error))?;
    let outcome = state.inscrire(demande, claim)?;
    if let Outcome::Created(inscription) = &outcome {
        tracing::info!(id = %inscription.id, numero = %inscription.numero, "registration filed");
    }
    Ok(outcome.map(Accuse::from))
}

async fn inscription(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Inscription>, ApiError> {
    let Path(raw) = path?;
    let id = inscription_id(&raw)?;
    state
        .inscription(id)
        .map(Json)
        .ok_or_else(|| unknown_inscription(id))
}
