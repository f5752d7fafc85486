//! `/api/auth` and `/api/me`, and who calls: the extractors that turn a
//! request's credentials into a [`Caller`]. The rules (passwords, the
//! throttle, sessions, tokens) are [`crate::service::accounts`]'s; this
//! module reads the credentials, the client address and the bodies, and
//! writes the cookie.
//!
//! - **People** log in with a login and a password and get a session
//!   cookie `guichet_session`: HttpOnly, SameSite=Lax, `Secure` behind
//!   HTTPS ([`Settings::secure_cookies`]), lasting
//!   [`Settings::session_ttl`]. Usagers register themselves with their
//!   profile (`POST /api/auth/register`) and replace it
//!   (`PUT /api/me/profile`); agents are created by an administrator. A
//!   person in a session changes their password (`PUT /api/me/password`).
//!   One who forgot it asks for a link by mail
//!   (`POST /api/auth/password-reset`) and chooses a new one with it
//!   (`POST /api/auth/password`), as does an usager whose account an
//!   agent created (`POST /api/agent/usagers`; see
//!   `service::accounts::password_links`).
//! - **Machines** send `Authorization: Bearer <API token>`, which wins over
//!   a cookie sent too.
//! - The **client address**, which the login throttle counts, is the peer
//!   of the connection, or the last `X-Forwarded-For` entry when
//!   [`Settings::trust_forwarded_for`] says a reverse proxy adds it.
//!
//! Extractors: [`Caller`] (anyone logged in: 401 `unauthenticated`
//! otherwise), [`UsagerUser`] and [`AgentUser`] (403 `forbidden` for the
//! other kind), [`Admin`] (the Administrateur role granted on every
//! démarche), [`ClientAddress`]. Rights on one démarche are
//! [`Caller::rights`].
//!
//! [`Settings::secure_cookies`]: super::Settings
//! [`Settings::session_ttl`]: super::Settings
//! [`Settings::trust_forwarded_for`]: super::Settings

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use guichet_core::profile::Profile;
use guichet_core::role::GroupName;
use guichet_core::value::Address;
use guichet_store::account::{User, UserKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use super::routes::{Access, ApiRouter, Doc};
use super::{ApiError, AppState};
use crate::service::accounts::{self, PasswordChange, Presented, ProfileForm, password_links};
use crate::service::administration::Administrator;
pub use crate::service::{Caller, Credential};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "guichet_session";

/// The `Set-Cookie` value that ends the session cookie.
pub const SESSION_CLEARED: &str = "guichet_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0";

/// The `Set-Cookie` value of a new session: `HttpOnly`, `SameSite=Lax`,
/// lasting [`Settings::session_ttl`], `Secure` behind TLS.
///
/// [`Settings::session_ttl`]: super::Settings
pub fn session_set_cookie(settings: &super::Settings, token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        settings.session_ttl.num_seconds(),
        if settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The value of the cookie `name` in a request's headers, if not empty.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The session token in the `Cookie` header.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(found) = parts.extensions.get::<Caller>() {
            return Ok(found.clone());
        }
        let presented = match (bearer(&parts.headers), session_cookie(&parts.headers)) {
            (Some(token), _) => Presented::ApiToken(token),
            (None, Some(session)) => Presented::Session(session),
            (None, None) => {
                return Err(ApiError::unauthenticated(
                    "connexion requise (cookie de session ou en-tête Authorization: Bearer …)",
                ));
            }
        };
        let found = accounts::authenticate(&state.guichet(), presented).await?;
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

/// An administrator: the `administration` right on every démarche
/// ([`Administrator::check`]).
pub struct Admin(pub Administrator);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let current = Caller::from_request_parts(parts, state).await?;
        Ok(Admin(Administrator::check(&current)?))
    }
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
        .put(
            "/api/me/password",
            change_password,
            Doc::new(
                "Changer son mot de passe, en session (un jeton d'API est refusé) : le mot de passe actuel est vérifié comme à la connexion (401 invalid_credentials, 429 too_many_attempts) ; les sessions ouvertes restent valides",
                Access::Authenticated,
            )
            .takes::<NewPassword>()
            .status(204),
        )
        .post(
            "/api/auth/password-reset",
            ask_reset,
            Doc::new(
                "Mot de passe oublié : si un compte actif a cette adresse pour identifiant, un lien pour choisir un nouveau mot de passe (valable une heure, une seule fois) lui est envoyé par mail ; la réponse est la même qu'il existe ou non ; un mail par compte toutes les dix minutes au plus",
                Access::Public,
            )
            .takes::<ResetAsked>()
            .status(202),
        )
        .post(
            "/api/auth/password",
            choose_password,
            Doc::new(
                "Choisir son mot de passe avec le lien reçu par mail (mot de passe oublié, ou compte créé par un agent) : le lien sert une fois, les sessions du compte sont fermées et une nouvelle est ouverte (cookie guichet_session) ; 404 lien_mot_de_passe_invalide, 410 lien_mot_de_passe_epuise",
                Access::Public,
            )
            .takes::<PasswordChosen>()
            .gives::<Me>(),
        )
        .post(
            "/api/agent/usagers",
            create_usager,
            Doc::new(
                "Créer le compte d'un usager venu au guichet ou au téléphone, sans mot de passe : un mail lui envoie un lien (valable 7 jours) pour le choisir ; 409 login_taken si un compte a déjà cette adresse",
                Access::Agent("file_on_behalf"),
            )
            .takes::<NewUsager>()
            .gives::<Me>()
            .status(201),
        )
        .put(
            "/api/me/profile",
            update_profile,
            Doc::new(
                "Remplacer son profil d'usager et le nom affiché ; les brouillons ouverts ensuite en sont préremplis",
                Access::Usager,
            )
            .takes::<ProfileInput>()
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

/// An usager's profile, given at registration or to replace it.
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

impl From<ProfileInput> for ProfileForm {
    fn from(input: ProfileInput) -> Self {
        ProfileForm {
            first_name: input.first_name,
            last_name: input.last_name,
            phone: input.phone,
            address: input.address,
            birth_date: input.birth_date,
        }
    }
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

/// A change of one's password.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The password in use.
    pub current_password: String,
    /// The new one: at least 12 characters, hard to guess (see `strength`).
    #[schemars(length(min = 12, max = 128))]
    pub new_password: String,
}

/// A *mot de passe oublié*.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetAsked {
    /// The account's login: its e-mail address.
    pub login: String,
}

