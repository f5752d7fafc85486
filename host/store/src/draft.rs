//! Drafts: a form being filled, saved page by page.
//!
//! A draft belongs to its author (the usager on the portal, or the agent
//! filing on an usager's behalf) **and** to the usager it is filed for
//! ([`Draft::usager`]): one draft per author, usager and démarche version; an
//! agent's draft for someone without an account is never reused. It is
//! deleted when the demande is filed ([`crate::outcome::Extras::draft`]), in
//! the same transaction, its files moving to the demande.
//!
//! Every change of a draft is a read-modify-write inside one write
//! transaction that locks the row ([`Store::update_draft`],
//! [`Store::attach_draft_file`]): concurrent page saves and uploads are
//! applied one after the other on what the previous one wrote, so an
//! acknowledged write is never lost and limits checked in the change (the
//! number of files of a field) hold under concurrency. Each change bumps
//! [`Draft::revision`]; filing checks it, so a page saved while the demande
//! was being filed makes the filing fail (`conflict`) instead of vanishing.
//!
//! A draft never filed expires: the scheduler deletes those not saved for
//! the configured delay, with their files
//! ([`Store::delete_drafts_saved_before`]).
//!
//! Saving a page and filing start from the draft as this host last wrote
//! or read it, when it remembers it ([`Store::draft_to_change`],
//! [`Store::draft_to_file`], [`memory`]): the revision guard of their
//! writes makes that safe.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use guichet_core::demande::DemarcheRef;
use guichet_core::demarche::Definition;
use guichet_core::id::{Slug, UserId};

use guichet_core::file::FileRef;
use guichet_core::value::Answers;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

pub(crate) mod memory;

pub use memory::{DRAFT_MEMORY_CAPACITY, DRAFT_MEMORY_IDLE, VERSION_STAMP_TTL};

use crate::Store;
use crate::account::{USER_COLUMNS_ACCOUNT, User, account};
use crate::error::{Result, StoreError};
use crate::file::{NewFile, StoredFile, draft_files, insert_file_row, record_deletions};
use crate::seal::{self, DataKey, Keyring};
use crate::sql::{RowExt, millis, new_id};

/// The identifier of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DraftId(pub Uuid);

impl std::fmt::Display for DraftId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Identifier.
    pub id: DraftId,
    /// Who fills it (the usager, or the agent filing on their behalf).
    pub owner: UserId,
    /// The usager it is filed for: the owner for an usager's own draft, the
    /// usager's account for an agent's *saisie*, `None` for an agent's
    /// *saisie* for someone without an account.
    pub usager: Option<UserId>,
    /// The démarche version it fills.
    pub demarche: DemarcheRef,
    /// The answers saved so far.
    pub answers: Answers,
    /// Bumped by every change (starts at 1).
    pub revision: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
}

/// The columns of a draft, with its key ([`seal::key_columns`]).
fn draft_columns() -> String {
    format!(
        "drafts.id, drafts.owner_id, drafts.usager_id, drafts.slug, drafts.version, drafts.answers, \
         drafts.revision, drafts.created_at, drafts.updated_at, {}",
        seal::key_columns("drafts.key_id")
    )
}

/// The `updated_at` of a draft's version, as `definition_updated_at`
/// ([`Store::definition_of`]).
const DEFINITION_UPDATED_AT: &str = "(SELECT v.updated_at FROM demarche_versions v \
     WHERE v.slug = drafts.slug AND v.version = drafts.version) AS definition_updated_at";

/// The sealed column of drafts.
const ANSWERS: &str = "drafts.answers";

/// What filing a draft reads besides the draft, read with it
/// ([`Store::draft_to_file`]) and handed to [`Store::file_demande`].
#[derive(Debug)]
pub struct FilingContext {
    /// The démarche's numbering prefix (none for an unknown démarche).
    pub(crate) prefix: Option<String>,
    /// The draft's key, which the demande adopts.
    pub(crate) draft_key: Option<DataKey>,
    /// The account of the usager the draft is for, for their contact.
    pub(crate) account: Option<User>,
    /// The definition of the draft's version.
    pub(crate) definition: Arc<Definition>,
    /// Whether the draft came from this host's memory rather than the
    /// database ([`FilingContext::remembered`]).
    pub(crate) remembered: bool,
}

