//! `GET /api/Test`, `GET /api/Thematics` and `GET /api/ThirdParties?type=1|2`.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{self, Query, rejection::QueryRejection},
    routing::get,
};

use crate::{
    error::ApiError,
    referential::{Thematic, ThirdParty, ThirdPartyKind},
    state::State,
};

pub(super) fn router() -> Router<State> {
    Router::new()
        .route("/api/Test", get(test))
        .route("/api/Thematics", get(thematics))
        .route("/api/ThirdParties", get(third_parties))
}

async fn test() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "Status": "OK", "Version": "6.0-sim" }))
}

async fn thematics(extract::State(state): extract::State<State>) -> Json<Vec<Thematic>> {
    Json(state.referential().thematics)
}

/// ATAL (.NET) reads query parameter names case-insensitively.
async fn third_parties(
    extract::State(state): extract::State<State>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<ThirdParty>>, ApiError> {
    let Query(query) = query?;
    let kind = query
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("type"))
        .and_then(|(_, value)| ThirdPartyKind::from_code(value))
        .ok_or_else(|| {
            ApiError::bad_request(
                "type_invalide",
                "Le paramètre type est obligatoire : 1 (services destinataires) ou 2 (services demandeurs)",
            )
        })?;
    Ok(Json(state.referential().third_parties_of(kind)))
}
