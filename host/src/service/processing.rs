//! Processing a demande: read it with the definition of its version, and
//! apply an action (an agent's transition, an usager's reply or
//! abandonment). The workflow (`guichet_core::workflow::apply`) decides
//! once; the outcome — new state, history, jobs, timers and the action's
//! attachment's row — is written in one transaction
//! (`Store::apply_outcome`), after the attachment's content was staged on
//! disk (removed again if the action is refused or the write fails).
//! Entering the status the démarche transmits on adds the transmission's
//! job to the same transaction (`super::transmission`).

use std::sync::Arc;

use chrono::Duration;
use guichet_core::actor::{Actor, ActorKind};
use guichet_core::demarche::RemoteTransitions;
use guichet_core::file::FileRef;
use guichet_core::id::{DemandeId, UserId};
use guichet_core::role::{Right, Rights};
use guichet_core::submission::fill_agent_fields;
use guichet_core::trash::{self, Stay};
use guichet_core::validation::{Context, check_attachment, read_answers};
use guichet_core::workflow::deadline::{self, Timer};
use guichet_core::workflow::{self, Action, Input, Inputs, Outcome, Workflow, WorkflowError};
use guichet_store::demande::StoredDemande;
use guichet_store::demarche::StoredDefinition;
use guichet_store::file::{FileOwner, NewFile, StoredFile};
use guichet_store::job::NewJob;
use guichet_store::outcome::Extras;

use chrono::{DateTime, Utc};
use guichet_store::{Store, StoreError};

use super::{Caller, Guichet, ServiceError, options, transmission};

/// A demande with the definition of the version it was filed on.
#[derive(Debug)]
pub struct Loaded {
    /// The demande and its revision.
    pub stored: StoredDemande,
    /// The definition of its version.
    pub definition: StoredDefinition,
}

impl Loaded {
    /// Reads a demande and its version's definition.
    ///
    /// # Errors
    /// A store `NotFound` when there is no such demande.
    pub async fn read(guichet: &Guichet, id: DemandeId) -> Result<Loaded, ServiceError> {
        let stored = guichet.store.demande(id).await?;
        Loaded::with_definition(guichet, stored).await
    }

    /// A stored demande with the definition of its version.
    async fn with_definition(
        guichet: &Guichet,
        stored: StoredDemande,
    ) -> Result<Loaded, ServiceError> {
        let reference = &stored.demande.demarche;
        let definition = guichet
            .store
            .demarche_version(&reference.slug, reference.version)
            .await?;
        Ok(Loaded { stored, definition })
    }

    /// The workflow of the demande's version.
    pub fn workflow(&self) -> Arc<Workflow> {
        self.definition.definition.workflow()
    }