impl FilingContext {
    /// Whether the draft was this host's memory of it ([`memory`]): if the
    /// draft was saved elsewhere meanwhile, its filing is refused (by the
    /// core on answers no longer stored, or by the store as a conflict)
    /// having written nothing and taken no number; the caller files again
    /// from the draft as stored ([`Store::forget_draft`], then
    /// [`Store::draft_to_file`]).
    pub fn remembered(&self) -> bool {
        self.remembered
    }
}

/// A draft's data key as read with it ([`Store::draft_to_save`]), for
/// [`Store::update_read_draft`] to seal the new answers without reading the
/// draft again; it names its draft, and serves that one only.
#[derive(Debug)]
pub struct DraftKey {
    draft: DraftId,
    key: Option<DataKey>,
    /// Whether the draft came from this host's memory ([`memory`]).
    remembered: bool,
}

impl DraftKey {
    /// Whether the draft read with this key was this host's memory of it
    /// ([`Store::draft_to_change`]): a change refused on it may have been
    /// checked against answers saved over elsewhere since, so the caller
    /// tries it again on the draft as stored ([`Store::forget_draft`],
    /// then [`Store::draft_to_save`]).
    pub fn remembered(&self) -> bool {
        self.remembered
    }
}

fn draft(row: &AnyRow, keys: &Keyring) -> Result<Draft> {
    let key = keys.of_row(row)?;
    draft_with(row, key.as_ref())
}

fn draft_with(row: &AnyRow, key: Option<&DataKey>) -> Result<Draft> {
    let version = row.int("version")?;
    Ok(Draft {
        id: DraftId(row.uuid("id")?),
        owner: UserId::from_uuid(row.uuid("owner_id")?),
        usager: row.uuid_opt("usager_id")?.map(UserId::from_uuid),
        demarche: DemarcheRef {
            slug: Slug::from(row.text("slug")?),
            version: u32::try_from(version)
                .map_err(|_| StoreError::Corrupt(format!("version {version}")))?,
        },
        answers: seal::open_json(key, ANSWERS, row.text("answers")?)?,
        revision: row.int("revision")?,
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
    })
}

impl Store {
    /// Opens an usager's own draft with its first answers (the profile's
    /// prefill).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if this usager already has a draft of this
    /// version; [`StoreError::Invalid`] for an unknown person or version.
    #[cfg(feature = "test-support")]
    pub async fn create_draft(
        &self,
        owner: UserId,
        demarche: &DemarcheRef,
        answers: Answers,
        now: DateTime<Utc>,
    ) -> Result<Draft> {
        self.create_draft_for(owner, Some(owner), demarche, answers, now)
            .await
    }

