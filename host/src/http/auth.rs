//! Authentication and the rights of the person calling.
//!
//! - **People** log in with a login and a password (argon2id hash, the store
//!   keeps only the hash) and get a session cookie `guichet_session`:
//!   HttpOnly, SameSite=Lax, a random 32-byte token of which the store keeps
//!   only the SHA-256, expiring after [`Settings::session_ttl`] on the
//!   injected clock. Usagers register themselves with their profile
//!   (`POST /api/auth/register`); agents are created by an administrator.
//! - **Machines** send `Authorization: Bearer <API token>`; a token acts as
//!   the account it was created for, its rights capped by its scopes (the
//!   names of the rights it may use: `read`, `process`, `administration`…).
//!
//! - **Passwords** follow [`strength`] (ANSSI length, `zxcvbn` estimate),
//!   are hashed through the bounded [`PasswordHashing`] (503
//!   `service_busy` past a short wait), and wrong ones are counted by the
//!   [`LoginThrottle`] per account and per client address (429
//!   `too_many_attempts` with `Retry-After`). The client address is the
//!   peer of the connection, or the last `X-Forwarded-For` entry when
//!   [`Settings::trust_forwarded_for`] says a reverse proxy adds it.
//!
//! Extractors: [`Caller`] (anyone logged in: 401 `unauthenticated`
//! otherwise), [`UsagerUser`] and [`AgentUser`] (403 `forbidden` for the
//! other kind), [`Admin`] (the Administrateur role granted on every
//! démarche). Rights on one démarche are [`Caller::rights`].
//!
//! [`Settings::session_ttl`]: super::Settings
//! [`Settings::trust_forwarded_for`]: super::Settings

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use guichet_core::profile::Profile;
use guichet_core::role::{Right, Rights};
use guichet_core::validation::{normalise_phone, valid_email};
use guichet_core::value::Address;
use guichet_store::StoreError;
use guichet_store::account::{NewUser, UserKind};
use guichet_store::group::Access as GroupAccess;
use guichet_store::session::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod password;
pub mod strength;
mod throttle;

pub use password::{
    HashingSlot, PasswordCost, PasswordHashing, default_hashing_slots, hash_password,
};
pub use strength::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password};
pub use throttle::{LoginLimits, LoginThrottle, Tier};

use super::extract::ApiJson;
use super::routes::{Access, ApiRouter, Doc};
use super::{ApiError, AppState, ErrorCode, FieldCode, FieldProblem};
pub use crate::service::{Caller, Credential};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "guichet_session";

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The session token in the `Cookie` header.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

fn scopes(names: &[String]) -> Rights {
    names
        .iter()
        .filter_map(|name| {
            serde_json::from_value::<Right>(serde_json::Value::String(name.clone())).ok()
        })
        .collect()
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let now = state.clock.now();
    let (user, credential) = if let Some(token) = bearer(&parts.headers) {
        match state
            .store
            .api_token_user(&Secret::from_client(token), now)
            .await
        {
            Ok((user, token)) => (user, Credential::Token(scopes(&token.scopes))),
            Err(StoreError::NotFound(_)) => {
                return Err(ApiError::unauthenticated("jeton d'API inconnu ou révoqué"));
            }
            Err(other) => return Err(other.into()),
        }
    } else if let Some(token) = session_cookie(&parts.headers) {
        match state
            .store
            .session_user(&Secret::from_client(token), now)
            .await
        {
            Ok(user) => (user, Credential::Session),
            Err(StoreError::NotFound(_)) => {
                return Err(ApiError::unauthenticated(
                    "session expirée ou inconnue : reconnectez-vous",
                ));
            }
            Err(other) => return Err(other.into()),
        }
    } else {
        return Err(ApiError::unauthenticated(
            "connexion requise (cookie de session ou en-tête Authorization: Bearer …)",
        ));
    };
    if !user.active {
        return Err(ApiError::unauthenticated("ce compte est désactivé"));
    }
    let access = match user.kind {
        UserKind::Agent => state.store.access(user.id).await?,
        UserKind::Usager => GroupAccess::default(),
    };
    Ok(Caller {
        user,
        access,
        credential,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(found) = parts.extensions.get::<Caller>() {
            return Ok(found.clone());
        }
        let found = authenticate(parts, state).await?;
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// A logged-in usager.
pub struct UsagerUser(pub Caller);

impl FromRequestParts<AppState> for UsagerUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let current = Caller::from_request_parts(parts, state).await?;
        if current.is_usager() {
            Ok(UsagerUser(current))
        } else {
            Err(ApiError::forbidden("cette action est réservée aux usagers"))
        }
    }
}

/// A logged-in agent (or a machine token acting as one).
pub struct AgentUser(pub Caller);

impl FromRequestParts<AppState> for AgentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let current = Caller::from_request_parts(parts, state).await?;
        if current.is_usager() {
            Err(ApiError::forbidden("cette action est réservée aux agents"))
        } else {
            Ok(AgentUser(current))
        }
    }
}

