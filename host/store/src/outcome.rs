//! Writing a workflow [`Outcome`] in one transaction: the demande, its
//! history entries, its notification jobs, its timer changes and the files
//! it deletes — all or nothing.
//!
//! [`Store::file_demande`] numbers and stores a submission
//! ([`Store::insert_demande`] stores an outcome already built);
//! [`Store::apply_outcome`] the outcome of an action or a timer, with
//! optimistic concurrency: it names the [`Revision`] the outcome was
//! computed from, and when two agents act at once the second write finds
//! another revision and fails with [`StoreError::Conflict`] (on PostgreSQL
//! it waits for the first one's row lock, then sees the new revision).
//!
//! An outcome that erases personal data (anonymisation) is written exactly
//! as `guichet_core`'s reference store does it: every earlier history entry
//! is redacted with `guichet_core::workflow::anonymise::redact_history`, the
//! demande's pending (and past) jobs are dropped — their payloads carry free
//! texts — and its files are deleted, from the database in the transaction
//! and from disk after the commit. The connector journal and links of the
//! demande lose their logs, exchanges, remote status and card, which may
//! quote the usager. The demande's row keeps its link to the usager's
//! account (`usager_id`), so that the usager still lists and reads it.
//!
//! Notifications to the usager carry the usager's [`Contact`], captured
//! from the demande as it was *before* the outcome (see [`crate::contact`]):
//! the anonymisation notice is deliverable although the outcome that queues
//! it erases the address from the demande.
//!
//! An outcome that puts a demande in the trash or takes it out keeps its
//! `trash` row in step ([`crate::trash`]).
//!
//! Every write also keeps the columns the statistics and the reminder flag
//! read (analysis start, closing date and kind, time on hold, time to
//! process, last reminder: [`crate::statistics`]), computed from the
//! demande written.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};
use guichet_core::demande::Demande;
use guichet_core::id::{FileId, Slug};
use guichet_core::workflow::deadline::Timer;

use guichet_core::notification::Recipient;
use guichet_core::value::Value;
use guichet_core::workflow::Outcome;
use sqlx::{AnyConnection, Connection};

#[cfg(feature = "test-support")]
use crate::account::USER_COLUMNS_U;
use crate::account::{USER_COLUMNS, user};
use crate::contact::{Contact, contact_of};
use crate::demande::{DATA, Reservation, Revision, columns};
use crate::draft::{DraftId, FilingContext};
use crate::error::{Result, StoreError};
use crate::job::NewJob;
use crate::seal::{self, DataKey};
use crate::sql::{Batch, RowExt, millis, required_row_missing};
use crate::{Backend, Store, connector, file, history, job, timer, trash};

/// What is written with an outcome, in the same transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// Jobs besides the outcome's notifications (connector calls…). A job
    /// naming no demande is the outcome's demande's (at filing, whose id
    /// is chosen inside [`Store::file_demande`]).
    pub jobs: Vec<NewJob>,
    /// The timer whose firing produced the outcome: deleted, unless it was
    /// rescheduled meanwhile.
    pub fired_timer: Option<Timer>,
    /// The draft the demande was filed from: deleted, the files its answers
    /// name moving to the demande, the others deleted.
    pub draft: Option<DraftId>,
    /// The draft's revision when the demande was built from it: filing
    /// fails with [`StoreError::Conflict`] if the draft changed since (a
    /// page saved meanwhile is never silently dropped).
    pub draft_revision: Option<i64>,
    /// Files of the demande whose content was staged
    /// ([`Store::stage_file`]) and whose rows are written with the outcome
    /// (an action's attachment). On failure the caller discards them
    /// ([`Store::discard_staged_file`]).
    pub files: Vec<crate::file::StoredFile>,
}

/// The refusal of a filing whose draft was saved meanwhile.
fn draft_changed() -> StoreError {
    StoreError::Conflict(
        "le brouillon a été modifié pendant le dépôt : relisez-le et déposez-le à nouveau".into(),
    )
}

