//! The usager portal: server-rendered pages in French (`../shared/WEB.md`).
//!
//! **Design.** One URL per page, usable without JavaScript; each handler
//! extracts, calls the application layer (`crate::service`) once and
//! renders a template — no rule of the JSON API is written again here.
//! Templates are compiled into the binary by `askama` (`host/templates/
//! portal/`, escaping every value), the stylesheet is embedded
//! (`host/static/portal.css`). Every page has `lang="fr"`, a unique
//! `<title>` naming it, one `<h1>`, a skip link and visible focus.
//!
//! **Safe.** Pages answer with `Content-Security-Policy: default-src
//! 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'` —
//! no inline script or style, nothing from elsewhere —, `Referrer-Policy:
//! same-origin` (the page's forms carry their origin; other sites learn
//! nothing), and the security
//! headers and cross-site write refusal of every response
//! (`crate::http::security`). Nothing personal goes in a URL.
//!
//! **Built so far:** the home page (categories, keyword search ignoring
//! accents, every démarche open to everyone), a category, a démarche's
//! presentation page (steps, documents, average time, practical
//! information, links, open period, *Je donne mon avis* in production),
//! the survey the closing mails link to (`web/survey.rs`), and a page for
//! addresses that lead nowhere. The form, the account and
//! the follow-up pages are listed in the README's "Not built yet".

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use guichet_core::demarche::{OpenPeriod, Presentation};
use guichet_core::id::Slug;
use guichet_store::demarche::{CatalogueEntry, CatalogueQuery};
use serde::Deserialize;

use crate::http::AppState;
use crate::service::{ServiceError, catalogue};

pub(crate) mod account;
mod admin;
pub(crate) mod back_office;
mod demandes;
mod form;
mod look;
mod organisation;
mod password;
mod session;
mod survey;
mod upload;

pub use look::{Colour, Look};
pub use session::{CSRF_COOKIE, CSRF_FIELD};
use session::{Csrf, Visitor};

/// The Content-Security-Policy of the pages.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The stylesheet, embedded.
const STYLESHEET: &str = include_str!("../static/portal.css");

/// The script that improves the form pages, embedded (plain JavaScript,
/// no build step; every page works without it).
const SCRIPT: &str = include_str!("../static/portal.js");

/// The portal's routes.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/demarches/{slug}", get(demarche))
        .route("/enquete/{token}", get(survey::show).post(survey::answer))
        .merge(account::router())
        .merge(password::router())
        .merge(form::router())
        .merge(demandes::router())
        .merge(back_office::router())
        .merge(admin::router())
        .merge(organisation::router())
        .layer(axum::middleware::from_fn_with_state(
            state,
            session::csrf_cookie,
        ))
        .route("/static/portal.css", get(stylesheet))
        .route("/static/portal.js", get(script))
        .route("/static/theme.css", get(theme))
        .route("/static/logo", get(logo))
}

/// What every page shows of the site: the collectivité, who is logged in,
/// and the CSRF token its forms carry (the logout button's included).
#[derive(Clone)]
pub(crate) struct Site {
    collectivite: String,
    /// The name shown of the usager logged in.
    user: Option<String>,
    /// The name shown of the agent logged in (filling a form for an
    /// usager).
    agent: Option<String>,
    /// This browser's CSRF token.
    csrf: String,
    /// Whether the collectivité has a logo (`/static/logo`).
    logo: bool,
}

impl Site {
    /// The site for a response made without the request (the 404 page).
    fn anonymous(state: &AppState) -> Site {
        Site {
            collectivite: state.settings.collectivite.clone(),
            user: None,
            agent: None,
            csrf: String::new(),
            logo: state.settings.look.logo.is_some(),
        }
    }
}

impl axum::extract::FromRequestParts<AppState> for Site {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(Visitor(visitor)) = Visitor::from_request_parts(parts, state).await;
        let Ok(Csrf(csrf)) = Csrf::from_request_parts(parts, state).await;
        Ok(Site {
            collectivite: state.settings.collectivite.clone(),
            user: visitor
                .as_ref()
                .filter(|caller| caller.is_usager())
                .map(|caller| caller.user.display_name.clone()),
            agent: visitor
                .filter(|caller| !caller.is_usager())
                .map(|caller| caller.user.display_name),
            csrf,
            logo: state.settings.look.logo.is_some(),
        })
    }
}

