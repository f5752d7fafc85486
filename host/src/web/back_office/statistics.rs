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
//! **Libraries.** `askama` renders the page (`back_office/statistics.html`),
//! `plotters` draws each chart as SVG on the server (`statistics/charts.rs`)
//! which the page inlines: no script, no image request, nothing fetched.
//! Every chart is an image named by a sentence holding its figures, and
//! its figures are also in a table: nothing is told by a chart alone.
//!
//! An agent without the right sees no link to these pages (the layout's
//! [`Desk`]) and gets a 403 page; a filter that does not read is told in
//! the error summary (422), with no figure.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use guichet_core::role::Right;
use serde::Deserialize;

use super::{Agent, Desk, Option_};
use crate::http::AppState;
use crate::service::back_office::{self, TableRow};
use crate::service::statistics::{
    self, MonthShare, OverdueKind, OverdueRequest, Statistics, StatisticsRequest, TimeBucket,
};
use crate::service::{Caller, Guichet, ServiceError};
use crate::web::{ErrorView, Errors, Site, failure, message, page, urlencoded};

mod charts;

use charts::Bars;

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
        let from = day("du", &self.du);
        let to = day("au", &self.au);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            errors.push(ErrorView::on(
                "au",
                "La fin de la période doit suivre son début.",
            ));
        }
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

/// A number with a decimal comma.
fn decimal(value: f64, digits: usize) -> String {
    format!("{value:.digits$}").replace('.', ",")
}

/// A share from 0 to 1 as a percentage (« 83,3 % »), or « — ».
fn percent(share: Option<f64>) -> String {
    share.map_or_else(
        || "—".to_owned(),
        |s| format!("{} %", decimal(s * 100.0, 1)),
    )
}

/// Days with a decimal comma (« 3,25 jours »), or « — ».
fn days(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".to_owned(),
        |d| format!("{} jour{}", decimal(d, 2), if d >= 2.0 { "s" } else { "" }),
    )
}

/// A month's line.
struct MonthView {
    label: String,
    measured: u64,
    within: u64,
    share: String,
}

/// A late demande's line.
struct LateView {
    id: String,
    numero: String,
    demarche: String,
    status: String,
    service: String,
    deadline: String,
}

