//! The HTTP API (axum, JSON). One route file per resource, each exposing
//! `router()`: [`auth`] (register, login, logout, me), [`catalogue`]
//! (démarches on the usager portal), [`drafts`] (filling a form, uploads,
//! summary, submission — also the *saisie au nom de l'usager*),
//! [`demandes`] (an usager's own demandes, history, reply, abandon),
//! [`agent`] (the back office: processing table, detail, actions, *cadre
//! réservé*), [`statistics`] (the figures of the 27-day promise, JSON and
//! CSV, and the demandes late or never taken), [`links`] (usagers' accounts linked to their record at a
//! vendor), [`admin`] (démarches and versions, groups, grants, users, API
//! tokens), [`connectors`] (connector administration) and [`openapi`] (the
//! document at `GET /api/openapi.json`). [`router`] assembles them over the
//! shared [`AppState`]; `App::start` serves it.
//!
//! A handler extracts its input, calls one use case of [`crate::service`]
//! (through [`AppState::guichet`], or [`AppState::accounts`] for what
//! needs passwords) and builds the view; the rules are there and in
//! `guichet-core`. (The connector handlers still call the registry
//! directly.)
//!
//! Errors are [`ApiError`]: `{"code", "message"}` with a stable snake_case
//! code of the catalogue ([`ErrorCode`], one table of code → status in
//! `codes`); every extractor rejects in that shape ([`extract`]), and every
//! `crate::service::ServiceError` maps to it. Who may call what is said
//! once per route ([`routes::Doc`]) and enforced by the extractors of
//! [`auth`] and the rights checks of the use cases: nothing writes
//! anonymously (401), a missing right is 403, and an usager asking for
//! someone else's demande gets 404, as if it did not exist.
//!
//! Every response goes through the layers of [`security`]: security
//! headers (`X-Content-Type-Options`, CSP, `X-Frame-Options`,
//! `Referrer-Policy`, HSTS behind TLS, `Cache-Control: no-store`) and the
//! refusal of state-changing requests sent by another site (403
//! `cross_site_request`).
//!
//! Time is read from the injected clock of the state, never from the system;
//! calendar dates (open periods, `today`, deadlines) in the collectivité's
//! time zone, [`Settings::time_zone`].

pub mod admin;
pub mod agent;
pub mod auth;
pub mod catalogue;
mod codes;
pub mod connectors;
pub mod demandes;
pub mod download;
pub mod drafts;
mod error;
pub mod extract;
pub mod form;
pub mod links;
pub mod openapi;
pub mod routes;
pub mod security;
pub mod statistics;
pub mod survey;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse as _;
use guichet_core::calendar::Zone;
use guichet_core::clock::Clock;

use guichet_store::Store;

use crate::connectors::Registry;

pub use crate::service::accounts::{
    LoginLimits, LoginThrottle, PasswordCost, PasswordHashing, Tier,
};
pub use auth::Admin;
pub use codes::ErrorCode;
pub use error::{ApiError, FieldCode, FieldProblem};

