//! The demande: one request filed on a démarche, as the workflow sees it.
//!
//! A [`Demande`] is created by [`crate::submission::submit`] and only changed
//! through an [`crate::workflow::Outcome`] of the engine: the store replaces
//! its copy by `outcome.demande` in the same transaction as the history
//! entries, notification jobs and timers of that outcome.

use std::collections::BTreeMap;

use crate::field::Choice;
use crate::id::{DemandeId, FieldId, UserId};
use crate::id::{Slug, StatusId};
use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::role::GroupName;
use crate::value::Answers;

/// The démarche version a demande was filed on; it never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DemarcheRef {
    /// The démarche's slug.
    pub slug: Slug,
    /// The version number (1, 2, …) assigned by the store.
    pub version: u32,
}

/// How an agent received a demande filed on behalf of an usager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilingChannel {
    /// By phone.
    Telephone,
    /// At the counter.
    Guichet,
    /// By post.
    Courrier,
}

impl FilingChannel {
    /// The channel's name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            FilingChannel::Telephone => "téléphone",
            FilingChannel::Guichet => "guichet",
            FilingChannel::Courrier => "courrier",
        }
    }
}

/// *Saisie au nom de l'usager*: who filed the demande and how it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FiledBy {
    /// The agent who filled the form.
    pub agent: UserId,
    /// How the usager reached the agent.
    pub channel: FilingChannel,
}

/// The services processing a demande.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Services {
    /// The service in charge (changed by a transfer).
    pub primary: GroupName,
    /// Services added for joint processing.
    #[serde(default)]
    pub joint: Vec<GroupName>,
}

impl Services {
    /// The primary service then the joint ones.
    pub fn all(&self) -> impl Iterator<Item = &GroupName> {
        std::iter::once(&self.primary).chain(self.joint.iter())
    }
}

/// The kind of a refusal, chosen by the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalType {
    /// *Refusée*.
    Refusee,
    /// *Annulée*.
    Annulee,
    /// *Absence de réponse usager*.
    AbsenceReponseUsager,
}

impl RefusalType {
    /// The type's name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            RefusalType::Refusee => "Refusée",
            RefusalType::Annulee => "Annulée",
            RefusalType::AbsenceReponseUsager => "Absence de réponse usager",
        }
    }
}

/// Why a demande was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Refusal {
    /// The type chosen.
    pub kind: RefusalType,
    /// The mandatory justification (a free text, erased at anonymisation).
    pub justification: String,
}

/// A period on hold (*mise en attente*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HoldPeriod {
    /// Start of the hold.
    pub from: DateTime<Utc>,
    /// End of the hold; `None` while on hold.
    pub until: Option<DateTime<Utc>>,
}

/// An entry of the status path (kept after anonymisation for statistics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusChange {
    /// The status entered.
    pub status: StatusId,
    /// When.
    pub at: DateTime<Utc>,
}

/// The key dates of a demande.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyDates {
    /// Submission (*transmise*).
    pub submitted_at: DateTime<Utc>,
    /// Entry into *en cours d'analyse*: deadlines count from here.
    pub analysis_started_at: Option<DateTime<Utc>>,
    /// Periods on hold, which move the deadlines.
    #[serde(default)]
    pub holds: Vec<HoldPeriod>,
    /// Entry into a closing status (*traitée*, *refusée*, *abandonnée*,
    /// *annulée*): archiving and anonymisation count from here.
    pub closed_at: Option<DateTime<Utc>>,
    /// Archiving.
    pub archived_at: Option<DateTime<Utc>>,
    /// Anonymisation.
    pub anonymised_at: Option<DateTime<Utc>>,
}

impl KeyDates {
    /// Time spent on hold until `now` (an open hold counts up to `now`).
    pub fn time_on_hold(&self, now: DateTime<Utc>) -> Duration {
        self.holds
            .iter()
            .map(|hold| hold.until.unwrap_or(now).max(hold.from) - hold.from)
            .fold(Duration::zero(), |total, held| total + held)
    }
}

/// One demande.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Demande {
    /// Identifier.
    pub id: DemandeId,
    /// The number shown to people (`2026-000042`), chosen by the store.
    pub numero: String,
    /// The démarche version filed on.
    pub demarche: DemarcheRef,
    /// The usager's account; `None` for a demande filed by an agent for a
    /// person without an account.
    pub usager: Option<UserId>,
    /// Set when an agent filed it on behalf of the usager.
    pub filed_by: Option<FiledBy>,
    /// Current status.
    pub status: StatusId,
    /// The status to return to when the hold ends.
    pub status_before_hold: Option<StatusId>,
    /// Every status entered, in order.
    pub path: Vec<StatusChange>,
    /// The processing services.
    pub services: Services,
    /// The form's answers.
    pub answers: Answers,
    /// Key dates.
    pub dates: KeyDates,
    /// Reminders already sent (days after *en cours d'analyse*).
    #[serde(default)]
    pub reminders_sent: Vec<u32>,
    /// Since when the service awaits an answer of the usager (exchange sent,
    /// no reply yet).
    pub awaiting_usager_since: Option<DateTime<Utc>>,
    /// The refusal, when refused or cancelled.
    pub refusal: Option<Refusal>,
    /// The closing comment, when *traitée*.
    pub closing_comment: Option<String>,
    /// The département of the address, kept when the demande is anonymised.
    pub departement: Option<String>,
    /// The chosen options of data-source fields (a child of the family, a
    /// place), with the labels the source gave when they were chosen: at
    /// filing, or when an agent filled the field. Views show them without
    /// asking the connector again. Personal (a child's name): erased by
    /// anonymisation. Empty for demandes filed before it was kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub source_choices: BTreeMap<FieldId, Vec<Choice>>,
}
