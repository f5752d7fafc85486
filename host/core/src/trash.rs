//! The trash (*corbeille*): what an administrator's *Mettre à la corbeille*
//! leads to, and how it is undone.
//!
//! Putting a demande in the trash is an ordinary transition of the workflow
//! (admin only, every timer cancelled). What follows is the same for every
//! workflow, so it lives here rather than in each workflow:
//!
//! - **Undo** ([`restore`]): an administrator takes the demande out of the
//!   trash within the trash period (a setting of the platform, 30 days by
//!   default); it goes back to the status it had before, and the timers that
//!   status needs are scheduled again from the demande's own dates, so a
//!   deadline, an archiving or an anonymisation that fell due meanwhile fires
//!   at the next round of the scheduler: nothing escapes anonymisation.
//! - **Purge**: once the period is over the store deletes the demande with
//!   its history, jobs, timers, files and connector data (the host's
//!   scheduler runs it); the trash keeps no personal data for ever.
//! - **What the usager sees** ([`usager_sees_closed`]): the trash is an
//!   agent-only status, and a demande in it is shown to its usager as
//!   closed ([`USAGER_STATUS_LABEL`]), never as still being processed.
use crate::actor::Actor;

use crate::id::StatusId;
use chrono::{DateTime, Duration, Utc};

use crate::calendar::Zone;
use crate::demande::{Demande, StatusChange};
use crate::history::{Audience, Author, HistoryEntry};
use crate::role::Right;
use crate::workflow::deadline::{self, TimerChange};
use crate::workflow::{Outcome, Phase, TimerGroup, Workflow, WorkflowError};

/// The event written in the agents' history when a demande is restored.
pub const RESTORE_EVENT: &str = "restaurer";

/// The label of the restoring action.
pub const RESTORE_LABEL: &str = "Restaurer la demande depuis la corbeille";

/// The status id an usager sees for a demande in the trash.
pub const USAGER_STATUS_ID: &str = "cloturee";

/// The status label an usager sees for a demande in the trash.
pub const USAGER_STATUS_LABEL: &str = "Demande clôturée";

/// Whether the demande is in the trash.
pub fn is_trashed(workflow: &Workflow, demande: &Demande) -> bool {
    workflow.phase(&demande.status) == Some(Phase::Trashed)
}

/// Whether the usager must see the demande as closed (it is in the trash).
pub fn usager_sees_closed(workflow: &Workflow, demande: &Demande) -> bool {
    is_trashed(workflow, demande)
}

/// When the trash period of a demande trashed at `trashed_at` ends.
pub fn purge_due(trashed_at: DateTime<Utc>, period: Duration) -> DateTime<Utc> {
    trashed_at + period
}

/// The status the demande had before entering the trash.
fn status_before_trash(workflow: &Workflow, demande: &Demande) -> Option<StatusId> {
    demande
        .path
        .iter()
        .rev()
        .map(|change| &change.status)
        .find(|status| workflow.phase(status).is_some_and(|p| p != Phase::Trashed))
        .cloned()
}

/// The timer groups a status of this phase runs.
fn groups_of(phase: Phase) -> &'static [TimerGroup] {
    match phase {
        Phase::Analysis | Phase::Processing => &[TimerGroup::Processing, TimerGroup::NoAnswer],
        Phase::OnHold => &[TimerGroup::HoldEnd, TimerGroup::NoAnswer],
        Phase::Closed => &[TimerGroup::Archive, TimerGroup::Anonymise],
        Phase::Archived => &[TimerGroup::Anonymise],
        Phase::Submitted | Phase::Anonymised | Phase::Trashed => &[],
    }
}

/// A demande's stay in the trash: since when, and for how long it may be
/// restored (the configured trash period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    /// When it entered the trash.
    pub since: DateTime<Utc>,
    /// The trash period (`--trash-retention-days`).
    pub period: Duration,
}

/// Takes a demande out of the trash: back to its status before the trash,
/// with the timers that status runs scheduled again from the demande's
/// dates, and an entry in the agents' history.
///
/// Past the trash period of its `stay`, the demande can no longer be
/// restored (it is about to be purged).
///
/// # Errors
/// [`WorkflowError::WrongActor`] for anyone but an agent,
/// [`WorkflowError::RightMissing`] without the administration right,
/// [`WorkflowError::ConfirmationRequired`] without `confirmed`,
/// [`WorkflowError::NotAllowedFromStatus`] when the demande is not in the
/// trash or its trash period is over.
pub fn restore(
    workflow: &Workflow,
    demande: &Demande,
    actor: &Actor,
    confirmed: bool,
    stay: Stay,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, WorkflowError> {
    let agent = match actor {
        Actor::Agent { id, rights } if rights.contains(Right::Administration) => *id,
        Actor::Agent { .. } => return Err(WorkflowError::RightMissing(Right::Administration)),
        _ => return Err(WorkflowError::WrongActor(RESTORE_LABEL.to_owned())),
    };
    let status_label = || {
        workflow
            .status(&demande.status)
            .map_or_else(|| demande.status.to_string(), |s| s.label.clone())
    };
    if !is_trashed(workflow, demande) {
        return Err(WorkflowError::NotAllowedFromStatus {
            transition: RESTORE_LABEL.to_owned(),
            status: status_label(),
        });
    }
    if now >= purge_due(stay.since, stay.period) {
        return Err(WorkflowError::NotAllowedFromStatus {
            transition: RESTORE_LABEL.to_owned(),
            status: format!(
                "{} depuis plus de {} jours",
                status_label(),
                stay.period.num_days()
            ),
        });
    }
    if !confirmed {
        return Err(WorkflowError::ConfirmationRequired);
    }
    let target = status_before_trash(workflow, demande).unwrap_or_else(|| workflow.initial.clone());
    let phase = workflow
        .phase(&target)
        .ok_or_else(|| WorkflowError::UnknownStatus(target.clone()))?;
    let mut restored = demande.clone();
    restored.path.push(StatusChange {
        status: target.clone(),
        at: now,
    });
    restored.status = target.clone();
    let timers = groups_of(phase)
        .iter()
        .flat_map(|group| deadline::timers_for(workflow, &restored, *group, now, zone))
        .map(TimerChange::Schedule)
        .collect();
    let history = vec![HistoryEntry {
        demande: demande.id,
        at: now,
        audience: Audience::Agents,
        author: Author::Agent(agent),
        event: RESTORE_EVENT.to_owned(),
        status: target,
        text: "Demande restaurée depuis la corbeille par l'administration".to_owned(),
        message: None,
        attachment: None,
    }];
    Ok(Outcome {
        demande: restored,
        history,
        notifications: Vec::new(),
        timers,
        files_to_delete: Vec::new(),
        erase_personal_data: false,
    })
}
