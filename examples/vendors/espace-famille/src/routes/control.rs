//! Espace famille's own `/_sim` routes, standing in for the family
//! service's agents: `GET /_sim/inscriptions` lists every registration;
//! `POST /_sim/inscriptions/{id}/statut`
//! `{"code":"VALIDEE","commentaire":{"auteur":"…","texte":"…"}}` moves one.

use axum::{
    Json, Router,
    extract::{
        self, Path,
        rejection::{JsonRejection, PathRejection},
    },
    routing::{get, post},
};
use serde::Deserialize;

use super::inscription_id;
use crate::{
    error::ApiError,
    inscription::{CodeStatut, Inscription, NewCommentaire},
    state::State,
};

pub(super) fn router() -> Router<State> {
    Router::new()
        .route("/_sim/inscriptions", get(list))
        .route("/_sim/inscriptions/{id}/statut", post(change_statut))
}

/// Body of `POST /_sim/inscriptions/{id}/statut`.
#[derive(Debug, Deserialize)]
struct ChangementStatut {
    code: CodeStatut,
    #[serde(default)]
    commentaire: Option<NewCommentaire>,
}

async fn list(extract::State(state): extract::State<State>) -> Json<Vec<Inscription>> {
    Json(state.inscriptions())
}

async fn change_statut(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<ChangementStatut>, JsonRejection>,
) -> Result<Json<Inscription>, ApiError> {
    let Path(raw) = path?;
    let id = inscription_id(&raw)?;
    let Json(changement) = body?;
    state
        .set_statut(id, changement.code, changement.commentaire)
        .map(Json)
}
