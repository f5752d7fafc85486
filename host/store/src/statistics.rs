//! Statistics of the démarches, by SQL over indexed columns of `demandes`:
//! what the *Qualité* role, administrators and the GRU's managers judge the
//! service by (PROCESS.md: « every demande must be processed efficiently
//! in under 27 days »). No statistic reads a demande: each is one query
//! answered from covering indexes (migration `0008_statistics`).
//!
//! # The columns
//! Every outcome writes, beside the demande, what the statistics count
//! ([`statistics_columns`], called in the transaction of the outcome by
//! [`crate::outcome`]), all read from the demande's own dates
//! (`guichet_core::demande::KeyDates`), which anonymisation keeps:
//! `analysis_started_at` (entry into *en cours d'analyse*, where deadlines
//! start), `closed_at` (entry into a closing status), `hold_ms` (time on
//! hold in the holds that ended), `closing` ([`Closing`]), `refusal_type`,
//! `processing_ms` (time to process: closing − analysis start − time on
//! hold, for the closings by the service after analysis) and
//! `last_reminder` (the days of the last agent reminder sent, 15 or 21,
//! for the processing table's flag).
//!
//! # The figures
//! [`Store::statistics`] counts, for démarches, an optional service (the
//! service in charge: a transferred demande counts for the service it was
//! transferred to) and a period `[from, until)`:
//! - the demandes **received** (filed) in the period, by current status
//!   (index `demandes_received`: démarche, status, filing date);
//! - the **closings** in the period (by closing date), by [`Closing`] and
//!   refusal type, with how many have a time to process and how many were
//!   closed by their processing deadline — the démarche's deadline, 27
//!   calendar days after analysis by default, moved by the time on hold,
//!   exactly as the `processing_deadline` column and the core's
//!   `deadline::processing_deadline` compute it (index `demandes_closed`:
//!   démarche, closing, refusal type, closing date, deadline, time);
//! - the **median and 90th percentile** of the time to process of those
//!   closings: the value at rank ⌈p × n⌉ of the n times in order, which is
//!   PostgreSQL's `percentile_disc` (the median of an even count is the
//!   lower middle value), read by walking the index `demandes_duration`
//!   (démarche, time, closing date) from its nearer end with
//!   `ORDER BY … LIMIT 1 OFFSET …`: no sort, and the same SQL and answer on
//!   both backends.
//!
//! Every figure reads covering indexes only. How each is asked was
//! measured (`tests/benches/statistics.rs`, BENCHMARKS.md § 5), 1,000,000
//! demandes of one démarche in the year: SQLite counts a `GROUP BY` in a
//! temporary B-tree at about 0.5 µs a row, so on SQLite the counts are one
//! range count per status (the statuses of the démarches' versions) or per
//! kind of closing, joined by `UNION ALL` — 3 to 6 times faster; PostgreSQL
//! aggregates a `GROUP BY` in parallel workers, faster than the arms, so it
//! keeps it. `percentile_disc` sorts every time (spilling past `work_mem`):
//! 1.6 s where the walk of the index takes 0.2 s on the same rows. The
//! counts run concurrently, each on a connection of the pool.
//!
//! [`Store::overdue`] and [`Store::overdue_count`] list and count what
//! needs attention now, whatever the period ([`Overdue`]): the demandes
//! late (in progress past their deadline, the processing table's `late`)
//! and those never taken (still *transmise*) since a given instant (index
//! `demandes_slug_phase`).
//!
//! [`Store::processing_histogram`] and [`Store::deadline_by_period`]
//! (`statistics/trends.rs`) count the same closings for the back office's
//! charts: by bucket of time to process, and by month.

mod trends;

pub use trends::DeadlineCount;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use guichet_core::actor::ActorKind;
use guichet_core::demande::{Demande, RefusalType};
use guichet_core::id::{Slug, StatusId};
use guichet_core::role::{GroupName, Role};
use guichet_core::workflow::{Phase, Target, Workflow};
use sqlx::any::AnyArguments;