    /// Stores an outcome computed from this revision of the demande.
    ///
    /// # Errors
    /// A store `conflict` when the demande changed since it was read.
    async fn write(
        &self,
        guichet: &Guichet,
        outcome: Outcome,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Outcome, ServiceError> {
        let extras = Extras {
            jobs: self.transmissions(&outcome, now),
            ..Extras::default()
        };
        guichet
            .store
            .apply_outcome(&outcome, self.stored.revision, extras, now)
            .await?;
        Ok(outcome)
    }

    /// The transmission jobs `outcome` causes from this state
    /// ([`transmission::jobs`]).
    fn transmissions(&self, outcome: &Outcome, now: DateTime<Utc>) -> Vec<NewJob> {
        transmission::jobs(
            &self.definition.definition,
            Some(&self.stored.demande.status),
            &outcome.demande,
            now,
        )
    }

    /// An usager's own demande (filed by them or for them, anonymised ones
    /// included).
    ///
    /// # Errors
    /// `NotFound` when there is no such demande or it is someone else's.
    pub async fn for_usager(
        guichet: &Guichet,
        usager: UserId,
        id: DemandeId,
    ) -> Result<Loaded, ServiceError> {
        let stored = match guichet.store.usager_demande(usager, id).await {
            Ok(stored) => stored,
            Err(StoreError::NotFound(_)) => {
                return Err(ServiceError::NotFound("cette demande n'existe pas"));
            }
            Err(error) => return Err(error.into()),
        };
        Loaded::with_definition(guichet, stored).await
    }

    /// A demande on which an agent holds `right`, with their rights on it
    /// (which follow its services: `guichet_core::access`).
    ///
    /// # Errors
    /// `NotFound` when there is no such demande, `Forbidden` without the
    /// right.
    pub async fn for_agent(
        guichet: &Guichet,
        agent: &Caller,
        id: DemandeId,
        right: Right,
    ) -> Result<(Loaded, Rights), ServiceError> {
        let loaded = Loaded::read(guichet, id).await?;
        let rights = agent.rights_on_demande(&loaded.stored.demande);
        if rights.contains(right) {
            Ok((loaded, rights))
        } else {
            Err(ServiceError::Forbidden(format!(
                "droit manquant : {}",
                right.label()
            )))
        }
    }
}

/// Fills the *cadre réservé à l'administration* of a demande from plain
/// JSON answers (`guichet_core::submission::fill_agent_fields`) and stores
/// the outcome.
///
/// # Errors
/// `Fields` for answers that do not read, [`ServiceError::AgentFields`]
/// (right missing, demande closed, invalid answers), a store `conflict`.
pub async fn fill_reserved_fields(
    guichet: &Guichet,
    loaded: &Loaded,
    agent: &Caller,
    rights: Rights,
    body: &serde_json::Value,
) -> Result<Outcome, ServiceError> {
    let now = guichet.now();
    let definition = &loaded.definition.definition;
    let update = read_answers(definition, body).map_err(ServiceError::Fields)?;
    let options = options::resolve(
        guichet,
        definition,
        &loaded.stored.demande.answers,
        ActorKind::Agent,
        loaded.stored.demande.usager,
        options::Scope::Form,
    )
    .await;
    let context = Context {
        filler: ActorKind::Agent,
        today: guichet.zone.today(now),
        options: &options.choices,
    };
    let outcome = fill_agent_fields(
        definition,
        &loaded.workflow(),
        &loaded.stored.demande,
        &update,
        agent.user.id,
        rights,
        &context,
        now,
    )?;
    loaded.write(guichet, outcome, now).await
}

/// Takes a demande out of the trash (`guichet_core::trash::restore`),
/// within `period` after it entered it.
///
/// # Errors
/// The workflow's refusal (not an administrator, not confirmed, not in the
/// trash or past the period), a store `conflict`.
pub async fn restore(
    guichet: &Guichet,
    loaded: &Loaded,
    actor: &Actor,
    confirmed: bool,
    period: Duration,
) -> Result<Outcome, ServiceError> {
    let now = guichet.now();
    let since = guichet
        .store
        .trashed_at(loaded.stored.demande.id)
        .await?
        .unwrap_or(loaded.stored.updated_at);
    let outcome = trash::restore(
        &loaded.workflow(),
        &loaded.stored.demande,
        actor,
        confirmed,
        Stay { since, period },
        now,
        guichet.zone,
    )?;
    loaded.write(guichet, outcome, now).await
}

/// A file sent with an action (an exchange, a reply, a comment).
#[derive(Debug, Clone, Copy)]
pub struct Attachment<'a> {
    /// The name the sender gave.
    pub name: &'a str,
    /// The content.
    pub content: &'a [u8],
}

/// Applies `action` by `actor` to a demande read at `loaded`'s revision,
/// with its attachment if any, and stores the outcome.
///
/// # Errors
/// `Fields` for a refused attachment (`type_fichier`, `fichier_trop_gros`),
/// the workflow's refusal, or the store's error (`conflict` when the
/// demande changed meanwhile: read it again). Nothing is stored then.
pub async fn apply(
    guichet: &Guichet,
    loaded: &Loaded,
    mut action: Action,
    actor: &Actor,
    attachment: Option<Attachment<'_>>,
) -> Result<Outcome, ServiceError> {
    let now = guichet.now();
    let demande = &loaded.stored.demande;
    let staged: Option<StoredFile> = match attachment {
        Some(file) => {
            let media_type = check_attachment(file.content)?;
            let staged = guichet
                .store
                .stage_file(
                    NewFile {
                        owner: FileOwner::Demande(demande.id),
                        field: None,
                        declared_name: file.name,
                        media_type,
                        content: file.content,
                    },
                    now,
                )
                .await?;
            action.inputs.attachment = Some(FileRef::clone(&staged.file));
            Some(staged)
        }
        None => None,
    };
    let applied = async {
        let outcome = workflow::apply(
            &loaded.workflow(),
            demande,
            action,
            actor,
            now,
            guichet.zone,
        )?;
        let extras = Extras {
            files: staged.iter().cloned().collect(),
            jobs: loaded.transmissions(&outcome, now),
            ..Extras::default()
        };
        guichet
            .store
            .apply_outcome(&outcome, loaded.stored.revision, extras, now)
            .await?;
        Ok::<_, ServiceError>(outcome)
    }
    .await;
    if let (Err(_), Some(file)) = (&applied, &staged) {
        guichet.store.discard_staged_file(file).await;
    }
    applied
}

