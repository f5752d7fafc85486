//! Group commit of filings on SQLite: the writes of several filings in one
//! transaction of the single writer, made durable by one `COMMIT`.
//!
//! SQLite has one writer, so filings are serialised whatever their number;
//! what each one holds the writer for is its cost. A filing alone pays a
//! `BEGIN IMMEDIATE`, the hand-off that reads its number, and a `COMMIT`
//! that writes every page it touched to the WAL. In a group, the filings
//! that arrive while one is written join its transaction:
//! - each filing runs inside a **savepoint** of its own: a filing refused
//!   by the database (a draft saved meanwhile, a constraint) rolls back to
//!   it and leaves the others' writes in place;
//! - the démarche's last number is read once per group and kept in memory
//!   (the group holds the write lock, so nobody else numbers meanwhile); a
//!   filing's number goes to the database in its batch, with its writes,
//!   in **one** hand-off, whose `RETURNING` confirms it;
//! - the filing that finds nobody waiting behind it (or the group full,
//!   [`MAX_MEMBERS`]; or, a member waiting [`COMMIT_AFTER`], the group still
//!   open) commits for all, in a task of its own that a cancelled request
//!   cannot interrupt. Every filing answers only once the
//!   `COMMIT` succeeded: an acknowledged demande is durable, and a failed
//!   `COMMIT` fails every filing of the group (none was acknowledged).
//!
//! A filing whose request is cancelled in the middle of its writes leaves
//! the transaction in a state nobody can vouch for: the group is given up
//! (rolled back when its connection closes), and its other filings fail
//! with a database error, which their usagers see as a failure to retry.
//! No demande is half-written, and none acknowledged is lost.
//!
//! Writes other than filings wait for the writer's pool as before; a group
//! holds the writer at most [`MAX_MEMBERS`] filings long.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use guichet_core::id::{FileId, Slug};
use guichet_core::workflow::Outcome;
use sqlx::AnyPool;
use tokio::sync::{Mutex, MutexGuard, watch};

use crate::demande::{Reservation, numbered, push_next_number};
use crate::draft::FilingContext;
use crate::error::{Result, StoreError};
use crate::outcome::{Extras, FilingReads, filed_rows};
use crate::sql::{Batch, RowExt};
use crate::sqlite::Immediate;
use crate::{Backend, Store};

/// Most filings one transaction holds before it commits (so that other
/// writes are not kept from the writer long).
pub(crate) const MAX_MEMBERS: usize = 16;

/// How long a filing waits for its group to commit before it commits the
/// group itself: the longest a group stays open while filings keep
/// joining it (plus one filing's turn).
pub(crate) const COMMIT_AFTER: std::time::Duration = std::time::Duration::from_millis(5);

/// The filings' transactions of one SQLite store.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    /// The open transaction, if any; its lock serialises the filings.
    open: Mutex<Option<Group>>,
    /// Filings waiting for `open`'s lock: while some wait, the holder
    /// leaves the transaction open for them instead of committing.
    waiting: AtomicUsize,
    /// The number of the last group begun.
    groups: AtomicU64,
}

/// The outcome of a group's `COMMIT`, as its filings learn it (`None`
/// until then; the sender dropped without a value: the group was given up).
type Committed = Option<std::result::Result<(), String>>;

/// An open transaction of filings.
struct Group {
    /// Which group this is ([`GroupCommit::groups`]).
    number: u64,
    tx: Immediate,
    /// The last number taken in this transaction, per démarche and year.
    numbers: HashMap<(String, i32), i64>,
    /// Filings written in the transaction, waiting for its commit.
    members: usize,
    /// The previous filing's savepoint, to release before the next
    /// statement (it was written).
    release: bool,
    /// Where the filings learn the outcome of the commit.
    committed: watch::Sender<Committed>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

impl Group {
    /// Takes the writer of `pool` and begins the transaction, numbered
    /// `number`.
    async fn begin(pool: &AnyPool, number: u64) -> Result<Group> {
        let (tx, _) = Immediate::begin(pool, |_| {}).await?;
        Ok(Group {
            number,
            tx,
            numbers: HashMap::new(),
            members: 0,
            release: false,
            committed: watch::channel(None).0,
        })
    }

