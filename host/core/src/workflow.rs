//! Workflows: statuses, transitions and their side effects, all as data.
//!
//! One format serves the two standard paths of the collectivité (built-in
//! templates parameterised by the démarche, see [`template`]) and custom
//! workflows written in a definition (`workflow: { custom: … }`, checked by
//! [`check_workflow`]). A [`Workflow`] has:
//!
//! - **statuses**, each with a label, a visibility (agent / everyone / hidden)
//!   and a [`Phase`] that tells the engine what entering it means (deadlines
//!   start in `analysis`, `closed` sets the closing date, `on_hold` opens a hold
//!   period, `anonymised` erases personal data…);
//! - **transitions**, each with the statuses it leaves (`"*"` = every status
//!   not archived, anonymised or trashed), the status it enters (none = stays,
//!   `@previous` = back to the status before the hold), its actor (usager,
//!   agent with a [`Right`], or automatic on a timer), the inputs it requires
//!   or accepts, whether it asks for confirmation, and its [`Effects`]: history
//!   texts per audience, notifications, timers to start or cancel.
//!
//! The engine ([`apply`], and [`crate::workflow::deadline::fire`] for timers) is a pure
//! function from (workflow, demande, action, actor, now, time zone) to an [`Outcome`]:
//! the new demande, the history entries, the notification jobs and the timer
//! changes, to be stored in one transaction. An error means no outcome at all.

mod action;
pub mod anonymise;
mod builder;
mod check;
pub mod deadline;
mod engine;
pub mod template;

use std::fmt;

use crate::actor::{Actor, ActorKind};
use crate::id::FieldId;
use crate::id::StatusId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::demande::Demande;

use crate::history::Audience;
use crate::notification::{Channel, RecipientKind};
use crate::role::{GroupName, Right};

pub use action::{Action, Inputs, Outcome, WorkflowError};
pub use check::check_workflow;
pub(crate) use engine::fire_timer;
pub use engine::{NewDemande, apply, apply_for_vendor, start};
pub use template::{AtDeadline, StandardParameters, resolve};

/// The `from` entry meaning every status that is not archived, anonymised or trashed.
pub const ANY_STATUS: &str = "*";

/// The identifier of a transition (`refuser`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct TransitionId(pub String);

impl From<&str> for TransitionId {
    fn from(id: &str) -> Self {
        TransitionId(id.to_owned())
    }
}

impl fmt::Display for TransitionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who sees a status (*Vue agent / Vue tous / Vue cachée*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusVisibility {
    /// Agents only.
    Agent,
    /// Agents and the usager.
    Everyone,
    /// Nobody: a technical status.
    Hidden,
}

/// What entering a status means to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Filed, waiting to be taken (*transmise*). Entering it again (admin)
    /// resets deadlines, holds, refusal and closing.
    Submitted,
    /// Taken by the service (*en cours d'analyse*): deadlines count from the
    /// first entry.
    Analysis,
    /// Being processed (*acceptée*, *en cours de traitement*).
    Processing,
    /// On hold: the time spent here moves the deadlines.
    OnHold,
    /// Closed (*traitée*, *refusée*, *abandonnée*, *annulée*): sets the closing date.
    Closed,
    /// Archived.
    Archived,
    /// Anonymised: personal data erased.
    Anonymised,
    /// In the trash.
    Trashed,
}

impl Phase {
    /// Whether `"*"` transitions are closed to statuses of this phase.
    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Archived | Phase::Anonymised | Phase::Trashed)
    }
}

/// A status of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// Identifier.
    pub id: StatusId,
    /// Label (*Demande en cours d'analyse*).
    pub label: String,
    /// Who sees it.
    pub visibility: StatusVisibility,
    /// What entering it means.
    pub phase: Phase,
}

/// Where a transition leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A status.
    Status(StatusId),
    /// Back to the status before the hold (`@previous`).
    Previous,
}

