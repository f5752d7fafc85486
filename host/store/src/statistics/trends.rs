//! Two figures for the statistics' charts, each one query of conditional
//! counts over the closings of a scope (the same rows and indexes as
//! [`Store::statistics`]'s closings: démarche, closing date, time to
//! process, deadline):
//! - [`Store::processing_histogram`]: the closings measured in a period,
//!   by bucket of time to process;
//! - [`Store::deadline_by_period`]: for consecutive periods (the months of
//!   a year), the closings measured and those closed by their deadline.

use chrono::{DateTime, Duration, Utc};

use super::{StatisticsScope, planned_each_time, push_period, push_scope};
use crate::Store;
use crate::error::Result;
use crate::sql::{RowExt, Sql, millis, unsigned};

/// The closings measured and those closed by their processing deadline,
/// in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeadlineCount {
    /// Closings with a time to process.
    pub measured: u64,
    /// Those closed by their deadline.
    pub within: u64,
}

impl Store {
    /// How many closings of `scope` in `[from, until)` have a time to
    /// process in each bucket that `bounds` (ascending) delimit: the first
    /// bucket is `[0, bounds[0])`, then `[bounds[i - 1], bounds[i])`, the
    /// last `[bounds[last], ∞)` — `bounds.len() + 1` counts.
    ///
    /// # Errors
    /// A database error.
    pub async fn processing_histogram(
        &self,
        scope: &StatisticsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        bounds: &[Duration],
    ) -> Result<Vec<u64>> {
        let mut sql = Sql::new("SELECT ");
        for bucket in 0..=bounds.len() {
            sql.push(if bucket == 0 { "" } else { ", " })
                .push("COUNT(CASE WHEN 1 = 1");
            if let Some(low) = bucket.checked_sub(1).and_then(|i| bounds.get(i)) {
                sql.push(" AND d.processing_ms >= ")
                    .bind(low.num_milliseconds());
            }
            if let Some(high) = bounds.get(bucket) {
                sql.push(" AND d.processing_ms < ")
                    .bind(high.num_milliseconds());
            }
            sql.push(&format!(" THEN 1 END) AS b{bucket}"));
        }
        sql.push(" FROM demandes d");
        push_scope(&mut sql, scope);
        push_period(&mut sql, "d.closed_at", from, until);
        sql.push(" AND d.processing_ms IS NOT NULL");
        let (text, args) = sql.finish()?;
        let row = planned_each_time(&text, args).fetch_one(&self.read).await?;
        (0..=bounds.len())
            .map(|bucket| Ok(unsigned(row.int(&format!("b{bucket}"))?)))
            .collect()
    }

    /// For each period `[bounds[i], bounds[i + 1])` (ascending instants),
    /// the closings of `scope` measured in it and those closed by their
    /// processing deadline — `bounds.len() - 1` counts (none for fewer
    /// than two bounds).
    ///
    /// # Errors
    /// A database error.
    pub async fn deadline_by_period(
        &self,
        scope: &StatisticsScope,
        bounds: &[DateTime<Utc>],
    ) -> Result<Vec<DeadlineCount>> {
        let (Some(first), Some(last)) = (bounds.first(), bounds.last()) else {
            return Ok(Vec::new());
        };
        if bounds.len() < 2 {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT ");
        for (i, pair) in bounds.windows(2).enumerate() {
            for (kind, within) in [
                ("m", ""),
                ("w", " AND d.closed_at <= d.processing_deadline"),
            ] {
                sql.push(if i == 0 && kind == "m" { "" } else { ", " })
                    .push("COUNT(CASE WHEN d.closed_at >= ")
                    .bind(millis(pair[0]))
                    .push(" AND d.closed_at < ")
                    .bind(millis(pair[1]))
                    .push(within)
                    .push(&format!(" THEN 1 END) AS {kind}{i}"));
            }
        }
        sql.push(" FROM demandes d");
        push_scope(&mut sql, scope);
        push_period(&mut sql, "d.closed_at", *first, *last);
        sql.push(" AND d.processing_ms IS NOT NULL");
        let (text, args) = sql.finish()?;
        let row = planned_each_time(&text, args).fetch_one(&self.read).await?;
        (0..bounds.len() - 1)
            .map(|i| {
                Ok(DeadlineCount {
                    measured: unsigned(row.int(&format!("m{i}"))?),
                    within: unsigned(row.int(&format!("w{i}"))?),
                })
            })
            .collect()
    }
}
