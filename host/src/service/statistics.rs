//! The statistics that judge the service by its promise (PROCESS.md,
//! « Decision framework »: every demande processed in under 27 days), for
//! the people holding the `statistics` right on a démarche — *Qualité*
//! and *Administrateur* (the GRU's managers hold *Qualité*), as
//! `guichet_core::role` grants it.
//!
//! [`statistics`] answers, per démarche (or every démarche the caller may
//! judge), service and period of local calendar days, the figures of
//! [`Statistics`]; [`export::csv`] writes them as CSV for a spreadsheet;
//! [`overdue`] lists the demandes late now or never taken. Every figure
//! is counted by the store in SQL over indexed columns
//! ([`guichet_store::statistics`]), never by loading demandes.
//!
//! What the period selects: the demandes **received** are those filed in
//! it (by their current status); the **closings**, times to process and
//! the deadline share count the demandes closed in it. The late demandes
//! and those never taken are counted as of now, whatever the period.
//!
//! **Satisfaction** counts the answers to the survey of the closing,
//! refusal and abandon mails (`super::survey`) given in the period, for
//! the service in charge when the usager answered: the scores, their mean,
//! and the options chosen for each question of the démarches' surveys.

pub mod export;
mod satisfaction;
mod trends;

pub use satisfaction::{ChoiceCount, QuestionCounts, Satisfaction, ScoreCount};
pub use trends::{BUCKET_DAYS, MAX_MONTHS, MonthShare, TimeBucket, Trends, trends};

use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate};
use guichet_core::demande::RefusalType;
use guichet_core::demarche::SurveyQuestion;
use guichet_core::id::{Slug, StatusId};
use guichet_core::role::{GroupName, Right};
use guichet_core::validation::{ErrorCode, FieldError};
use guichet_core::workflow::Workflow;
use guichet_store::demarche::CatalogueQuery;
use guichet_store::statistics::{Closing, Figures, Overdue, StatisticsScope};
use schemars::JsonSchema;
use serde::Serialize;

use super::back_office::{self, TABLE_LIMITS, Table};
use super::{Caller, Guichet, ServiceError};

/// The days without being taken after which a demande is counted as never
/// taken, when the request does not say.
pub const UNTAKEN_DAYS: u32 = 7;

/// The most days a request may name for [`UNTAKEN_DAYS`] (ten years).
pub const MAX_UNTAKEN_DAYS: u32 = 3650;

/// What to count, as the caller asked.
#[derive(Debug, Clone, Default)]
pub struct StatisticsRequest {
    /// One démarche's slug; every démarche the caller may judge when absent.
    pub demarche: Option<String>,
    /// Only the demandes this service is in charge of (a group's name of
    /// any role of the service).
    pub service: Option<String>,
    /// First day of the period (local date, included); the first day of
    /// the month of `to` when absent.
    pub from: Option<NaiveDate>,
    /// Last day of the period (local date, included); today when absent.
    pub to: Option<NaiveDate>,
    /// Days after filing from which a demande not taken is counted
    /// ([`UNTAKEN_DAYS`] when absent, at most [`MAX_UNTAKEN_DAYS`]).
    pub untaken_days: Option<u32>,
}

/// The statistics of a scope over a period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Statistics {
    /// What is counted.
    pub scope: ScopeView,
    /// The demandes filed in the period.
    pub received: Received,
    /// The demandes closed in the period.
    pub closed: Closed,
    /// The time to process of the demandes the service closed in the
    /// period (from *en cours d'analyse* to the closing, time on hold
    /// excluded).
    pub processing_time: ProcessingTime,
    /// Whether they were closed by their processing deadline.
    pub deadline: DeadlineShare,
    /// The demandes in progress past their deadline, now.
    pub late: u64,
    /// The demandes never taken, now.
    pub untaken: Untaken,
    /// The survey answers given in the period.
    pub satisfaction: Satisfaction,
}

/// What statistics count.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScopeView {
    /// The démarches.
    pub demarches: Vec<DemarcheView>,
    /// The service, when one was asked for.
    pub service: Option<String>,
    /// First day of the period (local date, included).
    pub from: NaiveDate,
    /// Last day of the period (local date, included).
    pub to: NaiveDate,
    /// The time zone of the dates (IANA name).
    pub time_zone: String,
}

