//! ATAL's own `/_sim` routes, standing in for its agents:
//! `GET /_sim/WorksRequests` lists every record with attachments and
//! responses; `POST /_sim/WorksRequests/{id}/state`
//! `{"Code":"IN_PROGRESS","Response":{"Author":"…","Text":"…"}}` moves one.

use axum::{
    Json, Router,
    extract::{
        self, Path,
        rejection::{JsonRejection, PathRejection},
    },
    routing::{get, post},
};
use serde::Deserialize;

use super::existing_works_request;
use crate::{
    error::ApiError,
    state::State,
    works_request::{NewResponse, StateCode},
};

pub(super) fn router() -> Router<State> {
    Router::new()
        .route("/_sim/WorksRequests", get(list))
        .route("/_sim/WorksRequests/{id}/state", post(change_state))
}

/// Body of `POST /_sim/WorksRequests/{id}/state`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StateChange {
    code: StateCode,
    #[serde(default)]
    response: Option<NewResponse>,
}

async fn list(extract::State(state): extract::State<State>) -> Json<Vec<serde_json::Value>> {
    Json(
        state
            .works_requests()
            .iter()
            .map(|request| request.to_json(true))
            .collect(),
    )
}

async fn change_state(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<StateChange>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(raw) = path?;
    let id = existing_works_request(&state, &raw)?;
    let Json(change) = body?;
    let request = state.set_request_state(id, change.code, change.response)?;
    Ok(Json(request.to_json(true)))
}
