//! Attachments: their metadata in the database, their content in a
//! directory ([`FileStore`]).
//!
//! A file belongs to a draft while the form is being filled, then to the
//! demande it was filed with ([`FileOwner`]). The content is written before
//! the metadata (a failed insert removes it again), and deleted after the
//! metadata: deletions are recorded in the same transaction as the change
//! that asks for them (`file_deletions`: anonymisation, a deleted draft)
//! and carried out once it is committed, so a rolled-back change never
//! loses a file, and a crash in between leaves only rows that
//! [`Store::purge_deleted_files`] finishes.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use guichet_core::id::{DemandeId, FieldId, FileId};

use guichet_core::file::{FileRef, MediaType, display_name};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::Store;
use crate::draft::DraftId;
use crate::error::{Result, StoreError};
use crate::seal::{self, DataKey, Keyring};
use crate::sql::{Batch, RowExt, Sql, count, millis, unsigned};

/// A directory holding the content of attachments, one file per id
/// (`<dir>/<first two hex digits>/<uuid>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A file store in `dir` (created when the first file is written).
    pub fn new(dir: impl Into<PathBuf>) -> FileStore {
        FileStore { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the content of a file is kept.
    pub fn path(&self, id: FileId) -> PathBuf {
        let name = id.uuid().simple().to_string();
        self.dir.join(&name[..2]).join(name)
    }

    /// Writes the content of a file (through a temporary file renamed into
    /// place, so a reader never sees half a file).
    ///
    /// # Errors
    /// An I/O error.
    pub async fn write(&self, id: FileId, content: &[u8]) -> Result<()> {
        let path = self.path(id);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temporary = path.with_extension(format!("tmp-{}", Uuid::new_v4().simple()));
        tokio::fs::write(&temporary, content).await?;
        tokio::fs::rename(&temporary, &path).await?;
        Ok(())
    }

    /// Reads the content of a file.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such file, an I/O error.
    pub async fn read(&self, id: FileId) -> Result<Vec<u8>> {
        match tokio::fs::read(self.path(id)).await {
            Ok(content) => Ok(content),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NotFound("fichier"))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes the content of a file: its bytes are overwritten with zeros
    /// and flushed to disk, then the file is unlinked, so that the content
    /// cannot be read back from the directory's disk blocks (on a file
    /// system that writes in place; see the crate docs for the limits).
    /// Deleting a missing file is not an error.
    ///
    /// # Errors
    /// An I/O error.
    pub async fn delete(&self, id: FileId) -> Result<()> {
        let path = self.path(id);
        match overwrite(&path).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error.into()),
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Whether the content of a file is on disk.
    pub async fn exists(&self, id: FileId) -> bool {
        tokio::fs::try_exists(self.path(id)).await.unwrap_or(false)
    }
}

/// Overwrites a file's bytes with zeros in place and syncs them to disk.
async fn overwrite(path: &Path) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    const CHUNK: usize = 64 * 1024;
    let mut file = tokio::fs::OpenOptions::new().write(true).open(path).await?;
    let mut left = file.metadata().await?.len();
    let zeros = vec![0u8; CHUNK];
    while left > 0 {
        let n = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        file.write_all(&zeros[..n]).await?;
        left -= n as u64;
    }
    file.flush().await?;
    file.sync_data().await
}

/// Who a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOwner {
    /// A draft being filled.
    Draft(DraftId),
    /// A filed demande (its answers or a history entry).
    Demande(DemandeId),
}

/// A file to store: its content already checked by
/// `guichet_core::validation::check_upload`, which gave its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile<'a> {
    /// The owner.
    pub owner: FileOwner,
    /// The field it answers, if any (none for a history attachment).
    pub field: Option<FieldId>,
    /// The name the uploader gave (cleaned by `display_name`).
    pub declared_name: &'a str,
    /// The type found in the content.
    pub media_type: MediaType,
    /// The content.
    pub content: &'a [u8],
}

