//! Accounts and API tokens: administrators create agents (usagers register
//! themselves), deactivate and reactivate accounts (which ends their
//! sessions), and give machines API tokens whose scopes are the rights they
//! may use. A token's secret is shown once, at creation; the store keeps
//! only its hash.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use guichet_core::id::UserId;

use guichet_core::profile::Profile;
use guichet_core::role::{GroupName, Right};
use guichet_store::StoreError;
use guichet_store::account::{NewUser, User, UserKind};
use guichet_store::session::{ApiToken, ApiTokenId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::auth::{Admin, check_password};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::routes::{Access, ApiRouter, Doc};
use crate::http::{ApiError, AppState, ErrorCode, FieldCode, FieldProblem};

/// The routes.
pub fn router() -> ApiRouter {
    let admin = Access::Administrator;
    ApiRouter::new()
        .get(
            "/api/admin/users",
            list,
            Doc::new("Les comptes (filtre kind=agent|usager)", admin)
                .query::<KindFilter>()
                .gives::<Vec<UserView>>(),
        )
        .post(
            "/api/admin/users",
            create,
            Doc::new("Créer un compte d'agent et l'ajouter à ses groupes", admin)
                .takes::<NewAccount>()
                .gives::<UserView>()
                .status(201),
        )
        .post(
            "/api/admin/users/{id}/deactivate",
            deactivate,
            Doc::new("Désactiver un compte (ses sessions sont fermées)", admin).gives::<UserView>(),
        )
        .post(
            "/api/admin/users/{id}/activate",
            activate,
            Doc::new("Réactiver un compte", admin).gives::<UserView>(),
        )
        .get(
            "/api/admin/users/{id}/tokens",
            tokens,
            Doc::new("Les jetons d'API d'un compte", admin).gives::<Vec<TokenView>>(),
        )
        .post(
            "/api/admin/users/{id}/tokens",
            create_token,
            Doc::new(
                "Créer un jeton d'API pour un compte (le secret n'est montré qu'une fois)",
                admin,
            )
            .takes::<NewToken>()
            .gives::<CreatedToken>()
            .status(201),
        )
        .delete(
            "/api/admin/tokens/{id}",
            revoke_token,
            Doc::new("Révoquer un jeton d'API", admin).status(204),
        )
}

/// An account.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserView {
    /// Identifier.
    pub id: Uuid,
    /// Login.
    pub login: String,
    /// Name shown.
    pub display_name: String,
    /// `agent` or `usager`.
    pub kind: String,
    /// Whether it may log in.
    pub active: bool,
    /// Groups.
    pub groups: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

async fn user_view(state: &AppState, user: User) -> Result<UserView, ApiError> {
    let groups = state.store.groups_of(user.id).await?;
    Ok(UserView {
        id: user.id.uuid(),
        login: user.login,
        display_name: user.display_name,
        kind: match user.kind {
            UserKind::Agent => "agent",
            UserKind::Usager => "usager",
        }
        .to_owned(),
        active: user.active,
        groups: groups.into_iter().map(|g| g.as_str().to_owned()).collect(),
        created_at: user.created_at,
    })
}

/// Filter of the list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct KindFilter {
    /// `agent` or `usager` (every account when absent or empty).
    #[schemars(extend("enum" = ["", "agent", "usager"]))]
    pub kind: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(filter): ApiQuery<KindFilter>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let kind = match filter.kind.as_deref() {
        None | Some("") => None,
        Some("agent") => Some(UserKind::Agent),
        Some("usager") => Some(UserKind::Usager),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "type de compte inconnu « {other} » (agent ou usager)"
            )));
        }
    };
    let mut views = Vec::new();
    for user in state.store.users(kind).await? {
        views.push(user_view(&state, user).await?);
    }
    Ok(Json(views))
}

/// An agent account to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Login (usually the professional e-mail).
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    pub login: String,
    /// Name shown.
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    pub display_name: String,
    /// Initial password: at least 12 characters, hard to guess.
    #[schemars(length(min = 12, max = 128))]
    pub password: String,
    /// Groups to join (they must exist).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Identity (e-mail, phone).
    #[serde(default)]
    pub profile: Option<Profile>,
}