/// Checks the rows a filing's batch returned: the number it took when
/// `number` is given (kind `'number'`), the draft deleted at its revision
/// (kind `'draft'`); returns the files to delete from disk: `deleted`, with
/// the draft's that the demande did not take over (kind `'file'`).
///
/// # Errors
/// [`StoreError::Conflict`] when the draft changed since
/// `extras.draft_revision`, [`StoreError::NotFound`] when it is gone,
/// [`StoreError::Corrupt`] for another number than `number`.
pub(crate) fn filed_rows(
    rows: Vec<sqlx::any::AnyRow>,
    number: Option<i64>,
    extras: &Extras,
    mut deleted: Vec<FileId>,
) -> Result<Vec<FileId>> {
    let mut draft_deleted = false;
    for row in &rows {
        match row.text("kind")?.as_str() {
            "number" => {
                let n = row.int("n")?;
                if number.is_some_and(|number| number != n) {
                    return Err(StoreError::Corrupt(format!(
                        "numéro {n} en base, {number:?} attendu dans le groupe de dépôts"
                    )));
                }
            }
            "file" => deleted.push(FileId::from_uuid(row.uuid("returned")?)),
            "required" => {}
            _ => draft_deleted = true,
        }
    }
    if extras.draft.is_some() && !draft_deleted {
        return Err(draft_gone(extras));
    }
    Ok(deleted)
}

/// Whether storing `outcome` can go as one statement
/// ([`Batch::one_statement`]): not when it deletes files or fires a timer,
/// whose statements would touch rows the others touch.
fn one_statement(outcome: &Outcome, extras: &Extras) -> bool {
    outcome.files_to_delete.is_empty() && extras.fired_timer.is_none()
}

/// The error of a filing whose draft was not deleted at its revision: it
/// was saved meanwhile, or it is gone.
fn draft_gone(extras: &Extras) -> StoreError {
    match extras.draft_revision {
        Some(_) => draft_changed(),
        None => StoreError::NotFound("brouillon"),
    }
}

/// The files named by the answers of a demande.
fn answer_files(demande: &Demande) -> Vec<FileId> {
    demande
        .answers
        .iter()
        .filter_map(|(_, value)| match value {
            Value::Files(files) => Some(files.iter().map(|file| file.id)),
            _ => None,
        })
        .flatten()
        .collect()
}

impl Store {
    /// Stores a submission's outcome: the new demande (revision 1), its
    /// history, notification jobs and timers, the extras.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the id or number is taken,
    /// [`StoreError::Invalid`] for an unknown démarche version, usager or
    /// draft; nothing is written then.
    #[cfg(feature = "test-support")]
    pub async fn insert_demande(
        &self,
        outcome: &Outcome,
        extras: Extras,
        now: DateTime<Utc>,
    ) -> Result<Revision> {
        let mut tx = self.begin().await?;
        let reads = self.filing_reads(&mut tx, outcome, &extras).await?;
        let deleted = self
            .insert_demande_in(&mut tx, outcome, &extras, reads, now)
            .await?;
        tx.commit().await?;
        self.delete_files_after_commit(&deleted).await;
        if extras.draft.is_some() {
            self.personal_data_erased();
        }
        Ok(Revision(1))
    }

