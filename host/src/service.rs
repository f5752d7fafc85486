//! The application layer: the use cases between the callers — the JSON
//! API (`crate::http`), the web pages to come, the scheduler and the
//! workers — and what they combine: the pure rules of `guichet_core`, the
//! store and the connector registry. A handler extracts its input, calls
//! one function here and turns the result into a view; the rules live
//! here (what reads and writes what, in which order and transaction) and
//! in the core (what is allowed), never in a handler.
//!
//! One module per use case:
//! - [`catalogue`]: the démarches listed to usagers, one démarche's page;
//! - [`drafts`]: open a draft (for oneself, or an agent's *saisie* for an
//!   usager), read and list, save a page, attach a file, delete;
//! - [`filing`]: file a draft as a demande;
//! - [`processing`]: read a demande with its definition and apply an action
//!   (with its attachment, in one transaction);
//! - [`breaker`]: the connector worker's circuit breakers, per instance;
//! - [`transmission`]: transmit a demande to a vendor's application when
//!   it enters the status its démarche says, as a durable job run by a
//!   worker with retries; where each transmission stands;
//! - [`synchronisation`]: read a transmitted demande's record back from
//!   the vendor (status, card) and run the transitions its status names;
//! - [`journal`]: the durable journal of connector calls (written with the
//!   job's outcome for the workflow's calls), read by administrators;
//! - [`usager_demandes`]: an usager's own demandes, their status as the
//!   usager sees it, their history and actions;
//! - [`back_office`]: the démarches of an agent's back office, the
//!   processing table (with its reminder flag), a demande as agents see it;
//! - [`statistics`]: the figures that judge the 27-day promise, per
//!   démarche, service and period, as JSON or CSV, and the demandes late or
//!   never taken;
//! - [`files`]: the files of a demande, as an agent or its usager may
//!   download them;
//! - [`links`]: link an usager's account to their record at a vendor
//!   (their family at Espace famille) with the vendor's proof, or by an
//!   agent on their behalf; list and remove links;
//! - [`options`]: the choices of data-source fields, asked to connectors
//!   (with the usager's link for sources of their own record);
//! - [`connectors`]: the persisted connector registry — install a
//!   component, configure an instance (secrets sealed), activate, roll
//!   back, and restore everything at start;
//! - [`notifications`]: deliver the mails and SMS the workflow queues,
//!   as a worker with retries, recorded in the agents' history;
//! - [`survey`]: the satisfaction survey reached by a signed single-use
//!   link, answered once per demande;
//! - [`caller`]: who calls, and their rights;
//! - [`accounts`]: register, log in and out, authenticate a session or an
//!   API token, change one's password or profile — with the bounded
//!   password hashing, the login throttle and the password strength;
//! - [`administration`]: agents' accounts and API tokens, groups, members
//!   and grants, démarches (import, versions, number prefix), the dead
//!   letters (retry, abandon).
//!
//! Errors are [`ServiceError`]s; the HTTP layer maps each to its code and
//! status.

pub mod accounts;
pub mod administration;
pub mod back_office;
pub mod breaker;
pub mod caller;
pub mod catalogue;
pub mod connectors;
pub mod drafts;
mod error;
pub mod files;
pub mod filing;
pub mod journal;
pub mod links;
pub mod notifications;
pub mod options;
pub mod processing;
pub mod sms;
pub mod statistics;
pub mod survey;
pub mod synchronisation;
pub mod transmission;
pub mod usager_demandes;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use guichet_core::calendar::Zone;
use guichet_core::clock::Clock;
use guichet_store::Store;

pub use caller::{Caller, Credential};
pub use error::ServiceError;

use crate::connectors::Registry;
use breaker::Breakers;

/// What the use cases work with: the store, the clock, the connector
/// registry and the collectivité's time zone. Cheap to clone.
#[derive(Clone)]
pub struct Guichet {
    /// The database and the file storage.
    pub store: Store,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Installed connectors and their instances.
    pub registry: Arc<Registry>,
    /// The collectivité's time zone, in which calendar dates are read.
    pub zone: Zone,
    /// The circuit breakers of the connector worker, per instance.
    pub breakers: Arc<Breakers>,
    /// How notifications leave: SMTP, the SMS gateway, the portal's
    /// address for links.
    pub delivery: Arc<notifications::Delivery>,
    /// Whether this host serves the collectivité's usagers or a test of
    /// its démarches.
    pub environment: Environment,
}

/// Which environment a host serves. A démarche is built, then tried, then
/// put in production (PROCESS.md, « Opening a démarche »: « the
/// environment matters (the satisfaction page exists in production
/// only) »): what the national Observatoire counts — the *Je donne mon
/// avis* button — is shown by the production host only, so that tests do
/// not count as usagers' opinions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    /// A test or acceptance host (the default: a forgotten setting hides
    /// the button rather than sending test opinions to the Observatoire).
    #[default]
    Test,
    /// The collectivité's production host.
    Production,
}

/// Runs `round` every `period` until the task is dropped — what `guichet
/// serve` does with each worker beside the scheduler — logging what a
/// round did (`done`, unless it did nothing) or why it failed (`failed`).
pub(crate) async fn every<T, F, Fut>(
    period: std::time::Duration,
    done: &'static str,
    failed: &'static str,
    mut round: F,
) where
    T: std::fmt::Debug + Default + PartialEq,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ServiceError>>,
{
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match round().await {
            Ok(outcome) if outcome != T::default() => tracing::info!(?outcome, "{done}"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "{failed}"),
        }
    }
}

impl Guichet {
    /// Now, on the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
