//! Drafts: open one (for oneself, or an agent's *saisie* for an usager),
//! read and list one's own, save a page, attach a file to a field, delete.
//!
//! The rules are the core's (`guichet_core::draft`: who may open, the
//! prefill, the page merge, the file limit; `guichet_core::validation`:
//! the page's checks); this module reads what they need and writes what
//! they decide. Every read-modify-write of a draft is written only on the
//! draft as stored at that moment (`Store::update_read_draft`: a page is
//! checked on the draft as read, and checked again on the stored one if
//! it changed meanwhile; `Store::attach_draft_file`), so concurrent saves
//! and uploads are never lost and limits hold.

use std::collections::BTreeMap;
use std::sync::Arc;

use guichet_core::demande::DemarcheRef;
use guichet_core::demarche::{Definition, Page};
use guichet_core::draft::{add_file, foreign_fields, may_open, merge_page, prefill};
use guichet_core::field::{Choice, Field, FieldKind};
use guichet_core::id::{FieldId, PageId, Slug, UserId};
use guichet_core::profile::Profile;
use guichet_core::validation::{self, Context, ErrorCode, FieldError, check_upload, read_answers};
use guichet_core::value::Value;
use guichet_store::StoreError;
use guichet_store::account::UserKind;
use guichet_store::draft::{Draft, DraftId, DraftKey};
use guichet_store::file::{FileOwner, NewFile, StoredFile};

use super::{Caller, Guichet, ServiceError, options};

/// A draft opened: the caller's existing one for this démarche and usager,
/// or a new one.
#[derive(Debug)]
pub struct Opened {
    /// The draft.
    pub draft: Draft,
    /// The definition of its version (shared with the store's cache).
    pub definition: Arc<Definition>,
    /// Whether it was created now (else it was in progress).
    pub created: bool,
}

/// A draft with the definition of its version.
#[derive(Debug)]
pub struct Loaded {
    /// The draft.
    pub draft: Draft,
    /// The definition of its version (shared with the store's cache).
    pub definition: Arc<Definition>,
}

/// Opens a draft of the current version of `slug` for the caller: an
/// usager's own, or an agent's *saisie* for the usager whose login is
/// `usager` (prefilled from their profile) or for someone without an
/// account. A draft in progress for the same démarche and usager is
/// returned instead of a new one; a draft is never shared between usagers.
///
/// # Errors
/// `NotFound` for an unknown démarche (or one reserved to agents, asked by
/// an usager), [`ServiceError::Open`] when the caller may not open it or it
/// is closed, `Fields` (`usager_inconnu`) for an unknown login.
pub async fn open(
    guichet: &Guichet,
    caller: &Caller,
    slug: &Slug,
    usager: Option<&str>,
) -> Result<Opened, ServiceError> {
    let now = guichet.now();
    let (version, definition) =
        guichet
            .store
            .current_definition(slug)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => ServiceError::NotFound("cette démarche n'existe pas"),
                other => other.into(),
            })?;
    may_open(
        &definition,
        caller.kind(),
        caller.rights(slug),
        usager.is_some(),
        guichet.zone.today(now),
    )?;
    let (usager, profile) = match usager {
        _ if caller.is_usager() => (Some(caller.user.id), caller.user.profile.clone()),
        Some(login) => {
            let (id, profile) = usager_by_login(guichet, login).await?;
            (Some(id), profile)
        }
        None => (None, Profile::default()),
    };
    let reference = DemarcheRef {
        slug: slug.clone(),
        version,
    };
    if let Some(usager) = usager
        && let Some(draft) = guichet
            .store
            .draft_for(caller.user.id, usager, &reference)
            .await?
    {
        return Ok(Opened {
            draft,
            definition,
            created: false,
        });
    }
    let answers = prefill(&definition, &profile);
    let draft = guichet
        .store
        .create_draft_for(caller.user.id, usager, &reference, answers, now)
        .await?;
    Ok(Opened {
        draft,
        definition,
        created: true,
    })
}

/// The usager account with this login, and its profile.
///
/// # Errors
/// `Fields` (`usager_inconnu` on `usager`) when no usager has it.
pub(super) async fn usager_by_login(
    guichet: &Guichet,
    login: &str,
) -> Result<(UserId, Profile), ServiceError> {
    match guichet.store.user_by_login(login).await {
        Ok(user) if user.kind == UserKind::Usager => Ok((user.id, user.profile)),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(FieldError::new(
            "usager",
            ErrorCode::UsagerInconnu,
            "Aucun compte usager n'a cet identifiant.",
        )
        .into()),
        Err(other) => Err(other.into()),
    }
}

/// A draft of the caller with its definition.
///
/// # Errors
/// `NotFound` when there is no such draft or it is someone else's.
pub async fn own(guichet: &Guichet, caller: &Caller, id: DraftId) -> Result<Loaded, ServiceError> {
    let read = guichet.store.draft_to_save(id).await;
    owned(caller, read).map(|(loaded, _)| loaded)
}

