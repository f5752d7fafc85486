//! The statistics as CSV, for a spreadsheet: UTF-8 with a byte-order mark
//! and `;` between cells (what a French spreadsheet opens without asking),
//! one figure per line in three columns — section, figure, value — so
//! that any number of statuses or démarches fits, dates as `dd/mm/yyyy`
//! in the collectivité's time zone, decimals with a comma.
//!
//! Cells come partly from people (démarche titles, status labels, service
//! names): a cell that a spreadsheet would read as a formula — beginning
//! with `=`, `+`, `-`, `@`, a tab or a carriage return — is written with a
//! leading `'` ([`neutralised`], OWASP's « CSV injection » advice), and the
//! `csv` crate quotes what needs quoting.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::Statistics;

/// Why the CSV could not be written (in memory: only a bug of the writer).
#[derive(Debug, thiserror::Error)]
#[error("écriture du CSV impossible : {0}")]
pub struct ExportError(String);

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written: with a leading `'` when it would start a formula.
pub fn neutralised(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// A decimal with a comma, `digits` after it.
fn decimal(value: f64, digits: usize) -> String {
    format!("{value:.digits$}").replace('.', ",")
}

fn optional(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(String::new, |v| decimal(v, digits))
}

/// The lines (section, figure, value) of the statistics.
fn lines(stats: &Statistics) -> Vec<[String; 3]> {
    let mut lines = Vec::new();
    let mut line = |section: &str, figure: &str, value: String| {
        lines.push([section.to_owned(), figure.to_owned(), value]);
    };
    let scope = &stats.scope;
    for demarche in &scope.demarches {
        line(
            "Périmètre",
            "Démarche",
            format!("{} ({})", demarche.title, demarche.slug),
        );
    }
    line(
        "Périmètre",
        "Service",
        scope
            .service
            .clone()
            .unwrap_or_else(|| "Tous les services".to_owned()),
    );
    line("Périmètre", "Du", date(scope.from));
    line("Périmètre", "Au", date(scope.to));
    line("Périmètre", "Fuseau horaire", scope.time_zone.clone());

    let received = "Demandes reçues sur la période";
    line(received, "Total", stats.received.total.to_string());
    for status in &stats.received.by_status {
        line(
            received,
            &format!("Statut actuel : {}", status.label),
            status.count.to_string(),
        );
    }

    let closed = "Demandes clôturées sur la période";
    let c = &stats.closed;
    line(closed, "Total", c.total.to_string());
    line(closed, "Traitées", c.processed.to_string());
    line(closed, "Refusées par le service", c.refused.to_string());
    line(closed, "Abandonnées par l'usager", c.abandoned.to_string());
    for refusal in &c.refused_by_type {
        line(
            closed,
            &format!("Refus : {}", refusal.label),
            refusal.count.to_string(),
        );
    }

    let time = "Délai de traitement (hors mise en attente)";
    let t = &stats.processing_time;
    line(time, "Demandes mesurées", t.measured.to_string());
    line(time, "Médiane (jours)", optional(t.median_days, 2));
    line(time, "90e centile (jours)", optional(t.p90_days, 2));

    let d = &stats.deadline;
    let delays: Vec<String> = d.days.iter().map(u32::to_string).collect();
    let deadline = format!("Délai de traitement de {} jours", delays.join(" ou "));
    line(&deadline, "Demandes mesurées", d.measured.to_string());
    line(&deadline, "Traitées dans le délai", d.within.to_string());
    line(
        &deadline,
        "Part traitée dans le délai (%)",
        optional(d.share.map(|share| share * 100.0), 1),
    );

    let now = "Aujourd'hui";
    line(now, "Demandes en retard", stats.late.to_string());
    line(
        now,
        &format!(
            "Demandes non prises en compte depuis {} jours ou plus",
            stats.untaken.after_days
        ),
        stats.untaken.count.to_string(),
    );

    let survey = "Satisfaction (enquête)";
    let satisfaction = &stats.satisfaction;
    line(survey, "Réponses", satisfaction.answers.to_string());
    line(
        survey,
        "Note moyenne (sur 5)",
        optional(satisfaction.mean_score, 2),
    );
    for score in &satisfaction.by_score {
        line(
            survey,
            &format!("Note {} sur 5", score.score),
            score.count.to_string(),
        );
    }
    for question in &satisfaction.questions {
        for choice in &question.choices {
            line(
                survey,
                &format!(
                    "{} ({}) : {}",
                    question.label, question.demarche, choice.choice
                ),
                choice.count.to_string(),
            );
        }
    }
    lines
}

/// The statistics as a CSV file (the module docs say how).
///
/// # Errors
/// [`ExportError`] if the writer fails, which writing to memory does not.
pub fn csv(stats: &Statistics) -> Result<Vec<u8>, ExportError> {
    let fail = |e: &dyn std::fmt::Display| ExportError(e.to_string());
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    writer
        .write_record(["rubrique", "indicateur", "valeur"])
        .map_err(|e| fail(&e))?;
    for cells in lines(stats) {
        writer
            .write_record(cells.iter().map(|cell| neutralised(cell).into_owned()))
            .map_err(|e| fail(&e))?;
    }
    writer.into_inner().map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_start_a_formula_are_neutralised() {
        for cell in ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralised(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["Demande transmise", "12", "", "a=b", " =1"] {
            assert_eq!(neutralised(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn decimals_have_a_comma() {
        assert_eq!(decimal(83.333_333, 1), "83,3");
        assert_eq!(decimal(7.0, 2), "7,00");
        assert_eq!(optional(None, 2), "");
    }
}
