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
//!   [`MAX_MEMBERS`] turns) commits for all, in a task of its own that a
//!   cancelled request cannot interrupt; a group left open for filings
//!   queued behind gets a watchdog that commits it after [`COMMIT_AFTER`]
//!   should they all be cancelled. Every filing answers only once the
//!   `COMMIT` succeeded, so an acknowledged demande survives the process's
//!   crash (WAL with `synchronous = NORMAL`: a power loss may lose the last
//!   commits); a failed `COMMIT` fails every filing of the group (none was
//!   acknowledged).
//!
//! A filing whose request is cancelled in the middle of its writes, or
//! that meets a database error (after which SQLite may have rolled the
//! whole transaction back), leaves the transaction in a state nobody can
//! vouch for: the group is given up (rolled back when its connection
//! closes), and its other filings fail with a database error, which their
//! usagers see as a failure to retry. A filing refused for what it holds
//! (a draft saved meanwhile, a constraint) rolls back to its savepoint. No
//! demande is half-written, and none acknowledged is lost.
//!
//! Writes other than filings wait for the writer's pool as before; a group
//! holds the writer for at most [`MAX_MEMBERS`] turns of filings.

use std::collections::HashMap;
use std::sync::Arc;
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

/// How long a group left open for the filings queued behind it waits for
/// them before its watchdog commits it.
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
    /// Filings that had their turn in it, written or refused.
    turns: usize,
    /// Whether a watchdog will commit it ([`GroupCommit::watch`]).
    watched: bool,
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
            turns: 0,
            watched: false,
            release: false,
            committed: watch::channel(None).0,
        })
    }

    /// Commits and tells the filings.
    async fn commit(self) {
        // COMMIT releases every savepoint.
        let outcome = self.tx.commit(Batch::new(Backend::Sqlite)).await;
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
/// nobody waits to join it or the group is full, and otherwise has a
/// watchdog commit it after [`COMMIT_AFTER`]; dropped while `armed` (during
/// its writes, or after a database error), it gives the group up.
struct Turn<'a> {
    /// The store's group commit, handed to a watchdog.
    commit: &'a Arc<GroupCommit>,
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
        self.armed = false;
        if let Some(group) = self.slot.take() {
            tracing::error!(
                members = group.members,
                "group of filings given up: a filing was cancelled, met a database error or could not roll back"
            );
        }
    }

    /// Ends the turn of a filing refused with `error`: its savepoint, if
    /// `opened`, is rolled back; after a database error (the transaction's
    /// state unknown: SQLite may have rolled it back), or when the rollback
    /// fails, the group is given up.
    async fn refuse(&mut self, error: &StoreError, opened: bool) {
        if matches!(error, StoreError::Database(_)) {
            self.abandon();
            return;
        }
        if opened {
            let mut undo = Batch::new(Backend::Sqlite);
            undo.statement("ROLLBACK TO filing");
            undo.statement("RELEASE filing");
            if undo.run(self.group().tx.conn()).await.is_err() {
                self.abandon();
                return;
            }
        }
        self.armed = false;
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.abandon();
            return;
        }
        let waiting = self.commit.waiting.load(Ordering::SeqCst);
        let Some(group) = self.slot.as_mut() else {
            return;
        };
        group.turns += 1;
        if group.turns >= MAX_MEMBERS || waiting == 0 {
            // Nobody queued to join, or the group is full: commit now.
            if let Some(group) = self.slot.take() {
                tokio::spawn(group.commit());
            }
        } else if !group.watched {
            // Those queued will commit it, unless they are all cancelled.
            group.watched = true;
            tokio::spawn(GroupCommit::watch(self.commit.clone(), group.number));
        }
    }
}

impl GroupCommit {
    /// Commits the group `number` after [`COMMIT_AFTER`] if it is still
    /// open then: the filings queued to join it when it was left open may
    /// all have been cancelled, and nobody else would commit it.
    async fn watch(commit: Arc<GroupCommit>, number: u64) {
        tokio::time::sleep(COMMIT_AFTER).await;
        let group = {
            let mut slot = commit.open.lock().await;
            if slot.as_ref().is_some_and(|group| group.number == number) {
                slot.take()
            } else {
                None
            }
        };
        if let Some(group) = group {
            group.commit().await;
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
        let commit = &self.filings;
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
        let cached = turn.group().numbers.get(&key).copied();
        let last = match cached {
            Some(last) => last,
            None => match last_number(&mut turn.group().tx, slug, year).await {
                Ok(last) => last,
                Err(error) => {
                    turn.refuse(&error, false).await;
                    return Err(error.into());
                }
            },
        };
        let outcome = build(numbered(prefix, year, last + 1))?;
        let reads = FilingReads::of(context, &outcome);
        // The previous filing's savepoint is released, and this filing's
        // opened, by the first batch that reaches the database: nothing
        // before it may fail once `release` is cleared.
        let mut batch = Batch::new(Backend::Sqlite);
        if turn.group().release {
            batch.statement("RELEASE filing");
        }
        batch.statement("SAVEPOINT filing");
        let mut opened = false;
        if reads.draft_key.is_none() {
            // The data key the demande creates is written inside the
            // savepoint, to be rolled back with the rest.
            turn.armed = true;
            turn.group().release = false;
            if let Err(error) = batch.run(turn.group().tx.conn()).await {
                turn.abandon();
                return Err(error.into());
            }
            opened = true;
            batch = Batch::new(Backend::Sqlite);
        }
        push_next_number(&mut batch, slug, year);
        let prepared = self
            .push_filing(
                turn.group().tx.conn(),
                &mut batch,
                &outcome,
                extras,
                reads,
                now,
            )
            .await;
        let deleted = match prepared {
            Ok(deleted) => deleted,
            Err(error) => {
                turn.refuse(&error, opened).await;
                return Err(error.into());
            }
        };
        // From here until the turn is settled, a cancelled filing leaves
        // writes nobody can vouch for: the turn gives the group up.
        turn.armed = true;
        turn.group().release = false;
        let written = match batch.run(turn.group().tx.conn()).await {
            Ok(rows) => filed_rows(rows, Some(last + 1), extras, deleted),
            Err(error) => Err(error),
        };
        let deleted = match written {
            Ok(deleted) => deleted,
            Err(error) => {
                turn.refuse(&error, true).await;
                return Err(error.into());
            }
        };
        let group = turn.group();
        group.release = true;
        group.members += 1;
        group.numbers.insert(key, last + 1);
        let mut committed = group.committed.subscribe();
        turn.armed = false;
        drop(turn);
        // The watch's `Ref` is a lock guard: it is cloned at once.
        let outcome_of_commit = committed
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|seen| seen.clone());
        match outcome_of_commit {
            Some(Ok(())) => Ok((outcome, deleted)),
            Some(Err(message)) => Err(group_failed(&message).into()),
            None => Err(group_failed("transaction abandonnée").into()),
        }
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