/// A password chosen with a mailed link.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChosen {
    /// The token: the last segment of the link (`…/mot-de-passe/{token}`).
    pub token: String,
    /// At least 12 characters, hard to guess (see `strength`).
    #[schemars(length(min = 12, max = 128))]
    pub password: String,
}

/// An usager's account created by an agent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUsager {
    /// Their e-mail address: the login, and where the link goes.
    pub email: String,
    /// Their identity (without the e-mail, given above).
    pub profile: ProfileInput,
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
    fn of(user: &User, groups: &[GroupName]) -> Me {
        Me {
            id: user.id.uuid(),
            login: user.login.clone(),
            display_name: user.display_name.clone(),
            kind: match user.kind {
                UserKind::Usager => "usager",
                UserKind::Agent => "agent",
            }
            .to_owned(),
            profile: user.profile.clone(),
            groups: groups.iter().map(|g| g.as_str().to_owned()).collect(),
        }
    }

    fn of_caller(caller: &Caller) -> Me {
        Me::of(&caller.user, &caller.access.groups)
    }
}

async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Registration>,
) -> Result<Response, ApiError> {
    let registration = accounts::Registration {
        login: body.login,
        password: body.password,
        profile: body.profile.into(),
    };
    let user = accounts::register(&state.accounts(), registration).await?;
    Ok((StatusCode::CREATED, Json(Me::of(&user, &[]))).into_response())
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let logged_in =
        accounts::log_in(&state.accounts(), &body.login, &body.password, address).await?;
    session_opened(&state, &logged_in)
}

/// The caller's account, with the cookie of the session just opened.
fn session_opened(state: &AppState, logged_in: &accounts::LoggedIn) -> Result<Response, ApiError> {
    let cookie = session_set_cookie(&state.settings, logged_in.session.token.expose());
    let mut response = Json(Me::of_caller(&logged_in.caller)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(response)
}

async fn ask_reset(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResetAsked>,
) -> Result<StatusCode, ApiError> {
    password_links::ask_reset(&state.guichet(), &body.login).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn choose_password(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PasswordChosen>,
) -> Result<Response, ApiError> {
    let logged_in =
        password_links::choose_password(&state.accounts(), &body.token, body.password).await?;
    session_opened(&state, &logged_in)
}

async fn create_usager(
    State(state): State<AppState>,
    current: Caller,
    ApiJson(body): ApiJson<NewUsager>,
) -> Result<Response, ApiError> {
    let user = password_links::create_usager(
        &state.accounts(),
        &current,
        &body.email,
        body.profile.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Me::of(&user, &[]))).into_response())
}

async fn logout(
    State(state): State<AppState>,
    current: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    accounts::log_out(&state.guichet(), &current, session_cookie(&headers)).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(SESSION_CLEARED),
    );
    Ok(response)
}

async fn me(current: Caller) -> Json<Me> {
    Json(Me::of_caller(&current))
}

async fn change_password(
    State(state): State<AppState>,
    current: Caller,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let change = PasswordChange {
        current_password: body.current_password,
        new_password: body.new_password,
    };
    accounts::change_password(
        &state.accounts(),
        &current,
        change,
        address,
        session_cookie(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn update_profile(
    State(state): State<AppState>,
    current: Caller,
    ApiJson(body): ApiJson<ProfileInput>,
) -> Result<Json<Me>, ApiError> {
    let updated = accounts::update_profile(&state.guichet(), &current, body.into()).await?;
    Ok(Json(Me::of_caller(&updated)))
}
