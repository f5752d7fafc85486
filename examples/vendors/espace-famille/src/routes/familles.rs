//! `POST /api/familles/rattachement`, `GET /api/familles/{id}`,
//! `GET /api/familles/{id}/enfants` and `GET /api/familles/{id}/factures`.

use axum::{
    Json, Router,
    extract::{
        self, Path,
        rejection::{JsonRejection, PathRejection},
    },
    routing::{get, post},
};

use crate::{
    error::ApiError,
    famille::{DemandeRattachement, Enfant, Facture, Famille, FamilleResume, Rattachement},
    state::{State, unknown_famille},
};

pub(super) fn router() -> Router<State> {
    Router::new()
        .route("/api/familles/rattachement", post(rattacher))
        .route("/api/familles/{id}", get(famille))
        .route("/api/familles/{id}/enfants", get(enfants))
        .route("/api/familles/{id}/factures", get(factures))
}

async fn rattacher(
    extract::State(state): extract::State<State>,
    body: Result<Json<DemandeRattachement>, JsonRejection>,
) -> Result<Json<FamilleResume>, ApiError> {
    let Json(demande) = body?;
    let rattachement = Rattachement::try_from(demande)?;
    let famille = state.rattacher(&rattachement)?;
    tracing::info!(famille = %famille.id_famille, "usager linked to a family");
    Ok(Json(famille))
}

fn existing_famille(
    state: &State,
    path: Result<Path<String>, PathRejection>,
) -> Result<Famille, ApiError> {
    let Path(id) = path?;
    state.famille(&id).ok_or_else(|| unknown_famille(&id))
}

async fn famille(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Famille>, ApiError> {
    existing_famille(&state, path).map(Json)
}

async fn enfants(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<Enfant>>, ApiError> {
    existing_famille(&state, path).map(|famille| Json(famille.enfants))
}

async fn factures(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<Facture>>, ApiError> {
    existing_famille(&state, path).map(|famille| Json(famille.factures))
}
