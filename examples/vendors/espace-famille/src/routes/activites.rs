//! `GET /api/activites?q=…&categorie=…` and `GET /api/activites/{id}`.

use axum::{
    Json, Router,
    extract::{
        self, Path, Query,
        rejection::{PathRejection, QueryRejection},
    },
    routing::get,
};

use crate::{
    activite::{Activite, Filtre},
    error::ApiError,
    state::State,
};

pub(super) fn router() -> Router<State> {
    Router::new()
        .route("/api/activites", get(catalogue))
        .route("/api/activites/{id}", get(activite))
}

async fn catalogue(
    extract::State(state): extract::State<State>,
    filtre: Result<Query<Filtre>, QueryRejection>,
) -> Result<Json<Vec<Activite>>, ApiError> {
    let Query(filtre) = filtre?;
    Ok(Json(state.activites(&filtre)))
}

async fn activite(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Activite>, ApiError> {
    let Path(id) = path?;
    state.activite(&id).map(Json).ok_or_else(|| {
        ApiError::not_found("activite_introuvable", format!("Activité {id} introuvable"))
    })
}