/// An administrator: the `administration` right on every démarche.
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let current = Caller::from_request_parts(parts, state).await?;
        if current.global_rights().contains(Right::Administration) {
            Ok(Admin(current))
        } else {
            Err(ApiError::forbidden("droit manquant : administration"))
        }
    }
}

/// The routes of `/api/auth` and `/api/me`.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .post(
            "/api/auth/register",
            register,
            Doc::new("Créer un compte usager avec son profil", Access::Public)
                .takes::<Registration>()
                .gives::<Me>()
                .status(201),
        )
        .post(
            "/api/auth/login",
            login,
            Doc::new(
                "Se connecter : ouvre une session (cookie guichet_session) ; 429 too_many_attempts (Retry-After) après trop d'échecs, 503 service_busy si le serveur est saturé",
                Access::Public,
            )
            .takes::<Login>()
            .gives::<Me>(),
        )
        .post(
            "/api/auth/logout",
            logout,
            Doc::new("Se déconnecter : ferme la session", Access::Authenticated).status(204),
        )
        .get(
            "/api/me",
            me,
            Doc::new(
                "Qui suis-je : compte, profil, groupes",
                Access::Authenticated,
            )
            .gives::<Me>(),
        )
}

/// A self-registration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The login: the e-mail address.
    pub login: String,
    /// At least 12 characters, hard to guess (see `strength`).
    #[schemars(length(min = 12, max = 128))]
    pub password: String,
    /// Identity used to prefill forms.
    pub profile: ProfileInput,
}

/// The profile given at registration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// First name.
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    pub first_name: String,
    /// Last name.
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    pub last_name: String,
    /// Phone number (French).
    #[serde(default)]
    pub phone: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Birth date.
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
}

/// Credentials.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Login (any case).
    pub login: String,
    /// Password.
    pub password: String,
}

/// The account of the caller.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Me {
    /// Identifier.
    pub id: uuid::Uuid,
    /// Login.
    pub login: String,
    /// Name shown.
    pub display_name: String,
    /// `usager` or `agent`.
    pub kind: String,
    /// Identity.
    pub profile: Profile,
    /// Groups (agents).
    pub groups: Vec<String>,
}

impl Me {
    fn of(current: &Caller) -> Me {
        Me {
            id: current.user.id.uuid(),
            login: current.user.login.clone(),
            display_name: current.user.display_name.clone(),
            kind: match current.user.kind {
                UserKind::Usager => "usager",
                UserKind::Agent => "agent",
            }
            .to_owned(),
            profile: current.user.profile.clone(),
            groups: current
                .access
                .groups
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
        }
    }
}

