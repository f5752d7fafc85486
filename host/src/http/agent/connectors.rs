//! What agents see of a demande's exchanges with vendors' applications:
//! its transmissions (in the demande's view) and the journal of its
//! connector calls (`GET /api/agent/demandes/{id}/connector-calls`).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use guichet_core::calendar::Zone;
use guichet_core::role::Right;
use guichet_store::job::JobStatus;
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use super::load;
use crate::http::auth::AgentUser;
use crate::http::extract::ApiPath;
use crate::http::{ApiError, AppState};
use crate::service::back_office;
use crate::service::transmission::TransmissionState;

/// A transmission of the demande to a vendor's application.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TransmissionView {
    /// The connector instance (`atal-ville`).
    pub instance: String,
    /// The status whose entering caused it.
    pub status: String,
    /// `en_attente`, `transmise`, `echec` (for good: an administrator may
    /// retry or abandon it) or `abandonnee` (an administrator gave it up).
    pub state: String,
    /// Where it stands, in French, dates in the collectivité's time zone.
    pub label: String,
    /// The vendor's id of its record, once transmitted.
    pub remote_id: Option<String>,
    /// The vendor's number shown to people, if it has one.
    pub display_id: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// The next attempt, while it waits.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The record's status at the vendor, as last read (`code`, `label`,
    /// `is_final`, the vendor agents' `comments`), when the démarche reads
    /// it back.
    pub remote_status: Option<serde_json::Value>,
    /// The vendor's card of the record (`title`, `sections` of `entries`,
    /// `link`), as last read.
    pub card: Option<serde_json::Value>,
}

pub(crate) fn transmission_view(state: TransmissionState, zone: Zone) -> TransmissionView {
    let instance = state.instance;
    let number = state.remote.as_ref().map(|link| {
        link.display_id
            .clone()
            .unwrap_or_else(|| link.remote_id.clone())
    });
    let error = state.last_error.clone().unwrap_or_default();
    let (key, label) = match state.state {
        JobStatus::Done => (
            "transmise",
            match &number {
                Some(number) => format!("Transmise à {instance} sous le n° {number}"),
                None => format!("Transmise à {instance}"),
            },
        ),
        JobStatus::Failed => ("echec", format!("Échec définitif : {error}")),
        JobStatus::Abandoned => (
            "abandonnee",
            match state.abandoned_at {
                Some(at) => format!(
                    "Transmission à {instance} abandonnée par un administrateur le {}",
                    zone.local(at).format("%d/%m/%Y à %H:%M")
                ),
                None => format!("Transmission à {instance} abandonnée par un administrateur"),
            },
        ),
        JobStatus::Pending | JobStatus::Running => match state.next_attempt_at {
            Some(at) if state.attempts > 0 => (
                "en_attente",
                format!(
                    "Échec : {error} — nouvelle tentative le {}",
                    zone.local(at).format("%d/%m/%Y à %H:%M")
                ),
            ),
            _ => (
                "en_attente",
                format!("En attente de transmission à {instance}"),
            ),
        },
    };
    TransmissionView {
        status: state.status.to_string(),
        state: key.to_owned(),
        label,
        remote_id: state.remote.as_ref().map(|l| l.remote_id.clone()),
        display_id: state.remote.as_ref().and_then(|l| l.display_id.clone()),
        remote_status: state.remote.as_ref().and_then(|l| l.remote_status.clone()),
        card: state.remote.and_then(|l| l.card),
        attempts: state.attempts,
        next_attempt_at: state.next_attempt_at,
        last_error: state.last_error,
        instance,
    }
}

/// A connector call made for the demande.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectorCallView {
    /// When the call started.
    pub at: DateTime<Utc>,
    /// The connector instance (`atal-ville`).
    pub instance: String,
    /// The connector and its version (`atal 1.0.0`).
    pub connector: String,
    /// The operation (`transmit`).
    pub operation: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// How it ended (`ok`, `connector_error`, `trap`, `timeout`…).
    pub outcome: String,
    /// The error, if any (secrets masked).
    pub error: Option<String>,
    /// The structured logs the connector wrote.
    pub logs: serde_json::Value,
    /// Its HTTP exchanges with the vendor (method, masked URL, status,
    /// duration).
    pub exchanges: serde_json::Value,
}

pub(super) async fn calls(
    State(state): State<AppState>,
    agent: AgentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ConnectorCallView>>, ApiError> {
    let (loaded, _) = load(&state, &agent, id, Right::Read).await?;
    let calls = back_office::connector_calls(&state.guichet(), &loaded).await?;
    Ok(Json(
        calls
            .into_iter()
            .map(|call| ConnectorCallView {
                at: call.at,
                instance: call.instance,
                connector: format!("{} {}", call.connector, call.connector_version),
                operation: call.operation,
                duration_ms: call.duration_ms,
                outcome: call.outcome,
                error: call.error,
                logs: call.logs,
                exchanges: call.exchanges,
            })
            .collect(),
    ))
}
