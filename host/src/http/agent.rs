//! `/api/agent`: the back office.
//!
//! - the démarches an agent works on, with their rights on each;
//! - the processing table, filtered by démarche, status, late flag,
//!   reminder flag (past the 15- or 21-day reminder) and service, sorted
//!   by deadline or by reminder, over the démarches the agent may read
//!   only;
//! - the detail of a demande: answers, the agents' history, and the actions
//!   the agent can run now (`Workflow::available`);
//! - every action through one route, `POST …/actions`, with the core's
//!   [`Action`] as JSON (or a multipart form with the action as JSON in the
//!   part `action` and a file in the part `file`, for an exchange with the
//!   usager or a comment with an attachment); the workflow checks the
//!   transition's right, inputs and confirmation;
//! - the *cadre réservé à l'administration* (`PUT …/agent-fields`).
//!
//! Rights are those on the demande ([`guichet_core::role`]: a grant on its
//! démarche, and for most roles membership of one of its services). Reading
//! needs `read`, acting at least `back_office` (the transition says which
//! right it needs); the processing table lists only the demandes the agent
//! may read.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use guichet_core::actor::{Actor, ActorKind};
use guichet_core::demande::{Demande, FiledBy};
use guichet_core::demarche::Definition;
use guichet_core::id::{DemandeId, FileId, StatusId};
use guichet_core::role::{Right, Rights};
use guichet_core::value::Answers;
use guichet_core::workflow::Action;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::AgentUser;
use super::demandes::{ActionView, HistoryItem, StatusView, history_item, send_file};
use super::extract::{ApiJson, ApiPath, ApiQuery, parse_json};
use super::form::{SummaryPageView, summary_view};
use super::routes::{Access, ApiRouter, Body, Doc};
use super::upload::{JsonOrForm, json_or_form};
use super::{ApiError, AppState, FieldCode, FieldProblem};
use crate::service::back_office::{self, TableRequest};
use crate::service::files;
use crate::service::processing::{self, Attachment, Loaded};
use guichet_store::demande::TableSort;

pub(crate) mod connectors;

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .get(
            "/api/agent/demarches",
            demarches,
            Doc::new(
                "Les démarches de mon back office et mes droits sur chacune",
                Access::Agent("back_office"),
            )
            .gives::<Vec<AgentDemarche>>(),
        )
        .get(
            "/api/agent/demandes",
            table,
            Doc::new(
                "Tableau de traitement (filtres : demarche, status, late, reminder, on_hold, service, q, offset, limit ; tri : sort)",
                Access::Agent("read"),
            )
            .query::<TableFilters>()
            .gives::<Table>(),
        )
        .get(
            "/api/agent/demandes/{id}",
            show,
            Doc::new(
                "Détail d'une demande : réponses, historique des agents, actions possibles",
                Access::Agent("read"),
            )
            .gives::<AgentDemande>(),
        )
        .post(
            "/api/agent/demandes/{id}/actions",
            act,
            Doc::new(
                "Exécuter une action du circuit (JSON, ou multipart : action + file)",
                Access::Agent("back_office"),
            )
            .takes::<Action>()
            .gives::<AgentDemande>(),
        )
        .put(
            "/api/agent/demandes/{id}/agent-fields",
            agent_fields,
            Doc::new(
                "Remplir le cadre réservé à l'administration (JSON simple)",
                Access::Agent("process"),
            )
            .takes::<serde_json::Map<String, serde_json::Value>>()
            .gives::<AgentDemande>(),
        )
        .post(
            "/api/agent/demandes/{id}/restore",
            restore,
            Doc::new(
                "Restaurer une demande de la corbeille (administration, confirmation requise, pendant le délai de corbeille)",
                Access::Agent("administration"),
            )
            .takes::<super::demandes::Confirmation>()
            .gives::<AgentDemande>(),
        )
        .get(
            "/api/agent/demandes/{id}/connector-calls",
            connectors::calls,
            Doc::new(
                "Le journal des appels de connecteurs pour cette demande (envois à l'application métier), les plus récents d'abord",
                Access::Agent("read"),
            )
            .gives::<Vec<connectors::ConnectorCallView>>(),
        )
        .get(
            "/api/agent/demandes/{id}/files/{file}",
            download,
            Doc::new("Télécharger une pièce de la demande", Access::Agent("read"))
                .answers(Body::File),
        )
}