/// A draft of the caller with its definition and its key to save it with
/// (`Store::update_read_draft`), from this host's memory of it when it
/// has one (`Store::draft_to_change`: the save's revision guard catches a
/// draft saved elsewhere since).
///
/// # Errors
/// As [`own`].
async fn own_to_change(
    guichet: &Guichet,
    caller: &Caller,
    id: DraftId,
) -> Result<(Loaded, DraftKey), ServiceError> {
    let read = guichet.store.draft_to_change(id).await;
    owned(caller, read)
}

/// The draft `read` if it is the caller's.
///
/// # Errors
/// `NotFound` when there is no such draft or it is someone else's.
fn owned(
    caller: &Caller,
    read: Result<(Draft, Arc<Definition>, DraftKey), StoreError>,
) -> Result<(Loaded, DraftKey), ServiceError> {
    match read {
        Ok((draft, definition, key)) if draft.owner == caller.user.id => {
            Ok((Loaded { draft, definition }, key))
        }
        Ok(_) | Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}

/// The answer about a draft that does not exist or is someone else's.
pub(super) fn not_found() -> ServiceError {
    ServiceError::NotFound("ce brouillon n'existe pas")
}

/// Every draft of the caller, most recently saved first.
///
/// # Errors
/// A store error.
pub async fn list(guichet: &Guichet, caller: &Caller) -> Result<Vec<Loaded>, ServiceError> {
    let mut loaded = Vec::new();
    for draft in guichet.store.drafts_of(caller.user.id).await? {
        let definition = guichet
            .store
            .demarche_version(&draft.demarche.slug, draft.demarche.version)
            .await?
            .definition;
        loaded.push(Loaded {
            draft,
            definition: Arc::new(definition),
        });
    }
    Ok(loaded)
}

/// Deletes a draft of the caller and its files.
///
/// # Errors
/// `NotFound` as [`own`].
pub async fn delete(guichet: &Guichet, caller: &Caller, id: DraftId) -> Result<(), ServiceError> {
    let loaded = own(guichet, caller, id).await?;
    guichet
        .store
        .delete_draft(loaded.draft.id, guichet.now())
        .await?;
    Ok(())
}

/// A page of the form, by its id.
///
/// # Errors
/// `NotFound` for an id the form does not have.
fn form_page<'d>(definition: &'d Definition, page: &str) -> Result<&'d Page, ServiceError> {
    definition
        .page(&PageId::from(page))
        .ok_or(ServiceError::NotFound(
            "cette page n'existe pas dans le formulaire",
        ))
}

/// The choices of a page's data-source fields, asked to their connectors
/// for the draft's answers as saved, and the page's data-source fields
/// without choices now, each with why (`source_indisponible`,
/// `rattachement_requis`).
///
/// # Errors
/// `NotFound` for someone else's draft or an unknown page.
pub async fn page_options(
    guichet: &Guichet,
    caller: &Caller,
    id: DraftId,
    page: &str,
) -> Result<(BTreeMap<FieldId, Vec<Choice>>, Vec<FieldError>), ServiceError> {
    let loaded = own(guichet, caller, id).await?;
    let page = form_page(&loaded.definition, page)?;
    let options = options::resolve(
        guichet,
        &loaded.definition,
        &loaded.draft.answers,
        caller.kind(),
        loaded.draft.usager,
        options::Scope::Page(page),
    )
    .await;
    let missing = options.missing_on(page, caller.kind());
    Ok((options.choices, missing))
}

/// A page saved: the draft as stored, and the data-source options for its
/// answers.
#[derive(Debug)]
pub struct Saved {
    /// The draft and its definition.
    pub loaded: Loaded,
    /// The choices of data-source fields.
    pub options: BTreeMap<FieldId, Vec<Choice>>,
}

/// Saves a page of a draft from plain JSON answers (see
/// `guichet_core::validation::read_answers`): the page's fields only, the
/// files named already uploaded to this draft's field, every rule of the
/// page checked on the draft as stored when it is written. An invalid page
/// is not saved.
///
/// The draft comes from this host's memory of it when it has one
/// (`Store::draft_to_change`). A save refused on it may have been checked
/// against answers saved over on another host since (a page that shows or
/// hides the fields of this one), so it is tried again on the draft as
/// stored, whose answer is the one given.
///
/// # Errors
/// `NotFound` for someone else's draft or an unknown page, `Fields` with
/// every problem of the page.
pub async fn save_page(
    guichet: &Guichet,
    caller: &Caller,
    id: DraftId,
    page: &str,
    body: &serde_json::Value,
) -> Result<Saved, ServiceError> {
    let (loaded, key) = own_to_change(guichet, caller, id).await?;
    if !key.remembered() {
        return save_page_on(guichet, caller, loaded, key, page, body).await;
    }
    match save_page_on(guichet, caller, loaded, key, page, body).await {
        Err(_) => {
            guichet.store.forget_draft(id);
            let read = guichet.store.draft_to_save(id).await;
            let (loaded, key) = owned(caller, read)?;
            save_page_on(guichet, caller, loaded, key, page, body).await
        }
        saved => saved,
    }
}

