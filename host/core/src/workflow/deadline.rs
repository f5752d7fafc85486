//! Deadlines and timers.
//!
//! Counting starts on entering *en cours d'analyse*: agent reminders at 15 and
//! 21 days, the processing deadline at 27 days, each moved by the time spent
//! on hold (21 + x, 27 + x). Archiving and anonymisation count from the
//! closing date; the no-answer delay from the last exchange sent to the usager.
//! Days and months are calendar days and months in the collectivité's time
//! zone ([`Zone`]), so a deadline falls on the same local time of day
//! whatever the daylight-saving changes in between, and « 1 an » is a
//! calendar year.
//!
//! Timers are data: a [`Timer`] is (kind, demande, due date), so the store
//! indexes them by due date and the scheduler loads only what is due — its
//! cost grows with what is due, not with the number of demandes. When a timer
//! is due, the scheduler calls [`fire`], which runs the workflow's automatic
//! transition for it (a reminder, the deadline close or escalation, archiving,
//! anonymisation, the no-answer cancellation) and returns an
//! [`Outcome`] like any action. A stale timer (moved by a hold, or
//! whose status has passed) gives [`WorkflowError::NothingToFire`], and the
//! scheduler simply drops it. Either way the scheduler deletes the row of
//! the timer it fired, in the transaction that stores the outcome.

use std::fmt;
use std::str::FromStr;

use crate::id::DemandeId;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calendar::Zone;
use crate::demande::Demande;
use crate::workflow::{Outcome, Phase, TimerGroup, TimerTrigger, Workflow, WorkflowError};

/// What a timer does when due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKind {
    /// Agent reminder after this many days of processing.
    Reminder {
        /// Days after *en cours d'analyse* (before hold time).
        days: u32,
    },
    /// The processing deadline.
    Deadline,
    /// The usager's silence after an exchange.
    NoAnswer,
    /// The end of the longest hold.
    HoldEnd,
    /// Archiving.
    Archive,
    /// Anonymisation.
    Anonymise,
}

impl TimerKind {
    /// The trigger of the automatic transitions answering this timer.
    pub fn trigger(self) -> TimerTrigger {
        match self {
            TimerKind::Reminder { .. } => TimerTrigger::Reminder,
            TimerKind::Deadline => TimerTrigger::Deadline,
            TimerKind::NoAnswer => TimerTrigger::NoAnswer,
            TimerKind::HoldEnd => TimerTrigger::HoldEnd,
            TimerKind::Archive => TimerTrigger::Archive,
            TimerKind::Anonymise => TimerTrigger::Anonymise,
        }
    }
}

/// Stable keys for storage: `reminder_15`, `deadline`, `no_answer`,
/// `hold_end`, `archive`, `anonymise`.
impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimerKind::Reminder { days } => write!(f, "reminder_{days}"),
            TimerKind::Deadline => f.write_str("deadline"),
            TimerKind::NoAnswer => f.write_str("no_answer"),
            TimerKind::HoldEnd => f.write_str("hold_end"),
            TimerKind::Archive => f.write_str("archive"),
            TimerKind::Anonymise => f.write_str("anonymise"),
        }
    }
}

/// A storage key that is not a timer kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("type de minuteur inconnu « {0} »")]
pub struct UnknownTimerKind(pub String);

impl FromStr for TimerKind {
    type Err = UnknownTimerKind;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        match key {
            "deadline" => Ok(TimerKind::Deadline),
            "no_answer" => Ok(TimerKind::NoAnswer),
            "hold_end" => Ok(TimerKind::HoldEnd),
            "archive" => Ok(TimerKind::Archive),
            "anonymise" => Ok(TimerKind::Anonymise),
            _ => key
                .strip_prefix("reminder_")
                .and_then(|days| days.parse().ok())
                .map(|days| TimerKind::Reminder { days })
                .ok_or_else(|| UnknownTimerKind(key.to_owned())),
        }
    }
}

