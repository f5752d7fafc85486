//! Account links (`crate::service::links`): an usager links their account
//! to their record at a vendor (`PUT /api/me/links/{instance}` with the
//! vendor's proof, e.g. `{"params": {"family-code": "F-0002", "secret":
//! "…"}}`), lists (`GET /api/me/links`) and removes them (`DELETE
//! /api/me/links/{instance}`); an agent with the *saisie* right links an
//! usager on their behalf after checking their identity (`PUT
//! /api/agent/usagers/{usager}/links/{instance}`, `usager` being the
//! account's login). The proof is never kept nor shown back.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use guichet_store::link::AccountLink;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::auth::{AgentUser, UsagerUser};
use super::extract::{ApiJson, ApiPath};
use super::routes::{Access, ApiRouter, Doc};
use super::{ApiError, AppState};
use crate::service::links;

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .get(
            "/api/me/links",
            mine,
            Doc::new(
                "Mes rattachements : mon compte relié à mon dossier chez une application métier (ma famille à l'Espace famille)",
                Access::Usager,
            )
            .gives::<Vec<LinkView>>(),
        )
        .put(
            "/api/me/links/{instance}",
            link,
            Doc::new(
                "Rattacher mon compte à mon dossier avec la preuve que l'application métier demande (code famille et code secret) ; 422 link_refused si elle la refuse",
                Access::Usager,
            )
            .takes::<LinkBody>()
            .gives::<LinkView>(),
        )
        .delete(
            "/api/me/links/{instance}",
            unlink,
            Doc::new("Retirer un rattachement de mon compte", Access::Usager).status(204),
        )
        .put(
            "/api/agent/usagers/{usager}/links/{instance}",
            link_on_behalf,
            Doc::new(
                "Rattacher le compte d'un usager (son identifiant) à son dossier, après vérification de son identité (par exemple nom, prénom et date de naissance)",
                Access::Agent("file_on_behalf"),
            )
            .takes::<LinkBody>()
            .gives::<LinkView>(),
        )
        .get(
            "/api/agent/usagers/{usager}/links",
            links_of_usager,
            Doc::new(
                "Les rattachements d'un usager (son identifiant) aux dossiers des instances que j'utilise pour la saisie",
                Access::Agent("file_on_behalf"),
            )
            .gives::<Vec<LinkView>>(),
        )
        .delete(
            "/api/agent/usagers/{usager}/links/{instance}",
            unlink_on_behalf,
            Doc::new(
                "Retirer le rattachement d'un usager à son dossier (à sa demande, ou s'il était faux)",
                Access::Agent("file_on_behalf"),
            )
            .status(204),
        )
}

/// The proof of a link.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The parameters of the instance's link source: for an usager, the
    /// ones the instance asks (`family-code`, `secret`); for an agent, any
    /// the source takes (`last-name`, `first-name`, `birth-date`…).
    #[schemars(extend("maxProperties" = links::MAX_PARAMS))]
    pub params: BTreeMap<String, String>,
}

/// An account link.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LinkView {
    /// The connector instance (`espace-famille-ville`).
    pub instance: String,
    /// The record's id at the vendor (`F-0002`).
    pub remote_id: String,
    /// The record's label (`Famille MARTIN`).
    pub label: String,
    /// Whether an agent linked it on the usager's behalf.
    pub by_agent: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl From<AccountLink> for LinkView {
    fn from(link: AccountLink) -> Self {
        LinkView {
            instance: link.instance,
            remote_id: link.remote_id,
            label: link.label,
            by_agent: link.linked_by.is_some(),
            created_at: link.created_at,
        }
    }
}

async fn mine(
    State(state): State<AppState>,
    UsagerUser(caller): UsagerUser,
) -> Result<Json<Vec<LinkView>>, ApiError> {
    let found = links::mine(&state.guichet(), &caller).await?;
    Ok(Json(found.into_iter().map(LinkView::from).collect()))
}

async fn link(
    State(state): State<AppState>,
    UsagerUser(caller): UsagerUser,
    ApiPath(instance): ApiPath<String>,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<Json<LinkView>, ApiError> {
    let made = links::link(&state.guichet(), &caller, &instance, body.params).await?;
    Ok(Json(made.into()))
}

async fn unlink(
    State(state): State<AppState>,
    UsagerUser(caller): UsagerUser,
    ApiPath(instance): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    links::unlink(&state.guichet(), &caller, &instance).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn link_on_behalf(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiPath((usager, instance)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<Json<LinkView>, ApiError> {
    let made =
        links::link_on_behalf(&state.guichet(), &agent, &usager, &instance, body.params).await?;
    Ok(Json(made.into()))
}

async fn links_of_usager(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiPath(usager): ApiPath<String>,
) -> Result<Json<Vec<LinkView>>, ApiError> {
    let found = links::of_usager(&state.guichet(), &agent, &usager).await?;
    Ok(Json(found.links.into_iter().map(LinkView::from).collect()))
}

async fn unlink_on_behalf(
    State(state): State<AppState>,
    AgentUser(agent): AgentUser,
    ApiPath((usager, instance)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    links::unlink_on_behalf(&state.guichet(), &agent, &usager, &instance).await?;
    Ok(StatusCode::NO_CONTENT)
}