const PREVIOUS: &str = "@previous";

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Target::Status(id) => serializer.serialize_str(id.as_str()),
            Target::Previous => serializer.serialize_str(PREVIOUS),
        }
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(if text == PREVIOUS {
            Target::Previous
        } else {
            Target::Status(StatusId::from(text))
        })
    }
}

impl JsonSchema for Target {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Target".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A status id, or `@previous` for the status before the hold.",
            "type": "string"
        })
    }
}

/// An input an action can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A free text (exchange, comment, answer).
    Message,
    /// A file reference.
    Attachment,
    /// The refusal type.
    RefusalType,
    /// The refusal justification.
    Justification,
    /// The closing comment.
    ClosingComment,
    /// A service (transfer, joint processing, *relance service*).
    Service,
}

impl Input {
    /// The input's name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Input::Message => "message",
            Input::Attachment => "pièce jointe",
            Input::RefusalType => "type de refus",
            Input::Justification => "justification",
            Input::ClosingComment => "commentaire de clôture",
            Input::Service => "service",
        }
    }
}

/// How a transition changes the services of the demande.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceChange {
    /// The `service` input becomes the primary service.
    Transfer,
    /// The `service` input joins the processing.
    Join,
}

/// A group of timers a transition starts or cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimerGroup {
    /// Agent reminders and the processing deadline.
    Processing,
    /// The usager's silence after an exchange.
    NoAnswer,
    /// The end of a hold.
    HoldEnd,
    /// Archiving after closing.
    Archive,
    /// Anonymisation after closing.
    Anonymise,
    /// Every timer (cancel only).
    All,
}

/// The timer an automatic transition answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimerTrigger {
    /// An agent reminder (15 and 21 days by default).
    Reminder,
    /// The processing deadline (27 days by default).
    Deadline,
    /// The usager did not answer in time.
    NoAnswer,
    /// The maximum hold is over.
    HoldEnd,
    /// Archiving is due.
    Archive,
    /// Anonymisation is due.
    Anonymise,
}

/// A history text written by a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryText {
    /// Which history.
    pub audience: Audience,
    /// The text, with `{placeholders}` (`{numero}`, `{type_refus}`, `{service}`, `{jours}`, `{echeance}`).
    pub text: String,
}

/// A notification sent by a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// The text's template key.
    pub template: String,
    /// Mail (default) or SMS.
    #[serde(default = "mail")]
    pub channel: Channel,
    /// To whom.
    pub to: RecipientKind,
}

fn mail() -> Channel {
    Channel::Mail
}

/// The side effects of a transition, as data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Effects {
    /// History entries to write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryText>,
    /// Notifications to send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<Notify>,
    /// Timers to start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start: Vec<TimerGroup>,
    /// Timers to cancel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancel: Vec<TimerGroup>,
}

/// A transition (an action of the workflow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// Identifier.
    pub id: TransitionId,
    /// Label of the action (*Refuser la demande*).
    pub label: String,
    /// Statuses it can leave (`"*"`: any not archived, anonymised or trashed).
    pub from: Vec<StatusId>,
    /// Status it enters; stays when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Target>,
    /// Who runs it.
    pub actor: ActorKind,
    /// The right an agent needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<Right>,
    /// The timer running it (automatic transitions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_timer: Option<TimerTrigger>,
    /// Inputs that must be given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Input>,
    /// Inputs that may be given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepts: Vec<Input>,
    /// Whether the actor must confirm.
    #[serde(default, skip_serializing_if = "crate::field::is_false")]
    pub confirm: bool,
    /// How the `service` input changes the services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_change: Option<ServiceChange>,
    /// Side effects.
    #[serde(default)]
    pub effects: Effects,
}