impl Serialize for TimerKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimerKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        key.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for TimerKind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimerKind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(reminder_[0-9]+|deadline|no_answer|hold_end|archive|anonymise)$"
        })
    }
}

/// A timer: at `due_at`, fire `kind` on `demande`. At most one timer per
/// (demande, kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Timer {
    /// What to do.
    pub kind: TimerKind,
    /// On which demande.
    pub demande: DemandeId,
    /// When.
    pub due_at: DateTime<Utc>,
}

/// A change to the stored timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimerChange {
    /// Insert or replace the timer of this (demande, kind).
    Schedule(Timer),
    /// Delete the timer of this (demande, kind), if any.
    Cancel {
        /// The demande.
        demande: DemandeId,
        /// The kind.
        kind: TimerKind,
    },
}

/// When the reminder of `after_days` is due: analysis start + that many
/// calendar days in the collectivité's `zone` + time on hold until `now`.
/// `None` before analysis.
pub fn reminder_due(
    demande: &Demande,
    after_days: u32,
    now: DateTime<Utc>,
    zone: Zone,
) -> Option<DateTime<Utc>> {
    let started = demande.dates.analysis_started_at?;
    Some(zone.add_days(started, after_days) + demande.dates.time_on_hold(now))
}

/// The processing deadline: analysis start + processing days (calendar
/// days in `zone`) + time on hold until `now`. `None` before analysis.
pub fn processing_deadline(
    workflow: &Workflow,
    demande: &Demande,
    now: DateTime<Utc>,
    zone: Zone,
) -> Option<DateTime<Utc>> {
    reminder_due(demande, workflow.timing.processing_days, now, zone)
}

/// Whether the demande is late: in processing (analysis, processing or on
/// hold) past its deadline. Shown in the processing table.
pub fn is_late(workflow: &Workflow, demande: &Demande, now: DateTime<Utc>, zone: Zone) -> bool {
    let in_progress = matches!(
        workflow.phase(&demande.status),
        Some(Phase::Analysis | Phase::Processing | Phase::OnHold)
    );
    in_progress
        && processing_deadline(workflow, demande, now, zone).is_some_and(|deadline| now > deadline)
}

/// When archiving is due (closing date + archive delay, calendar days).
pub fn archive_due(workflow: &Workflow, demande: &Demande, zone: Zone) -> Option<DateTime<Utc>> {
    Some(zone.add_days(demande.dates.closed_at?, workflow.timing.archive_after_days))
}

/// When anonymisation is due: closing date + the anonymisation delay, in
/// calendar months (12 months after 1 March 2027 is 1 March 2028) or days.
pub fn anonymise_due(workflow: &Workflow, demande: &Demande, zone: Zone) -> Option<DateTime<Utc>> {
    let closed = demande.dates.closed_at?;
    let timing = &workflow.timing;
    match (timing.anonymise_after_months, timing.anonymise_after_days) {
        (Some(months), _) => Some(zone.add_months(closed, months)),
        (None, Some(days)) => Some(zone.add_days(closed, days)),
        (None, None) => None,
    }
}

/// When the usager's silence cancels the demande (last exchange sent + delay),
/// if the workflow has a no-answer delay and an answer is awaited.
pub fn no_answer_due(workflow: &Workflow, demande: &Demande, zone: Zone) -> Option<DateTime<Utc>> {
    Some(zone.add_days(
        demande.awaiting_usager_since?,
        workflow.timing.no_answer_days?,
    ))
}

/// When the current hold ends by itself, if the workflow caps holds.
pub fn hold_end_due(workflow: &Workflow, demande: &Demande, zone: Zone) -> Option<DateTime<Utc>> {
    let open = demande
        .dates
        .holds
        .iter()
        .rev()
        .find(|hold| hold.until.is_none())?;
    Some(zone.add_days(open.from, workflow.timing.hold_max_days?))
}