/// A démarche of the back office.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentDemarche {
    /// Slug.
    pub slug: String,
    /// Current version.
    pub version: u32,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// My rights on it.
    pub rights: Rights,
}

async fn demarches(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
) -> Result<Json<Vec<AgentDemarche>>, ApiError> {
    let entries = back_office::demarches(&state.guichet(), &agent).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|(entry, rights)| AgentDemarche {
                slug: entry.slug.to_string(),
                version: entry.version,
                title: entry.title,
                category: entry.category,
                rights,
            })
            .collect(),
    ))
}

/// Filters of the processing table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct TableFilters {
    /// One démarche (its slug).
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub demarche: Option<String>,
    /// Statuses, separated by commas.
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub status: Option<String>,
    /// Only late (`true`) or not late (`false`) demandes.
    pub late: Option<bool>,
    /// Only demandes in progress past their agent reminder of at least this
    /// many days (`15`: the 15- or 21-day reminder was sent; `21`: the
    /// 21-day one); `0`: only those without the flag.
    #[schemars(extend("maximum" = u32::MAX))]
    pub reminder: Option<u32>,
    /// Only demandes on hold (`true`) or not on hold (`false`).
    pub on_hold: Option<bool>,
    /// A search: a number, or words of the usager's account name (case
    /// ignored, every word must match).
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub q: Option<String>,
    /// The order: `deadline` (earliest deadline first, the default) or
    /// `reminder` (the most advanced reminder first, then by deadline).
    pub sort: Option<TableOrder>,
    /// Only demandes processed by this service (primary or joint); empty
    /// for every service.
    #[schemars(schema_with = "service_filter")]
    pub service: Option<String>,
    /// Rows to skip.
    #[schemars(extend("maximum" = u32::MAX))]
    pub offset: Option<u32>,
    /// Rows to return: 50 when absent; under 1 counts as 1, over 200 as 200.
    #[schemars(extend("maximum" = u32::MAX))]
    pub limit: Option<u32>,
}

/// The order of the processing table.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableOrder {
    /// Earliest processing deadline first, none last.
    Deadline,
    /// The most advanced reminder first (21 days, 15 days, none), then by
    /// deadline.
    Reminder,
}

/// The schema of the `service` filter: empty, or a group's name.
pub(crate) fn service_filter(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let group = <guichet_core::role::GroupName as JsonSchema>::json_schema(generator);
    let pattern = group
        .get("pattern")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    schemars::json_schema!({
        "type": "string",
        "pattern": format!("^$|{pattern}"),
    })
}

/// The processing table.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Table {
    /// Rows matching, all pages.
    pub total: u64,
    /// This page.
    pub rows: Vec<TableRow>,
}

/// A line of the processing table.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TableRow {
    /// Identifier.
    pub id: Uuid,
    /// Number.
    pub numero: String,
    /// Démarche.
    pub demarche: String,
    /// Version.
    pub version: u32,
    /// Status.
    pub status: StatusView,
    /// Service in charge.
    pub service: String,
    /// Filed.
    pub submitted_at: DateTime<Utc>,
    /// Processing deadline (moved by holds).
    pub deadline: Option<DateTime<Utc>>,
    /// Past the deadline.
    pub late: bool,
    /// In progress past an agent reminder: the days of the last one sent
    /// (15 or 21, PROCESS.md); null otherwise. Shown before `late` turns
    /// true at the deadline (27 days).
    pub reminder: Option<u32>,
}

/// The table's view of a page of lines.
pub(crate) fn table_view(page: back_office::Table) -> Table {
    Table {
        total: page.total,
        rows: page
            .rows
            .into_iter()
            .map(|back_office::TableRow { row, status_label }| TableRow {
                id: row.id.uuid(),
                numero: row.numero,
                demarche: row.demarche.slug.to_string(),
                version: row.demarche.version,
                status: StatusView {
                    id: row.status.to_string(),
                    label: status_label,
                },
                service: row.service.as_str().to_owned(),
                submitted_at: row.submitted_at,
                deadline: row.deadline,
                late: row.late,
                reminder: row.reminder,
            })
            .collect(),
    }
}