    /// Files a demande from a draft: `build` computes the submission's
    /// outcome for a fresh id and a placeholder number, which the démarche's
    /// next number for the year of `now` then replaces
    /// ([`Outcome::renumber`]); the outcome is stored as
    /// [`Store::insert_demande`] does. `context` is what
    /// [`Store::draft_to_file`] read with the draft.
    ///
    /// A refused submission (`build` fails) takes no number and writes
    /// nothing: `build` runs before any number is taken, and outside the
    /// turn in which filings take theirs. On SQLite, whose single writer
    /// serialises filings anyway, the number is taken inside the
    /// transaction that stores the demande, so numbering has no gap at
    /// all; that transaction is shared by the filings that arrive
    /// meanwhile ([`crate::group_commit`]). On PostgreSQL, holding the
    /// counter's row lock through the whole filing would make every
    /// submission of the démarche wait for the previous one's commit: the
    /// number is taken in a statement of its own, shared by the filings
    /// that wait meanwhile and guarded by the draft's revision
    /// ([`crate::numbering`]), and only a failure while storing leaves a
    /// gap (never a duplicate).
    ///
    /// # Errors
    /// `build`'s error, or a [`StoreError`] as for
    /// [`Store::reserve_demande`] and [`Store::insert_demande`].
    pub async fn file_demande<E>(
        &self,
        slug: &Slug,
        context: FilingContext,
        now: DateTime<Utc>,
        extras: Extras,
        build: impl FnOnce(Reservation) -> std::result::Result<Outcome, E>,
    ) -> std::result::Result<Outcome, E>
    where
        E: From<StoreError>,
    {
        let prefix = context
            .prefix
            .clone()
            .ok_or(StoreError::NotFound("démarche"))?;
        let year = self.zone().today(now).year();
        let mut outcome = build(Reservation::unnumbered())?;
        if let Some(draft) = extras.draft {
            // Filed or changed elsewhere: either way, read it again if ever.
            self.forget_draft(draft);
        }
        let deleted = match self.backend {
            Backend::Sqlite => {
                self.file_on_sqlite(slug, &prefix, year, &extras, context, now, &mut outcome)
                    .await?
            }
            Backend::Postgres => {
                // The draft's revision is checked as its number is taken:
                // a draft saved meanwhile costs no number.
                let draft = extras.draft.zip(extras.draft_revision);
                let Some(numero) = self.take_number(slug, &prefix, year, draft).await? else {
                    return Err(draft_gone(&extras).into());
                };
                outcome.renumber(&numero);
                let mut conn = self.write.acquire().await.map_err(StoreError::from)?;
                let reads = FilingReads::of(context, &outcome);
                if one_statement(&outcome, &extras) {
                    // One statement is atomic by itself: no `BEGIN` and
                    // `COMMIT` round trips.
                    self.insert_demande_in(&mut conn, &outcome, &extras, reads, now)
                        .await?
                } else {
                    let mut tx = conn.begin().await.map_err(StoreError::from)?;
                    let deleted = self
                        .insert_demande_in(&mut tx, &outcome, &extras, reads, now)
                        .await?;
                    tx.commit().await.map_err(StoreError::from)?;
                    deleted
                }
            }
        };
        self.delete_files_after_commit(&deleted).await;
        if extras.draft.is_some() {
            // The deleted draft's answers may differ from the demande's:
            // the next scrub clears their old versions from the WAL.
            self.personal_data_erased();
        }
        Ok(outcome)
    }

    /// What storing `outcome` reads besides what it writes, in **one**
    /// query (for [`Store::insert_demande`]; [`Store::file_demande`] has it
    /// read with the draft): the key of the draft it is filed from (which
    /// the demande adopts) and, when the outcome notifies the usager, their
    /// account for their contact.
    ///
    /// # Errors
    /// A database error, or a key that does not open.
    #[cfg(feature = "test-support")]
    async fn filing_reads(
        &self,
        conn: &mut AnyConnection,
        outcome: &Outcome,
        extras: &Extras,
    ) -> Result<FilingReads> {
        let demande = &outcome.demande;
        let notifies_usager = outcome
            .notifications
            .iter()
            .any(|n| n.recipient == Recipient::Usager);
        let row = sqlx::query(&format!(
            "SELECT {}, {USER_COLUMNS_U} \
             FROM (SELECT 1 AS one) AS one \
             LEFT JOIN drafts ON drafts.id = $1 \
             LEFT JOIN users u ON u.id = $2",
            seal::key_columns("drafts.key_id")
        ))
        .bind(extras.draft.map(|draft| draft.0.to_string()))
        .bind(
            demande
                .usager
                .filter(|_| notifies_usager)
                .map(|usager| usager.to_string()),
        )
        .fetch_one(&mut *conn)
        .await?;
        let contact = if notifies_usager {
            let account = match row.text_opt("id")? {
                Some(_) => Some(user(&row)?),
                None => None,
            };
            let reference = &demande.demarche;
            let definition = self
                .structure_of(conn, reference.slug.as_str(), reference.version)
                .await?;
            Some(contact_of(&definition, demande, account.as_ref()))
        } else {
            None
        };
        Ok(FilingReads {
            contact,
            draft_key: self.keys.of_row(&row)?,
        })
    }