/// A stored file's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The reference answers and history entries carry.
    pub file: FileRef,
    /// The owner.
    pub owner: FileOwner,
    /// The field it answers, if any.
    pub field: Option<FieldId>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

fn media_type_key(media_type: MediaType) -> &'static str {
    match media_type {
        MediaType::Pdf => "pdf",
        MediaType::Jpeg => "jpeg",
        MediaType::Png => "png",
    }
}

fn media_type_from_key(key: &str) -> Result<MediaType> {
    match key {
        "pdf" => Ok(MediaType::Pdf),
        "jpeg" => Ok(MediaType::Jpeg),
        "png" => Ok(MediaType::Png),
        other => Err(StoreError::Corrupt(format!("type de fichier « {other} »"))),
    }
}

/// The columns of a file, with the key of its draft or demande
/// ([`seal::key_columns`]).
fn file_columns() -> String {
    format!(
        "id, draft_id, demande_id, field_id, name, media_type, size, sha256, created_at, {}",
        seal::key_columns(
            "COALESCE((SELECT dr.key_id FROM drafts dr WHERE dr.id = files.draft_id), \
             (SELECT de.key_id FROM demandes de WHERE de.id = files.demande_id))"
        )
    )
}

/// The sealed column of files.
const NAME: &str = "files.name";

fn stored_file(row: &AnyRow, keys: &Keyring) -> Result<StoredFile> {
    let key = keys.of_row(row)?;
    let owner = match (row.uuid_opt("draft_id")?, row.uuid_opt("demande_id")?) {
        (Some(draft), None) => FileOwner::Draft(DraftId(draft)),
        (None, Some(demande)) => FileOwner::Demande(DemandeId::from_uuid(demande)),
        _ => {
            return Err(StoreError::Corrupt(
                "fichier sans propriétaire unique".into(),
            ));
        }
    };
    Ok(StoredFile {
        file: FileRef {
            id: FileId::from_uuid(row.uuid("id")?),
            name: seal::open(key.as_ref(), NAME, row.text("name")?)?,
            media_type: media_type_from_key(&row.text("media_type")?)?,
            size: unsigned(row.int("size")?),
        },
        owner,
        field: row.text_opt("field_id")?.map(FieldId::from),
        sha256: row.text("sha256")?,
        created_at: row.instant("created_at")?,
    })
}

fn owner_columns(owner: FileOwner) -> (Option<String>, Option<String>) {
    match owner {
        FileOwner::Draft(draft) => (Some(draft.0.to_string()), None),
        FileOwner::Demande(demande) => (None, Some(demande.to_string())),
    }
}

