//! The agents' back office in the browser (`/back-office/…`,
//! `../shared/WEB.md`): the processing table and one demande with its
//! workflow's actions (`back_office/demande.rs`).
//!
//! **Design.** The portal's rules hold: server-rendered pages built on the
//! application layer (`crate::service::back_office`, `processing`), the
//! same session cookie, CSRF token, error summary and stylesheet; every
//! page works without JavaScript. An agent logs in on `/connexion` like an
//! usager and lands here. What an agent's rights do not allow is not shown
//! **and** refused: the table lists only the demandes the agent may read
//! (per démarche and, for roles tied to services, per service), a demande
//! they may not read is refused, an action is offered only when the
//! workflow opens it to them now (`Workflow::available`) and checked again
//! by the workflow when posted.
//!
//! **The table** (`/back-office/demandes`): filters by démarche, status,
//! service, reminder reached (15 or 21 days), late, on hold, a search by
//! number or usager's account name; sorted by deadline or by reminder;
//! 50 rows a page; the count of each status under the other filters; a CSV
//! export (`/back-office/demandes.csv`, the `csv` crate, `;`-separated
//! with a BOM for spreadsheets set to French) of the demandes where the
//! agent holds the `process` right — *work the processing table*,
//! PROCESS.md.

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guichet_core::id::StatusId;
use guichet_core::role::Right;
use guichet_store::demande::TableSort;
use serde::Deserialize;

use super::session::Visitor;
use super::{ErrorView, Errors, Site, failure, message, page, urlencoded};
use crate::http::AppState;
use crate::service::back_office::{self, StatusCount, TableRequest};
use crate::service::{Caller, ServiceError};

mod demande;
mod saisie;
mod statistics;
mod usager;

/// The rows of a page of the table.
const PAGE_ROWS: u32 = 50;

/// The most rows a CSV export holds.
const EXPORT_ROWS: u32 = 10_000;

/// The table's `fait` after a transfer took the demande out of the
/// agent's services (`demande/posts.rs`).
const TRANSFERRED: &str = "transfert";

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/back-office",
            get(|| async { Redirect::to("/back-office/demandes") }),
        )
        .route("/back-office/demandes", get(table))
        .route("/back-office/demandes.csv", get(export))
        .route("/back-office/demandes/{id}", get(demande::show))
        .route(
            "/back-office/demandes/{id}/actions/{transition}",
            post(demande::act),
        )
        .route(
            "/back-office/demandes/{id}/cadre-reserve",
            post(demande::reserved_fields),
        )
        .route(
            "/back-office/demandes/{id}/restaurer",
            post(demande::restore),
        )
        .route("/back-office/saisie", get(saisie::show).post(saisie::start))
        .route("/back-office/saisie/compte", post(saisie::create_account))
        .route("/back-office/usagers/{id}", get(usager::show))
        .route(
            "/back-office/usagers/{id}/rattachements",
            post(usager::link),
        )
        .route(
            "/back-office/usagers/{id}/rattachements/{instance}/retirer",
            post(usager::unlink),
        )
        .route("/back-office/statistiques", get(statistics::show))
        .route("/back-office/statistiques.csv", get(statistics::export))
}

/// A logged-in agent; anyone else is sent to the login page (anonymous)
/// or told the back office is for agents (an usager).
#[derive(Debug, Clone)]
pub struct Agent(pub Caller);

impl FromRequestParts<AppState> for Agent {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(Visitor(found)) = Visitor::from_request_parts(parts, state).await;
        match found {
            Some(caller) if !caller.is_usager() => Ok(Agent(caller)),
            Some(_) => Err(message(
                &Site::anonymous(state),
                StatusCode::FORBIDDEN,
                "Espace réservé aux agents",
                "Le back office sert les agents de la collectivité. Vous êtes connecté(e) avec un compte usager : vos demandes sont dans « Mes demandes ».",
            )),
            None => {
                let back = if parts.method == axum::http::Method::GET {
                    parts.uri.path()
                } else {
                    "/back-office/demandes"
                };
                Err(Redirect::to(&format!("/connexion?suite={}", urlencoded(back))).into_response())
            }
        }
    }
}

