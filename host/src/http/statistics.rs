//! `/api/statistics`: the figures that judge the 27-day promise, for the
//! agents holding the `statistics` right (*Qualité*, *Administrateur*):
//!
//! - `GET /api/statistics?demarche=&service=&from=&to=&untaken_days=` — the
//!   figures as JSON ([`Statistics`]);
//! - `GET /api/statistics.csv` (same parameters) — the same figures as a
//!   CSV file for a spreadsheet;
//! - `GET /api/statistics/late` and `GET /api/statistics/untaken` — the
//!   demandes late now, or never taken for `days` days, as lines of the
//!   processing table.
//!
//! The use cases are [`crate::service::statistics`]'s; a caller without the
//! right on the démarche asked for (or on any) gets 403 `forbidden`.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Deserialize;

use super::agent::{Table, service_filter, table_view};
use super::auth::AgentUser;
use super::extract::ApiQuery;
use super::routes::{Access, ApiRouter, Body, Doc};
use super::{ApiError, AppState};
use crate::service::statistics::{
    self, OverdueKind, OverdueRequest, Statistics, StatisticsRequest, UNTAKEN_DAYS,
};

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .get(
            "/api/statistics",
            figures,
            Doc::new(
                "Statistiques d'une démarche (ou de toutes), d'un service, sur une période : demandes reçues, clôtures, délais de traitement, part traitée dans le délai, retards",
                Access::Agent("statistics"),
            )
            .query::<StatisticsFilters>()
            .gives::<Statistics>(),
        )
        .get(
            "/api/statistics.csv",
            figures_csv,
            Doc::new(
                "Les mêmes statistiques en CSV (tableur)",
                Access::Agent("statistics"),
            )
            .query::<StatisticsFilters>()
            .answers(Body::Csv),
        )
        .get(
            "/api/statistics/late",
            late,
            Doc::new(
                "Les demandes en retard aujourd'hui (échéance de traitement dépassée), la plus ancienne échéance d'abord",
                Access::Agent("statistics"),
            )
            .query::<OverdueFilters>()
            .gives::<Table>(),
        )
        .get(
            "/api/statistics/untaken",
            untaken,
            Doc::new(
                "Les demandes jamais prises en compte, déposées depuis au moins `days` jours (7 par défaut), la plus ancienne d'abord",
                Access::Agent("statistics"),
            )
            .query::<UntakenFilters>()
            .gives::<Table>(),
        )
}

/// What the statistics count.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct StatisticsFilters {
    /// One démarche (its slug); every démarche I may judge when absent.
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub demarche: Option<String>,
    /// Only the demandes this service is in charge of (a group's name of
    /// any role of the service); empty for every service.
    #[schemars(schema_with = "service_filter")]
    pub service: Option<String>,
    /// First day of the period (`YYYY-MM-DD`, local date, included); the
    /// first day of the month of `to` when absent.
    pub from: Option<NaiveDate>,
    /// Last day of the period (`YYYY-MM-DD`, local date, included); today
    /// when absent.
    pub to: Option<NaiveDate>,
    /// Days after filing from which a demande never taken is counted: 7
    /// when absent; over 3650 counts as 3650.
    #[schemars(extend("maximum" = u32::MAX))]
    pub untaken_days: Option<u32>,
}

impl From<StatisticsFilters> for StatisticsRequest {
    fn from(filters: StatisticsFilters) -> Self {
        StatisticsRequest {
            demarche: filters.demarche,
            service: filters.service,
            from: filters.from,
            to: filters.to,
            untaken_days: filters.untaken_days,
        }
    }
}

/// Which late demandes to list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct OverdueFilters {
    /// One démarche (its slug); every démarche I may judge when absent.
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub demarche: Option<String>,
    /// Only the demandes this service is in charge of; empty for every
    /// service.
    #[schemars(schema_with = "service_filter")]
    pub service: Option<String>,
    /// Rows to skip.
    #[schemars(extend("maximum" = u32::MAX))]
    pub offset: Option<u32>,
    /// Rows to return: 50 when absent; under 1 counts as 1, over 200 as 200.
    #[schemars(extend("maximum" = u32::MAX))]
    pub limit: Option<u32>,
}

/// Which demandes never taken to list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UntakenFilters {
    /// One démarche (its slug); every démarche I may judge when absent.
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub demarche: Option<String>,
    /// Only the demandes this service is in charge of; empty for every
    /// service.
    #[schemars(schema_with = "service_filter")]
    pub service: Option<String>,
    /// Filed at least this many days ago: 7 when absent; over 3650 counts
    /// as 3650.
    #[schemars(extend("maximum" = u32::MAX))]
    pub days: Option<u32>,
    /// Rows to skip.
    #[schemars(extend("maximum" = u32::MAX))]
    pub offset: Option<u32>,
    /// Rows to return: 50 when absent; under 1 counts as 1, over 200 as 200.
    #[schemars(extend("maximum" = u32::MAX))]
    pub limit: Option<u32>,
}

async fn figures(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiQuery(filters): ApiQuery<StatisticsFilters>,
) -> Result<Json<Statistics>, ApiError> {
    let stats = statistics::statistics(&state.guichet(), &agent, filters.into()).await?;
    Ok(Json(stats))
}

async fn figures_csv(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiQuery(filters): ApiQuery<StatisticsFilters>,
) -> Result<Response, ApiError> {
    let stats = statistics::statistics(&state.guichet(), &agent, filters.into()).await?;
    let name = format!(
        "statistiques-{}-{}.csv",
        stats.scope.from.format("%Y-%m-%d"),
        stats.scope.to.format("%Y-%m-%d")
    );
    let body = statistics::export::csv(&stats).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                super::download::content_disposition(&name),
            ),
        ],
        body,
    )
        .into_response())
}

async fn late(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiQuery(filters): ApiQuery<OverdueFilters>,
) -> Result<Json<Table>, ApiError> {
    let request = OverdueRequest {
        demarche: filters.demarche,
        service: filters.service,
        offset: filters.offset.unwrap_or(0),
        limit: filters.limit,
    };
    let page = statistics::overdue(&state.guichet(), &agent, OverdueKind::Late, request).await?;
    Ok(Json(table_view(page)))
}

async fn untaken(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiQuery(filters): ApiQuery<UntakenFilters>,
) -> Result<Json<Table>, ApiError> {
    let request = OverdueRequest {
        demarche: filters.demarche,
        service: filters.service,
        offset: filters.offset.unwrap_or(0),
        limit: filters.limit,
    };
    let kind = OverdueKind::Untaken(filters.days.unwrap_or(UNTAKEN_DAYS));
    let page = statistics::overdue(&state.guichet(), &agent, kind, request).await?;
    Ok(Json(table_view(page)))
}
