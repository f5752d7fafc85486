//! Filing a demande, by the usager or by an agent on their behalf, and
//! filling the *cadre réservé à l'administration* afterwards.
//!
//! [`submit`] checks that the démarche is open and reachable by the filer,
//! that an agent filing on behalf of an usager holds the *saisie* right,
//! validates the whole form with the RGPD consent, and starts the workflow
//! (*Demande transmise*): the outcome is stored like any transition's.

use crate::actor::ActorKind;
use std::collections::BTreeMap;

use crate::id::{DemandeId, FieldId, UserId};
use chrono::{DateTime, Utc};

use crate::calendar::Zone;
use crate::demande::{Demande, DemarcheRef, FiledBy, FilingChannel};
use crate::demarche::{Definition, DemarcheVisibility};
use crate::field::Choice;
use crate::history::{Audience, Author, HistoryEntry};
use crate::role::{Right, Rights};
use crate::validation::{self, Context, FieldError};
use crate::value::{Answers, Value};
use crate::workflow::{self, NewDemande, Outcome, Workflow, WorkflowError};

/// Who files the demande.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filer {
    /// The usager, on the portal.
    Usager(UserId),
    /// An agent, *saisie au nom de l'usager*.
    Agent {
        /// The agent.
        id: UserId,
        /// Their rights on the démarche.
        rights: Rights,
        /// How the usager reached them.
        channel: FilingChannel,
        /// The usager's account, when they have one.
        usager: Option<UserId>,
    },
}

/// A demande to file.
#[derive(Debug, Clone, PartialEq)]
pub struct Filing {
    /// The version of the definition filed on (the current one).
    pub version: u32,
    /// Identifier chosen by the store.
    pub id: DemandeId,
    /// Number chosen by the store.
    pub numero: String,
    /// The answers (typed; see [`crate::validation::read_answers`]).
    pub answers: Answers,
    /// Whether the RGPD box is ticked.
    pub consent: bool,
    /// Who files.
    pub filer: Filer,
}

/// Why a demande cannot be filed. Nothing is written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmitError {
    /// Outside the open period.
    #[error("cette démarche n'est pas ouverte aux demandes en ce moment")]
    Closed,
    /// An usager filing a démarche reserved to agents.
    #[error("cette démarche se fait uniquement auprès des services")]
    AgentsOnly,
    /// An agent without the *saisie* right.
    #[error("droit manquant : saisie au nom de l'usager")]
    RightMissing,
    /// The answers are invalid.
    #[error("le formulaire comporte {} erreur(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The workflow could not start.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
}

