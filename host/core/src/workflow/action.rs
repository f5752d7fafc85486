//! What runs a transition (an [`Action`] by an [`Actor`]) and what it
//! produces (an [`Outcome`], or a [`WorkflowError`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Input, TransitionId};
use crate::demande::{Demande, RefusalType};
use crate::file::FileRef;
use crate::history::HistoryEntry;
use crate::id::FileId;
use crate::id::StatusId;
use crate::notification::NotificationJob;
use crate::role::{GroupName, Right};
use crate::workflow::deadline::TimerChange;

/// The inputs of an action.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Inputs {
    /// Free text (exchange, comment, answer).
    #[serde(default)]
    pub message: Option<String>,
    /// A file, already checked and stored.
    #[serde(default)]
    pub attachment: Option<FileRef>,
    /// The refusal type.
    #[serde(default)]
    pub refusal_type: Option<RefusalType>,
    /// The refusal justification.
    #[serde(default)]
    pub justification: Option<String>,
    /// The closing comment.
    #[serde(default)]
    pub closing_comment: Option<String>,
    /// A service (transfer, joint processing, *relance service*).
    #[serde(default)]
    pub service: Option<GroupName>,
    /// The actor confirmed.
    #[serde(default)]
    pub confirmed: bool,
}

/// An action asked by an usager or an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    /// The transition to run.
    pub transition: TransitionId,
    /// Its inputs.
    #[serde(default)]
    pub inputs: Inputs,
}

impl Action {
    /// An action without inputs.
    pub fn new(transition: &str) -> Self {
        Action {
            transition: TransitionId::from(transition),
            inputs: Inputs::default(),
        }
    }

    /// With a message.
    pub fn message(mut self, text: &str) -> Self {
        self.inputs.message = Some(text.to_owned());
        self
    }

    /// With an attachment.
    pub fn attachment(mut self, file: FileRef) -> Self {
        self.inputs.attachment = Some(file);
        self
    }

    /// With a refusal type and justification.
    pub fn refusal(mut self, kind: RefusalType, justification: &str) -> Self {
        self.inputs.refusal_type = Some(kind);
        self.inputs.justification = Some(justification.to_owned());
        self
    }

    /// With a closing comment.
    pub fn closing_comment(mut self, text: &str) -> Self {
        self.inputs.closing_comment = Some(text.to_owned());
        self
    }

    /// With a service.
    pub fn service(mut self, service: GroupName) -> Self {
        self.inputs.service = Some(service);
        self
    }

    /// Confirmed by the actor.
    pub fn confirmed(mut self) -> Self {
        self.inputs.confirmed = true;
        self
    }
}

/// What a transition produces, to be stored in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The demande after the transition.
    pub demande: Demande,
    /// History entries to append.
    pub history: Vec<HistoryEntry>,
    /// Notification jobs to enqueue.
    pub notifications: Vec<NotificationJob>,
    /// Timers to cancel then schedule, in order.
    pub timers: Vec<TimerChange>,
    /// Files the store must delete (anonymisation).
    pub files_to_delete: Vec<FileId>,
    /// Whether the store must erase the free texts and attachments of every
    /// earlier history entry and pending job of the demande (anonymisation,
    /// see [`crate::workflow::anonymise::redact_history`]).
    pub erase_personal_data: bool,
}

impl Outcome {
    /// Gives the outcome of a submission built with a placeholder number
    /// ([`crate::submission::Filing::numero`]) the number `numero` the
    /// store took for it, wherever the submission wrote the placeholder:
    /// the demande's number, the `{numero}` parameter of its
    /// notifications, and the history texts whose `{numero}` it filled.
    /// The placeholder must be a text that no definition's text holds
    /// (the store makes it of the demande's fresh id); an empty one is
    /// replaced in the demande and the parameters only. The store builds
    /// a filing's outcome before it takes the number, so that its
    /// numbering, which filings take in turn, waits on no validation.
    pub fn renumber(&mut self, numero: &str) {
        let placeholder = std::mem::replace(&mut self.demande.numero, numero.to_owned());
        for job in &mut self.notifications {
            if let Some(value) = job.params.get_mut("numero")
                && *value == placeholder
            {
                numero.clone_into(value);
            }
        }
        if placeholder.is_empty() {
            return;
        }
        for entry in &mut self.history {
            if entry.text.contains(&placeholder) {
                entry.text = entry.text.replace(&placeholder, numero);
            }
        }
    }
}

/// Why an action or a timer cannot run. Nothing is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// No such transition in the workflow.
    #[error("action inconnue « {0} »")]
    UnknownTransition(TransitionId),
    /// The transition does not leave the current status.
    #[error("l'action « {transition} » n'est pas possible au statut « {status} »")]
    NotAllowedFromStatus {
        /// The transition's label.
        transition: String,
        /// The current status's label.
        status: String,
    },
    /// The transition is run by someone else (usager, agent or platform).
    #[error("l'action « {0} » n'est pas ouverte à cet utilisateur")]
    WrongActor(String),
    /// An usager acting on someone else's demande.
    #[error("cette demande n'est pas la vôtre")]
    NotOwner,
    /// The agent lacks the right.
    #[error("droit manquant : {}", .0.label())]
    RightMissing(Right),
    /// A required input is missing or blank.
    #[error("information obligatoire manquante : {}", .0.label())]
    MissingInput(Input),
    /// An input the transition does not take.
    #[error("information non attendue pour cette action : {}", .0.label())]
    UnexpectedInput(Input),
    /// A free text is too long.
    #[error("le texte « {} » dépasse {max} caractères", .input.label())]
    TextTooLong {
        /// Which input.
        input: Input,
        /// The limit.
        max: usize,
    },
    /// The action needs a confirmation.
    #[error("cette action doit être confirmée")]
    ConfirmationRequired,
    /// The service cannot receive the demande.
    #[error("le service « {0} » ne peut pas recevoir cette demande")]
    InvalidService(GroupName),
    /// Back to the previous status without one recorded.
    #[error("aucun statut antérieur à la mise en attente n'est connu")]
    NoPreviousStatus,
    /// The workflow leads to a status it does not define.
    #[error("le circuit ne définit pas le statut « {0} »")]
    UnknownStatus(StatusId),
    /// No automatic transition answers this timer now (stale or moved timer):
    /// the scheduler drops it.
    #[error("le minuteur « {0} » n'a rien à déclencher")]
    NothingToFire(String),
}