    /// Writes a new demande and its effects in the open transaction, in
    /// one [`Batch`] (one statement on PostgreSQL); returns the files to
    /// delete from disk after the commit.
    ///
    /// # Errors
    /// As [`Store::insert_demande`]; [`StoreError::Conflict`] if the draft
    /// changed since `extras.draft_revision`, [`StoreError::NotFound`] if
    /// it is gone.
    async fn insert_demande_in(
        &self,
        tx: &mut AnyConnection,
        outcome: &Outcome,
        extras: &Extras,
        reads: FilingReads,
        now: DateTime<Utc>,
    ) -> Result<Vec<FileId>> {
        // Deleting files or a fired timer would touch rows the other
        // statements touch: those outcomes (none at submission) go
        // statement after statement, in the caller's transaction.
        let mut batch = if one_statement(outcome, extras) {
            Batch::one_statement(self.backend)
        } else {
            Batch::new(self.backend)
        };
        let deleted = self
            .push_filing(tx, &mut batch, outcome, extras, reads, now)
            .await?;
        let rows = batch.run(tx).await.map_err(|error| {
            if required_row_missing(&error) {
                draft_gone(extras)
            } else {
                error
            }
        })?;
        filed_rows(rows, None, extras, deleted)
    }

    /// Adds to `batch` the writes of a new demande and its effects: the
    /// demande, its services, the draft's files (taken over or deleted),
    /// the draft (at `extras.draft_revision`), history, jobs and timers.
    /// No two of these statements touch the same row, so that they may go
    /// as one statement ([`Batch::one_statement`]). Reads on `tx` what the
    /// caches lack (the version's facts) and creates the demande's key
    /// when it has no draft's to adopt. Returns the files the outcome
    /// deletes; those of the draft come back from [`Batch::run`] as rows of
    /// kind `'file'`, the draft as a row of kind `'draft'`.
    ///
    /// # Errors
    /// A database error, or a value that cannot be sealed.
    pub(crate) async fn push_filing(
        &self,
        tx: &mut AnyConnection,
        batch: &mut Batch,
        outcome: &Outcome,
        extras: &Extras,
        reads: FilingReads,
        now: DateTime<Utc>,
    ) -> Result<Vec<FileId>> {
        let demande = &outcome.demande;
        let slug = demande.demarche.slug.as_str().to_owned();
        let facts = self
            .version_facts(tx, &slug, demande.demarche.version)
            .await?;
        let computed = columns(demande, &facts, self.zone());
        // A demande filed from a draft adopts the draft's key: the names of
        // the files it takes over are sealed with it already.
        let key = match reads.draft_key {
            Some(key) => key,
            None => self.keys.push_create(batch, now)?,
        };
        batch
            .statement(
                "INSERT INTO demandes (id, numero, slug, version, usager_id, status, phase, primary_service, \
                 submitted_at, processing_deadline, on_hold_since, revision, updated_at, data, key_id, \
                 analysis_started_at, closed_at, hold_ms, closing, refusal_type, processing_ms, last_reminder) \
                 VALUES (",
            )
            .item(demande.id.to_string())
            .item(demande.numero.clone())
            .item(slug)
            .item(i64::from(demande.demarche.version))
            .item(demande.usager.map(|u| u.to_string()))
            .item(demande.status.as_str().to_owned())
            .item(computed.phase.to_owned())
            .item(demande.services.primary.as_str().to_owned())
            .item(millis(demande.dates.submitted_at))
            .item(computed.processing_deadline)
            .item(computed.on_hold_since)
            .push(", 1")
            .item(millis(now))
            .item(seal::seal_json(Some(&key), DATA, demande)?)
            .item(key.id().to_owned())
            .item(computed.statistics.analysis_started_at)
            .item(computed.statistics.closed_at)
            .item(computed.statistics.hold_ms)
            .item(computed.statistics.closing.map(str::to_owned))
            .item(computed.statistics.refusal_type.map(str::to_owned))
            .item(computed.statistics.processing_ms)
            .item(computed.statistics.last_reminder)
            .push(")");
        push_services(batch, demande, false);
        if let Some(draft) = extras.draft {
            let taken = answer_files(demande);
            file::push_attach_to_demande(batch, &taken, demande.id);
            file::push_delete_draft_files(batch, draft, &taken, now);
            push_delete_draft(batch, draft, extras.draft_revision);
            batch.require_row();
        }
        let effects = Effects {
            more: Vec::new(),
            contact: reads.contact.as_ref(),
            key: Some(&key),
            jobs_key: Some(&key),
        };
        push_effects(batch, outcome, extras, effects, now)
    }

