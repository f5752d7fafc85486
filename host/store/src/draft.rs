//! Drafts: a form being filled, saved page by page.
//!
//! One draft per (person filling, démarche version): the usager on the
//! portal, or the agent filing on an usager's behalf. It is deleted when
//! the demande is filed ([`crate::outcome::Extras::draft`]), in the same
//! transaction, its files moving to the demande. A draft never filed expires:
//! the scheduler deletes those not saved for the configured delay, with
//! their files ([`Store::delete_drafts_saved_before`]).

use chrono::{DateTime, Utc};
use guichet_core::demande::{DemarcheRef, UserId};
use guichet_core::demarche::Slug;
use guichet_core::field::FieldId;
use guichet_core::value::Answers;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::file::{draft_files, record_deletions};
use crate::sql::{RowExt, millis, to_json};

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
    /// The démarche version it fills.
    pub demarche: DemarcheRef,
    /// The answers saved so far.
    pub answers: Answers,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
}

const DRAFT_COLUMNS: &str = "id, owner_id, slug, version, answers, created_at, updated_at";

fn draft(row: &AnyRow) -> Result<Draft> {
    let version = row.int("version")?;
    Ok(Draft {
        id: DraftId(row.uuid("id")?),
        owner: UserId(row.uuid("owner_id")?),
        demarche: DemarcheRef {
            slug: Slug(row.text("slug")?),
            version: u32::try_from(version)
                .map_err(|_| StoreError::Corrupt(format!("version {version}")))?,
        },
        answers: row.json("answers")?,
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
    })
}

impl Store {
    /// Opens a draft with its first answers (the profile's prefill).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if this person already has a draft of this
    /// version; [`StoreError::Invalid`] for an unknown person or version.
    pub async fn create_draft(
        &self,
        owner: UserId,
        demarche: &DemarcheRef,
        answers: Answers,
        now: DateTime<Utc>,
    ) -> Result<Draft> {
        let draft = Draft {
            id: DraftId(Uuid::new_v4()),
            owner,
            demarche: demarche.clone(),
            answers,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "INSERT INTO drafts (id, owner_id, slug, version, answers, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(draft.id.0.to_string())
        .bind(owner.0.to_string())
        .bind(demarche.slug.as_str().to_owned())
        .bind(i64::from(demarche.version))
        .bind(to_json(&draft.answers)?)
        .bind(millis(now))
        .bind(millis(now))
        .execute(&self.write)
        .await
        .map_err(|error| match crate::StoreError::from(error) {
            StoreError::Conflict(_) => {
                StoreError::Conflict("un brouillon de cette démarche est déjà en cours".into())
            }
            other => other,
        })?;
        Ok(draft)
    }

    /// A draft.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn draft(&self, id: DraftId) -> Result<Draft> {
        let row = sqlx::query(&format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = $1"))
            .bind(id.0.to_string())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("brouillon"))?;
        draft(&row)
    }

    /// The draft a person has in progress on a démarche version, if any.
    ///
    /// # Errors
    /// A database error.
    pub async fn draft_for(&self, owner: UserId, demarche: &DemarcheRef) -> Result<Option<Draft>> {
        let row = sqlx::query(&format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE owner_id = $1 AND slug = $2 AND version = $3"
        ))
        .bind(owner.0.to_string())
        .bind(demarche.slug.as_str().to_owned())
        .bind(i64::from(demarche.version))
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(draft).transpose()
    }

    /// Every draft of a person, most recently saved first.
    ///
    /// # Errors
    /// A database error.
    pub async fn drafts_of(&self, owner: UserId) -> Result<Vec<Draft>> {
        let rows = sqlx::query(&format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE owner_id = $1 ORDER BY updated_at DESC, id"
        ))
        .bind(owner.0.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(draft).collect()
    }

    /// Saves a page: the answers of `page_fields` are replaced by `answers`
    /// (a field left empty on the page loses its saved value), the other
    /// pages' answers are kept.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn save_draft_page(
        &self,
        id: DraftId,
        page_fields: &[FieldId],
        answers: Answers,
        now: DateTime<Utc>,
    ) -> Result<Draft> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = $1"))
            .bind(id.0.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("brouillon"))?;
        let mut saved = draft(&row)?;
        saved
            .answers
            .retain(|field, _| !page_fields.contains(field));
        saved.answers.merge(answers);
        saved.updated_at = now;
        sqlx::query("UPDATE drafts SET answers = $1, updated_at = $2 WHERE id = $3")
            .bind(to_json(&saved.answers)?)
            .bind(millis(now))
            .bind(id.0.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes a draft and its files.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such draft.
    pub async fn delete_draft(&self, id: DraftId, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        let files = delete_draft_in(&mut tx, id, now).await?;
        tx.commit().await?;
        self.delete_files_after_commit(&files).await;
        self.personal_data_erased();
        Ok(())
    }
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
            files.extend(delete_draft_in(&mut tx, *id, now).await?);
        }
        tx.commit().await?;
        self.delete_files_after_commit(&files).await;
        if !ids.is_empty() {
            self.personal_data_erased();
        }
        Ok(ids.len() as u64)
    }
}

/// Deletes a draft inside a transaction, recording the deletion of the files
/// it still owns; returns them.
pub(crate) async fn delete_draft_in(
    conn: &mut AnyConnection,
    id: DraftId,
    now: DateTime<Utc>,
) -> Result<Vec<guichet_core::file::FileId>> {
    let files = draft_files(conn, id).await?;
    record_deletions(conn, &files, now).await?;
    let done = sqlx::query("DELETE FROM drafts WHERE id = $1")
        .bind(id.0.to_string())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("brouillon"));
    }
    Ok(files)
}