/// What a query string's value keeps as is: letters, digits and the
/// unreserved `-._~` (RFC 3986).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` percent-encoded for a query string.
fn urlencoded(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// A page that says one thing.
#[derive(Template)]
#[template(path = "portal/message.html")]
struct MessagePage<'a> {
    site: Site,
    heading: &'a str,
    text: &'a str,
}

/// A page that says one thing, with `status`.
fn message(site: &Site, status: StatusCode, heading: &str, text: &str) -> Response {
    page(
        status,
        &MessagePage {
            site: site.clone(),
            heading,
            text,
        },
    )
}

/// An error shown on a form: summarised at the top of the page (a link
/// to `anchor`, the id of the field's input) and beside its field.
#[derive(Debug, Clone)]
pub(crate) struct ErrorView {
    /// The field's name in the form.
    pub field: String,
    /// The id of the element the summary's link leads to.
    pub anchor: String,
    /// The French message.
    pub message: String,
    /// The field's label, which the summary names before the message.
    pub label: Option<String>,
}

impl ErrorView {
    /// Where the summary's link leads: `#anchor` on this page, or the
    /// address of another page.
    pub fn href(&self) -> String {
        if self.anchor.starts_with('/') {
            self.anchor.clone()
        } else {
            format!("#{}", self.anchor)
        }
    }

    /// An error on `field`, whose input has the id `field`.
    fn on(field: &str, message: impl Into<String>) -> ErrorView {
        ErrorView {
            field: field.to_owned(),
            anchor: field.replace('.', "-"),
            message: message.into(),
            label: None,
        }
    }
}

/// The errors of a form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Errors(pub Vec<ErrorView>);

impl Errors {
    /// The message of the error on `field`, if any.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether the form has no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The status of a page showing these errors: 200, or 422.
    fn status(&self) -> StatusCode {
        if self.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

/// The answer to a form not read ([`session::Refusal`]).
fn refusal(site: &Site, refusal: session::Refusal) -> Response {
    match refusal {
        session::Refusal::Csrf => csrf_refused(site),
        session::Refusal::Control(field) => message(
            site,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Caractère non admis",
            &format!(
                "Le champ « {field} » contient un caractère de contrôle invisible, qu'aucun texte ne peut contenir. Revenez à la page précédente et saisissez-le à nouveau."
            ),
        ),
    }
}

/// A redirection after a form (303: the browser then gets the page).
fn see_other(path: &str) -> Response {
    axum::response::Redirect::to(path).into_response()
}

/// The answer to a form whose CSRF token is missing or wrong.
fn csrf_refused(site: &Site) -> Response {
    message(
        site,
        StatusCode::FORBIDDEN,
        "Formulaire expiré",
        "Ce formulaire n'a pas pu être pris en compte : il a expiré ou vient d'un autre site. Revenez à la page précédente, rechargez-la, puis recommencez.",
    )
}

/// A rendered page with the portal's security policy.
fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            // `no-referrer` (the API's) makes a browser send `Origin: null`
            // with the page's own forms, which the cross-site check refuses;
            // `same-origin` still tells nothing to other sites.
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "page impossible à produire");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cette page n'a pas pu être affichée.",
            )
                .into_response()
        }
    }
}

/// An address that leads to no page.
#[derive(Template)]
#[template(path = "portal/not_found.html")]
struct NotFoundPage {
    site: Site,
}

/// The 404 page.
pub fn not_found(state: &AppState) -> Response {
    page(
        StatusCode::NOT_FOUND,
        &NotFoundPage {
            site: Site::anonymous(state),
        },
    )
}