    /// Opens a draft of `owner` filed for `usager` (an agent's *saisie*:
    /// the usager's account, or `None` for someone without one).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if this author already has a draft of this
    /// version for this usager; [`StoreError::Invalid`] for an unknown
    /// person or version.
    pub async fn create_draft_for(
        &self,
        owner: UserId,
        usager: Option<UserId>,
        demarche: &DemarcheRef,
        answers: Answers,
        now: DateTime<Utc>,
    ) -> Result<Draft> {
        let draft = Draft {
            id: DraftId(new_id()),
            owner,
            usager,
            demarche: demarche.clone(),
            answers,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        // The draft's key and its row, written together.
        let mut made = None;
        self.write_together(
            |batch| {
                let key = self.keys.push_create(batch, now)?;
                batch
                    .statement(
                        "INSERT INTO drafts (id, owner_id, usager_id, slug, version, answers, \
                         revision, created_at, updated_at, key_id) VALUES (",
                    )
                    .item(draft.id.0.to_string())
                    .item(owner.to_string())
                    .item(usager.map(|u| u.to_string()))
                    .item(demarche.slug.as_str().to_owned())
                    .item(i64::from(demarche.version))
                    .item(seal::seal_json(Some(&key), ANSWERS, &draft.answers)?)
                    .push(", 1")
                    .item(millis(now))
                    .item(millis(now))
                    .item(key.id().to_owned())
                    .push(")");
                made = Some(key);
                Ok(())
            },
            |_| Ok(()),
        )
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => {
                StoreError::Conflict("un brouillon de cette démarche est déjà en cours".into())
            }
            other => other,
        })?;
        self.drafts.put(&draft, made.as_ref());
        Ok(draft)
    }

    /// A draft.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn draft(&self, id: DraftId) -> Result<Draft> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM drafts WHERE id = $1",
            draft_columns()
        ))
        .bind(id.0.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("brouillon"))?;
        draft(&row, &self.keys)
    }

    /// A draft with the definition of its version (parsed once per
    /// version and update, [`Store::definition_at`]): one query when the
    /// definition is in memory.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn draft_with_definition(&self, id: DraftId) -> Result<(Draft, Arc<Definition>)> {
        let (draft, definition, _) = self.draft_to_save(id).await?;
        Ok((draft, definition))
    }

    /// A draft with the definition of its version, as
    /// [`Store::draft_with_definition`], and its key, for
    /// [`Store::update_read_draft`] to save it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn draft_to_save(&self, id: DraftId) -> Result<(Draft, Arc<Definition>, DraftKey)> {
        let text = format!(
            "SELECT {}, {DEFINITION_UPDATED_AT} FROM drafts WHERE id = $1",
            draft_columns()
        );
        let (_, key, draft, definition) = self.draft_by_id(&text, id).await?;
        self.drafts.put(&draft, key.as_ref());
        let key = DraftKey {
            draft: id,
            key,
            remembered: false,
        };
        Ok((draft, definition, key))
    }

    /// A draft to change with [`Store::update_read_draft`], as
    /// [`Store::draft_to_save`] reads it, but from this host's memory when
    /// it remembers the draft ([`memory`]): a page saved then reads nothing
    /// (but its version's stamp, once per [`VERSION_STAMP_TTL`]). What is
    /// remembered may be older than what another host saved since; the
    /// write's revision guard catches that. Never for showing a draft.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft (or its version).
    pub async fn draft_to_change(&self, id: DraftId) -> Result<(Draft, Arc<Definition>, DraftKey)> {
        let Some(remembered) = self.drafts.get(id) else {
            return self.draft_to_save(id).await;
        };
        let (definition, _) = self.remembered_version(&remembered.draft.demarche).await?;
        let key = DraftKey {
            draft: id,
            key: remembered.key.clone(),
            remembered: true,
        };
        Ok((remembered.draft.clone(), definition, key))
    }

    /// The definition of a remembered draft's version and its démarche's
    /// numbering prefix, from the version's stamp ([`memory`]).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown version; a database error.
    async fn remembered_version(
        &self,
        demarche: &DemarcheRef,
    ) -> Result<(Arc<Definition>, Option<String>)> {
        let slug = demarche.slug.as_str();
        let stamp = match self.drafts.stamp(slug, demarche.version) {
            Some(stamp) => stamp,
            None => {
                let query = || {
                    sqlx::query(
                        "SELECT v.updated_at, d.numero_prefix FROM demarche_versions v \
                         JOIN demarches d ON d.slug = v.slug WHERE v.slug = $1 AND v.version = $2",
                    )
                    .bind(slug.to_owned())
                    .bind(i64::from(demarche.version))
                };
                let row = self
                    .fetch_kept(query)
                    .await?
                    .ok_or(StoreError::NotFound("version de démarche"))?;
                let (updated_at, prefix) = (row.int("updated_at")?, row.text_opt("numero_prefix")?);
                self.drafts
                    .put_stamp(slug, demarche.version, updated_at, prefix)
            }
        };
        let definition = self
            .definition_at(slug, demarche.version, stamp.updated_at)
            .await?;
        Ok((definition, stamp.prefix))
    }

    /// Forgets this host's memory of a draft ([`memory`]): its next page
    /// saved or filing reads it from the database.
    pub fn forget_draft(&self, id: DraftId) {
        self.drafts.forget(id);
    }

    /// The draft `id` read by `text` (its columns, its version's
    /// `definition_updated_at`, `$1` the id) on a kept connection, with
    /// its key and its definition, and the row for the columns `text`
    /// reads besides.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    async fn draft_by_id(
        &self,
        text: &str,
        id: DraftId,
    ) -> Result<(AnyRow, Option<DataKey>, Draft, Arc<Definition>)> {
        let row = self
            .fetch_kept(|| sqlx::query(text).bind(id.0.to_string()))
            .await?
            .ok_or(StoreError::NotFound("brouillon"))?;
        let key = self.keys.of_row(&row)?;
        let draft = draft_with(&row, key.as_ref())?;
        let definition = self.definition_of(&draft.demarche, &row).await?;
        Ok((row, key, draft, definition))
    }

    /// The definition of `demarche`, whose `updated_at` `row` read as
    /// `definition_updated_at`.
    async fn definition_of(&self, demarche: &DemarcheRef, row: &AnyRow) -> Result<Arc<Definition>> {
        self.definition_at(
            demarche.slug.as_str(),
            demarche.version,
            row.int("definition_updated_at")?,
        )
        .await
    }

    /// A draft with the definition of its version, as
    /// [`Store::draft_with_definition`], and in the same query what filing
    /// it reads besides ([`FilingContext`]: the démarche's numbering
    /// prefix, the draft's key, the usager's account).
    ///
    /// `usager` is the account of the usager filing, when the caller is an
    /// usager: if it is the author of the draft and the one it is for, and
    /// this host remembers the draft ([`memory`]), nothing is read but the
    /// version's stamp, and the account is `usager` (see
    /// [`FilingContext::remembered`] for what the caller does when the
    /// draft changed elsewhere).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn draft_to_file(
        &self,
        id: DraftId,
        usager: Option<&User>,
    ) -> Result<(Draft, Arc<Definition>, FilingContext)> {
        if let (Some(usager), Some(remembered)) = (usager, self.drafts.get(id))
            && remembered.draft.owner == usager.id
            && remembered.draft.usager == Some(usager.id)
        {
            let (definition, prefix) = self.remembered_version(&remembered.draft.demarche).await?;
            let context = FilingContext {
                prefix,
                draft_key: remembered.key.clone(),
                account: Some(usager.clone()),
                definition: Arc::clone(&definition),
                remembered: true,
            };
            return Ok((remembered.draft.clone(), definition, context));
        }
        let text = format!(
            "SELECT {}, {DEFINITION_UPDATED_AT}, \
             (SELECT numero_prefix FROM demarches WHERE demarches.slug = drafts.slug) AS numero_prefix, \
             {USER_COLUMNS_ACCOUNT} \
             FROM drafts LEFT JOIN users u ON u.id = drafts.usager_id WHERE drafts.id = $1",
            draft_columns()
        );
        let (row, key, draft, definition) = self.draft_by_id(&text, id).await?;
        self.drafts.put(&draft, key.as_ref());
        let context = FilingContext {
            prefix: row.text_opt("numero_prefix")?,
            draft_key: key,
            account: account(&row)?,
            definition: Arc::clone(&definition),
            remembered: false,
        };
        Ok((draft, definition, context))
    }

    /// What filing a demande on a démarche version for `usager` reads when
    /// no draft is filed (demandes written directly through the store):
    /// [`Store::draft_to_file`]'s [`FilingContext`] without a draft's key.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown démarche version.
    pub async fn filing_context(
        &self,
        demarche: &DemarcheRef,
        usager: Option<UserId>,
    ) -> Result<FilingContext> {
        let row = sqlx::query(&format!(
            "SELECT v.updated_at AS definition_updated_at, d.numero_prefix, {USER_COLUMNS_ACCOUNT} \
             FROM demarche_versions v JOIN demarches d ON d.slug = v.slug \
             LEFT JOIN users u ON u.id = $3 WHERE v.slug = $1 AND v.version = $2"
        ))
        .bind(demarche.slug.as_str().to_owned())
        .bind(i64::from(demarche.version))
        .bind(usager.map(|usager| usager.to_string()))
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("version de démarche"))?;
        Ok(FilingContext {
            prefix: row.text_opt("numero_prefix")?,
            draft_key: None,
            account: account(&row)?,
            definition: self.definition_of(demarche, &row).await?,
            remembered: false,
        })
    }

    /// The draft `owner` has in progress on a démarche version for
    /// `usager`, if any (never one filed for someone else).
    ///
    /// # Errors
    /// A database error.
    pub async fn draft_for(
        &self,
        owner: UserId,
        usager: UserId,
        demarche: &DemarcheRef,
    ) -> Result<Option<Draft>> {
        let text = format!(
            "SELECT {} FROM drafts \
             WHERE owner_id = $1 AND usager_id = $2 AND slug = $3 AND version = $4",
            draft_columns()
        );
        let query = || {
            sqlx::query(&text)
                .bind(owner.to_string())
                .bind(usager.to_string())
                .bind(demarche.slug.as_str().to_owned())
                .bind(i64::from(demarche.version))
        };
        let row = self.fetch_kept(query).await?;
        row.as_ref().map(|row| draft(row, &self.keys)).transpose()
    }

    /// Every draft of a person, most recently saved first.
    ///
    /// # Errors
    /// A database error.
    pub async fn drafts_of(&self, owner: UserId) -> Result<Vec<Draft>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM drafts WHERE owner_id = $1 ORDER BY updated_at DESC, id",
            draft_columns()
        ))
        .bind(owner.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|row| draft(row, &self.keys)).collect()
    }

    /// Changes a draft's answers atomically: `change` receives the draft as
    /// stored and returns its new answers, or refuses; nothing is written
    /// on refusal. The new answers are written only if the draft was not
    /// saved since `change` read it.
    ///
    /// The first attempt is optimistic: the draft is read as committed and
    /// written in one statement guarded by its revision (on SQLite in the
    /// open group of writes, [`crate::group_commit`]), so the writer is
    /// held for one statement. If the draft was saved meanwhile, `change`
    /// runs again on the draft read inside the write transaction, its row
    /// locked.
    ///
    /// # Errors
    /// `change`'s refusal; [`StoreError::NotFound`] if there is no such
    /// draft; a database error.
    pub async fn update_draft<E>(
        &self,
        id: DraftId,
        now: DateTime<Utc>,
        change: impl FnMut(&Draft) -> std::result::Result<Answers, E>,
    ) -> std::result::Result<Draft, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.read.acquire().await.map_err(StoreError::from)?;
        let (saved, key) = self.draft_and_key(&mut conn, id, "").await?;
        drop(conn);
        let key = DraftKey {
            draft: id,
            key,
            remembered: false,
        };
        self.update_read_draft(saved, key, now, change).await
    }

    /// Changes a draft's answers as [`Store::update_draft`] does, its first
    /// attempt on `read`, the draft as the caller read it with its `key`
    /// ([`Store::draft_to_save`], `read` unchanged), instead of reading it
    /// again: a page saved reads the draft once. With a `key` of another
    /// draft, only the second attempt runs (the draft read and locked in
    /// the write transaction).
    ///
    /// # Errors
    /// As [`Store::update_draft`].
    pub async fn update_read_draft<E>(
        &self,
        read: Draft,
        key: DraftKey,
        now: DateTime<Utc>,
        mut change: impl FnMut(&Draft) -> std::result::Result<Answers, E>,
    ) -> std::result::Result<Draft, E>
    where
        E: From<StoreError>,
    {
        let id = read.id;
        if key.draft == id {
            let mut saved = read;
            saved.answers = change(&saved)?;
            if self
                .write_answers_at(&mut saved, key.key.as_ref(), now)
                .await?
            {
                return Ok(saved);
            }
        }
        let mut tx = self.begin().await?;
        let (mut saved, key) = self.locked_draft(&mut tx, id).await?;
        saved.answers = change(&saved)?;
        write_answers(&mut tx, &mut saved, key.as_ref(), now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.drafts.put(&saved, key.as_ref());
        Ok(saved)
    }

    /// Writes `saved`'s answers if the draft is still at `saved.revision`
    /// (then bumped, with `updated_at`); whether it was.
    ///
    /// # Errors
    /// A database error, or answers that cannot be sealed.
    async fn write_answers_at(
        &self,
        saved: &mut Draft,
        key: Option<&DataKey>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sealed = seal::seal_json(key, ANSWERS, &saved.answers)?;
        let written = self
            .write_together(
                |batch| {
                    batch
                        .statement("UPDATE drafts SET answers = ")
                        .bind(sealed)
                        .push(", revision = revision + 1, updated_at = ")
                        .bind(millis(now))
                        .push(" WHERE id = ")
                        .bind(saved.id.0.to_string())
                        .push(" AND revision = ")
                        .bind(saved.revision)
                        .push(" RETURNING 'draft' AS kind, id AS returned");
                    Ok(())
                },
                |rows| Ok(!rows.is_empty()),
            )
            .await?;
        if written {
            saved.revision += 1;
            saved.updated_at = now;
            self.drafts.put(saved, key);
        } else {
            self.drafts.forget(saved.id);
        }
        Ok(written)
    }

    /// Stores a file uploaded to a draft's field and names it in the
    /// answers, atomically: the content is written, then inside one write
    /// transaction (the draft's row locked) `change` receives the draft as
    /// stored now and the new file and returns the new answers, or refuses
    /// (a limit on the number of files); the file's row and the answers are
    /// written together. On refusal or failure the content is removed again.
    ///
    /// # Errors
    /// `change`'s refusal; [`StoreError::NotFound`] if there is no such
    /// draft; an I/O or database error.
    pub async fn attach_draft_file<E>(
        &self,
        id: DraftId,
        new: NewFile<'_>,
        now: DateTime<Utc>,
        change: impl FnOnce(&Draft, &FileRef) -> std::result::Result<Answers, E>,
    ) -> std::result::Result<StoredFile, E>
    where
        E: From<StoreError>,
    {
        let stored = self.write_file_content(&new, now).await?;
        let attached = async {
            let mut tx = self.begin().await?;
            let (mut saved, key) = self.locked_draft(&mut tx, id).await?;
            saved.answers = change(&saved, &stored.file)?;
            insert_file_row(&mut tx, &stored, key.as_ref()).await?;
            write_answers(&mut tx, &mut saved, key.as_ref(), now).await?;
            tx.commit().await.map_err(StoreError::from)?;
            self.drafts.put(&saved, key.as_ref());
            Ok(())
        }
        .await;
        if let Err(error) = attached {
            self.remove_file_content(stored.file.id).await;
            return Err(error);
        }
        Ok(stored)
    }

    /// Reads a draft and its key in a write transaction, locking its row
    /// until the commit (SQLite's `BEGIN IMMEDIATE` already excludes other
    /// writers).
    async fn locked_draft(
        &self,
        tx: &mut AnyConnection,
        id: DraftId,
    ) -> Result<(Draft, Option<DataKey>)> {
        self.draft_and_key(tx, id, self.for_update()).await
    }

    /// A draft and its key, read on `conn` with `lock` (`FOR UPDATE` or
    /// nothing).
    async fn draft_and_key(
        &self,
        conn: &mut AnyConnection,
        id: DraftId,
        lock: &str,
    ) -> Result<(Draft, Option<DataKey>)> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM drafts WHERE id = $1{lock}",
            draft_columns(),
        ))
        .bind(id.0.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("brouillon"))?;
        let key = self.keys.of_row(&row)?;
        Ok((draft_with(&row, key.as_ref())?, key))
    }

    /// Deletes a draft and its files.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn delete_draft(&self, id: DraftId, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        let files = delete_draft_in(&mut tx, id, None, now).await?;
        tx.commit().await?;
        self.drafts.forget(id);
        self.delete_files_after_commit(&files).await;
        self.personal_data_erased();
        Ok(())
    }
}