/// What every back-office page shows around its content: the site, the
/// agent's name, and the links their rights open.
#[derive(Clone)]
pub(crate) struct Desk {
    pub(crate) site: Site,
    /// The agent's name.
    pub(crate) agent: String,
    /// Holds the `statistics` right somewhere.
    pub(crate) statistics: bool,
    /// Holds the `file_on_behalf` right somewhere (*saisie*).
    pub(crate) saisie: bool,
    /// An administrator.
    pub(crate) admin: bool,
}

impl Desk {
    pub(crate) fn of(site: Site, agent: &Caller) -> Desk {
        // The rights of the agent's groups, on whatever démarche.
        let rights = agent
            .access
            .grants
            .iter()
            .filter(|grant| agent.access.groups.contains(&grant.group))
            .fold(guichet_core::role::Rights::NONE, |all, grant| {
                all.union(grant.group.role().rights())
            });
        Desk {
            site,
            agent: agent.user.display_name.clone(),
            statistics: rights.contains(Right::Statistics),
            saisie: rights.contains(Right::FileOnBehalf),
            admin: agent.global_rights().contains(Right::Administration),
        }
    }
}

/// The table's filters, as the address holds them (French names, every
/// value a text read here so that a wrong one is told, not a 400).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct Filters {
    demarche: String,
    statut: String,
    service: String,
    /// `15`, `21`, `aucune`, or empty.
    relance: String,
    /// `oui`, `non`, or empty.
    retard: String,
    /// `oui`, `non`, or empty.
    attente: String,
    /// A number or words of a name.
    q: String,
    /// `echeance` (default) or `relance`.
    tri: String,
    /// From 1.
    page: String,
    /// What was just done, to tell it (`transfert`); not carried in the
    /// table's links.
    fait: String,
}

impl Filters {
    /// The service's request, and the errors of the values that do not
    /// read (each filter then ignored).
    fn request(&self) -> (TableRequest, Errors, u32) {
        let mut errors = Vec::new();
        let yes_no = |value: &str, field: &str, errors: &mut Vec<ErrorView>| match value {
            "" => None,
            "oui" => Some(true),
            "non" => Some(false),
            _ => {
                errors.push(ErrorView::on(field, "Choisissez « oui », « non » ou rien."));
                None
            }
        };
        let late = yes_no(&self.retard, "retard", &mut errors);
        let on_hold = yes_no(&self.attente, "attente", &mut errors);
        let reminder = match self.relance.as_str() {
            "" => None,
            "aucune" => Some(0),
            "15" => Some(15),
            "21" => Some(21),
            _ => {
                errors.push(ErrorView::on(
                    "relance",
                    "Choisissez une relance de 15 ou 21 jours, « aucune » ou rien.",
                ));
                None
            }
        };
        let sort = match self.tri.as_str() {
            "" | "echeance" => TableSort::Deadline,
            "relance" => TableSort::Reminder,
            _ => {
                errors.push(ErrorView::on("tri", "Triez par échéance ou par relance."));
                TableSort::Deadline
            }
        };
        let page = match self.page.trim() {
            "" => 1,
            text => match text.parse::<u32>() {
                Ok(page) if (1..=u32::MAX / PAGE_ROWS).contains(&page) => page,
                _ => {
                    errors.push(ErrorView::on(
                        "page",
                        "Le numéro de page doit être un nombre entier à partir de 1.",
                    ));
                    1
                }
            },
        };
        let request = TableRequest {
            demarche: Some(self.demarche.clone()).filter(|s| !s.is_empty()),
            statuses: Some(self.statut.trim())
                .filter(|s| !s.is_empty())
                .map(StatusId::from)
                .into_iter()
                .collect(),
            late,
            reminder,
            on_hold,
            search: Some(self.q.trim().to_owned()).filter(|s| !s.is_empty()),
            sort,
            service: Some(self.service.trim().to_owned()).filter(|s| !s.is_empty()),
            offset: (page - 1) * PAGE_ROWS,
            limit: Some(PAGE_ROWS),
        };
        (request, Errors(errors), page)
    }

