//! The history entries of demandes (both audiences in one table; readers
//! filter with `guichet_core::history::{usager_history, agents_history}`).
use guichet_core::id::{DemandeId, FileId, StatusId, UserId};

use guichet_core::workflow::anonymise::redact_history;

use guichet_core::history::{Audience, Author, HistoryEntry};

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::seal::{self, DataKey};
use crate::sql::{Batch, RowExt, from_json, millis, to_json};

fn audience_key(audience: Audience) -> &'static str {
    match audience {
        Audience::Usager => "usager",
        Audience::Agents => "agents",
        Audience::Both => "both",
    }
}

fn audience_from_key(key: &str) -> Result<Audience> {
    match key {
        "usager" => Ok(Audience::Usager),
        "agents" => Ok(Audience::Agents),
        "both" => Ok(Audience::Both),
        other => Err(StoreError::Corrupt(format!("audience « {other} »"))),
    }
}

fn author_columns(author: Author) -> (&'static str, Option<String>) {
    match author {
        Author::Usager(id) => ("usager", id.map(|id| id.to_string())),
        Author::Agent(id) => ("agent", Some(id.to_string())),
        Author::System => ("system", None),
    }
}

fn author(row: &AnyRow) -> Result<Author> {
    let id = row.uuid_opt("author_id")?.map(UserId::from_uuid);
    match (row.text("author_kind")?.as_str(), id) {
        ("usager", id) => Ok(Author::Usager(id)),
        ("agent", Some(id)) => Ok(Author::Agent(id)),
        ("system", _) => Ok(Author::System),
        (other, _) => Err(StoreError::Corrupt(format!("auteur « {other} »"))),
    }
}

/// The columns of an entry, with its demande's key
/// ([`seal::key_columns`]).
fn history_columns() -> String {
    format!(
        "seq, demande_id, occurred_at, audience, author_kind, author_id, event, status, body, \
         message, attachment, {}",
        seal::key_columns("(SELECT d.key_id FROM demandes d WHERE d.id = history.demande_id)")
    )
}

/// The sealed columns of history entries.
const BODY: &str = "history.body";
const MESSAGE: &str = "history.message";
const ATTACHMENT: &str = "history.attachment";

fn entry(row: &AnyRow, key: Option<&DataKey>) -> Result<HistoryEntry> {
    Ok(HistoryEntry {
        demande: DemandeId::from_uuid(row.uuid("demande_id")?),
        at: row.instant("occurred_at")?,
        audience: audience_from_key(&row.text("audience")?)?,
        author: author(row)?,
        event: row.text("event")?,
        status: StatusId::from(row.text("status")?),
        text: seal::open(key, BODY, row.text("body")?)?,
        message: seal::open_opt(key, MESSAGE, row.text_opt("message")?)?,
        attachment: seal::open_opt(key, ATTACHMENT, row.text_opt("attachment")?)?
            .as_deref()
            .map(from_json)
            .transpose()?,
    })
}

/// Appends entries, in order, in one statement, sealed with `key` (their
/// demande's).
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    entries: &[HistoryEntry],
    key: Option<&DataKey>,
) -> Result<()> {
    let mut batch = Batch::on(conn);
    push_insert(&mut batch, entries, key)?;
    batch.run(conn).await?;
    Ok(())
}

/// Adds to `batch` the statement of [`insert`].
pub(crate) fn push_insert(
    batch: &mut Batch,
    entries: &[HistoryEntry],
    key: Option<&DataKey>,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let sql = batch.statement(
        "INSERT INTO history (demande_id, occurred_at, audience, author_kind, author_id, event, \
         status, body, message, attachment) VALUES ",
    );
    for (n, entry) in entries.iter().enumerate() {
        let (author_kind, author_id) = author_columns(entry.author);
        sql.push(if n == 0 { "(" } else { ", (" })
            .bind(entry.demande.to_string())
            .push(", ")
            .bind(millis(entry.at))
            .push(", ")
            .bind(audience_key(entry.audience).to_owned())
            .push(", ")
            .bind(author_kind.to_owned())
            .push(", ")
            .bind(author_id)
            .push(", ")
            .bind(entry.event.clone())
            .push(", ")
            .bind(entry.status.as_str().to_owned())
            .push(", ")
            .bind(seal::seal(key, BODY, entry.text.clone())?)
            .push(", ")
            .bind(seal::seal_opt(key, MESSAGE, entry.message.clone())?)
            .push(", ")
            .bind(seal::seal_opt(
                key,
                ATTACHMENT,
                entry.attachment.as_ref().map(to_json).transpose()?,
            )?)
            .push(")");
    }
    Ok(())
}

/// Redacts every entry of a demande with `redact_history` (free texts,
/// attachments, the usager's account) and rewrites them in clear (their
/// demande's `key`, which opens them now, is about to be destroyed);
/// returns the attached files to delete.
pub(crate) async fn redact(
    conn: &mut AnyConnection,
    demande: DemandeId,
    key: Option<&DataKey>,
) -> Result<Vec<FileId>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM history WHERE demande_id = $1 ORDER BY seq",
        history_columns()
    ))
    .bind(demande.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let seqs: Vec<i64> = rows
        .iter()
        .map(|row| row.int("seq"))
        .collect::<Result<_>>()?;
    let before: Vec<HistoryEntry> = rows
        .iter()
        .map(|row| entry(row, key))
        .collect::<Result<_>>()?;
    let mut after = before.clone();
    let files = redact_history(&mut after);
    for ((seq, old), new) in seqs.into_iter().zip(&before).zip(&after) {
        if old == new && key.is_none() {
            continue;
        }
        let (author_kind, author_id) = author_columns(new.author);
        sqlx::query(
            "UPDATE history SET author_kind = $1, author_id = $2, body = $3, message = $4, \
             attachment = $5 WHERE seq = $6",
        )
        .bind(author_kind.to_owned())
        .bind(author_id)
        .bind(new.text.clone())
        .bind(new.message.clone())
        .bind(new.attachment.as_ref().map(to_json).transpose()?)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(files)
}

impl Store {
    /// Every history entry of a demande, both audiences, in order. Filter
    /// with `guichet_core::history::usager_history` before showing it to
    /// the usager.
    ///
    /// # Errors
    /// A database error.
    pub async fn history(&self, demande: DemandeId) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM history WHERE demande_id = $1 ORDER BY seq",
            history_columns()
        ))
        .bind(demande.to_string())
        .fetch_all(&self.read)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let key = self.keys.of_row(first)?;
        rows.iter().map(|row| entry(row, key.as_ref())).collect()
    }
}
