//! `/api/connectors`: installed connectors, their instances, calls by hand,
//! version activation and rollback, and the call journal. Administrators only.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{Admin, ApiError, AppState};
use crate::connectors::journal::CallRecord;
use crate::connectors::model::{
    Availability, Card, Demande, Description, LookupItem, LookupQuery, Receipt, RemoteStatus,
};
use crate::connectors::registry::InstanceInfo;

/// The routes, to nest under `/api/connectors`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/instances", get(instances))
        .route("/instances/{id}/check", post(check))
        .route("/instances/{id}/lookup", post(lookup))
        .route("/instances/{id}/transmit", post(transmit))
        .route("/instances/{id}/status/{remote_id}", get(status))
        .route("/instances/{id}/card/{remote_id}", get(card))
        .route("/instances/{id}/activate", post(activate))
        .route("/instances/{id}/rollback", post(rollback))
        .route("/journal", get(journal))
}

/// An installed connector and its versions.
#[derive(Serialize)]
struct Installed {
    name: String,
    versions: Vec<InstalledVersion>,
}

#[derive(Serialize)]
struct InstalledVersion {
    description: Description,
    sha256: String,
    size: usize,
}

async fn list(_: Admin, State(state): State<AppState>) -> Json<Vec<Installed>> {
    let registry = &state.registry;
    Json(
        registry
            .connectors()
            .into_iter()
            .map(|name| Installed {
                versions: registry
                    .versions(&name)
                    .iter()
                    .map(|v| InstalledVersion {
                        description: v.description().clone(),
                        sha256: v.digest().to_string(),
                        size: v.size(),
                    })
                    .collect(),
                name,
            })
            .collect(),
    )
}

async fn instances(_: Admin, State(state): State<AppState>) -> Json<Vec<InstanceInfo>> {
    Json(state.registry.instances())
}

async fn check(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Availability>, ApiError> {
    Ok(Json(state.registry.check(&id).await?))
}

async fn lookup(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(query): Json<LookupQuery>,
) -> Result<Json<Vec<LookupItem>>, ApiError> {
    Ok(Json(state.registry.lookup(&id, query).await?))
}

#[derive(Deserialize)]
struct TransmitBody {
    demande: Demande,
    idempotency_key: String,
}

async fn transmit(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<TransmitBody>,
) -> Result<Json<Receipt>, ApiError> {
    if body.idempotency_key.trim().is_empty() {
        return Err(ApiError::invalid("la clé d'idempotence est obligatoire"));
    }
    Ok(Json(
        state
            .registry
            .transmit(&id, body.demande, &body.idempotency_key, None)
            .await?,
    ))
}

async fn status(
    _: Admin,
    State(state): State<AppState>,
    Path((id, remote_id)): Path<(String, String)>,
) -> Result<Json<RemoteStatus>, ApiError> {
    Ok(Json(state.registry.status(&id, &remote_id).await?))
}

async fn card(
    _: Admin,
    State(state): State<AppState>,
    Path((id, remote_id)): Path<(String, String)>,
) -> Result<Json<Card>, ApiError> {
    Ok(Json(state.registry.card(&id, &remote_id).await?))
}

#[derive(Deserialize)]
struct ActivateBody {
    version: String,
}

async fn activate(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ActivateBody>,
) -> Result<Json<InstanceInfo>, ApiError> {
    Ok(Json(state.registry.activate(&id, &body.version)?))
}

async fn rollback(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<InstanceInfo>, ApiError> {
    Ok(Json(state.registry.rollback(&id)?))
}

#[derive(Deserialize)]
struct JournalQuery {
    instance: Option<String>,
    limit: Option<usize>,
}

async fn journal(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<JournalQuery>,
) -> Json<Vec<CallRecord>> {
    let limit = query.limit.unwrap_or(100).min(1_000);
    Json(
        state
            .journal
            .records()
            .into_iter()
            .rev()
            .filter(|r| query.instance.as_deref().is_none_or(|i| r.instance == i))
            .take(limit)
            .collect(),
    )
}