/// A démarche counted.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DemarcheView {
    /// Slug.
    pub slug: String,
    /// Title of its current version.
    pub title: String,
}

/// The demandes filed in the period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Received {
    /// How many.
    pub total: u64,
    /// By current status, in the order of the workflow (unknown statuses
    /// last).
    pub by_status: Vec<StatusCount>,
}

/// The demandes in one status.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StatusCount {
    /// Status id.
    pub status: String,
    /// Its label (*Demande transmise*).
    pub label: String,
    /// How many.
    pub count: u64,
}

/// The demandes closed in the period, by how.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Closed {
    /// How many.
    pub total: u64,
    /// Processed (*traitée*, by an agent or at the deadline).
    pub processed: u64,
    /// Refused or cancelled by the service (PROCESS.md: Refusée, Annulée,
    /// Absence de réponse usager).
    pub refused: u64,
    /// Abandoned by the usager.
    pub abandoned: u64,
    /// The refusals by type: the three types always, and the refusals
    /// whose type was not kept (`kind` null: written before the store kept
    /// it) when there are some.
    pub refused_by_type: Vec<RefusalCount>,
}

/// The refusals of one type.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RefusalCount {
    /// The type; null when it was not kept.
    pub kind: Option<RefusalType>,
    /// Its label (*Absence de réponse usager*).
    pub label: String,
    /// How many.
    pub count: u64,
}

/// Times to process, in days of 24 hours (elapsed time, two decimals).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProcessingTime {
    /// How many closings have a time: processed or refused after analysis
    /// (abandons and closings before analysis have none).
    pub measured: u64,
    /// The median (the lower middle value for an even count); null
    /// without any time.
    pub median_days: Option<f64>,
    /// The 90th percentile (the smallest time that 90 % of the times do
    /// not exceed); null without any time.
    pub p90_days: Option<f64>,
}

/// The closings by their processing deadline: 27 calendar days after entry
/// into *en cours d'analyse* by default (the démarche may set another),
/// plus the time on hold (PROCESS.md, « Deadlines »).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeadlineShare {
    /// The processing delays of the démarches counted, in days (`[27]`).
    pub days: Vec<u32>,
    /// The closings measured ([`ProcessingTime::measured`]).
    pub measured: u64,
    /// Those closed by their deadline.
    pub within: u64,
    /// `within / measured`, from 0 to 1; null when nothing was measured.
    pub share: Option<f64>,
}

/// The demandes never taken (never entered *en cours d'analyse*).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Untaken {
    /// Counted when filed more than this many days ago (calendar days).
    pub after_days: u32,
    /// How many, now.
    pub count: u64,
}

/// The démarches the caller may judge (the `statistics` right), or the one
/// asked for.
struct Judged {
    demarches: Vec<JudgedDemarche>,
    service: Option<GroupName>,
}

/// A démarche judged, as its current version defines it.
struct JudgedDemarche {
    slug: Slug,
    title: String,
    workflow: Arc<Workflow>,
    /// Its survey's own questions.
    questions: Vec<SurveyQuestion>,
}

impl Judged {
    fn scope(&self) -> StatisticsScope {
        StatisticsScope {
            demarches: self.demarches.iter().map(|d| d.slug.clone()).collect(),
            service: self.service.clone(),
        }
    }
}

async fn judged(
    guichet: &Guichet,
    caller: &Caller,
    demarche: Option<&str>,
    service: Option<&str>,
) -> Result<Judged, ServiceError> {
    let entries = guichet
        .store
        .agent_catalogue(&CatalogueQuery::default())
        .await?
        .into_iter()
        .filter(|entry| caller.rights(&entry.slug).contains(Right::Statistics))
        .filter(|entry| demarche.is_none_or(|slug| entry.slug.as_str() == slug))
        .collect::<Vec<_>>();
    if entries.is_empty() {
        return Err(ServiceError::Forbidden(
            "droit manquant : statistiques".to_owned(),
        ));
    }
    let service =
        match service.filter(|s| !s.is_empty()) {
            Some(name) => Some(GroupName::parse(name).map_err(|e| {
                FieldError::new("service", ErrorCode::ServiceInvalide, e.to_string())
            })?),
            None => None,
        };
    let mut demarches = Vec::with_capacity(entries.len());
    for entry in entries {
        let version = guichet
            .store
            .demarche_version(&entry.slug, entry.version)
            .await?;
        demarches.push(JudgedDemarche {
            workflow: version.definition.workflow(),
            questions: version
                .definition
                .satisfaction
                .as_ref()
                .map(|s| s.questions.clone())
                .unwrap_or_default(),
            slug: entry.slug,
            title: entry.title,
        });
    }
    Ok(Judged { demarches, service })
}

