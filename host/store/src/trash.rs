//! The trash: when each demande in it entered it (table `trash`, indexed by
//! that date), and the purge once the trash period is over.
//!
//! The rows follow the demande's status: [`crate::outcome`] inserts one in
//! the transaction that puts a demande in a status of the *trashed* phase
//! and deletes it in the one that takes it out (see
//! `guichet_core::trash::restore`). The period itself is a setting of the
//! host, read when the scheduler sweeps ([`Store::trashed_before`]), so a
//! changed setting applies to every demande already in the trash.
//!
//! [`Store::purge_demande`] deletes a trashed demande whole: its row, its
//! history, services, timers, jobs and connector links (by cascade), its
//! files (metadata in the transaction, content overwritten then unlinked
//! after the commit), and the logs and exchanges of the connector calls
//! made for it (the calls stay in the journal, no longer pointing at it).

use chrono::{DateTime, Utc};
use guichet_core::demande::Demande;
use guichet_core::id::{DemandeId, FileId};

use guichet_core::workflow::Phase;
use sqlx::AnyConnection;

use crate::Store;
use crate::demarche::VersionFacts;
use crate::error::Result;
use crate::seal;
use crate::sql::{RowExt, millis};
use crate::{connector, file};

/// Keeps the `trash` row of a demande in step with the status an outcome
/// gives it: inserted on entering the trash (the first date stays),
/// deleted on leaving it.
pub(crate) async fn follow(
    conn: &mut AnyConnection,
    demande: &Demande,
    facts: &VersionFacts,
    now: DateTime<Utc>,
) -> Result<()> {
    let trashed = |status| facts.phases.get(status) == Some(&Phase::Trashed);
    let id = demande.id.to_string();
    if trashed(&demande.status) {
        sqlx::query(
            "INSERT INTO trash (demande_id, trashed_at) VALUES ($1, $2) \
             ON CONFLICT (demande_id) DO NOTHING",
        )
        .bind(id)
        .bind(millis(now))
        .execute(&mut *conn)
        .await?;
    } else if demande
        .path
        .iter()
        .rev()
        .nth(1)
        .is_some_and(|change| trashed(&change.status))
    {
        sqlx::query("DELETE FROM trash WHERE demande_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// When the demande entered the trash, if it is in it.
    ///
    /// # Errors
    /// A database error.
    pub async fn trashed_at(&self, demande: DemandeId) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT trashed_at FROM trash WHERE demande_id = $1")
            .bind(demande.to_string())
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| row.instant("trashed_at")).transpose()
    }

    /// The demandes that entered the trash at or before `cutoff`, oldest
    /// first, at most `limit`.
    ///
    /// # Errors
    /// A database error.
    pub async fn trashed_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DemandeId>> {
        let rows = sqlx::query(
            "SELECT demande_id FROM trash WHERE trashed_at <= $1 \
             ORDER BY trashed_at, demande_id LIMIT $2",
        )
        .bind(millis(cutoff))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok(DemandeId::from_uuid(row.uuid("demande_id")?)))
            .collect()
    }

    /// Deletes a demande of the trash with everything it holds (see the
    /// module docs). Returns `false`, writing nothing, when the demande is
    /// not in the trash (restored meanwhile, or already purged by another
    /// host).
    ///
    /// # Errors
    /// A database error; nothing is deleted then.
    pub async fn purge_demande(&self, demande: DemandeId, now: DateTime<Utc>) -> Result<bool> {
        let id = demande.to_string();
        let mut tx = self.begin().await?;
        let in_trash = sqlx::query(&format!(
            "SELECT demande_id FROM trash WHERE demande_id = $1{}",
            self.skip_locked()
        ))
        .bind(id.clone())
        .fetch_optional(&mut *tx)
        .await?;
        if in_trash.is_none() {
            return Ok(false);
        }
        let files: Vec<FileId> = sqlx::query("SELECT id FROM files WHERE demande_id = $1")
            .bind(id.clone())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| Ok(FileId::from_uuid(row.uuid("id")?)))
            .collect::<Result<_>>()?;
        file::record_deletions(&mut tx, &files, now).await?;
        connector::erase_of(&mut tx, demande).await?;
        let key = sqlx::query("SELECT key_id FROM demandes WHERE id = $1")
            .bind(id.clone())
            .fetch_one(&mut *tx)
            .await?
            .text_opt("key_id")?;
        sqlx::query("DELETE FROM demandes WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(key) = key {
            seal::release(&mut tx, &key).await?;
        }
        tx.commit().await?;
        self.delete_files_after_commit(&files).await;
        self.personal_data_erased();
        Ok(true)
    }
}
