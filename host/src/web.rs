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

mod survey;

/// The Content-Security-Policy of the pages.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The stylesheet, embedded.
const STYLESHEET: &str = include_str!("../static/portal.css");

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/demarches/{slug}", get(demarche))
        .route("/enquete/{token}", get(survey::show).post(survey::answer))
        .route("/static/portal.css", get(stylesheet))
}

/// What every page shows of the site.
struct Site {
    collectivite: String,
}

impl Site {
    fn of(state: &AppState) -> Site {
        Site {
            collectivite: state.settings.collectivite.clone(),
        }
    }
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
            site: Site::of(state),
        },
    )
}

/// A failure of the application layer, as a page.
fn failure(state: &AppState, error: ServiceError) -> Response {
    match error {
        ServiceError::NotFound(_) => not_found(state),
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
}

async fn home(State(state): State<AppState>, Query(query): Query<HomeQuery>) -> Response {
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
        Err(error) => return failure(&state, error),
    };
    // The categories are those of every démarche listed: the same list
    // unless the visitor searched or chose a category.
    let every = if search.is_none() && category.is_none() {
        entries.clone()
    } else {
        match catalogue::list(&guichet, &CatalogueQuery::default()).await {
            Ok(every) => every,
            Err(error) => return failure(&state, error),
        }
    };
    let mut categories: Vec<String> = every.into_iter().map(|e| e.category).collect();
    categories.sort();
    categories.dedup();
    page(
        StatusCode::OK,
        &HomePage {
            site: Site::of(&state),
            search,
            category,
            categories,
            entries,
        },
    )
}

#[derive(Template)]
#[template(path = "portal/demarche.html")]
struct DemarchePage {
    site: Site,
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
    axum::extract::Path(slug): axum::extract::Path<String>,
) -> Response {
    let guichet = state.guichet();
    let (stored, open) = match catalogue::demarche(&guichet, &Slug::from(slug)).await {
        Ok(found) => found,
        Err(error) => return failure(&state, error),
    };
    let observatoire_url = catalogue::observatoire_url(&guichet, &stored);
    let definition = stored.definition;
    page(
        StatusCode::OK,
        &DemarchePage {
            site: Site::of(&state),
            period: definition.open_period.as_ref().and_then(period),
            title: definition.title,
            category: definition.category,
            open,
            presentation: definition.presentation,
            observatoire_url,
        },
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