    /// A batch that first releases the previous filing's savepoint.
    fn batch(&mut self) -> Batch {
        let mut batch = Batch::new(Backend::Sqlite);
        if std::mem::take(&mut self.release) {
            batch.statement("RELEASE filing");
        }
        batch
    }

    /// Commits and tells the filings.
    async fn commit(mut self) {
        let last = self.batch();
        let outcome = self.tx.commit(last).await;
        if let Err(error) = &outcome {
            tracing::error!(%error, members = self.members, "group commit failed");
        }
        let _ = self
            .committed
            .send(Some(outcome.map(drop).map_err(|e| e.to_string())));
    }
}

/// Counts a filing waiting for the group's lock, until it has it (or is
/// cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A filing holding the group's lock. Dropped, it commits the group when
/// nobody waits to join it; dropped while `armed` (cancelled during its
/// writes), it gives the group up.
struct Turn<'a> {
    commit: &'a GroupCommit,
    slot: MutexGuard<'a, Option<Group>>,
    armed: bool,
}

impl Turn<'_> {
    fn group(&mut self) -> &mut Group {
        match self.slot.as_mut() {
            Some(group) => group,
            None => unreachable!("a turn holds an open group"),
        }
    }

    /// Gives the group up: its connection closes, which rolls it back, and
    /// its filings learn that it failed.
    fn abandon(&mut self) {
        if let Some(group) = self.slot.take() {
            tracing::error!(
                members = group.members,
                "group of filings given up: a filing was cancelled or could not roll back"
            );
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.abandon();
            return;
        }
        let full = self
            .slot
            .as_ref()
            .is_some_and(|group| group.members >= MAX_MEMBERS);
        // Nobody queued to join: commit now.
        if (full || self.commit.waiting.load(Ordering::SeqCst) == 0)
            && let Some(group) = self.slot.take()
        {
            tokio::spawn(group.commit());
        }
    }
}

impl GroupCommit {
    /// Waits for the commit of the group `number` a filing joined. The
    /// filing that finds nobody waiting behind it commits the group; should
    /// the last one waiting be cancelled at that moment, the group would
    /// stay open: after [`COMMIT_AFTER`] a member takes the lock (behind
    /// the filings queued for it) and commits the group itself if it is
    /// still open. `None`: the group was given up.
    async fn committed(
        &self,
        number: u64,
        committed: &mut watch::Receiver<Committed>,
    ) -> Committed {
        loop {
            // The watch's `Ref` is a lock guard: it must not live across
            // the next `.await`.
            let seen = match tokio::time::timeout(COMMIT_AFTER, committed.wait_for(Option::is_some))
                .await
            {
                Ok(seen) => Some(seen.ok().and_then(|seen| seen.clone())),
                Err(_) => None,
            };
            if let Some(seen) = seen {
                return seen;
            }
            let mut slot = self.open.lock().await;
            if slot.as_ref().is_some_and(|group| group.number == number)
                && let Some(group) = slot.take()
            {
                tokio::spawn(group.commit());
            }
        }
    }
}