/// A failure of the application layer, as a page.
fn failure(site: &Site, error: ServiceError) -> Response {
    match error {
        ServiceError::NotFound(_) => {
            page(StatusCode::NOT_FOUND, &NotFoundPage { site: site.clone() })
        }
        ServiceError::Forbidden(text) => {
            message(site, StatusCode::FORBIDDEN, "Accès refusé", &text)
        }
        other => {
            tracing::error!(error = %other, "page en échec");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html("<!DOCTYPE html><html lang=\"fr\"><title>Service indisponible</title><h1>Service momentanément indisponible</h1><p>Réessayez dans quelques instants.</p></html>"),
            )
                .into_response()
        }
    }
}

/// The home page's query: a search, a category.
#[derive(Debug, Default, Deserialize)]
struct HomeQuery {
    q: Option<String>,
    category: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    site: Site,
    search: Option<String>,
    category: Option<String>,
    categories: Vec<String>,
    entries: Vec<CatalogueEntry>,
    /// The most-filed démarches, on the unfiltered home page.
    most_filed: Vec<CatalogueEntry>,
}

async fn home(
    State(state): State<AppState>,
    site: Site,
    Query(query): Query<HomeQuery>,
) -> Response {
    let guichet = state.guichet();
    let filled =
        |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let search = filled(query.q);
    let category = filled(query.category);
    let asked = CatalogueQuery {
        category: category.clone(),
        search: search.clone(),
    };
    let entries = match catalogue::list(&guichet, &asked).await {
        Ok(entries) => entries,
        Err(error) => return failure(&site, error),
    };
    // The categories are those of every démarche listed: the same list
    // unless the visitor searched or chose a category.
    let every = if search.is_none() && category.is_none() {
        entries.clone()
    } else {
        match catalogue::list(&guichet, &CatalogueQuery::default()).await {
            Ok(every) => every,
            Err(error) => return failure(&site, error),
        }
    };
    let most_filed = if search.is_none() && category.is_none() {
        match catalogue::most_filed(&guichet, &state.most_filed, &every, 3).await {
            Ok(found) => found,
            Err(error) => return failure(&site, error),
        }
    } else {
        Vec::new()
    };
    let mut categories: Vec<String> = every.into_iter().map(|e| e.category).collect();
    categories.sort();
    categories.dedup();
    page(
        StatusCode::OK,
        &HomePage {
            site,
            search,
            category,
            categories,
            entries,
            most_filed,
        },
    )
}

#[derive(Template)]
#[template(path = "portal/demarche.html")]
struct DemarchePage {
    site: Site,
    slug: String,
    title: String,
    category: String,
    open: bool,
    period: Option<String>,
    presentation: Presentation,
    observatoire_url: Option<String>,
}

/// An open period in words (`du 01/05/2026 au 31/08/2026`).
fn period(period: &OpenPeriod) -> Option<String> {
    let day = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
    match (period.from, period.until) {
        (Some(from), Some(until)) => Some(format!("du {} au {}", day(from), day(until))),
        (Some(from), None) => Some(format!("à partir du {}", day(from))),
        (None, Some(until)) => Some(format!("jusqu'au {}", day(until))),
        (None, None) => None,
    }
}

async fn demarche(
    State(state): State<AppState>,
    site: Site,
    axum::extract::Path(slug): axum::extract::Path<String>,
) -> Response {
    let guichet = state.guichet();
    let (stored, open) = match catalogue::demarche(&guichet, &Slug::from(slug)).await {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let observatoire_url = catalogue::observatoire_url(&guichet, &stored);
    let definition = stored.definition;
    page(
        StatusCode::OK,
        &DemarchePage {
            site,
            period: definition.open_period.as_ref().and_then(period),
            slug: definition.slug.as_str().to_owned(),
            title: definition.title,
            category: definition.category,
            open,
            presentation: definition.presentation,
            observatoire_url,
        },
    )
}

async fn theme(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        state.settings.look.theme_css(),
    )
}

async fn logo(State(state): State<AppState>) -> Response {
    match &state.settings.look.logo {
        Some((bytes, kind)) => (
            [
                (header::CONTENT_TYPE, kind.mime()),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            bytes.clone(),
        )
            .into_response(),
        None => not_found(&state),
    }
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}
