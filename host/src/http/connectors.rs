//! `/api/connectors`: installed connectors, their instances, calls by hand,
//! version activation and rollback, and the call journal. Administrators
//! only: the Administrateur role on every démarche, or a machine token with
//! the `administration` scope (see [`super::auth`]).

use axum::Json;
use axum::extract::State;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::routes::{Access, ApiRouter, Doc};
use super::{Admin, ApiError, AppState};
use crate::connectors::journal::CallRecord;
use crate::connectors::model::{
    Availability, Card, Demande, Description, LookupItem, LookupQuery, Receipt, RemoteStatus,
};
use crate::connectors::registry::InstanceInfo;

/// The routes.
pub fn router() -> ApiRouter {
    let admin = Access::Administrator;
    ApiRouter::new()
        .get(
            "/api/connectors",
            list,
            Doc::new("Connecteurs installés et leurs versions", admin).json(),
        )
        .get(
            "/api/connectors/instances",
            instances,
            Doc::new("Instances configurées et leur version active", admin).json(),
        )
        .post(
            "/api/connectors/instances/{id}/check",
            check,
            Doc::new("Vérifier la disponibilité d'une instance", admin).json(),
        )
        .post(
            "/api/connectors/instances/{id}/lookup",
            lookup,
            Doc::new(
                "Interroger une source de données ({source, q?, id?, params?})",
                admin,
            )
            .takes::<LookupQuery>()
            .json(),
        )
        .post(
            "/api/connectors/instances/{id}/transmit",
            transmit,
            Doc::new(
                "Transmettre une demande à la main ({demande, idempotency_key})",
                admin,
            )
            .takes::<TransmitBody>()
            .json(),
        )
        .get(
            "/api/connectors/instances/{id}/status/{remote_id}",
            status,
            Doc::new("Lire le statut distant d'une demande", admin).json(),
        )
        .get(
            "/api/connectors/instances/{id}/card/{remote_id}",
            card,
            Doc::new("Lire la fiche distante d'une demande", admin).json(),
        )
        .post(
            "/api/connectors/instances/{id}/activate",
            activate,
            Doc::new("Activer une version installée ({version})", admin)
                .takes::<ActivateBody>()
                .json(),
        )
        .post(
            "/api/connectors/instances/{id}/rollback",
            rollback,
            Doc::new("Revenir à la version précédente", admin).json(),
        )
        .get(
            "/api/connectors/journal",
            journal,
            Doc::new("Journal des appels (filtres instance, limit)", admin)
                .query::<JournalQuery>()
                .json(),
        )
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
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Availability>, ApiError> {
    Ok(Json(state.registry.check(&id).await?))
}

async fn lookup(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(query): ApiJson<LookupQuery>,
) -> Result<Json<Vec<LookupItem>>, ApiError> {
    Ok(Json(state.registry.lookup(&id, query).await?))
}

/// A demande to transmit by hand.
#[derive(Deserialize, JsonSchema)]
struct TransmitBody {
    /// The demande, as connectors receive it.
    demande: Demande,
    /// The key that makes a repeated transmission harmless.
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    idempotency_key: String,
}

async fn transmit(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TransmitBody>,
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
    ApiPath((id, remote_id)): ApiPath<(String, String)>,
) -> Result<Json<RemoteStatus>, ApiError> {
    Ok(Json(state.registry.status(&id, &remote_id).await?))
}

async fn card(
    _: Admin,
    State(state): State<AppState>,
    ApiPath((id, remote_id)): ApiPath<(String, String)>,
) -> Result<Json<Card>, ApiError> {
    Ok(Json(state.registry.card(&id, &remote_id).await?))
}

/// The version to activate.
#[derive(Deserialize, JsonSchema)]
struct ActivateBody {
    /// An installed version of the instance's connector.
    version: String,
}

async fn activate(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ActivateBody>,
) -> Result<Json<InstanceInfo>, ApiError> {
    Ok(Json(state.registry.activate(&id, &body.version)?))
}

async fn rollback(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InstanceInfo>, ApiError> {
    Ok(Json(state.registry.rollback(&id)?))
}

/// Filters of the call journal.
#[derive(Deserialize, JsonSchema)]
struct JournalQuery {
    /// Only the calls of this instance.
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    instance: Option<String>,
    /// The newest calls to return: 100 when absent; over 1,000 counts as
    /// 1,000.
    #[schemars(extend("maximum" = u32::MAX))]
    limit: Option<u32>,
}

async fn journal(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JournalQuery>,
) -> Json<Vec<CallRecord>> {
    let limit = query.limit.unwrap_or(100).min(1_000) as usize;
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