    /// Stores the outcome of an action or a timer computed from the demande
    /// at revision `expected`; returns the new revision.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the demande changed since `expected`
    /// (reload it and run the action again), [`StoreError::NotFound`] if it
    /// does not exist; nothing is written then.
    pub async fn apply_outcome(
        &self,
        outcome: &Outcome,
        expected: Revision,
        extras: Extras,
        now: DateTime<Utc>,
    ) -> Result<Revision> {
        let demande = &outcome.demande;
        let id = demande.id.to_string();
        let mut tx = self.begin().await?;
        let facts = self
            .version_facts(
                &mut tx,
                demande.demarche.slug.as_str(),
                demande.demarche.version,
            )
            .await?;
        let computed = columns(demande, &facts, self.zone());
        let key = self.keys.of_demande(&mut tx, demande.id).await?;
        let contact = if outcome
            .notifications
            .iter()
            .any(|n| n.recipient == Recipient::Usager)
        {
            let before = sqlx::query("SELECT data FROM demandes WHERE id = $1")
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await?;
            match before {
                Some(row) => {
                    let before: Demande = seal::open_json(key.as_ref(), DATA, row.text("data")?)?;
                    usager_contact(self, &mut tx, outcome, &before).await?
                }
                None => None,
            }
        } else {
            None
        };
        // An anonymisation writes what it keeps in clear and destroys the
        // demande's key once nothing names it (see `crate::seal`).
        let kept_key = if outcome.erase_personal_data {
            None
        } else {
            key.as_ref()
        };
        // The account link survives anonymisation (COALESCE): the usager
        // keeps following the demande, which no longer names them.
        let updated = sqlx::query(
            "UPDATE demandes SET usager_id = COALESCE($1, usager_id), status = $2, phase = $3, primary_service = $4, \
             processing_deadline = $5, on_hold_since = $6, revision = revision + 1, updated_at = $7, \
             data = $8, key_id = $9, analysis_started_at = $10, closed_at = $11, hold_ms = $12, \
             closing = $13, refusal_type = $14, processing_ms = $15, last_reminder = $16 \
             WHERE id = $17 AND revision = $18 RETURNING revision",
        )
        .bind(demande.usager.map(|u| u.to_string()))
        .bind(demande.status.as_str().to_owned())
        .bind(computed.phase.to_owned())
        .bind(demande.services.primary.as_str().to_owned())
        .bind(computed.processing_deadline)
        .bind(computed.on_hold_since)
        .bind(millis(now))
        .bind(seal::seal_json(kept_key, DATA, demande)?)
        .bind(kept_key.map(|key| key.id().to_owned()))
        .bind(computed.statistics.analysis_started_at)
        .bind(computed.statistics.closed_at)
        .bind(computed.statistics.hold_ms)
        .bind(computed.statistics.closing.map(str::to_owned))
        .bind(computed.statistics.refusal_type.map(str::to_owned))
        .bind(computed.statistics.processing_ms)
        .bind(computed.statistics.last_reminder)
        .bind(id.clone())
        .bind(expected.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = updated else {
            let exists = sqlx::query("SELECT revision FROM demandes WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => StoreError::Conflict(format!(
                    "la demande {} a été modifiée entre-temps",
                    demande.numero
                )),
                None => StoreError::NotFound("demande"),
            });
        };
        let revision = Revision(row.int("revision")?);
        for staged in &extras.files {
            file::insert_file_row(&mut tx, staged, kept_key).await?;
        }
        let mut batch = Batch::new(self.backend);
        push_services(&mut batch, demande, true);
        trash::follow(&mut tx, demande, &facts, now).await?;
        let mut erased = Vec::new();
        let mut own_key = None;
        if outcome.erase_personal_data {
            erased = history::redact(&mut tx, demande.id, key.as_ref()).await?;
            erased.extend(demande_files(&mut tx, demande).await?);
            job::delete_of(&mut tx, demande.id).await?;
            connector::erase_of(&mut tx, demande.id).await?;
            crate::survey::erase_personal(&mut tx, demande.id).await?;
            // The jobs this outcome queues (the anonymisation notice) carry
            // the usager's contact: sealed with a key of their own,
            // destroyed when they end.
            if !outcome.notifications.is_empty() || !extras.jobs.is_empty() {
                own_key = Some(self.keys.create(&mut tx, now).await?);
            }
        }
        let effects = Effects {
            more: erased,
            contact: contact.as_ref(),
            key: kept_key,
            jobs_key: own_key.as_ref().or(kept_key),
        };
        let deleted = push_effects(&mut batch, outcome, &extras, effects, now)?;
        batch.run(&mut tx).await?;
        if let (true, Some(key)) = (outcome.erase_personal_data, &key) {
            seal::release(&mut tx, key.id()).await?;
        }
        tx.commit().await?;
        self.delete_files_after_commit(&deleted).await;
        if outcome.erase_personal_data {
            self.personal_data_erased();
        }
        Ok(revision)
    }
}

