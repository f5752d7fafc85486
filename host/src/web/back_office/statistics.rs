//! The statistics pages of the back office, for the agents holding the
//! `statistics` right (*Qualité*, *Administrateur*; PROCESS.md):
//!
//! - `GET /back-office/statistiques?demarche=&service=&du=&au=` — a form
//!   choosing the démarche (among those the agent may judge), the service
//!   and the period (local dates of the collectivité, `JJ/MM/AAAA` or the
//!   date input's `AAAA-MM-JJ`), then the figures of
//!   [`statistics::statistics`] as tables, three charts
//!   ([`statistics::trends`]: demandes by status, times to process, share
//!   within the deadline by month), the demandes late now
//!   ([`statistics::overdue`], the first [`LATE_ROWS`]) and the
//!   satisfaction survey's answers;
//! - `GET /back-office/statistiques.csv` (same filters) — the same figures
//!   as CSV ([`statistics::export::csv`]).
//!
//! **Libraries.** `askama` renders the page (`back_office/statistics.html`,
//! its figures written by `statistics/figures.rs`), `plotters` draws each
//! chart as SVG on the server (`statistics/charts.rs`) which the page
//! inlines: no script, no image request, nothing fetched; the `csv` crate
//! writes the export (in `service::statistics::export`).
//! Every chart is an image named by a sentence holding its figures, and
//! its figures are also in a table: nothing is told by a chart alone.
//!
//! An agent without the right sees no link to these pages (the layout's
//! [`Desk`]) and gets a 403 page; a filter that does not read is told in
//! the error summary (422), with no figure.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use guichet_core::role::Right;
use serde::Deserialize;

use super::{Agent, Desk, Option_};
use crate::http::AppState;
use crate::service::back_office::{self, TableRow};
use crate::service::statistics::{self, OverdueKind, OverdueRequest, StatisticsRequest};
use crate::service::{Caller, Guichet, ServiceError};
use crate::web::{ErrorView, Errors, Site, failure, message, page, urlencoded};

mod charts;
mod figures;

use figures::{Figures, LateList, LateView, figures};

/// The late demandes listed on the page (the processing table lists them
/// all).
pub const LATE_ROWS: u32 = 50;

/// The filters, as the address holds them (every value a text read here,
/// so that a wrong one is told, not a 400).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct Filters {
    /// A démarche's slug, or empty for all.
    demarche: String,
    /// A group's name, or empty for every service.
    service: String,
    /// First day: `JJ/MM/AAAA`, `AAAA-MM-JJ`, or empty.
    du: String,
    /// Last day, as `du`.
    au: String,
}

/// A date as typed: `JJ/MM/AAAA` (or `J/M/AAAA`) or `AAAA-MM-JJ`.
fn date(text: &str) -> Result<Option<NaiveDate>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .map(Some)
        .map_err(|_| ())
}

impl Filters {
    /// The service's request, or the errors of the values that do not
    /// read; `judged` are the slugs the agent may judge.
    fn request(&self, judged: &[String]) -> Result<StatisticsRequest, Errors> {
        let mut errors = Vec::new();
        let mut day = |field: &str, text: &str| {
            date(text).unwrap_or_else(|()| {
                errors.push(ErrorView::on(
                    field,
                    "Saisissez une date au format JJ/MM/AAAA, par exemple 01/03/2026.",
                ));
                None
            })
        };
        // A period ending before it starts is the service's to refuse.
        let from = day("du", &self.du);
        let to = day("au", &self.au);
        let demarche = Some(self.demarche.trim().to_owned()).filter(|s| !s.is_empty());
        if let Some(slug) = &demarche
            && !judged.contains(slug)
        {
            errors.push(ErrorView::on(
                "demarche",
                "Choisissez une démarche de la liste.",
            ));
        }
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        Ok(StatisticsRequest {
            demarche,
            service: Some(self.service.trim().to_owned()).filter(|s| !s.is_empty()),
            from,
            to,
            untaken_days: None,
        })
    }

    /// The address's query of these filters.
    fn query(&self) -> String {
        [
            ("demarche", &self.demarche),
            ("service", &self.service),
            ("du", &self.du),
            ("au", &self.au),
        ]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", urlencoded(value)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// A date field's value for the date input: `AAAA-MM-JJ` when it
    /// reads, else as typed.
    fn input(text: &str) -> String {
        match date(text) {
            Ok(Some(day)) => day.format("%Y-%m-%d").to_string(),
            _ => text.to_owned(),
        }
    }
}

/// Where an error of the application layer on a field is shown.
fn field_of(field: &str) -> &'static str {
    match field {
        "service" => "service",
        "from" => "du",
        "demarche" => "demarche",
        _ => "au",
    }
}

/// A message of the application layer as a sentence: capital first,
/// full stop last.
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut text: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// The démarches the agent may judge, for the form; a 403 page when none.
async fn judged(
    guichet: &Guichet,
    site: &Site,
    agent: &Caller,
    filters: &Filters,
) -> Result<Vec<Option_>, Response> {
    let demarches = back_office::demarches(guichet, agent)
        .await
        .map_err(|error| failure(site, error))?;
    let judged: Vec<Option_> = demarches
        .into_iter()
        .filter(|(_, rights)| rights.contains(Right::Statistics))
        .map(|(entry, _)| Option_ {
            selected: filters.demarche == entry.slug.as_str(),
            value: entry.slug.to_string(),
            label: entry.title,
        })
        .collect();
    if judged.is_empty() {
        return Err(message(
            site,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Les statistiques sont réservées aux agents qui en ont le droit (rôles Qualité et Administrateur).",
        ));
    }
    Ok(judged)
}

