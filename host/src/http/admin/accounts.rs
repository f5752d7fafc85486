//! Accounts and API tokens: administrators create agents (usagers register
//! themselves), deactivate and reactivate accounts (which ends their
//! sessions), and give machines API tokens whose scopes are the rights they
//! may use. A token's secret is shown once, at creation; the store keeps
//! only its hash. The rules are
//! [`crate::service::administration::accounts`]'s.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use guichet_core::id::UserId;
use guichet_core::profile::Profile;
use guichet_core::role::Right;
use guichet_store::account::UserKind;
use guichet_store::session::{ApiToken, ApiTokenId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::auth::Admin;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::routes::{Access, ApiRouter, Doc};
use crate::http::{ApiError, AppState};
use crate::service::administration::accounts::{self, Account};

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

impl From<Account> for UserView {
    fn from(Account { user, groups }: Account) -> Self {
        UserView {
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
        }
    }
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
    Admin(admin): Admin,
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
    let accounts = accounts::list(&state.guichet(), &admin, kind).await?;
    Ok(Json(accounts.into_iter().map(UserView::from).collect()))
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
    Admin(admin): Admin,
    ApiJson(body): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let new = accounts::NewAgent {
        login: body.login,
        display_name: body.display_name,
        password: body.password,
        groups: body.groups,
        profile: body.profile.unwrap_or_default(),
    };
    let account = accounts::create_agent(&state.accounts(), &admin, new).await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

async fn set_active(
    state: &AppState,
    Admin(admin): Admin,
    id: Uuid,
    active: bool,
) -> Result<Json<UserView>, ApiError> {
    let id = UserId::from_uuid(id);
    let account = accounts::set_active(&state.guichet(), &admin, id, active).await?;
    Ok(Json(account.into()))
}

async fn deactivate(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    set_active(&state, admin, id, false).await
}

async fn activate(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    set_active(&state, admin, id, true).await
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
    Admin(admin): Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = accounts::tokens(&state.guichet(), &admin, UserId::from_uuid(id)).await?;
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
    Admin(admin): Admin,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let new = accounts::NewToken {
        name: body.name,
        scopes: body.scopes,
    };
    let (token, secret) =
        accounts::create_token(&state.guichet(), &admin, UserId::from_uuid(id), new).await?;
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
    Admin(admin): Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    accounts::revoke_token(&state.guichet(), &admin, ApiTokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