/// Tunables of the API.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a session lasts.
    pub session_ttl: chrono::Duration,
    /// Whether the session cookie is marked `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The cost of password hashes.
    pub password_cost: PasswordCost,
    /// Largest multipart request (a file and its form), in bytes; each
    /// file field has its own, smaller, cap.
    pub upload_limit: usize,
    /// The collectivité's time zone, in which every calendar date is read
    /// (open periods, `today`, deadlines, dates in texts); `Europe/Paris`.
    pub time_zone: Zone,
    /// How long trashed demandes and unsent drafts are kept (the scheduler
    /// deletes them after; an administrator restores within the trash period).
    pub retention: crate::scheduler::Retention,
    /// Password hashes computed at once at most (default: twice the cores).
    pub password_hashing_slots: usize,
    /// How long a login waits for a hashing slot before 503 `service_busy`.
    pub password_hashing_wait: std::time::Duration,
    /// Wrong passwords allowed per account and per address before delays.
    pub login_limits: LoginLimits,
    /// Whether the client address is the last `X-Forwarded-For` entry, and
    /// the API's host `X-Forwarded-Host` (behind a reverse proxy that sets
    /// them), rather than the peer and the `Host` header.
    pub trust_forwarded_for: bool,
    /// Origins (`https://portail.ville.fr`) allowed to send state-changing
    /// requests besides the API's own host.
    pub allowed_origins: Vec<String>,
    /// How notifications leave (SMTP, SMS gateway, links' base address).
    pub delivery: Arc<crate::service::notifications::Delivery>,
    /// Test or production (`guichet serve --environment`).
    pub environment: crate::service::Environment,
    /// The collectivité's name, shown on every page of the portal and in
    /// mails (`guichet serve --collectivite`).
    pub collectivite: String,
    /// The portal's colour and logo (`--portal-colour`, `--logo-file`).
    pub look: Arc<crate::web::Look>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::hours(12),
            secure_cookies: false,
            password_cost: PasswordCost::Standard,
            upload_limit: 25 * 1024 * 1024,
            time_zone: Zone::default(),
            retention: crate::scheduler::Retention::default(),
            password_hashing_slots: crate::service::accounts::default_hashing_slots(),
            password_hashing_wait: std::time::Duration::from_secs(2),
            login_limits: LoginLimits::default(),
            trust_forwarded_for: false,
            allowed_origins: Vec::new(),
            delivery: Arc::default(),
            environment: crate::service::Environment::default(),
            collectivite: "Guichet".to_owned(),
            look: Arc::default(),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database and the file storage.
    pub store: Store,
    /// The clock every handler reads "now" from.
    pub clock: Arc<dyn Clock>,
    /// Installed connectors and their instances.
    pub registry: Arc<Registry>,
    /// Tunables.
    pub settings: Arc<Settings>,
    /// The bounded password hashing.
    pub passwords: Arc<PasswordHashing>,
    /// The count of wrong passwords.
    pub throttle: Arc<LoginThrottle>,
    /// The connector worker's circuit breakers, per instance.
    pub breakers: Arc<crate::service::breaker::Breakers>,
    /// The home page's most-filed démarches, counted now and then.
    pub most_filed: Arc<crate::service::catalogue::MostFiled>,
}

impl AppState {
    /// What the use cases of [`crate::service`] work with.
    pub fn guichet(&self) -> crate::service::Guichet {
        crate::service::Guichet {
            store: self.store.clone(),
            clock: self.clock.clone(),
            registry: self.registry.clone(),
            zone: self.settings.time_zone,
            breakers: self.breakers.clone(),
            delivery: self.settings.delivery.clone(),
            environment: self.settings.environment,
        }
    }

    /// What the account use cases of [`crate::service::accounts`] work
    /// with: the [`Self::guichet`], password hashing, the login throttle and
    /// the length of sessions.
    pub fn accounts(&self) -> crate::service::accounts::Accounts {
        crate::service::accounts::Accounts {
            guichet: self.guichet(),
            passwords: self.passwords.clone(),
            throttle: self.throttle.clone(),
            session_ttl: self.settings.session_ttl,
        }
    }

    /// The state, with password hashing and the login throttle made from
    /// `settings` on `clock`.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        registry: Arc<Registry>,
        settings: Settings,
    ) -> Self {
        let passwords = Arc::new(PasswordHashing::new(
            settings.password_cost,
            settings.password_hashing_slots,
            settings.password_hashing_wait,
        ));
        let throttle = Arc::new(LoginThrottle::new(&settings.login_limits, clock.clone()));
        Self {
            store,
            clock,
            registry,
            settings: Arc::new(settings),
            passwords,
            throttle,
            breakers: Arc::default(),
            most_filed: Arc::default(),
        }
    }
}

/// Every documented route of the API.
pub fn api() -> routes::ApiRouter {
    routes::ApiRouter::new()
        .get(
            "/health",
            || async { "ok" },
            routes::Doc::new("État du service (répond « ok »)", routes::Access::Public)
                .answers(routes::Body::None),
        )
        .merge(auth::router())
        .merge(catalogue::router())
        .merge(drafts::router())
        .merge(demandes::router())
        .merge(agent::router())
        .merge(statistics::router())
        .merge(links::router())
        .merge(survey::router())
        .merge(admin::router())
        .merge(connectors::router())
        .merge(openapi::router())
}

/// The whole API over a state.
pub fn router(state: AppState) -> Router {
    let limit = state.settings.upload_limit;
    let (router, _) = api().into_parts();
    let router = router
        .merge(crate::web::router(state.clone()))
        // The API answers JSON; the portal's addresses a page.
        .fallback(
            |State(state): State<AppState>, uri: axum::http::Uri| async move {
                if uri.path() == "/api" || uri.path().starts_with("/api/") {
                    ApiError::new(ErrorCode::RouteNotFound, "cette adresse n'existe pas")
                        .into_response()
                } else {
                    crate::web::not_found(&state)
                }
            },
        )
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "méthode non prise en charge à cette adresse",
            )
        })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::refuse_cross_site,
        ));
    security::with_headers(router, &state.settings).with_state(state)
}