/// Saves a page of the draft `loaded`, read with `key`, as [`save_page`]
/// does.
///
/// # Errors
/// As [`save_page`].
async fn save_page_on(
    guichet: &Guichet,
    caller: &Caller,
    loaded: Loaded,
    key: DraftKey,
    page: &str,
    body: &serde_json::Value,
) -> Result<Saved, ServiceError> {
    let now = guichet.now();
    let Loaded { draft, definition } = loaded;
    let page = form_page(&definition, page)?;
    let mut answers = read_answers(&definition, body).map_err(ServiceError::Fields)?;
    let mut problems = foreign_fields(page, &answers);
    check_file_refs(guichet, draft.id, &mut answers, &mut problems).await?;
    // Data sources answer for the answers as read now; the page is then
    // merged and validated on the draft as stored at the moment of writing.
    let options = options::resolve(
        guichet,
        &definition,
        &merge_page(&draft.answers, page, answers.clone()),
        caller.kind(),
        draft.usager,
        options::Scope::Page(page),
    )
    .await;
    let context = Context {
        filler: caller.kind(),
        today: guichet.zone.today(now),
        options: &options.choices,
    };
    let saved = guichet
        .store
        .update_read_draft(draft, key, now, |current| {
            // Runs again if the draft was saved meanwhile.
            let merged = merge_page(&current.answers, page, answers.clone());
            let mut problems = problems.clone();
            problems.extend(validation::validate_page(
                &definition,
                &page.id,
                &merged,
                &context,
            ));
            if problems.is_empty() {
                Ok(validation::clean_answers(&definition, &merged, &context))
            } else {
                Err(ServiceError::Fields(options.explain(problems)))
            }
        })
        .await?;
    Ok(Saved {
        loaded: Loaded {
            draft: saved,
            definition,
        },
        options: options.choices,
    })
}

/// Replaces the file references of the answers by the stored ones, after
/// checking each was uploaded to this draft for this field.
async fn check_file_refs(
    guichet: &Guichet,
    draft: DraftId,
    answers: &mut guichet_core::value::Answers,
    problems: &mut Vec<FieldError>,
) -> Result<(), ServiceError> {
    let ids: Vec<FieldId> = answers.iter().map(|(id, _)| id.clone()).collect();
    for id in ids {
        let Some(Value::Files(files)) = answers.get(&id).cloned() else {
            continue;
        };
        let mut checked = Vec::new();
        for file in files {
            match guichet.store.file(file.id).await {
                Ok(stored)
                    if stored.owner == FileOwner::Draft(draft)
                        && stored.field.as_ref() == Some(&id) =>
                {
                    checked.push(stored.file);
                }
                Ok(_) | Err(StoreError::NotFound(_)) => problems.push(FieldError::new(
                    id.as_str(),
                    ErrorCode::FichierInconnu,
                    "Ce fichier n'a pas été joint à ce champ : envoyez-le d'abord.",
                )),
                Err(other) => return Err(other.into()),
            }
        }
        answers.insert(id, Value::Files(checked));
    }
    Ok(())
}

/// The file field `field` of a form, if the caller fills it.
///
/// # Errors
/// `NotFound` when it is not a file field of the form, or is reserved to
/// agents and the caller is an usager.
pub fn file_field<'d>(
    definition: &'d Definition,
    caller: &Caller,
    field: &str,
) -> Result<&'d Field, ServiceError> {
    definition
        .field(&FieldId::from(field))
        .filter(|f| matches!(f.kind, FieldKind::File { .. }))
        .filter(|f| !(f.agent_only && caller.is_usager()))
        .ok_or(ServiceError::NotFound(
            "ce champ de fichier n'existe pas dans le formulaire",
        ))
}

/// Attaches a file to a file field of a draft: checked by content and
/// size, then stored and named in the answers in one transaction, within
/// the field's `max_files` as the draft stands when it is written.
///
/// # Errors
/// `NotFound` for someone else's draft or a field that is not a file field
/// the caller fills; `Fields` (`type_fichier`, `fichier_trop_gros`,
/// `fichiers_trop_nombreux`).
pub async fn attach_file(
    guichet: &Guichet,
    caller: &Caller,
    id: DraftId,
    field: &str,
    name: &str,
    content: &[u8],
) -> Result<StoredFile, ServiceError> {
    let now = guichet.now();
    let Loaded { draft, definition } = own(guichet, caller, id).await?;
    let field = file_field(&definition, caller, field)?;
    let media_type = check_upload(field, content)?;
    let new = NewFile {
        owner: FileOwner::Draft(draft.id),
        field: Some(field.id.clone()),
        declared_name: name,
        media_type,
        content,
    };
    let stored = guichet
        .store
        .attach_draft_file(draft.id, new, now, |current, added| {
            add_file(&current.answers, field, added.clone()).map_err(ServiceError::from)
        })
        .await?;
    Ok(stored)
}