    /// The address's query of these filters with `page` (and, if given,
    /// another status).
    fn query(&self, page: u32, status: Option<&str>) -> String {
        let pairs = [
            ("demarche", self.demarche.as_str()),
            ("statut", status.unwrap_or(&self.statut)),
            ("service", &self.service),
            ("relance", &self.relance),
            ("retard", &self.retard),
            ("attente", &self.attente),
            ("q", &self.q),
            ("tri", &self.tri),
        ];
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", urlencoded(value)))
            .collect();
        if page > 1 {
            query.push(format!("page={page}"));
        }
        query.join("&")
    }
}

/// A line of the table as shown.
struct RowView {
    id: String,
    numero: String,
    demarche: String,
    usager: String,
    status: String,
    service: String,
    filed: String,
    deadline: String,
    /// `Relance 15 j`, `En retard`, `En attente`: what to look at first.
    alerts: Vec<&'static str>,
}

/// A choice of a select.
struct Option_ {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "back_office/table.html")]
struct TablePage {
    desk: Desk,
    filters: Filters,
    demarches: Vec<Option_>,
    counts: Vec<(StatusCount, String, bool)>,
    rows: Vec<RowView>,
    total: u64,
    page: u32,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
    /// The export's address, for an agent with the `process` right.
    export: Option<String>,
    /// What was just done, told once after a redirect.
    done: Option<&'static str>,
    errors: Errors,
}

async fn table(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Query(filters): Query<Filters>,
) -> Response {
    let guichet = state.guichet();
    let desk = Desk::of(site.clone(), &agent);
    let demarches = match back_office::demarches(&guichet, &agent).await {
        Ok(demarches) => demarches,
        Err(error) => return failure(&site, error),
    };
    let (request, mut errors, page_number) = filters.request();
    let counted = back_office::counts(&guichet, &agent, request.clone()).await;
    let found = back_office::table(&guichet, &agent, request).await;
    let (counts, found) = match (counted, found) {
        (Ok(counts), Ok(found)) => (counts, found),
        (Err(ServiceError::Fields(problems)), _) | (_, Err(ServiceError::Fields(problems))) => {
            errors.0.extend(
                problems
                    .into_iter()
                    .map(|p| ErrorView::on("service", p.message)),
            );
            (
                Vec::new(),
                back_office::Table {
                    total: 0,
                    rows: Vec::new(),
                },
            )
        }
        (Err(error), _) | (_, Err(error)) => return failure(&site, error),
    };
    let zone = guichet.zone;
    let titles: std::collections::HashMap<String, String> = demarches
        .iter()
        .map(|(entry, _)| (entry.slug.to_string(), entry.title.clone()))
        .collect();
    let rows = found
        .rows
        .into_iter()
        .map(|back_office::TableRow { row, status_label }| {
            let mut alerts = Vec::new();
            match row.reminder {
                Some(21..) => alerts.push("Relance 21 j"),
                Some(15..) => alerts.push("Relance 15 j"),
                _ => {}
            }
            if row.late {
                alerts.push("En retard");
            }
            if row.on_hold_since.is_some() {
                alerts.push("En attente");
            }
            RowView {
                id: row.id.uuid().to_string(),
                demarche: titles
                    .get(row.demarche.slug.as_str())
                    .cloned()
                    .unwrap_or_else(|| row.demarche.slug.to_string()),
                usager: row.usager_name.unwrap_or_else(|| "—".to_owned()),
                status: status_label,
                service: row.service.as_str().to_owned(),
                filed: zone.date_text(row.submitted_at),
                deadline: row
                    .deadline
                    .map_or_else(|| "—".to_owned(), |d| zone.date_text(d)),
                numero: row.numero,
                alerts,
            }
        })
        .collect();
    let pages = found.total.div_ceil(u64::from(PAGE_ROWS)).max(1);
    let can_export = demarches
        .iter()
        .any(|(_, rights)| rights.contains(Right::Process));
    let counts = counts
        .into_iter()
        .map(|count| {
            let href = format!(
                "/back-office/demandes?{}",
                filters.query(1, Some(count.status.as_str()))
            );
            let current = filters.statut == count.status.as_str();
            (count, href, current)
        })
        .collect();
    page(
        errors.status(),
        &TablePage {
            desk,
            demarches: demarches
                .iter()
                .map(|(entry, _)| Option_ {
                    value: entry.slug.to_string(),
                    label: entry.title.clone(),
                    selected: filters.demarche == entry.slug.as_str(),
                })
                .collect(),
            counts,
            rows,
            total: found.total,
            page: page_number,
            pages,
            previous: (page_number > 1).then(|| {
                format!(
                    "/back-office/demandes?{}",
                    filters.query(page_number - 1, None)
                )
            }),
            next: (u64::from(page_number) < pages).then(|| {
                format!(
                    "/back-office/demandes?{}",
                    filters.query(page_number + 1, None)
                )
            }),
            export: can_export
                .then(|| format!("/back-office/demandes.csv?{}", filters.query(1, None))),
            done: match filters.fait.as_str() {
                TRANSFERRED => {
                    Some("La demande a été transférée : elle ne relève plus de vos services.")
                }
                _ => None,
            },
            filters,
            errors,
        },
    )
}