impl Store {
    /// Stores a file: content on disk, then metadata.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown owner, an I/O or database
    /// error; the content is removed again if the metadata is not written.
    #[cfg(feature = "test-support")]
    pub async fn save_file(&self, new: NewFile<'_>, now: DateTime<Utc>) -> Result<StoredFile> {
        let stored = self.write_file_content(&new, now).await?;
        let inserted: Result<()> = async {
            let mut tx = self.begin().await?;
            let key = match stored.owner {
                FileOwner::Draft(draft) => self.keys.of_draft(&mut tx, draft.0).await?,
                FileOwner::Demande(demande) => self.keys.of_demande(&mut tx, demande).await?,
            };
            insert_file_row(&mut tx, &stored, key.as_ref()).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(error) = inserted {
            self.remove_file_content(stored.file.id).await;
            return Err(error);
        }
        Ok(stored)
    }

    /// Writes a new file's content on disk under a fresh id, without its
    /// row: the row goes with the change that names the file (an action's
    /// outcome, [`crate::outcome::Extras::files`]); if that change fails,
    /// [`Store::discard_staged_file`] removes the content.
    ///
    /// # Errors
    /// An I/O error; nothing is left on disk then.
    pub async fn stage_file(&self, new: NewFile<'_>, now: DateTime<Utc>) -> Result<StoredFile> {
        self.write_file_content(&new, now).await
    }

    /// Removes the content of a staged file whose row was not written.
    pub async fn discard_staged_file(&self, file: &StoredFile) {
        self.remove_file_content(file.file.id).await;
    }

    /// Writes a new file's content on disk under a fresh id; its row is
    /// written by the caller ([`insert_file_row`]).
    pub(crate) async fn write_file_content(
        &self,
        new: &NewFile<'_>,
        now: DateTime<Utc>,
    ) -> Result<StoredFile> {
        // Random, not time-ordered (`sql::new_id`): the first two hex
        // digits spread the contents over 256 directories (`FileStore::path`).
        let id = FileId::from_uuid(Uuid::new_v4());
        let stored = StoredFile {
            file: FileRef {
                id,
                name: display_name(new.declared_name, new.media_type),
                media_type: new.media_type,
                size: new.content.len() as u64,
            },
            owner: new.owner,
            field: new.field.clone(),
            sha256: hex::encode(Sha256::digest(new.content)),
            created_at: now,
        };
        self.files.write(id, new.content).await?;
        Ok(stored)
    }

    /// Removes the content of a file whose row was not written.
    pub(crate) async fn remove_file_content(&self, id: FileId) {
        if let Err(cleanup) = self.files.delete(id).await {
            tracing::warn!(%cleanup, "fichier orphelin non supprimé");
        }
    }

    /// A file's metadata.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such file.
    pub async fn file(&self, id: FileId) -> Result<StoredFile> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM files WHERE id = $1",
            file_columns()
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("fichier"))?;
        stored_file(&row, &self.keys)
    }

    /// A file's content.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such file.
    pub async fn file_content(&self, id: FileId) -> Result<Vec<u8>> {
        self.file(id).await?;
        self.files.read(id).await
    }

    /// The files of a draft or a demande, oldest first.
    ///
    /// # Errors
    /// A database error.
    #[cfg(feature = "test-support")]
    pub async fn files_of(&self, owner: FileOwner) -> Result<Vec<StoredFile>> {
        let (column, id) = match owner {
            FileOwner::Draft(draft) => ("draft_id", draft.0),
            FileOwner::Demande(demande) => ("demande_id", demande.uuid()),
        };
        let rows = sqlx::query(&format!(
            "SELECT {} FROM files WHERE {column} = $1 ORDER BY created_at, id",
            file_columns()
        ))
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| stored_file(row, &self.keys))
            .collect()
    }

    /// Deletes from disk the files whose deletion was committed and not
    /// carried out yet (after a crash); returns how many were deleted.
    ///
    /// # Errors
    /// A database or I/O error (what was deleted before stays deleted).
    pub async fn purge_deleted_files(&self) -> Result<u64> {
        let rows = sqlx::query("SELECT file_id FROM file_deletions ORDER BY requested_at")
            .fetch_all(&self.read)
            .await?;
        let ids: Vec<FileId> = rows
            .iter()
            .map(|row| Ok(FileId::from_uuid(row.uuid("file_id")?)))
            .collect::<Result<_>>()?;
        for id in &ids {
            self.delete_file_now(*id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Deletes a committed deletion from disk, then its row.
    async fn delete_file_now(&self, id: FileId) -> Result<()> {
        self.files.delete(id).await?;
        sqlx::query("DELETE FROM file_deletions WHERE file_id = $1")
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Carries out deletions just committed. The change they belong to is
    /// done whatever happens here: a failure is logged and left to
    /// [`Store::purge_deleted_files`], never reported as a failed write.
    pub(crate) async fn delete_files_after_commit(&self, ids: &[FileId]) {
        for id in ids {
            if let Err(error) = self.delete_file_now(*id).await {
                tracing::warn!(file = %id.uuid(), %error, "suppression de fichier reportée");
            }
        }
    }
}

/// Adds to `batch` the move of files to a filed demande (those its answers
/// name).
pub(crate) fn push_attach_to_demande(batch: &mut Batch, files: &[FileId], demande: DemandeId) {
    for file in files {
        batch
            .statement("UPDATE files SET draft_id = NULL, demande_id = ")
            .bind(demande.to_string())
            .push(" WHERE id = ")
            .bind(file.to_string());
    }
}

/// Adds to `batch` the deletion of the files a draft owns except `kept`
/// (those its demande takes over: the statements do not depend on the
/// order in which a one-statement batch applies them), recorded as
/// [`record_deletions`] does; each comes back from [`Batch::run`] as a row
/// whose `kind` is `'file'` and whose `returned` is its id.
pub(crate) fn push_delete_draft_files(
    batch: &mut Batch,
    draft: DraftId,
    kept: &[FileId],
    now: DateTime<Utc>,
) {
    let sql = batch
        .statement("INSERT INTO file_deletions (file_id, requested_at) SELECT id, ")
        .bind(millis(now))
        .push(" FROM files WHERE draft_id = ")
        .bind(draft.0.to_string());
    push_not_in(sql, kept);
    sql.push(" ON CONFLICT (file_id) DO NOTHING");
    let sql = batch
        .statement("DELETE FROM files WHERE draft_id = ")
        .bind(draft.0.to_string());
    push_not_in(sql, kept);
    sql.push(" RETURNING 'file' AS kind, id AS returned");
}

/// ` AND id NOT IN (…)` for `files`, nothing when there are none.
fn push_not_in(sql: &mut Sql, files: &[FileId]) {
    if files.is_empty() {
        return;
    }
    sql.push(" AND id NOT IN (");
    for file in files {
        sql.item(file.to_string());
    }
    sql.push(")");
}

/// The files still owned by a draft.
pub(crate) async fn draft_files(conn: &mut AnyConnection, draft: DraftId) -> Result<Vec<FileId>> {
    let rows = sqlx::query("SELECT id FROM files WHERE draft_id = $1")
        .bind(draft.0.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| Ok(FileId::from_uuid(row.uuid("id")?)))
        .collect()
}

/// Records the deletion of files in the current transaction: their metadata
/// goes now, their content once the transaction is committed.
pub(crate) async fn record_deletions(
    conn: &mut AnyConnection,
    files: &[FileId],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut batch = Batch::on(conn);
    push_record_deletions(&mut batch, files, now);
    batch.run(conn).await?;
    Ok(())
}

/// Adds to `batch` the statements of [`record_deletions`].
pub(crate) fn push_record_deletions(batch: &mut Batch, files: &[FileId], now: DateTime<Utc>) {
    for file in files {
        batch
            .statement("DELETE FROM files WHERE id = ")
            .bind(file.to_string());
        batch
            .statement("INSERT INTO file_deletions (file_id, requested_at) VALUES (")
            .bind(file.to_string())
            .push(", ")
            .bind(millis(now))
            .push(") ON CONFLICT (file_id) DO NOTHING");
    }
}

/// Writes a file's row (its content is already on disk), its name sealed
/// with `key`, its owner's.
pub(crate) async fn insert_file_row(
    conn: &mut AnyConnection,
    stored: &StoredFile,
    key: Option<&DataKey>,
) -> Result<()> {
    let (draft, demande) = owner_columns(stored.owner);
    sqlx::query(
        "INSERT INTO files (id, draft_id, demande_id, field_id, name, media_type, size, sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(stored.file.id.to_string())
    .bind(draft)
    .bind(demande)
    .bind(stored.field.as_ref().map(|f| f.as_str().to_owned()))
    .bind(seal::seal(key, NAME, stored.file.name.clone())?)
    .bind(media_type_key(stored.file.media_type).to_owned())
    .bind(count(stored.file.size))
    .bind(stored.sha256.clone())
    .bind(millis(stored.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
