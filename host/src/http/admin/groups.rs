//! Groups named `Role_Collectivité_Direction_Service` (the first part says
//! the role: `Gest_SVL_DACT_Mobilités` is a Gestionnaire group), their
//! members, and the grants that give a group its role on one démarche or
//! on all.
//!
//! Refusals have their own codes: a group that exists already (409
//! `group_exists`), an unknown group (404 `group_not_found`), a grant on a
//! démarche never imported (404 `demarche_not_found`), and any change that
//! would leave nobody able to administer (409 `last_administrator`, see
//! `guichet_store::group`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use guichet_core::id::UserId;

use guichet_core::role::{Grant, GroupName, Role, Scope};
use guichet_store::StoreError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::auth::Admin;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::routes::{Access, ApiRouter, Doc};
use crate::http::{ApiError, AppState, ErrorCode, FieldCode, FieldProblem};

/// The routes.
pub fn router() -> ApiRouter {
    let admin = Access::Administrator;
    ApiRouter::new()
        .get(
            "/api/admin/groups",
            list,
            Doc::new("Les groupes, leur rôle et leurs membres", admin).gives::<Vec<GroupView>>(),
        )
        .post(
            "/api/admin/groups",
            create,
            Doc::new("Créer un groupe Rôle_Collectivité_Direction_Service", admin)
                .takes::<NewGroup>()
                .gives::<GroupView>()
                .status(201),
        )
        .delete(
            "/api/admin/groups/{name}",
            delete,
            Doc::new("Supprimer un groupe, ses adhésions et ses habilitations", admin).status(204),
        )
        .put(
            "/api/admin/groups/{name}/members/{user}",
            add_member,
            Doc::new("Ajouter un compte à un groupe", admin).status(204),
        )
        .delete(
            "/api/admin/groups/{name}/members/{user}",
            remove_member,
            Doc::new("Retirer un compte d'un groupe", admin).status(204),
        )
        .get(
            "/api/admin/grants",
            grants,
            Doc::new("Les habilitations des groupes sur les démarches", admin)
                .gives::<Vec<Grant>>(),
        )
        .post(
            "/api/admin/grants",
            grant,
            Doc::new(
                "Habiliter un groupe sur une démarche (scope {\"demarche\": slug}) ou sur toutes (\"all\")",
                admin,
            )
            .takes::<Grant>()
            .status(201),
        )
        .delete(
            "/api/admin/grants",
            revoke,
            Doc::new("Retirer une habilitation", admin)
                .takes::<Grant>()
                .status(204),
        )
}

/// A group.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupView {
    /// Name.
    pub name: String,
    /// The role its name says.
    pub role: Role,
    /// Members.
    pub members: Vec<Uuid>,
}

/// A group to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// `Role_Collectivité_Direction_Service`.
    #[schemars(with = "GroupName")]
    pub name: String,
}

fn parse_group(name: &str) -> Result<GroupName, ApiError> {
    GroupName::parse(name).map_err(|e| {
        ApiError::validation(vec![FieldProblem::new(
            "name",
            FieldCode::NomDeGroupeInvalide,
            e.to_string(),
        )])
    })
}

fn group_not_found(name: &GroupName) -> ApiError {
    ApiError::new(
        ErrorCode::GroupNotFound,
        format!("le groupe « {name} » n'existe pas"),
    )
}

async fn existing_group(state: &AppState, name: &str) -> Result<GroupName, ApiError> {
    let name = parse_group(name)?;
    if state.store.group_exists(&name).await? {
        Ok(name)
    } else {
        Err(group_not_found(&name))
    }
}

async fn view(state: &AppState, name: GroupName) -> Result<GroupView, ApiError> {
    let members = state.store.members(&name).await?;
    Ok(GroupView {
        role: name.role(),
        name: name.as_str().to_owned(),
        members: members.into_iter().map(|m| m.uuid()).collect(),
    })
}

async fn list(State(state): State<AppState>, _: Admin) -> Result<Json<Vec<GroupView>>, ApiError> {
    let mut list = Vec::new();
    for name in state.store.groups().await? {
        list.push(view(&state, name).await?);
    }
    Ok(Json(list))
}

async fn create(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let name = parse_group(&body.name)?;
    state
        .store
        .create_group(&name, state.clock.now())
        .await
        .map_err(|error| match error {
            StoreError::Conflict(message) => ApiError::new(ErrorCode::GroupExists, message),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(view(&state, name).await?)))
}

async fn delete(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let name = existing_group(&state, &name).await?;
    match state.store.delete_group(&name).await {
        Err(StoreError::NotFound(_)) => Err(group_not_found(&name)),
        other => other.map_err(ApiError::from),
    }?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(
    State(state): State<AppState>,
    _: Admin,
    ApiPath((name, user)): ApiPath<(String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let name = existing_group(&state, &name).await?;
    state.store.user(UserId::from_uuid(user)).await?;
    state
        .store
        .add_member(&name, UserId::from_uuid(user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    _: Admin,
    ApiPath((name, user)): ApiPath<(String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .remove_member(&parse_group(&name)?, UserId::from_uuid(user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn grants(State(state): State<AppState>, _: Admin) -> Result<Json<Vec<Grant>>, ApiError> {
    Ok(Json(state.store.grants().await?))
}

async fn grant(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(body): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    if !state.store.group_exists(&body.group).await? {
        return Err(group_not_found(&body.group));
    }
    if let Scope::Demarche(slug) = &body.scope
        && state.store.demarche_versions(slug).await?.is_empty()
    {
        return Err(ApiError::new(
            ErrorCode::DemarcheNotFound,
            format!("la démarche « {} » n'existe pas", slug.as_str()),
        ));
    }
    state.store.grant(&body, state.clock.now()).await?;
    Ok(StatusCode::CREATED)
}

async fn revoke(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(body): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    state.store.revoke(&body).await?;
    Ok(StatusCode::NO_CONTENT)
}