async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Registration>,
) -> Result<Response, ApiError> {
    let mut problems = Vec::new();
    let login = body.login.trim().to_lowercase();
    if !valid_email(&login) {
        problems.push(FieldProblem::new(
            "login",
            FieldCode::FormatEmail,
            "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
        ));
    }
    let p = body.profile;
    check_password(
        &body.password,
        &[&login, &p.first_name, &p.last_name],
        &mut problems,
    );
    for (field, value) in [
        ("profile.first_name", &p.first_name),
        ("profile.last_name", &p.last_name),
    ] {
        if value.trim().is_empty() {
            problems.push(FieldProblem::new(
                field,
                FieldCode::Requis,
                "Ce champ est obligatoire.",
            ));
        }
    }
    let phone = match p.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match normalise_phone(raw) {
            Some(phone) => Some(phone),
            None => {
                problems.push(FieldProblem::new(
                    "profile.phone",
                    FieldCode::FormatTelephone,
                    "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78.",
                ));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let profile = Profile {
        first_name: Some(p.first_name.trim().to_owned()),
        last_name: Some(p.last_name.trim().to_owned()),
        email: Some(login.clone()),
        phone,
        address: p.address,
        birth_date: p.birth_date,
    };
    let hash = state.passwords.hash(body.password).await?;
    let user = state
        .store
        .create_user(
            NewUser {
                display_name: format!("{} {}", p.first_name.trim(), p.last_name.trim()),
                login,
                kind: UserKind::Usager,
                profile,
                password_hash: Some(hash),
            },
            state.clock.now(),
        )
        .await
        .map_err(|error| match error {
            StoreError::Conflict(message) => ApiError::new(ErrorCode::LoginTaken, message),
            other => other.into(),
        })?;
    let current = Caller {
        user,
        access: GroupAccess::default(),
        credential: Credential::Session,
    };
    Ok((StatusCode::CREATED, axum::Json(Me::of(&current))).into_response())
}

/// The address of the client: the connection's peer, or the last
/// `X-Forwarded-For` entry behind a trusted reverse proxy; `0.0.0.0` when
/// neither is known (a server started without connection information).
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let forwarded = state
            .settings
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|v| v.trim().parse::<IpAddr>().ok())
                    .next_back()
            })
            .flatten();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddress(
            forwarded
                .or(peer)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let refused = || {
        ApiError::new(
            ErrorCode::InvalidCredentials,
            "identifiant ou mot de passe incorrect",
        )
    };
    state.throttle.check(&body.login, address)?;
    let failed = || {
        state.throttle.failed(&body.login, address);
        refused()
    };
    // No account has a password this long: refused before any hashing.
    if body.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(failed());
    }
    let (user, hash) = match state.store.credentials(&body.login).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => {
            state.passwords.verify_decoy(body.password.clone()).await?;
            return Err(failed());
        }
        Err(other) => return Err(other.into()),
    };
    let Some(hash) = hash else {
        state.passwords.verify_decoy(body.password.clone()).await?;
        return Err(failed());
    };
    if !state.passwords.verify(hash, body.password.clone()).await? || !user.active {
        return Err(failed());
    }
    let now = state.clock.now();
    let ttl = state.settings.session_ttl;
    let session = state.store.create_session(user.id, now, ttl).await?;
    let access = match user.kind {
        UserKind::Agent => state.store.access(user.id).await?,
        UserKind::Usager => GroupAccess::default(),
    };
    let current = Caller {
        user,
        access,
        credential: Credential::Session,
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        session.token.expose(),
        ttl.num_seconds(),
        if state.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut response = axum::Json(Me::of(&current)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(response)
}

async fn logout(
    State(state): State<AppState>,
    current: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if current.credential == Credential::Session
        && let Some(token) = session_cookie(&headers)
    {
        match state
            .store
            .delete_session(&Secret::from_client(token))
            .await
        {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("guichet_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(response)
}

async fn me(current: Caller) -> axum::Json<Me> {
    axum::Json(Me::of(&current))
}
