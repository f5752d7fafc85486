//! Who acts, in one place: the [`Actor`] running an action now, its
//! [`ActorKind`] (who may run a transition, who fills a form), and, for a
//! filing, the [`crate::submission::Filer`] (an actor plus, for an agent
//! filing *au nom de l'usager*, the channel and the usager). What a history
//! entry keeps of its author, after accounts are gone, is
//! [`crate::history::Author`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::UserId;
use crate::role::Rights;

/// Who runs an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An usager (only on their own demandes).
    Usager(UserId),
    /// An agent, with their rights on the démarche (see [`crate::role::rights`]).
    Agent {
        /// The agent's account.
        id: UserId,
        /// Their rights on the démarche of the demande.
        rights: Rights,
    },
    /// The platform (timers).
    System,
}

impl Actor {
    /// The kind of actor.
    pub fn kind(&self) -> ActorKind {
        match self {
            Actor::Usager(_) => ActorKind::Usager,
            Actor::Agent { .. } => ActorKind::Agent,
            Actor::System => ActorKind::System,
        }
    }
}

/// Who runs a transition, or fills a form: the kind of an [`Actor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The usager of the demande.
    Usager,
    /// An agent with the transition's right on the démarche.
    Agent,
    /// The platform, when a timer is due (`automatic` in definitions).
    #[serde(rename = "automatic")]
    System,
}