/// The contact of the usager of `source` (the demande before the outcome),
/// when the outcome notifies the usager; read in the caller's transaction
/// (on PostgreSQL, a second connection per filing could exhaust the pool).
async fn usager_contact(
    store: &Store,
    conn: &mut AnyConnection,
    outcome: &Outcome,
    source: &Demande,
) -> Result<Option<Contact>> {
    if !outcome
        .notifications
        .iter()
        .any(|n| n.recipient == Recipient::Usager)
    {
        return Ok(None);
    }
    let reference = &source.demarche;
    let definition = store
        .structure_of(conn, reference.slug.as_str(), reference.version)
        .await?;
    let account = match source.usager {
        Some(id) => sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .as_ref()
            .map(user)
            .transpose()?,
        None => None,
    };
    Ok(Some(contact_of(&definition, source, account.as_ref())))
}

/// The files stored for a demande.
async fn demande_files(conn: &mut AnyConnection, demande: &Demande) -> Result<Vec<FileId>> {
    let rows = sqlx::query("SELECT id FROM files WHERE demande_id = $1")
        .bind(demande.id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| Ok(FileId::from_uuid(row.uuid("id")?)))
        .collect()
}

/// Adds to `batch` the services of a demande, for the processing table's
/// service filter (`replace`: those written before go first).
fn push_services(batch: &mut Batch, demande: &Demande, replace: bool) {
    let id = demande.id.to_string();
    if replace {
        batch
            .statement("DELETE FROM demande_services WHERE demande_id = ")
            .bind(id.clone());
    }
    let services: BTreeSet<&str> = demande.services.all().map(|s| s.as_str()).collect();
    if services.is_empty() {
        return;
    }
    let sql = batch.statement("INSERT INTO demande_services (demande_id, service) VALUES ");
    for (n, service) in services.into_iter().enumerate() {
        sql.push(if n == 0 { "(" } else { ", (" })
            .item(id.clone())
            .item(service.to_owned())
            .push(")");
    }
}