async fn table(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiQuery(filters): ApiQuery<TableFilters>,
) -> Result<Json<Table>, ApiError> {
    let request = TableRequest {
        demarche: filters.demarche,
        statuses: filters
            .status
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(StatusId::from)
            .collect(),
        late: filters.late,
        reminder: filters.reminder,
        on_hold: filters.on_hold,
        search: filters.q,
        sort: match filters.sort {
            Some(TableOrder::Reminder) => TableSort::Reminder,
            Some(TableOrder::Deadline) | None => TableSort::Deadline,
        },
        service: filters.service,
        offset: filters.offset.unwrap_or(0),
        limit: filters.limit,
    };
    let page = back_office::table(&state.guichet(), &agent, request).await?;
    Ok(Json(table_view(page)))
}

/// A demande as agents see it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentDemande {
    /// Identifier.
    pub id: Uuid,
    /// Number.
    pub numero: String,
    /// Démarche.
    pub demarche: String,
    /// Version.
    pub version: u32,
    /// The démarche's title.
    pub title: String,
    /// Status (agents' view).
    pub status: StatusView,
    /// Primary service.
    pub service: String,
    /// Services added for joint processing.
    pub joint_services: Vec<String>,
    /// The usager's account, if any.
    pub usager: Option<Uuid>,
    /// Set for a *saisie au nom de l'usager*.
    pub filed_by: Option<FiledBy>,
    /// Filed.
    pub submitted_at: DateTime<Utc>,
    /// Processing deadline (moved by holds).
    pub deadline: Option<DateTime<Utc>>,
    /// Past the deadline.
    pub late: bool,
    /// Reminders already sent (days).
    pub reminders_sent: Vec<u32>,
    /// The answers (typed), agent-only fields included.
    pub answers: Answers,
    /// The answers as shown to people.
    pub summary: Vec<SummaryPageView>,
    /// The agents' history.
    pub history: Vec<HistoryItem>,
    /// What this agent can do now.
    pub actions: Vec<ActionView>,
    /// Its transmissions to vendors' applications, oldest first.
    pub transmissions: Vec<connectors::TransmissionView>,
    /// The usager's answer to the satisfaction survey, null until given.
    pub survey: Option<SurveyAnswerView>,
}

/// An usager's answer to a demande's satisfaction survey.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SurveyAnswerView {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub note: u8,
    /// The comment; null when none was given or once anonymised.
    pub commentaire: Option<String>,
    /// The answers to the démarche's own questions, by question id (free
    /// answers gone once anonymised).
    pub reponses: std::collections::BTreeMap<String, String>,
    /// When.
    pub repondu_le: DateTime<Utc>,
}

async fn detail(
    state: &AppState,
    loaded: &Loaded,
    rights: Rights,
    agent: &AgentUser,
) -> Result<AgentDemande, ApiError> {
    let view = back_office::view(&state.guichet(), loaded, &agent.0, rights).await?;
    let definition: &Definition = &loaded.definition.definition;
    let demande: &Demande = &loaded.stored.demande;
    Ok(AgentDemande {
        id: demande.id.uuid(),
        numero: demande.numero.clone(),
        demarche: demande.demarche.slug.to_string(),
        version: demande.demarche.version,
        title: definition.title.clone(),
        status: StatusView {
            id: view.status.0.to_string(),
            label: view.status.1,
        },
        service: demande.services.primary.as_str().to_owned(),
        joint_services: demande
            .services
            .joint
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        usager: demande.usager.map(|u| u.uuid()),
        filed_by: demande.filed_by,
        submitted_at: demande.dates.submitted_at,
        deadline: view.deadline,
        late: view.late,
        reminders_sent: demande.reminders_sent.clone(),
        answers: demande.answers.clone(),
        summary: summary_view(
            definition,
            &demande.answers,
            ActorKind::Agent,
            &demande.source_choices,
        ),
        history: view
            .history
            .iter()
            .map(|entry| history_item(entry, true))
            .collect(),
        actions: view.actions.iter().map(ActionView::from).collect(),
        transmissions: view
            .transmissions
            .into_iter()
            .map(|t| connectors::transmission_view(t, state.settings.time_zone))
            .collect(),
        survey: view.survey.map(|answer| SurveyAnswerView {
            note: answer.score,
            commentaire: answer.comment,
            reponses: answer
                .choices
                .into_iter()
                .chain(answer.free_answers)
                .collect(),
            repondu_le: answer.answered_at,
        }),
    })
}

