//! Filing a draft as a demande: who files (the usager, or an agent for the
//! usager the draft was opened for, with the channel), the core's checks
//! and the workflow's start (`guichet_core::submission::submit`), and the
//! store's numbering and transaction (`Store::file_demande`: a refused
//! filing takes no number and writes nothing; the draft goes in the same
//! transaction, and filing fails if it changed since it was read).

use std::sync::Arc;

use guichet_core::demande::{Demande, FilingChannel};
use guichet_core::demarche::Definition;
use guichet_core::submission::{self, Filer, Filing, SubmitError};
use guichet_core::validation::{ErrorCode, FieldError};
use guichet_store::StoreError;
use guichet_store::draft::DraftId;
use guichet_store::outcome::Extras;

use super::drafts::{self, usager_by_login};
use super::{Caller, Guichet, ServiceError, options, transmission};

/// What the caller adds to a draft to file it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The RGPD box: without it the demande is not received.
    pub consent: bool,
    /// For an agent's *saisie*: how the usager reached the service.
    pub channel: Option<FilingChannel>,
    /// For an agent's *saisie*: the usager's login, when they have an
    /// account (it must be the one the draft was opened for).
    pub usager: Option<String>,
}

/// A demande just filed, with the definition of its version.
#[derive(Debug)]
pub struct Filed {
    /// The demande.
    pub demande: Demande,
    /// The definition it was filed on (shared with the store's cache).
    pub definition: Arc<Definition>,
}

/// Files a draft of the caller.
///
/// An usager's own draft is filed from this host's memory of it when it
/// has one (`Store::draft_to_file`). If the draft was saved or deleted
/// elsewhere since, that filing fails having written nothing: refused by
/// the core on answers the draft no longer holds (before any number is
/// taken), or as a conflict by the store, which checks the revision (on
/// PostgreSQL with the number's statement, which then takes none). Such
/// a failure of a filing from memory files again from the draft as
/// stored, whose answer is the one given; a database failure does not
/// (on PostgreSQL it may come after the number was taken).
///
/// # Errors
/// `NotFound` for someone else's draft; `Fields` for a channel or usager
/// given by an usager (`non_attendu`), an agent's missing channel
/// (`requis`), another usager than the draft's (`usager_different`) or an
/// unknown one; [`ServiceError::Submit`] for the core's refusals (closed,
/// right missing, invalid answers, consent); a store `conflict` if the
/// draft changed meanwhile.
pub async fn file(
    guichet: &Guichet,
    caller: &Caller,
    id: DraftId,
    request: Request,
) -> Result<Filed, ServiceError> {
    let remembered = caller.is_usager().then_some(&caller.user);
    match file_read(guichet, caller, id, request.clone(), remembered).await {
        Err(Refiled::Again) => {
            guichet.store.forget_draft(id);
            file_read(guichet, caller, id, request, None)
                .await
                .map_err(Refiled::into_error)
        }
        other => other.map_err(Refiled::into_error),
    }
}

/// Why [`file_read`] failed: an error, or a filing from memory refused, to
/// file again from the draft as stored.
enum Refiled {
    Error(ServiceError),
    Again,
}

impl Refiled {
    fn into_error(self) -> ServiceError {
        match self {
            Refiled::Error(error) => error,
            Refiled::Again => ServiceError::Store(StoreError::Conflict(
                "le brouillon a été modifié pendant le dépôt : relisez-le et déposez-le à nouveau"
                    .into(),
            )),
        }
    }
}

impl<E: Into<ServiceError>> From<E> for Refiled {
    fn from(error: E) -> Self {
        Refiled::Error(error.into())
    }
}

/// Files the draft `id` as [`file`] does, read from this host's memory
/// when `usager` (the usager filing) is given and it remembers the draft.
///
/// # Errors
/// As [`file`]; [`Refiled::Again`] for a filing from memory refused by the
/// core, or by the store as a conflict or for a draft not found.
async fn file_read(
    guichet: &Guichet,
    caller: &Caller,
    id: DraftId,
    request: Request,
    usager: Option<&guichet_store::account::User>,
) -> Result<Filed, Refiled> {
    let now = guichet.now();
    let (draft, definition, context) = match guichet.store.draft_to_file(id, usager).await {
        Ok((draft, definition, context)) if draft.owner == caller.user.id => {
            (draft, definition, context)
        }
        Ok(_) | Err(StoreError::NotFound(_)) => return Err(drafts::not_found().into()),
        Err(other) => return Err(other.into()),
    };
    let remembered = context.remembered();
    let filer = if caller.is_usager() {
        if request.channel.is_some() || request.usager.is_some() {
            return Err(FieldError::new(
                "channel",
                ErrorCode::NonAttendu,
                "Seul un agent dépose une demande au nom d'un usager.",
            )
            .into());
        }
        Filer::Usager(caller.user.id)
    } else {
        let Some(channel) = request.channel else {
            return Err(FieldError::new(
                "channel",
                ErrorCode::Requis,
                "Indiquez comment l'usager a contacté le service : telephone, guichet ou courrier.",
            )
            .into());
        };
        // The demande is for the usager the draft was opened for, whose
        // profile prefilled it; naming another one is refused.
        if let Some(login) = &request.usager {
            let named = usager_by_login(guichet, login).await?.0;
            if draft.usager != Some(named) {
                return Err(FieldError::new(
                    "usager",
                    ErrorCode::UsagerDifferent,
                    "Ce brouillon a été ouvert pour un autre usager : ouvrez un brouillon à son nom.",
                )
                .into());
            }
        }
        Filer::Agent {
            id: caller.user.id,
            rights: caller.rights(&draft.demarche.slug),
            channel,
            usager: draft.usager,
        }
    };
    let options = options::resolve(
        guichet,
        &definition,
        &draft.answers,
        caller.kind(),
        draft.usager,
        options::Scope::Form,
    )
    .await;
    let version = draft.demarche.version;
    let answers = draft.answers;
    let extras = Extras {
        draft: Some(draft.id),
        draft_revision: Some(draft.revision),
        jobs: transmission::at_filing(&definition, now),
        ..Extras::default()
    };
    let filed = guichet
        .store
        .file_demande(&definition.slug, context, now, extras, |reserved| {
            let filing = Filing {
                version,
                id: reserved.id,
                numero: reserved.numero,
                answers,
                consent: request.consent,
                filer,
            };
            submission::submit(&definition, filing, &options.choices, now, guichet.zone).map_err(
                |error| match error {
                    SubmitError::Invalid(errors) => {
                        ServiceError::from(SubmitError::Invalid(options.explain(errors)))
                    }
                    other => ServiceError::from(other),
                },
            )
        })
        .await;
    match filed {
        Ok(outcome) => Ok(Filed {
            demande: outcome.demande,
            definition,
        }),
        Err(error) if remembered && refused(&error) => Err(Refiled::Again),
        Err(error) => Err(Refiled::Error(error)),
    }
}

/// Whether a filing failed with `error` was refused, having written
/// nothing and taken no number: by the core, or by the store finding the
/// draft changed or gone; perhaps for a draft saved elsewhere since. A
/// database failure is not: on PostgreSQL it may come after the number was
/// taken, which a second filing would waste.
fn refused(error: &ServiceError) -> bool {
    match error {
        ServiceError::Store(StoreError::Conflict(_) | StoreError::NotFound(_)) => true,
        ServiceError::Store(_) => false,
        _ => true,
    }
}