/// The statistics the caller asked for.
///
/// # Errors
/// `Forbidden` when the caller holds the `statistics` right on no démarche,
/// or not on the one asked for (an unknown démarche included); `Fields`
/// with `service_invalide` for a service that is no group name, or
/// `date_trop_tot` on `to` for a period that ends before it starts; a
/// store failure.
pub async fn statistics(
    guichet: &Guichet,
    caller: &Caller,
    request: StatisticsRequest,
) -> Result<Statistics, ServiceError> {
    let judged = judged(
        guichet,
        caller,
        request.demarche.as_deref(),
        request.service.as_deref(),
    )
    .await?;
    let now = guichet.now();
    let zone = guichet.zone;
    let (from, to) = period(guichet, &request)?;
    let until = zone.day_start(to.checked_add_days(Days::new(1)).unwrap_or(to));
    let scope = judged.scope();
    let after_days = request
        .untaken_days
        .unwrap_or(UNTAKEN_DAYS)
        .min(MAX_UNTAKEN_DAYS);
    let store = &guichet.store;
    let (figures, answers, late, untaken) = tokio::try_join!(
        store.statistics(&scope, zone.day_start(from), until),
        store.satisfaction(&scope, zone.day_start(from), until),
        store.overdue_count(&scope, Overdue::Late, now),
        store.overdue_count(&scope, untaken_since(guichet, after_days), now),
    )?;
    Ok(assemble(
        &judged,
        &figures,
        satisfaction::satisfaction(&judged, answers),
        ScopeView {
            demarches: judged
                .demarches
                .iter()
                .map(|d| DemarcheView {
                    slug: d.slug.to_string(),
                    title: d.title.clone(),
                })
                .collect(),
            service: judged.service.as_ref().map(|s| s.as_str().to_owned()),
            from,
            to,
            time_zone: zone.name().to_owned(),
        },
        late,
        Untaken {
            after_days,
            count: untaken,
        },
    ))
}

/// The period of a request: its days, or the first day of the month of
/// `to` and today.
fn period(
    guichet: &Guichet,
    request: &StatisticsRequest,
) -> Result<(NaiveDate, NaiveDate), ServiceError> {
    let to = request
        .to
        .unwrap_or_else(|| guichet.zone.today(guichet.now()));
    let from = request.from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    if to < from {
        return Err(FieldError::new(
            "to",
            ErrorCode::DateTropTot,
            "la fin de la période précède son début",
        )
        .into());
    }
    Ok((from, to))
}

/// The demandes never taken, filed `days` calendar days (in the
/// collectivité's zone) or more before now.
fn untaken_since(guichet: &Guichet, days: u32) -> Overdue {
    let now = guichet.now();
    let local = guichet.zone.local(now);
    let filed_before = local
        .checked_sub_days(Days::new(u64::from(days)))
        .map_or_else(
            || now - chrono::Duration::days(i64::from(days)),
            |before| before.with_timezone(&chrono::Utc),
        );
    Overdue::Untaken { filed_before }
}

/// Days of 24 hours, two decimals.
fn days(duration: chrono::Duration) -> f64 {
    let days = duration.num_milliseconds() as f64 / 86_400_000.0;
    (days * 100.0).round() / 100.0
}

/// The label of a status in the first workflow that knows it.
fn status_label(judged: &Judged, status: &StatusId) -> (usize, String) {
    judged
        .demarches
        .iter()
        .find_map(|JudgedDemarche { workflow, .. }| {
            let index = workflow.statuses.iter().position(|s| &s.id == status)?;
            Some((index, workflow.statuses[index].label.clone()))
        })
        .unwrap_or_else(|| (usize::MAX, status.to_string()))
}