/// Delays of a workflow, in calendar days (or months) of the collectivité's
/// time zone (see [`crate::calendar`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Processing deadline after *en cours d'analyse* (27), plus time on hold.
    pub processing_days: u32,
    /// Agent reminders after *en cours d'analyse* (15 and 21), plus time on hold.
    pub reminder_days: Vec<u32>,
    /// Archiving after closing (7 simple, 27 complexe).
    pub archive_after_days: u32,
    /// Anonymisation after closing, in days; give this or
    /// `anonymise_after_months`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymise_after_days: Option<u32>,
    /// Anonymisation after closing, in calendar months (12 simple, 24
    /// complexe: « 1 an », « 2 ans »); give this or `anonymise_after_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymise_after_months: Option<u32>,
    /// Silence of the usager after an exchange before cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer_days: Option<u32>,
    /// Longest hold before processing resumes by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_max_days: Option<u32>,
}

/// A workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// The status of a new demande.
    pub initial: StatusId,
    /// Every status.
    pub statuses: Vec<Status>,
    /// Every transition.
    pub transitions: Vec<Transition>,
    /// Effects of the submission (entering the initial status).
    #[serde(default)]
    pub on_submit: Effects,
    /// Delays.
    pub timing: Timing,
    /// Services a demande can be transferred to, shared with or chased
    /// (*relance service*); any service when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_targets: Vec<GroupName>,
    /// Answers kept at anonymisation (static choices and checkboxes not
    /// marked otherwise), filled from the definition by [`resolve`]; a
    /// workflow read alone keeps none.
    #[serde(skip)]
    #[schemars(skip)]
    pub retained_fields: Vec<FieldId>,
}

/// Which workflow a definition uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WorkflowChoice {
    /// The standard path of the démarche's kind, with parameters.
    Standard(StandardParameters),
    /// A custom workflow in the same format as the templates.
    Custom(Box<Workflow>),
}

impl Default for WorkflowChoice {
    fn default() -> Self {
        WorkflowChoice::Standard(StandardParameters::default())
    }
}

impl Workflow {
    /// The status with this id.
    pub fn status(&self, id: &StatusId) -> Option<&Status> {
        self.statuses.iter().find(|status| &status.id == id)
    }

    /// The transition with this id.
    pub fn transition(&self, id: &TransitionId) -> Option<&Transition> {
        self.transitions
            .iter()
            .find(|transition| &transition.id == id)
    }

    /// The phase of a status (`None` for an unknown status).
    pub fn phase(&self, id: &StatusId) -> Option<Phase> {
        self.status(id).map(|status| status.phase)
    }

    /// Whether `transition` can leave `status`.
    pub fn allows(&self, transition: &Transition, status: &StatusId) -> bool {
        transition.from.iter().any(|from| {
            from == status
                || (from.as_str() == ANY_STATUS
                    && self.phase(status).is_some_and(|p| !p.is_terminal()))
        })
    }

    /// The transitions the actor could run now on the demande (for the
    /// buttons of a page): allowed from its status, run by this kind of
    /// actor, with the right held. Inputs are not checked.
    pub fn available<'w>(&'w self, demande: &Demande, actor: &Actor) -> Vec<&'w Transition> {
        self.transitions
            .iter()
            .filter(|t| self.allows(t, &demande.status))
            .filter(|t| engine::actor_may_run(t, demande, actor).is_ok())
            .collect()
    }
}

/// The status shown to the usager: the latest status of the path that is
/// visible to everyone (an agent-only status such as the trash shows as the
/// status before it).
pub fn usager_status<'w>(workflow: &'w Workflow, demande: &Demande) -> Option<&'w Status> {
    demande
        .path
        .iter()
        .rev()
        .filter_map(|change| workflow.status(&change.status))
        .find(|status| status.visibility == StatusVisibility::Everyone)
}

/// The status shown to agents: the current one unless it is hidden, in which
/// case the latest non-hidden one.
pub fn agents_status<'w>(workflow: &'w Workflow, demande: &Demande) -> Option<&'w Status> {
    let current: Option<&StatusId> = Some(&demande.status);
    current
        .into_iter()
        .chain(demande.path.iter().rev().map(|change| &change.status))
        .filter_map(|id| workflow.status(id))
        .find(|status| status.visibility != StatusVisibility::Hidden)
}