async fn create(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(body): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let mut problems = Vec::new();
    if body.login.trim().is_empty() {
        problems.push(FieldProblem::new(
            "login",
            FieldCode::Requis,
            "Indiquez un identifiant.",
        ));
    }
    if body.display_name.trim().is_empty() {
        problems.push(FieldProblem::new(
            "display_name",
            FieldCode::Requis,
            "Indiquez un nom.",
        ));
    }
    check_password(
        &body.password,
        &[&body.login, &body.display_name],
        &mut problems,
    );
    let existing = state.store.groups().await?;
    let mut groups = Vec::new();
    for name in &body.groups {
        match GroupName::parse(name) {
            Ok(group) if existing.contains(&group) => groups.push(group),
            Ok(_) => problems.push(FieldProblem::new(
                "groups",
                FieldCode::GroupeInconnu,
                format!("Le groupe « {name} » n'existe pas."),
            )),
            Err(e) => problems.push(FieldProblem::new(
                "groups",
                FieldCode::NomDeGroupeInvalide,
                e.to_string(),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let hash = state.passwords.hash(body.password).await?;
    let user = state
        .store
        .create_user(
            NewUser {
                login: body.login,
                display_name: body.display_name,
                kind: UserKind::Agent,
                profile: body.profile.unwrap_or_default(),
                password_hash: Some(hash),
            },
            state.clock.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::new(ErrorCode::LoginTaken, message),
            other => other.into(),
        })?;
    for group in &groups {
        state.store.add_member(group, user.id).await?;
    }
    Ok((StatusCode::CREATED, Json(user_view(&state, user).await?)))
}

async fn set_active(state: &AppState, id: Uuid, active: bool) -> Result<Json<UserView>, ApiError> {
    state
        .store
        .set_active(UserId::from_uuid(id), active, state.clock.now())
        .await?;
    let user = state.store.user(UserId::from_uuid(id)).await?;
    Ok(Json(user_view(state, user).await?))
}

async fn deactivate(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    set_active(&state, id, false).await
}

async fn activate(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    set_active(&state, id, true).await
}

/// An API token (without its secret).
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenView {
    /// Identifier.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// The account it acts as.
    pub user: Uuid,
    /// The rights it may use.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        TokenView {
            id: token.id.0,
            name: token.name,
            user: token.user.uuid(),
            scopes: token.scopes,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
        }
    }
}

async fn tokens(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    state.store.user(UserId::from_uuid(id)).await?;
    let tokens = state.store.api_tokens(UserId::from_uuid(id)).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

/// A token to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for (`supervision`, `import-démarches`).
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    pub name: String,
    /// The rights it may use (at least one): `back_office`, `read`,
    /// `comment`, `file_on_behalf`, `process`, `statistics`, `administration`.
    #[schemars(length(min = 1))]
    pub scopes: Vec<Right>,
}

/// A token just created, with its secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedToken {
    /// The token.
    pub token: TokenView,
    /// The secret for `Authorization: Bearer …`, shown this once.
    pub secret: String,
}

async fn create_token(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let mut problems = Vec::new();
    if body.name.trim().is_empty() {
        problems.push(FieldProblem::new(
            "name",
            FieldCode::Requis,
            "Nommez le jeton.",
        ));
    }
    if body.scopes.is_empty() {
        problems.push(FieldProblem::new(
            "scopes",
            FieldCode::Requis,
            "Donnez au jeton au moins un droit.",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    state.store.user(UserId::from_uuid(id)).await?;
    let scopes: Vec<String> = body
        .scopes
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let (token, secret) = state
        .store
        .create_api_token(
            UserId::from_uuid(id),
            body.name.trim(),
            &scopes,
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into(),
            secret: secret.expose().to_owned(),
        }),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.store.revoke_api_token(ApiTokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