use crate::demande::{PROCESSING_COLUMNS, ProcessingPage, processing_row, push_in_progress};
use crate::demarche::VersionFacts;
use crate::error::{Result, StoreError};
use crate::sql::{RowExt, Sql, millis, unsigned};
use crate::{Backend, Store};

/// How a demande was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Closing {
    /// Processed by the service (*traitée*, by an agent or automatically
    /// at the deadline).
    Processed,
    /// Refused or cancelled by the service (with a [`RefusalType`]).
    Refused,
    /// Abandoned by the usager.
    Abandoned,
}

impl Closing {
    /// The stored key: `processed`, `refused`, `abandoned`.
    pub fn key(self) -> &'static str {
        match self {
            Closing::Processed => "processed",
            Closing::Refused => "refused",
            Closing::Abandoned => "abandoned",
        }
    }

    fn from_key(key: &str) -> Result<Closing> {
        match key {
            "processed" => Ok(Closing::Processed),
            "refused" => Ok(Closing::Refused),
            "abandoned" => Ok(Closing::Abandoned),
            other => Err(StoreError::Corrupt(format!("clôture « {other} »"))),
        }
    }
}

/// The stored key of a refusal type (its serde name).
fn refusal_key(kind: RefusalType) -> &'static str {
    match kind {
        RefusalType::Refusee => "refusee",
        RefusalType::Annulee => "annulee",
        RefusalType::AbsenceReponseUsager => "absence_reponse_usager",
    }
}

fn refusal_from_key(key: &str) -> Result<RefusalType> {
    match key {
        "refusee" => Ok(RefusalType::Refusee),
        "annulee" => Ok(RefusalType::Annulee),
        "absence_reponse_usager" => Ok(RefusalType::AbsenceReponseUsager),
        other => Err(StoreError::Corrupt(format!("type de refus « {other} »"))),
    }
}

/// The columns of `demandes` the statistics and the reminder flag read.
pub(crate) struct StatisticsColumns {
    pub analysis_started_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub hold_ms: i64,
    pub closing: Option<&'static str>,
    pub refusal_type: Option<&'static str>,
    pub processing_ms: Option<i64>,
    pub last_reminder: i64,
}

/// The closing statuses an usager's transition enters (*abandonnée*).
pub(crate) fn usager_closings(workflow: &Workflow) -> BTreeSet<StatusId> {
    workflow
        .transitions
        .iter()
        .filter(|transition| transition.actor == ActorKind::Usager)
        .filter_map(|transition| match &transition.to {
            Some(Target::Status(status)) => Some(status),
            _ => None,
        })
        .filter(|status| workflow.phase(status) == Some(Phase::Closed))
        .cloned()
        .collect()
}

/// What the statistics keep of a demande (the module docs).
pub(crate) fn statistics_columns(demande: &Demande, facts: &VersionFacts) -> StatisticsColumns {
    let dates = &demande.dates;
    let closing = dates.closed_at.map(|closed| {
        let entered = demande.path.iter().rev().find(|change| {
            change.at == closed && facts.phases.get(&change.status) == Some(&Phase::Closed)
        });
        if demande.refusal.is_some() {
            Closing::Refused
        } else if entered.is_some_and(|change| facts.usager_closings.contains(&change.status)) {
            Closing::Abandoned
        } else {
            Closing::Processed
        }
    });
    let hold = dates
        .holds
        .iter()
        .filter_map(|hold| {
            hold.until
                .map(|until| (until - hold.from).max(Duration::zero()))
        })
        .fold(Duration::zero(), |total, held| total + held);
    let processing = match (dates.analysis_started_at, dates.closed_at, closing) {
        (Some(started), Some(closed), Some(Closing::Processed | Closing::Refused)) => Some(
            (closed - started - hold)
                .max(Duration::zero())
                .num_milliseconds(),
        ),
        _ => None,
    };
    StatisticsColumns {
        analysis_started_at: dates.analysis_started_at.map(millis),
        closed_at: dates.closed_at.map(millis),
        hold_ms: hold.num_milliseconds(),
        closing: closing.map(Closing::key),
        refusal_type: demande
            .refusal
            .as_ref()
            .map(|refusal| refusal_key(refusal.kind)),
        processing_ms: processing,
        last_reminder: demande
            .reminders_sent
            .iter()
            .max()
            .map_or(0, |days| i64::from(*days)),
    }
}