/// Writes a draft's new answers, bumping its revision.
async fn write_answers(
    tx: &mut AnyConnection,
    saved: &mut Draft,
    key: Option<&DataKey>,
    now: DateTime<Utc>,
) -> Result<()> {
    saved.revision += 1;
    saved.updated_at = now;
    sqlx::query("UPDATE drafts SET answers = $1, revision = $2, updated_at = $3 WHERE id = $4")
        .bind(seal::seal_json(key, ANSWERS, &saved.answers)?)
        .bind(saved.revision)
        .bind(millis(now))
        .bind(saved.id.0.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Store {
    /// Deletes the drafts last saved at or before `cutoff`, oldest first, at
    /// most `limit`, with their files (overwritten, then unlinked after the
    /// commit); returns how many were deleted.
    ///
    /// # Errors
    /// A database error; nothing is deleted then.
    pub async fn delete_drafts_saved_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let ids: Vec<DraftId> = sqlx::query(
            "SELECT id FROM drafts WHERE updated_at <= $1 ORDER BY updated_at, id LIMIT $2",
        )
        .bind(millis(cutoff))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok(DraftId(row.uuid("id")?)))
        .collect::<Result<_>>()?;
        let mut files = Vec::new();
        for id in &ids {
            files.extend(delete_draft_in(&mut tx, *id, None, now).await?);
        }
        tx.commit().await?;
        for id in &ids {
            self.drafts.forget(*id);
        }
        self.delete_files_after_commit(&files).await;
        if !ids.is_empty() {
            self.personal_data_erased();
        }
        Ok(ids.len() as u64)
    }
}

