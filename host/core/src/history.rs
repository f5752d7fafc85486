//! The two histories of a demande: the usager's and the agents'.
//!
//! Every transition writes [`HistoryEntry`]s, each for one audience: the
//! usager's history, the agents' history, or both. Usagers see only the
//! entries meant for them ([`usager_history`]) and only statuses marked
//! visible to everyone ([`crate::workflow::usager_status`]); agents see their history
//! ([`agents_history`]).

use crate::id::{DemandeId, StatusId, UserId};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::file::FileRef;

/// Which history an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The usager's history only.
    Usager,
    /// The agents' history only.
    Agents,
    /// Both histories.
    Both,
}

impl Audience {
    /// Whether the usager sees entries of this audience.
    pub fn usager_sees(self) -> bool {
        matches!(self, Audience::Usager | Audience::Both)
    }

    /// Whether agents see entries of this audience.
    pub fn agents_see(self) -> bool {
        matches!(self, Audience::Agents | Audience::Both)
    }
}

/// Who caused an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Author {
    /// The usager.
    Usager(Option<UserId>),
    /// An agent.
    Agent(UserId),
    /// The platform (timers, submission).
    System,
}

/// One entry of a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    /// The demande.
    pub demande: DemandeId,
    /// When.
    pub at: DateTime<Utc>,
    /// Which history.
    pub audience: Audience,
    /// Who.
    pub author: Author,
    /// The transition (or `depot`) that wrote it.
    pub event: String,
    /// The status after the event.
    pub status: StatusId,
    /// The text written by the workflow (no personal data).
    pub text: String,
    /// The free text typed by a person (message, comment, justification),
    /// erased at anonymisation.
    pub message: Option<String>,
    /// A file attached by a person, deleted at anonymisation.
    pub attachment: Option<FileRef>,
}

/// The entries the usager sees, in order.
pub fn usager_history(entries: &[HistoryEntry]) -> Vec<&HistoryEntry> {
    entries
        .iter()
        .filter(|entry| entry.audience.usager_sees())
        .collect()
}

/// The entries agents see, in order.
pub fn agents_history(entries: &[HistoryEntry]) -> Vec<&HistoryEntry> {
    entries
        .iter()
        .filter(|entry| entry.audience.agents_see())
        .collect()
}
