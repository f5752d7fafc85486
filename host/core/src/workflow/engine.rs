//! The engine: runs one transition on one demande, purely.
//!
//! Every check happens before anything is built, and the outcome is built on
//! a copy of the demande: an error leaves nothing half-applied.
//!
//! Order of a run: the actor (kind, ownership, right), the status, the
//! inputs (required, accepted, length, confirmation, service); then the
//! status change and what its [`Phase`] implies, the inputs recorded on the
//! demande (refusal, closing comment, service change), and the effects
//! (timers cancelled then started, history entries, notification jobs).
//! Two automatic cases record data of their own: closing at the deadline
//! writes a standard closing comment, and the no-answer cancellation records
//! the refusal type *Absence de réponse usager*.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    Action, Input, Inputs, Outcome, Phase, ServiceChange, Target, Transition, TransitionId,
    Workflow, WorkflowError,
};
use crate::actor::{Actor, ActorKind};
use crate::calendar::Zone;
use crate::demande::{
    Demande, DemarcheRef, FiledBy, HoldPeriod, KeyDates, Refusal, RefusalType, Services,
    StatusChange,
};
use crate::history::{Author, HistoryEntry};
use crate::id::{DemandeId, UserId};
use crate::notification::{NotificationJob, Recipient, RecipientKind};
use crate::role::{GroupName, Right};
use crate::text::{clean, is_blank};
use crate::value::Answers;
use crate::workflow::deadline::{self, TimerChange, TimerKind};

/// Longest free text an action accepts, in characters.
pub const MAX_TEXT_LENGTH: usize = 5000;

/// The event name of the submission in histories and jobs.
pub const SUBMISSION_EVENT: &str = "depot";

/// A demande about to be filed, already validated (see [`crate::submission`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDemande {
    /// Identifier chosen by the store.
    pub id: DemandeId,
    /// Number chosen by the store.
    pub numero: String,
    /// The démarche version filed on.
    pub demarche: DemarcheRef,
    /// The usager's account, if any.
    pub usager: Option<UserId>,
    /// The agent and channel, for a *saisie au nom de l'usager*.
    pub filed_by: Option<FiledBy>,
    /// The processing service.
    pub service: GroupName,
    /// The validated answers.
    pub answers: Answers,
}