/// Deletes a draft inside a transaction, recording the deletion of the files
/// it still owns; returns them. With `revision`, the draft must still be at
/// that revision.
///
/// # Errors
/// [`StoreError::NotFound`] if there is no such draft,
/// [`StoreError::Conflict`] if it changed since `revision`.
pub(crate) async fn delete_draft_in(
    conn: &mut AnyConnection,
    id: DraftId,
    revision: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<guichet_core::id::FileId>> {
    let files = draft_files(conn, id).await?;
    record_deletions(conn, &files, now).await?;
    let key = sqlx::query("SELECT key_id FROM drafts WHERE id = $1")
        .bind(id.0.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.text_opt("key_id"))
        .transpose()?
        .flatten();
    let done = match revision {
        Some(revision) => sqlx::query("DELETE FROM drafts WHERE id = $1 AND revision = $2")
            .bind(id.0.to_string())
            .bind(revision),
        None => sqlx::query("DELETE FROM drafts WHERE id = $1").bind(id.0.to_string()),
    }
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(match revision {
            Some(_) => StoreError::Conflict(
                "le brouillon a été modifié pendant le dépôt : relisez-le et déposez-le à nouveau"
                    .into(),
            ),
            None => StoreError::NotFound("brouillon"),
        });
    }
    // The key goes with the draft, unless the demande filed from it
    // adopted it.
    if let Some(key) = key {
        seal::release(conn, &key).await?;
    }
    Ok(files)
}