/// Runs, on behalf of a vendor's application, the transitions a vendor
/// status names (`connector.sync.on` of the démarche), in order, each only
/// when the demande's status then allows it; each outcome is written in
/// its own transaction, with the transmissions it causes. `comment` (the
/// vendor agents' last comment) fills the closing comment, message or
/// justification a transition asks. Returns the outcomes written (none
/// when the demande is already past them).
///
/// # Errors
/// The workflow's refusal of an input, a store `conflict` when the
/// demande changed meanwhile (the next reading tries again).
pub async fn apply_for_vendor(
    guichet: &Guichet,
    loaded: &Loaded,
    remote: &RemoteTransitions,
    comment: &str,
) -> Result<Vec<Outcome>, ServiceError> {
    let workflow = loaded.workflow();
    let inputs = Inputs {
        message: Some(comment.to_owned()),
        closing_comment: Some(comment.to_owned()),
        justification: Some(comment.to_owned()),
        refusal_type: remote.refusal_type,
        confirmed: true,
        ..Inputs::default()
    };
    let mut demande = loaded.stored.demande.clone();
    let mut revision = loaded.stored.revision;
    let mut written = Vec::new();
    for id in &remote.transitions {
        let allowed = workflow
            .transition(id)
            .is_some_and(|t| workflow.allows(t, &demande.status));
        if !allowed {
            continue;
        }
        let now = guichet.now();
        let mut needed = inputs.clone();
        if let Some(transition) = workflow.transition(id) {
            // Only what the transition takes: the others would be refused.
            let takes =
                |input| transition.requires.contains(&input) || transition.accepts.contains(&input);
            if !takes(Input::Message) {
                needed.message = None;
            }
            if !takes(Input::ClosingComment) {
                needed.closing_comment = None;
            }
            if !takes(Input::Justification) {
                needed.justification = None;
            }
            if !takes(Input::RefusalType) {
                needed.refusal_type = None;
            }
        }
        let outcome =
            workflow::apply_for_vendor(&workflow, &demande, id, &needed, now, guichet.zone)?;
        let extras = Extras {
            jobs: transmission::jobs(
                &loaded.definition.definition,
                Some(&demande.status),
                &outcome.demande,
                now,
            ),
            ..Extras::default()
        };
        revision = guichet
            .store
            .apply_outcome(&outcome, revision, extras, now)
            .await?;
        demande = outcome.demande.clone();
        written.push(outcome);
    }
    Ok(written)
}

/// Fires a claimed timer on the demande as stored (the scheduler's use
/// case, which needs only the store): the outcome is written with the
/// timer's deletion; a timer the demande no longer answers (a reminder
/// already sent, a status that moved on) is deleted. `Ok(false)` when it
/// was stale and dropped.
///
/// # Errors
/// A store error (the timer's lease expires and a later round retries).
pub async fn fire_timer(
    store: &Store,
    timer: &Timer,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let stored = match store.demande(timer.demande).await {
        Ok(stored) => stored,
        Err(StoreError::NotFound(_)) => {
            store.delete_timer(timer).await?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let reference = &stored.demande.demarche;
    let definition = store
        .demarche_version(&reference.slug, reference.version)
        .await?;
    let workflow = definition.definition.workflow();
    match deadline::fire(&workflow, &stored.demande, timer.kind, now, store.zone()) {
        Ok(outcome) => {
            let extras = Extras {
                fired_timer: Some(*timer),
                jobs: transmission::jobs(
                    &definition.definition,
                    Some(&stored.demande.status),
                    &outcome.demande,
                    now,
                ),
                ..Extras::default()
            };
            store
                .apply_outcome(&outcome, stored.revision, extras, now)
                .await?;
            Ok(true)
        }
        Err(WorkflowError::NothingToFire(_)) => {
            store.delete_timer(timer).await?;
            Ok(false)
        }
        Err(other) => {
            tracing::warn!(demande = %timer.demande.uuid(), kind = %timer.kind, error = %other, "timer refused by the workflow; dropped");
            store.delete_timer(timer).await?;
            Ok(false)
        }
    }
}