/// The figures shown, once the filters read.
struct Figures {
    stats: Statistics,
    /// « du 01/03/2026 au 31/03/2026 ».
    period: String,
    /// The démarches counted, by title.
    demarches: String,
    /// The processing delays, « 27 » or « 27 ou 30 ».
    deadline_days: String,
    median: String,
    p90: String,
    share: String,
    mean_score: String,
    buckets: Vec<TimeBucket>,
    months: Vec<MonthView>,
    late: Vec<LateView>,
    late_total: u64,
    /// The processing table of the late demandes.
    late_href: String,
    export_href: String,
    /// The charts (none when plotters failed: the tables stay).
    by_status_chart: Option<String>,
    processing_chart: Option<String>,
    months_chart: Option<String>,
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

/// A chart, or none (logged) when plotters failed.
fn drawn(chart: Result<String, charts::ChartError>) -> Option<String> {
    chart
        .map_err(|error| tracing::error!(%error, "graphique non dessiné"))
        .ok()
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
                    .map(|p| ErrorView::on(field_of(&p.field), p.message))
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
    let figures = figures(
        stats,
        trends.processing,
        &trends.months,
        late_rows,
        late.total,
    );
    let mut view = StatisticsPage::new(desk, filters.clone(), demarches, Errors::default());
    view.figures = Some(Figures {
        late_href,
        export_href: format!("/back-office/statistiques.csv?{}", filters.query()),
        ..figures
    });
    page(StatusCode::OK, &view)
}

/// The figures as shown, with their charts.
fn figures(
    stats: Statistics,
    buckets: Vec<TimeBucket>,
    months: &[MonthShare],
    late: Vec<LateView>,
    late_total: u64,
) -> Figures {
    let day = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    let period = format!("du {} au {}", day(stats.scope.from), day(stats.scope.to));
    let deadline_days = stats
        .deadline
        .days
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" ou ");
    let by_status = Bars {
        id: "graphique-statuts",
        title: &format!(
            "Demandes reçues {period} par statut actuel : {}.",
            listed(
                stats
                    .received
                    .by_status
                    .iter()
                    .map(|s| (&s.label, s.count.to_string()))
            )
        ),
        axis: "Demandes",
        bars: stats
            .received
            .by_status
            .iter()
            .map(|s| (s.label.clone(), s.count as f64, s.count.to_string()))
            .collect(),
        max: None,
    };
    let processing = Bars {
        id: "graphique-delais",
        title: &format!(
            "Délai de traitement des {} demandes clôturées {period} (hors mise en attente) : {}.",
            stats.processing_time.measured,
            listed(buckets.iter().map(|b| (&b.label, b.count.to_string())))
        ),
        axis: "Demandes",
        bars: buckets
            .iter()
            .map(|b| {
                let label = match b.to_days {
                    Some(high) if b.from_days == 0 => format!("< {high} j"),
                    Some(high) => format!("{}–{high} j", b.from_days),
                    None => format!("≥ {} j", b.from_days),
                };
                (label, b.count as f64, b.count.to_string())
            })
            .collect(),
        max: None,
    };
    let month_views: Vec<MonthView> = months
        .iter()
        .map(|m| MonthView {
            label: m.label.clone(),
            measured: m.measured,
            within: m.within,
            share: percent(m.share),
        })
        .collect();
    let by_month = Bars {
        id: "graphique-mois",
        title: &format!(
            "Part des demandes traitées dans le délai de {deadline_days} jours, par mois : {}.",
            listed(month_views.iter().map(|m| (
                &m.label,
                if m.measured == 0 {
                    "aucune demande mesurée".to_owned()
                } else {
                    format!("{} ({} sur {})", m.share, m.within, m.measured)
                }
            )))
        ),
        axis: "% dans le délai",
        bars: months
            .iter()
            .map(|m| {
                let value = m.share.map_or(0.0, |s| s * 100.0);
                let text = m
                    .share
                    .map_or_else(|| "—".to_owned(), |s| format!("{:.0} %", s * 100.0));
                (m.month.format("%m/%Y").to_string(), value, text)
            })
            .collect(),
        // Room above 100 % for the value written over the bar.
        max: Some(115.0),
    };
    Figures {
        demarches: stats
            .scope
            .demarches
            .iter()
            .map(|d| d.title.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        deadline_days,
        median: days(stats.processing_time.median_days),
        p90: days(stats.processing_time.p90_days),
        share: percent(stats.deadline.share),
        mean_score: stats
            .satisfaction
            .mean_score
            .map_or_else(|| "—".to_owned(), |m| format!("{} sur 5", decimal(m, 2))),
        by_status_chart: (!stats.received.by_status.is_empty())
            .then(|| drawn(by_status.horizontal()))
            .flatten(),
        processing_chart: (stats.processing_time.measured > 0)
            .then(|| drawn(processing.vertical()))
            .flatten(),
        months_chart: months
            .iter()
            .any(|m| m.measured > 0)
            .then(|| drawn(by_month.vertical()))
            .flatten(),
        period,
        stats,
        buckets,
        months: month_views,
        late,
        late_total,
        late_href: String::new(),
        export_href: String::new(),
    }
}

/// « a 1, b 2 » from (label, figure) pairs.
fn listed<'a>(pairs: impl Iterator<Item = (&'a String, String)>) -> String {
    pairs
        .map(|(label, figure)| format!("{label} {figure}"))
        .collect::<Vec<_>>()
        .join(", ")
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
    let body = match statistics::export::csv(&stats) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "export CSV des statistiques impossible");
            return message(
                &site,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Export impossible",
                "L'export n'a pas pu être produit. Réessayez dans quelques instants.",
            );
        }
    };
    let name = format!(
        "attachment; filename=\"statistiques-{}-{}.csv\"",
        stats.scope.from.format("%Y-%m-%d"),
        stats.scope.to.format("%Y-%m-%d")
    );
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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

    #[test]
    fn figures_are_written_the_french_way() {
        assert_eq!(percent(Some(5.0 / 6.0)), "83,3 %");
        assert_eq!(percent(None), "—");
        assert_eq!(days(Some(3.25)), "3,25 jours");
        assert_eq!(days(Some(0.5)), "0,50 jour");
    }
}