fn assemble(
    judged: &Judged,
    figures: &Figures,
    satisfaction: Satisfaction,
    scope: ScopeView,
    late: u64,
    untaken: Untaken,
) -> Statistics {
    let mut by_status: Vec<(usize, StatusCount)> = figures
        .received
        .iter()
        .map(|(status, count)| {
            let (order, label) = status_label(judged, status);
            (
                order,
                StatusCount {
                    status: status.to_string(),
                    label,
                    count: *count,
                },
            )
        })
        .collect();
    by_status.sort_by(|a, b| (a.0, &a.1.status).cmp(&(b.0, &b.1.status)));
    let count = |closing: Closing| -> u64 {
        figures
            .closings
            .iter()
            .filter(|c| c.closing == closing)
            .map(|c| c.count)
            .sum()
    };
    let refused_as = |kind: Option<RefusalType>| -> u64 {
        figures
            .closings
            .iter()
            .filter(|c| c.closing == Closing::Refused && c.refusal == kind)
            .map(|c| c.count)
            .sum()
    };
    let mut refused_by_type: Vec<RefusalCount> = [
        RefusalType::Refusee,
        RefusalType::Annulee,
        RefusalType::AbsenceReponseUsager,
    ]
    .into_iter()
    .map(|kind| RefusalCount {
        kind: Some(kind),
        label: kind.label().to_owned(),
        count: refused_as(Some(kind)),
    })
    .collect();
    let unknown = refused_as(None);
    if unknown > 0 {
        refused_by_type.push(RefusalCount {
            kind: None,
            label: "Type non renseigné".to_owned(),
            count: unknown,
        });
    }
    let measured: u64 = figures.closings.iter().map(|c| c.measured).sum();
    let within: u64 = figures.closings.iter().map(|c| c.within_deadline).sum();
    let mut deadline_days: Vec<u32> = judged
        .demarches
        .iter()
        .map(|d| d.workflow.timing.processing_days)
        .collect();
    deadline_days.sort_unstable();
    deadline_days.dedup();
    let share = (measured > 0).then(|| within as f64 / measured as f64);
    Statistics {
        scope,
        received: Received {
            total: figures.received.iter().map(|(_, n)| n).sum(),
            by_status: by_status.into_iter().map(|(_, count)| count).collect(),
        },
        closed: Closed {
            total: figures.closings.iter().map(|c| c.count).sum(),
            processed: count(Closing::Processed),
            refused: count(Closing::Refused),
            abandoned: count(Closing::Abandoned),
            refused_by_type,
        },
        processing_time: ProcessingTime {
            measured,
            median_days: figures.median.map(days),
            p90_days: figures.p90.map(days),
        },
        deadline: DeadlineShare {
            days: deadline_days,
            measured,
            within,
            share,
        },
        late,
        untaken,
        satisfaction,
    }
}

/// Which demandes needing attention to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverdueKind {
    /// In progress past the processing deadline, earliest deadline first.
    Late,
    /// Never taken, filed this many days ago or more (at most
    /// [`MAX_UNTAKEN_DAYS`]), oldest first.
    Untaken(u32),
}

/// A page of the demandes needing attention now, as lines of the
/// processing table.
#[derive(Debug, Clone, Default)]
pub struct OverdueRequest {
    /// One démarche's slug; every démarche the caller may judge when absent.
    pub demarche: Option<String>,
    /// Only the demandes this service is in charge of.
    pub service: Option<String>,
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return: 1 to 200, 50 when absent (as the processing table).
    pub limit: Option<u32>,
}

/// The demandes of the caller's scope late now, or never taken: the lists
/// behind [`Statistics::late`] and [`Statistics::untaken`].
///
/// # Errors
/// As [`statistics`] for the démarche and the service.
pub async fn overdue(
    guichet: &Guichet,
    caller: &Caller,
    kind: OverdueKind,
    request: OverdueRequest,
) -> Result<Table, ServiceError> {
    let judged = judged(
        guichet,
        caller,
        request.demarche.as_deref(),
        request.service.as_deref(),
    )
    .await?;
    let overdue = match kind {
        OverdueKind::Late => Overdue::Late,
        OverdueKind::Untaken(days) => untaken_since(guichet, days.min(MAX_UNTAKEN_DAYS)),
    };
    let (max, default) = TABLE_LIMITS;
    let page = guichet
        .store
        .overdue(
            &judged.scope(),
            overdue,
            guichet.now(),
            request.offset,
            request.limit.unwrap_or(default).clamp(1, max),
        )
        .await?;
    back_office::labelled(guichet, page).await
}