/// Adds to `batch` the deletion of the draft a demande is filed from (at
/// `revision`, when given); it comes back from [`Batch::run`] as a row
/// whose `kind` is `'draft'`.
fn push_delete_draft(batch: &mut Batch, draft: DraftId, revision: Option<i64>) {
    let sql = batch
        .statement("DELETE FROM drafts WHERE id = ")
        .bind(draft.0.to_string());
    if let Some(revision) = revision {
        sql.push(" AND revision = ").bind(revision);
    }
    sql.push(" RETURNING 'draft' AS kind, id AS returned");
}

/// What a filing reads before its write transaction
/// ([`Store::filing_reads`]).
pub(crate) struct FilingReads {
    /// The usager's contact, when the outcome notifies the usager.
    contact: Option<Contact>,
    /// The key of the draft the demande is filed from, if it has one.
    pub(crate) draft_key: Option<DataKey>,
}

impl FilingReads {
    /// What was read with the draft, and the usager's contact when
    /// `outcome` notifies the usager.
    pub(crate) fn of(context: FilingContext, outcome: &Outcome) -> FilingReads {
        let notifies_usager = outcome
            .notifications
            .iter()
            .any(|n| n.recipient == Recipient::Usager);
        FilingReads {
            contact: notifies_usager.then(|| {
                contact_of(
                    &context.definition,
                    &outcome.demande,
                    context.account.as_ref(),
                )
            }),
            draft_key: context.draft_key,
        }
    }
}

/// What [`push_effects`] writes besides the outcome.
struct Effects<'a> {
    /// Files to delete besides the outcome's.
    more: Vec<FileId>,
    /// The usager's contact, for the notifications to the usager.
    contact: Option<&'a Contact>,
    /// The key that seals the history entries (the demande's).
    key: Option<&'a DataKey>,
    /// The key that seals the jobs' payloads.
    jobs_key: Option<&'a DataKey>,
}

/// Adds to `batch` what every outcome carries: history, jobs
/// (notifications to the usager with their contact), the fired timer,
/// timer changes, file deletions (the outcome's and `effects.more`).
/// Returns the files to delete from disk after the commit.
fn push_effects(
    batch: &mut Batch,
    outcome: &Outcome,
    extras: &Extras,
    effects: Effects<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<FileId>> {
    let Effects {
        more,
        contact,
        key,
        jobs_key,
    } = effects;
    history::push_insert(batch, &outcome.history, key)?;
    let mut jobs = outcome
        .notifications
        .iter()
        .map(|notification| {
            let job = NewJob::notification(notification, now)?;
            Ok(match contact {
                Some(contact) if notification.recipient == Recipient::Usager => {
                    job.with_contact(contact)?
                }
                _ => job,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    jobs.extend(extras.jobs.iter().cloned().map(|mut job| {
        job.demande.get_or_insert(outcome.demande.id);
        job
    }));
    job::push_insert(batch, &jobs, jobs_key, now)?;
    if let Some(fired) = &extras.fired_timer {
        timer::push_delete_exact(batch, fired);
    }
    timer::push_changes(batch, &outcome.timers);
    let files: BTreeSet<FileId> = outcome
        .files_to_delete
        .iter()
        .copied()
        .chain(more)
        .collect();
    let files: Vec<FileId> = files.into_iter().collect();
    file::push_record_deletions(batch, &files, now);
    Ok(files)
}
