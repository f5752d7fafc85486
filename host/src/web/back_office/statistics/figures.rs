//! The figures of the statistics page as shown: numbers written the
//! French way, the late list, and the three charts with the sentences
//! that name them (`charts.rs` draws them).

use chrono::NaiveDate;

use super::charts::{self, Bars};
use crate::service::statistics::{Statistics, TimeBucket, Trends};

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
pub(super) struct MonthView {
    pub(super) label: String,
    pub(super) measured: u64,
    pub(super) within: u64,
    pub(super) share: String,
}

/// A late demande's line.
pub(super) struct LateView {
    pub(super) id: String,
    pub(super) numero: String,
    pub(super) demarche: String,
    pub(super) status: String,
    pub(super) service: String,
    pub(super) deadline: String,
}

/// The demandes late now: the first [`super::LATE_ROWS`].
pub(super) struct LateList {
    pub(super) rows: Vec<LateView>,
    /// All of them.
    pub(super) total: u64,
    /// The processing table of the late demandes.
    pub(super) href: String,
}

/// The figures shown, once the filters read.
pub(super) struct Figures {
    pub(super) stats: Statistics,
    /// « du 01/03/2026 au 31/03/2026 ».
    pub(super) period: String,
    /// The démarches counted, by title.
    pub(super) demarches: String,
    /// The processing delays, « 27 » or « 27 ou 30 ».
    pub(super) deadline_days: String,
    pub(super) median: String,
    pub(super) p90: String,
    pub(super) share: String,
    pub(super) mean_score: String,
    pub(super) buckets: Vec<TimeBucket>,
    pub(super) months: Vec<MonthView>,
    pub(super) late: LateList,
    pub(super) export_href: String,
    /// The charts (none when plotters failed: the tables stay).
    pub(super) by_status_chart: Option<String>,
    pub(super) processing_chart: Option<String>,
    pub(super) months_chart: Option<String>,
}

/// A chart, or none (logged) when plotters failed.
fn drawn(chart: Result<String, charts::ChartError>) -> Option<String> {
    chart
        .map_err(|error| tracing::error!(%error, "graphique non dessiné"))
        .ok()
}

/// The figures as shown, with their charts.
pub(super) fn figures(
    stats: Statistics,
    Trends {
        processing: buckets,
        months,
    }: Trends,
    late: LateList,
    export_href: String,
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
        export_href,
    }
}

/// « a 1, b 2 » from (label, figure) pairs.
fn listed<'a>(pairs: impl Iterator<Item = (&'a String, String)>) -> String {
    pairs
        .map(|(label, figure)| format!("{label} {figure}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_the_french_way() {
        assert_eq!(percent(Some(5.0 / 6.0)), "83,3 %");
        assert_eq!(percent(None), "—");
        assert_eq!(days(Some(3.25)), "3,25 jours");
        assert_eq!(days(Some(0.5)), "0,50 jour");
    }
}