impl Store {
    /// [`Store::file_demande`]'s write on SQLite, in the open group of
    /// filings (see the module's docs): the démarche's next number (read
    /// once per group), `build`'s outcome with it, then — in one hand-off —
    /// a savepoint, the number, the outcome's writes and the draft's
    /// deletion at its revision; answered once the group has committed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn file_on_sqlite<E>(
        &self,
        slug: &Slug,
        prefix: &str,
        year: i32,
        extras: &Extras,
        context: FilingContext,
        now: DateTime<Utc>,
        build: &impl Fn(Reservation) -> std::result::Result<Outcome, E>,
    ) -> std::result::Result<(Outcome, Vec<FileId>), E>
    where
        E: From<StoreError>,
    {
        let commit = &*self.filings;
        let slot = {
            let _waiting = Waiting::new(&commit.waiting);
            commit.open.lock().await
        };
        let mut turn = Turn {
            commit,
            slot,
            armed: false,
        };
        if turn.slot.is_none() {
            let number = commit.groups.fetch_add(1, Ordering::SeqCst) + 1;
            *turn.slot = Some(Group::begin(&self.write, number).await?);
        }
        let key = (slug.as_str().to_owned(), year);
        let last = match turn.group().numbers.get(&key) {
            Some(last) => *last,
            None => last_number(&mut turn.group().tx, slug, year).await?,
        };
        let outcome = build(numbered(prefix, year, last + 1))?;
        let reads = FilingReads::of(context, &outcome);
        let group = turn.group();
        let mut batch = group.batch();
        batch.statement("SAVEPOINT filing");
        // From here on, a cancelled filing leaves writes nobody can vouch
        // for: the turn gives the group up.
        turn.armed = true;
        let written = self
            .write_in_savepoint(turn.group(), batch, year, &outcome, extras, reads, now)
            .await;
        let deleted =
            written.and_then(|(rows, deleted)| filed_rows(rows, Some(last + 1), extras, deleted));
        let deleted = match deleted {
            Ok(deleted) => deleted,
            Err(error) => {
                let undo = turn.group().batch_rollback();
                if undo.run(turn.group().tx.conn()).await.is_err() {
                    turn.abandon();
                }
                turn.armed = false;
                return Err(error.into());
            }
        };
        let group = turn.group();
        group.release = true;
        group.members += 1;
        group.numbers.insert(key, last + 1);
        let mut committed = group.committed.subscribe();
        let number = group.number;
        turn.armed = false;
        drop(turn);
        match commit.committed(number, &mut committed).await {
            Some(Ok(())) => Ok((outcome, deleted)),
            Some(Err(message)) => Err(group_failed(&message).into()),
            None => Err(group_failed("transaction abandonnée").into()),
        }
    }

    /// Writes the filing inside the savepoint `batch` opened: the number,
    /// the outcome's writes, the draft's deletion; returns the batch's rows
    /// and the files the outcome deletes. A filing without a draft creates
    /// its data key: the savepoint is opened first, so that the key is
    /// rolled back with the rest.
    #[allow(clippy::too_many_arguments)]
    async fn write_in_savepoint(
        &self,
        group: &mut Group,
        mut batch: Batch,
        year: i32,
        outcome: &Outcome,
        extras: &Extras,
        reads: FilingReads,
        now: DateTime<Utc>,
    ) -> Result<(Vec<sqlx::any::AnyRow>, Vec<FileId>)> {
        if reads.draft_key.is_none() {
            batch.run(group.tx.conn()).await?;
            batch = Batch::new(Backend::Sqlite);
        }
        push_next_number(&mut batch, &outcome.demande.demarche.slug, year);
        let deleted = self
            .push_filing(group.tx.conn(), &mut batch, outcome, extras, reads, now)
            .await?;
        Ok((batch.run(group.tx.conn()).await?, deleted))
    }
}

impl Group {
    /// The batch that undoes the current filing's writes.
    fn batch_rollback(&mut self) -> Batch {
        let mut batch = Batch::new(Backend::Sqlite);
        batch.statement("ROLLBACK TO filing");
        batch.statement("RELEASE filing");
        batch
    }
}

/// The last number of the démarche `slug` for `year` (0 before the first).
async fn last_number(tx: &mut Immediate, slug: &Slug, year: i32) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COALESCE(MAX(last_number), 0) AS n FROM numero_counters WHERE slug = $1 AND year = $2",
    )
    .bind(slug.as_str().to_owned())
    .bind(i64::from(year))
    .fetch_one(tx.conn())
    .await?;
    row.int("n")
}

/// The error of a filing whose group did not commit.
fn group_failed(why: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!(
        "le dépôt n'a pas été enregistré ({why})"
    )))
}
