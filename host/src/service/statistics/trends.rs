//! The figures behind the back office's charts, beside [`super::Statistics`]
//! and over the same scope and period: how the times to process spread
//! (a histogram in buckets of days, [`BUCKET_DAYS`]), and the share of the
//! closings made by their deadline in each month of the period (local
//! calendar months, cut to the period). Both are counted by the store in
//! one query each (`guichet_store::statistics::trends`).

use chrono::{Datelike, Duration, Months, NaiveDate};
use schemars::JsonSchema;
use serde::Serialize;

use super::{StatisticsRequest, judged, period};
use crate::service::{Caller, Guichet, ServiceError};

/// The bounds of the buckets of times to process, in days of 24 hours:
/// under 3 days, 3 to under 7, …, 27 (the default deadline) to under 42,
/// 42 or more.
pub const BUCKET_DAYS: [u32; 6] = [3, 7, 14, 21, 27, 42];

/// The most months the monthly share covers: the last ones of a longer
/// period.
pub const MAX_MONTHS: usize = 24;

/// The figures of the charts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Trends {
    /// The closings measured, by bucket of time to process, shortest
    /// first (`BUCKET_DAYS.len() + 1` buckets).
    pub processing: Vec<TimeBucket>,
    /// The closings measured and made by their deadline, month by month,
    /// oldest first (at most [`MAX_MONTHS`]).
    pub months: Vec<MonthShare>,
}

/// The closings whose time to process is in `[from_days, to_days)`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TimeBucket {
    /// Lower bound, in days (included).
    pub from_days: u32,
    /// Upper bound, in days (excluded); none for the last bucket.
    pub to_days: Option<u32>,
    /// The bucket in words (« de 3 à moins de 7 jours »).
    pub label: String,
    /// How many.
    pub count: u64,
}

/// One month's closings.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MonthShare {
    /// The month's first day (local date).
    pub month: NaiveDate,
    /// The month in words (« mars 2026 »).
    pub label: String,
    /// Closings with a time to process.
    pub measured: u64,
    /// Those made by their deadline.
    pub within: u64,
    /// `within / measured`, from 0 to 1; none when nothing was measured.
    pub share: Option<f64>,
}

const MONTH_NAMES: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A month in words: « mars 2026 ».
fn month_label(date: NaiveDate) -> String {
    let name = MONTH_NAMES
        .get(date.month0() as usize)
        .copied()
        .unwrap_or_default();
    format!("{name} {}", date.year())
}

/// The buckets' bounds and labels.
fn buckets() -> Vec<(u32, Option<u32>, String)> {
    let mut low = 0;
    let mut buckets = Vec::with_capacity(BUCKET_DAYS.len() + 1);
    for high in BUCKET_DAYS {
        let label = if low == 0 {
            format!("moins de {high} jours")
        } else {
            format!("de {low} à moins de {high} jours")
        };
        buckets.push((low, Some(high), label));
        low = high;
    }
    buckets.push((low, None, format!("{low} jours ou plus")));
    buckets
}

/// The first days of the months from `from`'s to `to`'s, each cut to the
/// period, then the day after `to`: the bounds of the months (the last
/// [`MAX_MONTHS`] of them).
fn month_bounds(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut bounds = vec![from];
    let mut month = from.with_day(1).unwrap_or(from);
    while let Some(next) = month.checked_add_months(Months::new(1)) {
        if next > to {
            break;
        }
        bounds.push(next);
        month = next;
    }
    bounds.push(to.succ_opt().unwrap_or(to));
    let skip = bounds.len().saturating_sub(MAX_MONTHS + 1);
    bounds.split_off(skip)
}

/// The figures of the charts for the scope and period of `request`.
///
/// # Errors
/// As [`super::statistics`]: `Forbidden` without the `statistics` right on
/// the démarche asked for (or on any); `Fields` for a service that is no
/// group name or a period ending before it starts; a store failure.
pub async fn trends(
    guichet: &Guichet,
    caller: &Caller,
    request: StatisticsRequest,
) -> Result<Trends, ServiceError> {
    let judged = judged(
        guichet,
        caller,
        request.demarche.as_deref(),
        request.service.as_deref(),
    )
    .await?;
    let (from, to) = period(guichet, &request)?;
    let zone = guichet.zone;
    let scope = judged.scope();
    let days = BUCKET_DAYS.map(|d| Duration::days(i64::from(d)));
    let months = month_bounds(from, to);
    let instants: Vec<_> = months.iter().map(|d| zone.day_start(*d)).collect();
    let until = zone.day_start(to.succ_opt().unwrap_or(to));
    let (histogram, shares) = tokio::try_join!(
        guichet
            .store
            .processing_histogram(&scope, zone.day_start(from), until, &days),
        guichet.store.deadline_by_period(&scope, &instants),
    )?;
    Ok(Trends {
        processing: buckets()
            .into_iter()
            .zip(histogram)
            .map(|((from_days, to_days, label), count)| TimeBucket {
                from_days,
                to_days,
                label,
                count,
            })
            .collect(),
        months: months
            .iter()
            .zip(shares)
            .map(|(first, count)| {
                let month = first.with_day(1).unwrap_or(*first);
                MonthShare {
                    month,
                    label: month_label(month),
                    measured: count.measured,
                    within: count.within,
                    share: (count.measured > 0)
                        .then(|| count.within as f64 / count.measured as f64),
                }
            })
            .collect(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_are_cut_to_the_period() {
        assert_eq!(
            month_bounds(day(2026, 1, 15), day(2026, 3, 10)),
            vec![
                day(2026, 1, 15),
                day(2026, 2, 1),
                day(2026, 3, 1),
                day(2026, 3, 11)
            ]
        );
        assert_eq!(
            month_bounds(day(2026, 3, 1), day(2026, 3, 31)),
            vec![day(2026, 3, 1), day(2026, 4, 1)]
        );
    }

    #[test]
    fn a_long_period_keeps_its_last_months() {
        let bounds = month_bounds(day(2020, 1, 1), day(2026, 3, 31));
        assert_eq!(bounds.len(), MAX_MONTHS + 1);
        assert_eq!(bounds[0], day(2024, 4, 1));
        assert_eq!(bounds[MAX_MONTHS], day(2026, 4, 1));
    }

    #[test]
    fn buckets_cover_every_time_once() {
        let buckets = buckets();
        assert_eq!(buckets.len(), BUCKET_DAYS.len() + 1);
        assert_eq!(buckets[0].2, "moins de 3 jours");
        assert_eq!(buckets[1].2, "de 3 à moins de 7 jours");
        assert_eq!(buckets[6], (42, None, "42 jours ou plus".to_owned()));
        for pair in buckets.windows(2) {
            assert_eq!(pair[0].1, Some(pair[1].0));
        }
        assert_eq!(month_label(day(2026, 8, 3)), "août 2026");
    }
}