/// A demande the agent holds `right` on, with their rights.
async fn load(
    state: &AppState,
    agent: &AgentUser,
    id: Uuid,
    right: Right,
) -> Result<(Loaded, Rights), ApiError> {
    Ok(Loaded::for_agent(&state.guichet(), &agent.0, DemandeId::from_uuid(id), right).await?)
}

/// The demande after a change, as the agent now sees it: a transfer may
/// have moved it out of their services.
async fn after_change(
    state: &AppState,
    agent: &AgentUser,
    id: Uuid,
) -> Result<Json<AgentDemande>, ApiError> {
    let reloaded = Loaded::read(&state.guichet(), DemandeId::from_uuid(id)).await?;
    let rights = agent.0.rights_on_demande(&reloaded.stored.demande);
    Ok(Json(detail(state, &reloaded, rights, agent).await?))
}

async fn show(
    State(state): State<AppState>,
    agent: AgentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AgentDemande>, ApiError> {
    let (loaded, rights) = load(&state, &agent, id, Right::Read).await?;
    Ok(Json(detail(&state, &loaded, rights, &agent).await?))
}

async fn act(
    State(state): State<AppState>,
    agent: AgentUser,
    ApiPath(id): ApiPath<Uuid>,
    request: Request,
) -> Result<Json<AgentDemande>, ApiError> {
    let (action, upload) = match json_or_form::<Action>(request, &state).await? {
        JsonOrForm::Json(action) => (action, None),
        JsonOrForm::Form(mut form) => {
            let Some(text) = form.texts.remove("action") else {
                return Err(ApiError::validation(vec![FieldProblem::new(
                    "action",
                    FieldCode::Requis,
                    "Le formulaire doit contenir l'action en JSON dans la partie « action ».",
                )]));
            };
            (parse_json::<Action>(text.as_bytes())?, form.file)
        }
    };
    if action.inputs.attachment.is_some() {
        return Err(ApiError::validation(vec![FieldProblem::new(
            "inputs.attachment",
            FieldCode::NonAttendu,
            "Envoyez la pièce jointe dans la partie « file » d'un formulaire multipart.",
        )]));
    }
    let (loaded, rights) = load(&state, &agent, id, Right::BackOffice).await?;
    let actor = Actor::Agent {
        id: agent.0.user.id,
        rights,
    };
    let attachment = upload.as_ref().map(|file| Attachment {
        name: &file.name,
        content: &file.content,
    });
    processing::apply(&state.guichet(), &loaded, action, &actor, attachment).await?;
    after_change(&state, &agent, id).await
}

async fn agent_fields(
    State(state): State<AppState>,
    agent: AgentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<AgentDemande>, ApiError> {
    let (loaded, rights) = load(&state, &agent, id, Right::BackOffice).await?;
    processing::fill_reserved_fields(&state.guichet(), &loaded, &agent.0, rights, &body).await?;
    after_change(&state, &agent, id).await
}

async fn download(
    State(state): State<AppState>,
    agent: AgentUser,
    ApiPath((id, file)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let download = files::for_agent(
        &state.guichet(),
        &agent.0,
        DemandeId::from_uuid(id),
        FileId::from_uuid(file),
    )
    .await?;
    Ok(send_file(download))
}

/// Takes a demande out of the trash (see `guichet_core::trash::restore`).
async fn restore(
    State(state): State<AppState>,
    agent: AgentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<super::demandes::Confirmation>,
) -> Result<Json<AgentDemande>, ApiError> {
    let (loaded, rights) = load(&state, &agent, id, Right::BackOffice).await?;
    let actor = Actor::Agent {
        id: agent.0.user.id,
        rights,
    };
    processing::restore(
        &state.guichet(),
        &loaded,
        &actor,
        body.confirmed,
        state.settings.retention.trash,
    )
    .await?;
    after_change(&state, &agent, id).await
}