/// When a timer of this kind is due for the demande as it is, if it applies.
pub fn due_at(
    workflow: &Workflow,
    demande: &Demande,
    kind: TimerKind,
    now: DateTime<Utc>,
    zone: Zone,
) -> Option<DateTime<Utc>> {
    match kind {
        TimerKind::Reminder { days } => reminder_due(demande, days, now, zone),
        TimerKind::Deadline => processing_deadline(workflow, demande, now, zone),
        TimerKind::NoAnswer => no_answer_due(workflow, demande, zone),
        TimerKind::HoldEnd => hold_end_due(workflow, demande, zone),
        TimerKind::Archive => archive_due(workflow, demande, zone),
        TimerKind::Anonymise => anonymise_due(workflow, demande, zone),
    }
}

/// The timer kinds of a group, for this workflow.
pub fn kinds_of(workflow: &Workflow, group: TimerGroup) -> Vec<TimerKind> {
    let processing = || {
        let mut kinds: Vec<TimerKind> = workflow
            .timing
            .reminder_days
            .iter()
            .map(|&days| TimerKind::Reminder { days })
            .collect();
        kinds.push(TimerKind::Deadline);
        kinds
    };
    match group {
        TimerGroup::Processing => processing(),
        TimerGroup::NoAnswer => vec![TimerKind::NoAnswer],
        TimerGroup::HoldEnd => vec![TimerKind::HoldEnd],
        TimerGroup::Archive => vec![TimerKind::Archive],
        TimerGroup::Anonymise => vec![TimerKind::Anonymise],
        TimerGroup::All => {
            let mut kinds = processing();
            kinds.extend([
                TimerKind::NoAnswer,
                TimerKind::HoldEnd,
                TimerKind::Archive,
                TimerKind::Anonymise,
            ]);
            kinds
        }
    }
}

/// The timers a group starts for the demande as it is (reminders already
/// sent are not scheduled again; kinds that do not apply are skipped).
pub fn timers_for(
    workflow: &Workflow,
    demande: &Demande,
    group: TimerGroup,
    now: DateTime<Utc>,
    zone: Zone,
) -> Vec<Timer> {
    kinds_of(workflow, group)
        .into_iter()
        .filter(|kind| !matches!(kind, TimerKind::Reminder { days } if demande.reminders_sent.contains(days)))
        .filter_map(|kind| {
            due_at(workflow, demande, kind, now, zone).map(|due_at| Timer { kind, demande: demande.id, due_at })
        })
        .collect()
}

/// Runs the automatic transition answering a due timer.
///
/// # Errors
/// [`WorkflowError::NothingToFire`] when no automatic transition answers the
/// timer from the current status, when the timer is not due yet as the
/// demande stands (moved by a hold), or when a reminder was already sent: the
/// scheduler drops such timers.
pub fn fire(
    workflow: &Workflow,
    demande: &Demande,
    kind: TimerKind,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, WorkflowError> {
    let stale = || WorkflowError::NothingToFire(kind.to_string());
    if let TimerKind::Reminder { days } = kind
        && demande.reminders_sent.contains(&days)
    {
        return Err(stale());
    }
    let due = due_at(workflow, demande, kind, now, zone).ok_or_else(stale)?;
    if due > now {
        return Err(stale());
    }
    crate::workflow::fire_timer(workflow, demande, kind, now, zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_kinds_have_stable_storage_keys() {
        let kinds = [
            (TimerKind::Reminder { days: 15 }, "reminder_15"),
            (TimerKind::Deadline, "deadline"),
            (TimerKind::NoAnswer, "no_answer"),
            (TimerKind::HoldEnd, "hold_end"),
            (TimerKind::Archive, "archive"),
            (TimerKind::Anonymise, "anonymise"),
        ];
        for (kind, key) in kinds {
            assert_eq!(kind.to_string(), key);
            assert_eq!(key.parse::<TimerKind>(), Ok(kind));
        }
        for bad in ["reminder_", "reminder_x", "rappel", ""] {
            assert!(bad.parse::<TimerKind>().is_err(), "{bad}");
        }
    }
}
