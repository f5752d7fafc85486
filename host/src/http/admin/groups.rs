//! Groups named `Role_Collectivité_Direction_Service` (the first part says
//! the role: `Gest_SVL_DACT_Mobilités` is a Gestionnaire group), their
//! members, and the grants that give a group its role on one démarche or
//! on all.
//!
//! Refusals have their own codes: a group that exists already (409
//! `group_exists`), an unknown group (404 `group_not_found`), a grant on a
//! démarche never imported (404 `demarche_not_found`), and any change that
//! would leave nobody able to administer (409 `last_administrator`, see
//! `guichet_store::group`). The rules are
//! [`crate::service::administration::groups`]'s.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use guichet_core::id::UserId;
use guichet_core::role::{Grant, GroupName, Role};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::auth::Admin;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::routes::{Access, ApiRouter, Doc};
use crate::http::{ApiError, AppState};
use crate::service::administration::groups::{self, Group};

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
        .put(
            "/api/admin/groups/{name}",
            update,
            Doc::new(
                "Changer la boîte aux lettres d'un groupe, où vont les mails à son service (null : aucune)",
                admin,
            )
            .takes::<GroupSettings>()
            .gives::<GroupView>(),
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
    /// Where the mails to its service go.
    pub mailbox: Option<String>,
}

/// What an administrator sets on a group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSettings {
    /// The mailbox of its service (`voirie@ville.fr`); `null`: none.
    #[schemars(length(max = 254))]
    pub mailbox: Option<String>,
}

/// A group to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// `Role_Collectivité_Direction_Service`.
    #[schemars(with = "GroupName")]
    pub name: String,
}

impl From<Group> for GroupView {
    fn from(group: Group) -> Self {
        GroupView {
            role: group.name.role(),
            name: group.name.as_str().to_owned(),
            members: group.members.into_iter().map(|m| m.uuid()).collect(),
            mailbox: group.mailbox,
        }
    }
}

async fn list(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<GroupView>>, ApiError> {
    let list = groups::list(&state.guichet(), &admin).await?;
    Ok(Json(list.into_iter().map(GroupView::from).collect()))
}

async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let group = groups::create(&state.guichet(), &admin, &body.name).await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

async fn update(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<GroupSettings>,
) -> Result<Json<GroupView>, ApiError> {
    let group =
        groups::set_mailbox(&state.guichet(), &admin, &name, body.mailbox.as_deref()).await?;
    Ok(Json(group.into()))
}

async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    groups::delete(&state.guichet(), &admin, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath((name, user)): ApiPath<(String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    groups::add_member(&state.guichet(), &admin, &name, UserId::from_uuid(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath((name, user)): ApiPath<(String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    groups::remove_member(&state.guichet(), &admin, &name, UserId::from_uuid(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn grants(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<Grant>>, ApiError> {
    Ok(Json(groups::grants(&state.guichet(), &admin).await?))
}

async fn grant(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    groups::grant(&state.guichet(), &admin, &body).await?;
    Ok(StatusCode::CREATED)
}

async fn revoke(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<Grant>,
) -> Result<StatusCode, ApiError> {
    groups::revoke(&state.guichet(), &admin, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}