/// Files a demande: checks, validates and starts the workflow.
///
/// `options` are the resolved options of data-source fields; `zone` is the
/// collectivité's time zone, in which the open period and `today` are read.
///
/// # Errors
/// A [`SubmitError`]; nothing is applied then.
pub fn submit(
    definition: &Definition,
    filing: Filing,
    options: &BTreeMap<FieldId, Vec<Choice>>,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Outcome, SubmitError> {
    let today = zone.today(now);
    if !definition.is_open_on(today) {
        return Err(SubmitError::Closed);
    }
    let (filler, usager, filed_by, author) = match filing.filer {
        Filer::Usager(id) => {
            if definition.visibility == DemarcheVisibility::Agents {
                return Err(SubmitError::AgentsOnly);
            }
            (ActorKind::Usager, Some(id), None, Author::Usager(Some(id)))
        }
        Filer::Agent {
            id,
            rights,
            channel,
            usager,
        } => {
            if !rights.contains(Right::FileOnBehalf) {
                return Err(SubmitError::RightMissing);
            }
            (
                ActorKind::Agent,
                usager,
                Some(FiledBy { agent: id, channel }),
                Author::Agent(id),
            )
        }
    };
    let context = Context {
        filler,
        today,
        options,
    };
    let answers =
        validation::validate_submission(definition, &filing.answers, filing.consent, &context)
            .map_err(SubmitError::Invalid)?;
    let new = NewDemande {
        id: filing.id,
        numero: filing.numero,
        demarche: DemarcheRef {
            slug: definition.slug.clone(),
            version: filing.version,
        },
        usager,
        filed_by,
        service: definition.service.clone(),
        answers,
    };
    let mut outcome = workflow::start(&definition.workflow(), new, author, now, zone)?;
    outcome.demande.source_choices = source_choices(definition, &outcome.demande.answers, options);
    if let Some(filed_by) = filed_by {
        outcome.history.push(HistoryEntry {
            demande: outcome.demande.id,
            at: now,
            audience: Audience::Agents,
            author,
            event: "saisie".to_owned(),
            status: outcome.demande.status.clone(),
            text: format!(
                "Demande saisie au nom de l'usager (reçue par {})",
                filed_by.channel.label()
            ),
            message: None,
            attachment: None,
        });
    }
    Ok(outcome)
}

/// The options of data-source fields that `answers` choose, with their
/// labels as the source gave them in `options`: what a demande keeps
/// ([`Demande::source_choices`]) so that its views need not ask the
/// connector again. A chosen value the source did not list is left out
/// (the view then shows the value itself).
pub fn source_choices(
    definition: &Definition,
    answers: &Answers,
    options: &BTreeMap<FieldId, Vec<Choice>>,
) -> BTreeMap<FieldId, Vec<Choice>> {
    let mut kept = BTreeMap::new();
    for field in definition.fields() {
        if !matches!(field.kind.choice_list(), Some((_, Some(_)))) {
            continue;
        }
        let chosen: Vec<&str> = match answers.get(&field.id) {
            Some(Value::Choice(value)) => vec![value.as_str()],
            Some(Value::Choices(values)) => values.iter().map(String::as_str).collect(),
            _ => continue,
        };
        let labelled: Vec<Choice> = options
            .get(&field.id)
            .into_iter()
            .flatten()
            .filter(|choice| chosen.contains(&choice.value.as_str()))
            .cloned()
            .collect();
        if !labelled.is_empty() {
            kept.insert(field.id.clone(), labelled);
        }
    }
    kept
}

/// Why the *cadre réservé* cannot be updated. Nothing is written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AgentFieldsError {
    /// The agent lacks the processing right.
    #[error("droit manquant : traitement des demandes")]
    RightMissing,
    /// The demande is archived, anonymised or trashed.
    #[error("cette demande ne peut plus être modifiée")]
    Frozen,
    /// The values are invalid.
    #[error("le cadre réservé à l'administration comporte {} erreur(s)", .0.len())]
    Invalid(Vec<FieldError>),
}

/// Fills the *cadre réservé à l'administration* of a filed demande: an
/// agent with the processing right sets agent-only fields, and the agents'
/// history records it.
///
/// # Errors
/// An [`AgentFieldsError`]; nothing is applied then.
#[allow(clippy::too_many_arguments)]
pub fn fill_agent_fields(
    definition: &Definition,
    workflow: &Workflow,
    demande: &Demande,
    update: &Answers,
    agent: UserId,
    rights: Rights,
    context: &Context<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome, AgentFieldsError> {
    if !rights.contains(Right::Process) {
        return Err(AgentFieldsError::RightMissing);
    }
    if workflow
        .phase(&demande.status)
        .is_none_or(|phase| phase.is_terminal())
    {
        return Err(AgentFieldsError::Frozen);
    }
    let cleaned = validation::validate_agent_fields(definition, &demande.answers, update, context)
        .map_err(AgentFieldsError::Invalid)?;
    let mut after = demande.clone();
    after.answers.merge(cleaned);
    after.source_choices = source_choices(definition, &after.answers, context.options);
    let entry = HistoryEntry {
        demande: demande.id,
        at: now,
        audience: Audience::Agents,
        author: Author::Agent(agent),
        event: "cadre_administration".to_owned(),
        status: demande.status.clone(),
        text: "Cadre réservé à l'administration complété".to_owned(),
        message: None,
        attachment: None,
    };
    Ok(Outcome {
        demande: after,
        history: vec![entry],
        notifications: Vec::new(),
        timers: Vec::new(),
        files_to_delete: Vec::new(),
        erase_personal_data: false,
    })
}