/// The table as CSV, for an agent with the `process` right: every row
/// matching the filters (at most [`EXPORT_ROWS`]), over the démarches and
/// services where they hold it.
async fn export(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Query(filters): Query<Filters>,
) -> Response {
    let guichet = state.guichet();
    let (request, errors, _) = filters.request();
    if let Some(error) = errors.0.first() {
        return message(
            &site,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Export impossible",
            &format!("Un filtre ne se lit pas : {}", error.message),
        );
    }
    let found = match back_office::export(&guichet, &agent, request, EXPORT_ROWS).await {
        Ok(found) => found,
        Err(ServiceError::Fields(problems)) => {
            return message(
                &site,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Export impossible",
                &problems
                    .first()
                    .map_or_else(String::new, |p| p.message.clone()),
            );
        }
        Err(error) => return failure(&site, error),
    };
    let zone = guichet.zone;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::from("\u{feff}".as_bytes()));
    let header = [
        "Numéro",
        "Démarche",
        "Version",
        "Usager",
        "Statut",
        "Service",
        "Déposée le",
        "Échéance",
        "Relance (jours)",
        "En retard",
        "En attente",
    ];
    let mut written = writer.write_record(header);
    for back_office::TableRow { row, status_label } in found.rows {
        if written.is_err() {
            break;
        }
        written = writer.write_record([
            row.numero,
            row.demarche.slug.to_string(),
            row.demarche.version.to_string(),
            row.usager_name.unwrap_or_default(),
            status_label,
            row.service.as_str().to_owned(),
            zone.date_text(row.submitted_at),
            row.deadline.map(|d| zone.date_text(d)).unwrap_or_default(),
            row.reminder.map(|d| d.to_string()).unwrap_or_default(),
            if row.late { "oui" } else { "non" }.to_owned(),
            if row.on_hold_since.is_some() {
                "oui"
            } else {
                "non"
            }
            .to_owned(),
        ]);
    }
    let body = written
        .map_err(|e| e.to_string())
        .and_then(|()| writer.into_inner().map_err(|e| e.to_string()));
    let name = format!(
        "demandes-{}.csv",
        zone.today(guichet.now()).format("%Y-%m-%d")
    );
    csv_file(&site, body, &name)
}

/// A CSV download named `name`, or the page saying it could not be
/// produced (the cause logged).
pub(super) fn csv_file(
    site: &Site,
    body: Result<Vec<u8>, impl std::fmt::Display>,
    name: &str,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, file = name, "export CSV impossible");
            return message(
                site,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Export impossible",
                "L'export n'a pas pu être produit. Réessayez dans quelques instants.",
            );
        }
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