#[derive(Template)]
#[template(path = "back_office/statistics.html")]
struct StatisticsPage {
    desk: Desk,
    filters: Filters,
    du: String,
    au: String,
    demarches: Vec<Option_>,
    errors: Errors,
    figures: Option<Figures>,
}

impl StatisticsPage {
    fn new(desk: Desk, filters: Filters, demarches: Vec<Option_>, errors: Errors) -> Self {
        StatisticsPage {
            desk,
            du: Filters::input(&filters.du),
            au: Filters::input(&filters.au),
            filters,
            demarches,
            errors,
            figures: None,
        }
    }
}

/// The page: the form, then the figures when the filters read.
pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Query(filters): Query<Filters>,
) -> Response {
    let guichet = state.guichet();
    let desk = Desk::of(site.clone(), &agent);
    let demarches = match judged(&guichet, &site, &agent, &filters).await {
        Ok(demarches) => demarches,
        Err(response) => return response,
    };
    let slugs: Vec<String> = demarches.iter().map(|d| d.value.clone()).collect();
    let request = match filters.request(&slugs) {
        Ok(request) => request,
        Err(errors) => {
            let view = StatisticsPage::new(desk, filters, demarches, errors);
            return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    let late_request = OverdueRequest {
        demarche: request.demarche.clone(),
        service: request.service.clone(),
        offset: 0,
        limit: Some(LATE_ROWS),
    };
    let found = tokio::try_join!(
        statistics::statistics(&guichet, &agent, request.clone()),
        statistics::trends(&guichet, &agent, request),
        statistics::overdue(&guichet, &agent, OverdueKind::Late, late_request),
    );
    let (stats, trends, late) = match found {
        Ok(found) => found,
        Err(ServiceError::Fields(problems)) => {
            let errors = Errors(
                problems
                    .into_iter()
                    .map(|p| ErrorView::on(field_of(&p.field), sentence(&p.message)))
                    .collect(),
            );
            let view = StatisticsPage::new(desk, filters, demarches, errors);
            return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
        Err(error) => return failure(&site, error),
    };
    let titles: std::collections::HashMap<&str, &str> = demarches
        .iter()
        .map(|d| (d.value.as_str(), d.label.as_str()))
        .collect();
    let zone = guichet.zone;
    let late_rows = late
        .rows
        .into_iter()
        .map(|TableRow { row, status_label }| LateView {
            id: row.id.uuid().to_string(),
            demarche: titles
                .get(row.demarche.slug.as_str())
                .map_or_else(|| row.demarche.slug.to_string(), |t| (*t).to_owned()),
            status: status_label,
            service: row.service.as_str().to_owned(),
            deadline: row
                .deadline
                .map_or_else(|| "—".to_owned(), |d| zone.date_text(d)),
            numero: row.numero,
        })
        .collect();
    let mut late_query = filters.clone();
    late_query.du.clear();
    late_query.au.clear();
    let late_href = format!(
        "/back-office/demandes?{}",
        [late_query.query(), "retard=oui".to_owned()]
            .iter()
            .filter(|q| !q.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("&")
    );
    let late = LateList {
        rows: late_rows,
        total: late.total,
        href: late_href,
    };
    let export_href = format!("/back-office/statistiques.csv?{}", filters.query());
    let mut view = StatisticsPage::new(desk, filters, demarches, Errors::default());
    view.figures = Some(figures(stats, trends, late, export_href));
    page(StatusCode::OK, &view)
}

/// The statistics as CSV, with the page's filters.
pub(super) async fn export(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Query(filters): Query<Filters>,
) -> Response {
    let guichet = state.guichet();
    let demarches = match judged(&guichet, &site, &agent, &filters).await {
        Ok(demarches) => demarches,
        Err(response) => return response,
    };
    let slugs: Vec<String> = demarches.into_iter().map(|d| d.value).collect();
    let refused = |text: &str| {
        message(
            &site,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Export impossible",
            &format!("Un filtre ne se lit pas : {text}"),
        )
    };
    let request = match filters.request(&slugs) {
        Ok(request) => request,
        Err(errors) => {
            return refused(errors.0.first().map_or("", |e| e.message.as_str()));
        }
    };
    let stats = match statistics::statistics(&guichet, &agent, request).await {
        Ok(stats) => stats,
        Err(ServiceError::Fields(problems)) => {
            return refused(problems.first().map_or("", |p| p.message.as_str()));
        }
        Err(error) => return failure(&site, error),
    };
    let name = format!(
        "statistiques-{}-{}.csv",
        stats.scope.from.format("%Y-%m-%d"),
        stats.scope.to.format("%Y-%m-%d")
    );
    super::csv_file(&site, statistics::export::csv(&stats), &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_shown_as_sentences() {
        assert_eq!(
            sentence("la fin de la période précède son début"),
            "La fin de la période précède son début."
        );
        assert_eq!(sentence("Déjà une phrase."), "Déjà une phrase.");
        assert_eq!(sentence(""), ".");
    }

    #[test]
    fn dates_read_as_typed_or_from_the_date_input() {
        let march = NaiveDate::from_ymd_opt(2026, 3, 1);
        assert_eq!(date("01/03/2026"), Ok(march));
        assert_eq!(date(" 1/3/2026 "), Ok(march));
        assert_eq!(date("2026-03-01"), Ok(march));
        assert_eq!(date(""), Ok(None));
        for wrong in ["31/02/2026", "2026/03/01", "mars", "01-03-2026"] {
            assert_eq!(date(wrong), Err(()), "{wrong}");
        }
    }
}