/// The demandes the statistics cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatisticsScope {
    /// These démarches (none: nothing is counted).
    pub demarches: Vec<Slug>,
    /// Only the demandes this service is in charge of (any role's group
    /// name of the service: `Qual_SVL_DACT_Mobilités` names the service of
    /// `Gest_SVL_DACT_Mobilités`).
    pub service: Option<GroupName>,
}

/// The counts of one kind of closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosingCount {
    /// How they closed.
    pub closing: Closing,
    /// The refusal type (refusals only; `None` for a refusal stored before
    /// the type was kept, see migration `0008_statistics`).
    pub refusal: Option<RefusalType>,
    /// How many.
    pub count: u64,
    /// How many have a time to process (closed by the service after
    /// analysis).
    pub measured: u64,
    /// How many of those were closed by their processing deadline.
    pub within_deadline: u64,
}

/// The figures of a scope over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// The demandes filed in the period, by current status (ordered by
    /// status id).
    pub received: Vec<(StatusId, u64)>,
    /// The closings in the period, by kind and refusal type.
    pub closings: Vec<ClosingCount>,
    /// The median time to process of the closings measured.
    pub median: Option<Duration>,
    /// Their 90th percentile.
    pub p90: Option<Duration>,
}

/// What needs attention now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdue {
    /// In progress past the processing deadline (the processing table's
    /// `late`), earliest deadline first.
    Late,
    /// Never taken (still in the submitted phase) and filed at or before
    /// this instant, oldest first.
    Untaken {
        /// Filed at or before.
        filed_before: DateTime<Utc>,
    },
}

/// Appends the scope's `WHERE` clause (démarches, service) on `demandes d`.
fn push_scope(sql: &mut Sql, scope: &StatisticsScope) {
    push_scope_on(sql, scope, "d.slug", "d.primary_service");
}

/// Appends the scope's `WHERE` clause on a table whose démarche and
/// service are in the columns `slug` and `service`.
pub(crate) fn push_scope_on(sql: &mut Sql, scope: &StatisticsScope, slug: &str, service: &str) {
    sql.push(" WHERE ").push(slug).push(" IN (");
    if scope.demarches.is_empty() {
        sql.push("NULL");
    }
    for (i, slug) in scope.demarches.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(slug.as_str().to_owned());
    }
    sql.push(")");
    if let Some(group) = &scope.service {
        sql.push(" AND ").push(service).push(" IN (");
        for (i, role) in Role::ALL.into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(group.with_role(role).as_str().to_owned());
        }
        sql.push(")");
    }
}

/// Appends `AND <column> >= from AND <column> < until`.
pub(crate) fn push_period(sql: &mut Sql, column: &str, from: DateTime<Utc>, until: DateTime<Utc>) {
    sql.push(" AND ")
        .push(column)
        .push(" >= ")
        .bind(millis(from))
        .push(" AND ")
        .push(column)
        .push(" < ")
        .bind(millis(until));
}

/// Appends the condition of an [`Overdue`] list.
fn push_overdue(sql: &mut Sql, overdue: Overdue, now: DateTime<Utc>) {
    match overdue {
        Overdue::Late => {
            sql.push(" AND ");
            push_in_progress(sql);
            sql.push(
                " AND d.processing_deadline IS NOT NULL \
                 AND d.processing_deadline < COALESCE(d.on_hold_since, ",
            )
            .bind(millis(now))
            .push(")");
        }
        Overdue::Untaken { filed_before } => {
            sql.push(" AND d.phase = 'submitted' AND d.submitted_at <= ")
                .bind(millis(filed_before));
        }
    }
}