/// Creates the demande in the workflow's initial status with the submission
/// effects (*Demande transmise*: histories, mails to the service and the usager).
///
/// # Errors
/// [`WorkflowError::UnknownStatus`] if the initial status is not defined
/// (checked workflows always define it).
pub fn start(
    workflow: &Workflow,
    new: NewDemande,
    author: Author,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, WorkflowError> {
    if workflow.status(&workflow.initial).is_none() {
        return Err(WorkflowError::UnknownStatus(workflow.initial.clone()));
    }
    let demande = Demande {
        id: new.id,
        numero: new.numero,
        demarche: new.demarche,
        usager: new.usager,
        filed_by: new.filed_by,
        status: workflow.initial.clone(),
        status_before_hold: None,
        path: vec![StatusChange {
            status: workflow.initial.clone(),
            at: now,
        }],
        services: Services {
            primary: new.service,
            joint: Vec::new(),
        },
        answers: new.answers,
        dates: KeyDates {
            submitted_at: now,
            analysis_started_at: None,
            holds: Vec::new(),
            closed_at: None,
            archived_at: None,
            anonymised_at: None,
        },
        reminders_sent: Vec::new(),
        awaiting_usager_since: None,
        refusal: None,
        closing_comment: None,
        departement: None,
        source_choices: BTreeMap::new(),
    };
    let mut outcome = empty_outcome(demande);
    let step = Step {
        workflow,
        event: SUBMISSION_EVENT,
        author,
        inputs: &Inputs::default(),
        now,
        zone,
        trigger: None,
    };
    step.write_effects(&workflow.on_submit, &mut outcome);
    Ok(outcome)
}

/// Runs an action of an usager or an agent.
///
/// # Errors
/// A [`WorkflowError`] when the transition is unknown, automatic, not allowed
/// from the current status, not open to this actor or right, or when an
/// input is missing, unexpected, too long or invalid, or the confirmation is
/// missing. Nothing is applied then.
pub fn apply(
    workflow: &Workflow,
    demande: &Demande,
    action: Action,
    actor: &Actor,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, WorkflowError> {
    let transition = workflow
        .transition(&action.transition)
        .ok_or_else(|| WorkflowError::UnknownTransition(action.transition.clone()))?;
    let author = actor_may_run(transition, demande, actor)?;
    run_asked(
        workflow,
        demande,
        transition,
        author,
        &action.inputs,
        now,
        zone,
    )
}

/// Runs an agents' transition on behalf of a vendor's application, as the
/// status synchronisation reads it (`connector.sync` of the démarche): the
/// author is the platform, the inputs those the vendor gave, confirmed.
///
/// # Errors
/// [`WorkflowError::UnknownTransition`], [`WorkflowError::WrongActor`] for
/// a transition that is not the agents', `NotAllowed` from the current
/// status, or the inputs' errors. Nothing is applied then.
pub fn apply_for_vendor(
    workflow: &Workflow,
    demande: &Demande,
    transition: &TransitionId,
    inputs: &Inputs,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, WorkflowError> {
    let transition = workflow
        .transition(transition)
        .ok_or_else(|| WorkflowError::UnknownTransition(transition.clone()))?;
    if transition.actor != ActorKind::Agent {
        return Err(WorkflowError::WrongActor(transition.label.clone()));
    }
    run_asked(
        workflow,
        demande,
        transition,
        Author::System,
        inputs,
        now,
        zone,
    )
}

/// Runs a transition someone asked for, by `author`, once its actor is
/// checked: allowed from the current status, inputs valid.
fn run_asked(
    workflow: &Workflow,
    demande: &Demande,
    transition: &Transition,
    author: Author,
    inputs: &Inputs,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, WorkflowError> {
    if !workflow.allows(transition, &demande.status) {
        return Err(not_allowed(workflow, transition, demande));
    }
    check_inputs(workflow, transition, demande, inputs)?;
    let step = Step {
        workflow,
        event: &transition.id.0,
        author,
        inputs,
        now,
        zone,
        trigger: None,
    };
    step.run(transition, demande)
}

/// Runs the automatic transition answering a timer (see [`crate::workflow::deadline::fire`]).
pub(crate) fn fire_timer(
    workflow: &Workflow,
    demande: &Demande,
    kind: TimerKind,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, WorkflowError> {
    let transition = workflow
        .transitions
        .iter()
        .find(|t| {
            t.actor == ActorKind::System
                && t.on_timer == Some(kind.trigger())
                && workflow.allows(t, &demande.status)
        })
        .ok_or_else(|| WorkflowError::NothingToFire(kind.to_string()))?;
    let inputs = Inputs::default();
    let step = Step {
        workflow,
        event: &transition.id.0,
        author: Author::System,
        inputs: &inputs,
        now,
        zone,
        trigger: Some(kind),
    };
    step.run(transition, demande)
}

/// Whether this actor may run the transition on this demande (status aside),
/// and as which author.
pub(crate) fn actor_may_run(
    transition: &Transition,
    demande: &Demande,
    actor: &Actor,
) -> Result<Author, WorkflowError> {
    let wrong = || WorkflowError::WrongActor(transition.label.clone());
    match (transition.actor, actor) {
        (ActorKind::Usager, Actor::Usager(id)) => {
            if demande.usager == Some(*id) {
                Ok(Author::Usager(Some(*id)))
            } else {
                Err(WorkflowError::NotOwner)
            }
        }
        (ActorKind::Agent, Actor::Agent { id, rights }) => {
            let needed = transition.right.unwrap_or(Right::BackOffice);
            if rights.contains(needed) {
                Ok(Author::Agent(*id))
            } else {
                Err(WorkflowError::RightMissing(needed))
            }
        }
        _ => Err(wrong()),
    }
}

fn not_allowed(workflow: &Workflow, transition: &Transition, demande: &Demande) -> WorkflowError {
    let status = workflow
        .status(&demande.status)
        .map_or_else(|| demande.status.to_string(), |s| s.label.clone());
    WorkflowError::NotAllowedFromStatus {
        transition: transition.label.clone(),
        status,
    }
}

fn check_inputs(
    workflow: &Workflow,
    transition: &Transition,
    demande: &Demande,
    inputs: &Inputs,
) -> Result<(), WorkflowError> {
    let given = [
        (
            Input::Message,
            inputs.message.as_deref().is_some_and(|t| !is_blank(t)),
        ),
        (Input::Attachment, inputs.attachment.is_some()),
        (Input::RefusalType, inputs.refusal_type.is_some()),
        (
            Input::Justification,
            inputs
                .justification
                .as_deref()
                .is_some_and(|t| !is_blank(t)),
        ),
        (
            Input::ClosingComment,
            inputs
                .closing_comment
                .as_deref()
                .is_some_and(|t| !is_blank(t)),
        ),
        (Input::Service, inputs.service.is_some()),
    ];
    for (input, present) in given {
        let required = transition.requires.contains(&input);
        let accepted = required || transition.accepts.contains(&input);
        if required && !present {
            return Err(WorkflowError::MissingInput(input));
        }
        if present && !accepted {
            return Err(WorkflowError::UnexpectedInput(input));
        }
    }
    let texts = [
        (Input::Message, &inputs.message),
        (Input::Justification, &inputs.justification),
        (Input::ClosingComment, &inputs.closing_comment),
    ];
    for (input, text) in texts {
        if text
            .as_deref()
            .is_some_and(|t| t.chars().count() > MAX_TEXT_LENGTH)
        {
            return Err(WorkflowError::TextTooLong {
                input,
                max: MAX_TEXT_LENGTH,
            });
        }
    }
    if transition.confirm && !inputs.confirmed {
        return Err(WorkflowError::ConfirmationRequired);
    }
    if let Some(service) = &inputs.service {
        let listed =
            workflow.transfer_targets.is_empty() || workflow.transfer_targets.contains(service);
        let already = demande.services.all().any(|s| s == service);
        let pointless = match transition.service_change {
            Some(ServiceChange::Transfer | ServiceChange::Join) => already,
            None => false,
        };
        if !listed || pointless {
            return Err(WorkflowError::InvalidService(service.clone()));
        }
    }
    Ok(())
}

fn empty_outcome(demande: Demande) -> Outcome {
    Outcome {
        demande,
        history: Vec::new(),
        notifications: Vec::new(),
        timers: Vec::new(),
        files_to_delete: Vec::new(),
        erase_personal_data: false,
    }
}

/// One run of a transition: the context shared by its parts.
struct Step<'a> {
    workflow: &'a Workflow,
    event: &'a str,
    author: Author,
    inputs: &'a Inputs,
    now: DateTime<Utc>,
    /// The collectivité's time zone: delays and dates written in texts.
    zone: Zone,
    trigger: Option<TimerKind>,
}

impl Step<'_> {
    fn run(&self, transition: &Transition, before: &Demande) -> Result<Outcome, WorkflowError> {
        let mut demande = before.clone();
        let target = match &transition.to {
            None => None,
            Some(Target::Status(id)) => Some(id.clone()),
            Some(Target::Previous) => Some(
                before
                    .status_before_hold
                    .clone()
                    .ok_or(WorkflowError::NoPreviousStatus)?,
            ),
        };
        let mut files_to_delete = Vec::new();
        let mut erase = false;
        if let Some(target) = target.filter(|target| target != &before.status) {
            let entered = self
                .workflow
                .phase(&target)
                .ok_or_else(|| WorkflowError::UnknownStatus(target.clone()))?;
            let left = self.workflow.phase(&before.status);
            self.change_status(&mut demande, target, left, entered);
            if entered == Phase::Anonymised {
                files_to_delete = crate::workflow::anonymise::anonymise_demande(
                    &mut demande,
                    &self.workflow.retained_fields,
                );
                erase = true;
            }
        }
        self.record_inputs(transition, &mut demande);
        let mut outcome = empty_outcome(demande);
        outcome.files_to_delete = files_to_delete;
        outcome.erase_personal_data = erase;
        self.write_effects(&transition.effects, &mut outcome);
        Ok(outcome)
    }

    fn change_status(
        &self,
        demande: &mut Demande,
        target: super::StatusId,
        left: Option<Phase>,
        entered: Phase,
    ) {
        let now = self.now;
        if left == Some(Phase::OnHold) {
            if let Some(hold) = demande
                .dates
                .holds
                .iter_mut()
                .rev()
                .find(|hold| hold.until.is_none())
            {
                hold.until = Some(now);
            }
            demande.status_before_hold = None;
        }
        match entered {
            Phase::Submitted => {
                demande.dates.analysis_started_at = None;
                demande.dates.holds.clear();
                demande.dates.closed_at = None;
                demande.reminders_sent.clear();
                demande.awaiting_usager_since = None;
                demande.refusal = None;
                demande.closing_comment = None;
                demande.status_before_hold = None;
            }
            Phase::Analysis => {
                demande.dates.analysis_started_at.get_or_insert(now);
            }
            Phase::OnHold => {
                demande.status_before_hold = Some(demande.status.clone());
                demande.dates.holds.push(HoldPeriod {
                    from: now,
                    until: None,
                });
            }
            Phase::Closed => {
                demande.dates.closed_at = Some(now);
                demande.awaiting_usager_since = None;
            }
            Phase::Archived => demande.dates.archived_at = Some(now),
            Phase::Anonymised => demande.dates.anonymised_at = Some(now),
            Phase::Processing | Phase::Trashed => {}
        }
        demande.path.push(StatusChange {
            status: target.clone(),
            at: now,
        });
        demande.status = target;
    }

    fn record_inputs(&self, transition: &Transition, demande: &mut Demande) {
        let inputs = self.inputs;
        if let (Some(kind), Some(justification)) = (inputs.refusal_type, &inputs.justification) {
            demande.refusal = Some(Refusal {
                kind,
                justification: clean(justification),
            });
        }
        if let Some(comment) = &inputs.closing_comment {
            demande.closing_comment = Some(clean(comment));
        }
        match self.trigger {
            Some(TimerKind::Reminder { days }) => demande.reminders_sent.push(days),
            Some(TimerKind::Deadline)
                if self.workflow.phase(&demande.status) == Some(Phase::Closed) =>
            {
                demande.closing_comment =
                    Some("Clôture automatique à l'échéance de traitement.".to_owned());
            }
            Some(TimerKind::NoAnswer) => {
                let days = self.workflow.timing.no_answer_days.unwrap_or_default();
                demande.refusal = Some(Refusal {
                    kind: RefusalType::AbsenceReponseUsager,
                    justification: format!(
                        "Aucune réponse de l'usager dans le délai de {days} jours."
                    ),
                });
            }
            _ => {}
        }
        if let Some(service) = &inputs.service {
            match transition.service_change {
                Some(ServiceChange::Transfer) => {
                    let previous =
                        std::mem::replace(&mut demande.services.primary, service.clone());
                    demande
                        .services
                        .joint
                        .retain(|joint| joint != service && joint != &previous);
                }
                Some(ServiceChange::Join) => demande.services.joint.push(service.clone()),
                None => {}
            }
        }
    }

    fn write_effects(&self, effects: &super::Effects, outcome: &mut Outcome) {
        let demande = &mut outcome.demande;
        for group in &effects.cancel {
            if matches!(group, super::TimerGroup::NoAnswer | super::TimerGroup::All) {
                demande.awaiting_usager_since = None;
            }
            for kind in deadline::kinds_of(self.workflow, *group) {
                outcome.timers.push(TimerChange::Cancel {
                    demande: demande.id,
                    kind,
                });
            }
        }
        for group in &effects.start {
            if *group == super::TimerGroup::NoAnswer
                && self.workflow.timing.no_answer_days.is_some()
            {
                demande.awaiting_usager_since = Some(self.now);
            }
            for timer in deadline::timers_for(self.workflow, demande, *group, self.now, self.zone) {
                outcome.timers.push(TimerChange::Schedule(timer));
            }
        }
        let params = self.params(demande);
        let message = [
            &self.inputs.message,
            &self.inputs.justification,
            &self.inputs.closing_comment,
        ]
        .into_iter()
        .find_map(|text| text.as_deref().map(clean).filter(|t| !t.is_empty()));
        for text in &effects.history {
            outcome.history.push(HistoryEntry {
                demande: demande.id,
                at: self.now,
                audience: text.audience,
                author: self.author,
                event: self.event.to_owned(),
                status: demande.status.clone(),
                text: crate::notification::fill(&text.text, &params),
                message: message.clone(),
                attachment: self.inputs.attachment.clone(),
            });
        }
        for notify in &effects.notify {
            for recipient in self.recipients(notify.to, demande) {
                outcome.notifications.push(NotificationJob {
                    demande: demande.id,
                    event: self.event.to_owned(),
                    template: notify.template.clone(),
                    channel: notify.channel,
                    recipient,
                    params: params.clone(),
                });
            }
        }
    }

    fn recipients(&self, kind: RecipientKind, demande: &Demande) -> Vec<Recipient> {
        match kind {
            RecipientKind::Usager => vec![Recipient::Usager],
            RecipientKind::Service => vec![Recipient::Service(demande.services.primary.clone())],
            RecipientKind::Services => demande
                .services
                .all()
                .cloned()
                .map(Recipient::Service)
                .collect(),
            RecipientKind::TargetService => self
                .inputs
                .service
                .iter()
                .cloned()
                .map(Recipient::Service)
                .collect(),
            RecipientKind::Manager => vec![Recipient::Manager(demande.services.primary.clone())],
        }
    }

    fn params(&self, demande: &Demande) -> BTreeMap<String, String> {
        let mut params = BTreeMap::new();
        params.insert("numero".to_owned(), demande.numero.clone());
        if let Some(refusal) = &demande.refusal {
            params.insert("motif".to_owned(), refusal.justification.clone());
            params.insert("type_refus".to_owned(), refusal.kind.label().to_owned());
        }
        if let Some(comment) = &demande.closing_comment {
            params.insert("commentaire".to_owned(), comment.clone());
        }
        if let Some(deadline) =
            deadline::processing_deadline(self.workflow, demande, self.now, self.zone)
        {
            params.insert("echeance".to_owned(), self.zone.date_text(deadline));
        }
        if let Some(TimerKind::Reminder { days }) = self.trigger {
            params.insert("jours".to_owned(), days.to_string());
        }
        let service = self
            .inputs
            .service
            .as_ref()
            .unwrap_or(&demande.services.primary);
        params.insert("service".to_owned(), service.to_string());
        params
    }
}