/// A statistics query, which PostgreSQL plans for the values bound each
/// time it runs (an unnamed statement) rather than once for any value (a
/// prepared one's generic plan): the periods and démarches asked vary so
/// much that a generic plan — chosen after five runs of a prepared
/// statement — read the heap instead of the covering indexes and took
/// 0.8 to 2.9 s where the custom plan takes 0.05 to 0.2 s (BENCHMARKS.md
/// § 5). SQLite plans each statement the same way either way.
pub(crate) fn planned_each_time<'q>(
    text: &'q str,
    args: AnyArguments<'q>,
) -> sqlx::query::Query<'q, sqlx::Any, AnyArguments<'q>> {
    sqlx::query_with(text, args).persistent(false)
}

/// The percentile `p` (0 < p ≤ 1) of `n` values: the offset of the value
/// in ascending order, as PostgreSQL's `percentile_disc` takes it.
fn percentile_offset(p: f64, n: u64) -> i64 {
    let rank = (p * n as f64).ceil() as i64;
    rank.max(1) - 1
}

impl Store {
    /// The figures of `scope` over the period `[from, until)` (the module
    /// docs say what each counts and from which index).
    ///
    /// # Errors
    /// A database error, or [`StoreError::Corrupt`] for a closing or
    /// refusal key the store did not write.
    pub async fn statistics(
        &self,
        scope: &StatisticsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Figures> {
        let (received, closings) = tokio::try_join!(
            self.received(scope, from, until),
            self.closings(scope, from, until)
        )?;
        let measured: u64 = closings.iter().map(|c| c.measured).sum();
        let (median, p90) = tokio::try_join!(
            self.processing_percentile(scope, from, until, 0.5, measured),
            self.processing_percentile(scope, from, until, 0.9, measured)
        )?;
        Ok(Figures {
            received,
            closings,
            median: median.map(Duration::milliseconds),
            p90: p90.map(Duration::milliseconds),
        })
    }

    /// The demandes of the scope filed in the period, by status.
    async fn received(
        &self,
        scope: &StatisticsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<(StatusId, u64)>> {
        let sql = match self.backend {
            Backend::Postgres => {
                let mut sql = Sql::new("SELECT d.status, COUNT(*) AS n FROM demandes d");
                push_scope(&mut sql, scope);
                push_period(&mut sql, "d.submitted_at", from, until);
                sql.push(" GROUP BY d.status");
                sql
            }
            Backend::Sqlite => {
                let statuses = self.statuses_of(&scope.demarches).await?;
                if statuses.is_empty() {
                    return Ok(Vec::new());
                }
                let mut sql = Sql::new("");
                for (i, status) in statuses.iter().enumerate() {
                    sql.push(if i == 0 { "" } else { " UNION ALL " })
                        .push("SELECT ")
                        .bind(status.as_str().to_owned())
                        .push(" AS status, COUNT(*) AS n FROM demandes d");
                    push_scope(&mut sql, scope);
                    sql.push(" AND d.status = ")
                        .bind(status.as_str().to_owned());
                    push_period(&mut sql, "d.submitted_at", from, until);
                }
                sql
            }
        };
        let (text, args) = sql.finish()?;
        let mut received = planned_each_time(&text, args)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| Ok((StatusId::from(row.text("status")?), unsigned(row.int("n")?))))
            .filter(|count| !matches!(count, Ok((_, 0))))
            .collect::<Result<Vec<_>>>()?;
        received.sort();
        Ok(received)
    }

    /// Every status of every version of these démarches.
    async fn statuses_of(&self, demarches: &[Slug]) -> Result<BTreeSet<StatusId>> {
        let mut sql = Sql::new("SELECT slug, version FROM demarche_versions WHERE slug IN (");
        for (i, slug) in demarches.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " })
                .bind(slug.as_str().to_owned());
        }
        if demarches.is_empty() {
            sql.push("NULL");
        }
        sql.push(")");
        let (text, args) = sql.finish()?;
        let mut conn = self.read.acquire().await?;
        let versions = sqlx::query_with(&text, args)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok((row.text("slug")?, row.int("version")?)))
            .collect::<Result<Vec<_>>>()?;
        let mut statuses = BTreeSet::new();
        for (slug, version) in versions {
            let version = u32::try_from(version)
                .map_err(|_| StoreError::Corrupt(format!("version {version}")))?;
            let facts = self.version_facts(&mut conn, &slug, version).await?;
            statuses.extend(facts.phases.keys().cloned());
        }
        Ok(statuses)
    }

    /// The closings of the scope in the period, by kind and refusal type.
    async fn closings(
        &self,
        scope: &StatisticsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<ClosingCount>> {
        const COUNTS: &str = "COUNT(*) AS n, COUNT(d.processing_ms) AS measured, \
             COUNT(CASE WHEN d.processing_ms IS NOT NULL AND d.closed_at <= d.processing_deadline \
             THEN 1 END) AS within FROM demandes d";
        let sql = match self.backend {
            Backend::Postgres => {
                let mut sql = Sql::new(&format!("SELECT d.closing, d.refusal_type, {COUNTS}"));
                push_scope(&mut sql, scope);
                push_period(&mut sql, "d.closed_at", from, until);
                sql.push(" GROUP BY d.closing, d.refusal_type");
                sql
            }
            Backend::Sqlite => {
                let groups = [
                    (Closing::Processed, None),
                    (Closing::Refused, Some(RefusalType::Refusee)),
                    (Closing::Refused, Some(RefusalType::Annulee)),
                    (Closing::Refused, Some(RefusalType::AbsenceReponseUsager)),
                    (Closing::Refused, None),
                    (Closing::Abandoned, None),
                ];
                let mut sql = Sql::new("");
                for (i, (closing, refusal)) in groups.into_iter().enumerate() {
                    let key = closing.key().to_owned();
                    sql.push(if i == 0 { "" } else { " UNION ALL " })
                        .push("SELECT ")
                        .bind(key.clone())
                        .push(" AS closing, ");
                    match refusal {
                        Some(kind) => sql.bind(refusal_key(kind).to_owned()),
                        None => sql.push("NULL"),
                    };
                    sql.push(" AS refusal_type, ").push(COUNTS);
                    push_scope(&mut sql, scope);
                    sql.push(" AND d.closing = ").bind(key);
                    match refusal {
                        Some(kind) => sql
                            .push(" AND d.refusal_type = ")
                            .bind(refusal_key(kind).to_owned()),
                        None => sql.push(" AND d.refusal_type IS NULL"),
                    };
                    push_period(&mut sql, "d.closed_at", from, until);
                }
                sql
            }
        };
        let (text, args) = sql.finish()?;
        let mut closings = planned_each_time(&text, args)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| {
                Ok(ClosingCount {
                    closing: Closing::from_key(&row.text("closing")?)?,
                    refusal: row
                        .text_opt("refusal_type")?
                        .as_deref()
                        .map(refusal_from_key)
                        .transpose()?,
                    count: unsigned(row.int("n")?),
                    measured: unsigned(row.int("measured")?),
                    within_deadline: unsigned(row.int("within")?),
                })
            })
            .filter(|count| !matches!(count, Ok(ClosingCount { count: 0, .. })))
            .collect::<Result<Vec<_>>>()?;
        closings.sort_by_key(|c| (c.closing, c.refusal.map(refusal_key)));
        Ok(closings)
    }

    /// The percentile `p` of the times to process (ms) of the `measured`
    /// closings of the scope in the period: the value at its rank in the
    /// index `demandes_duration`, walked from the nearer end.
    async fn processing_percentile(
        &self,
        scope: &StatisticsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        p: f64,
        measured: u64,
    ) -> Result<Option<i64>> {
        if measured == 0 {
            return Ok(None);
        }
        let rank = percentile_offset(p, measured);
        let last = i64::try_from(measured).unwrap_or(i64::MAX) - 1;
        let (order, offset) = if rank <= last - rank {
            ("", rank)
        } else {
            (" DESC", last - rank)
        };
        let mut sql = Sql::new("SELECT d.processing_ms AS ms FROM demandes d");
        push_scope(&mut sql, scope);
        push_period(&mut sql, "d.closed_at", from, until);
        sql.push(" AND d.processing_ms IS NOT NULL ORDER BY d.processing_ms")
            .push(order)
            .push(" LIMIT 1 OFFSET ")
            .bind(offset);
        let (text, args) = sql.finish()?;
        let row = planned_each_time(&text, args)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| row.int("ms")).transpose()
    }

    /// One page of the demandes of `scope` that need attention now
    /// ([`Overdue`]), as lines of the processing table.
    ///
    /// # Errors
    /// A database error.
    pub async fn overdue(
        &self,
        scope: &StatisticsScope,
        overdue: Overdue,
        now: DateTime<Utc>,
        offset: u32,
        limit: u32,
    ) -> Result<ProcessingPage> {
        let total = self.overdue_count(scope, overdue, now).await?;
        let mut sql = Sql::new(&format!("SELECT {PROCESSING_COLUMNS} FROM demandes d"));
        push_scope(&mut sql, scope);
        push_overdue(&mut sql, overdue, now);
        sql.push(match overdue {
            Overdue::Late => " ORDER BY d.processing_deadline, d.submitted_at, d.id",
            Overdue::Untaken { .. } => " ORDER BY d.submitted_at, d.id",
        })
        .push(" LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(i64::from(offset));
        let (text, args) = sql.finish()?;
        let rows = planned_each_time(&text, args).fetch_all(&self.read).await?;
        Ok(ProcessingPage {
            rows: rows
                .iter()
                .map(|row| processing_row(row, now))
                .collect::<Result<_>>()?,
            total,
        })
    }

    /// How many demandes of `scope` need attention now ([`Overdue`]).
    ///
    /// # Errors
    /// A database error.
    pub async fn overdue_count(
        &self,
        scope: &StatisticsScope,
        overdue: Overdue,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM demandes d");
        push_scope(&mut sql, scope);
        push_overdue(&mut sql, overdue, now);
        let (text, args) = sql.finish()?;
        let row = planned_each_time(&text, args).fetch_one(&self.read).await?;
        Ok(unsigned(row.int("n")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_taken_as_percentile_disc_does() {
        // 10 values: the median is the 5th, the 90th percentile the 9th.
        assert_eq!(percentile_offset(0.5, 10), 4);
        assert_eq!(percentile_offset(0.9, 10), 8);
        // 5 values: the 3rd and the 5th; one value: itself.
        assert_eq!(percentile_offset(0.5, 5), 2);
        assert_eq!(percentile_offset(0.9, 5), 4);
        assert_eq!(percentile_offset(0.9, 1), 0);
    }

    #[test]
    fn keys_read_back() {
        for closing in [Closing::Processed, Closing::Refused, Closing::Abandoned] {
            assert_eq!(Closing::from_key(closing.key()).unwrap(), closing);
        }
        for kind in [
            RefusalType::Refusee,
            RefusalType::Annulee,
            RefusalType::AbsenceReponseUsager,
        ] {
            assert_eq!(refusal_from_key(refusal_key(kind)).unwrap(), kind);
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(refusal_key(kind))
            );
        }
    }
}
