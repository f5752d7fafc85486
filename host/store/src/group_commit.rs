//! Group commit on SQLite: the writes of several requests in one
//! transaction of the single writer, made durable by one `COMMIT`.
//!
//! SQLite has one writer, so writes are serialised whatever their number;
//! what each one holds the writer for is its cost. A write alone pays a
//! `BEGIN IMMEDIATE`, its statements and a `COMMIT` that writes every page
//! it touched to the WAL, each a hand-off to the connection's worker
//! thread. In a group, the writes that arrive while one is written join
//! its transaction. Its **members** are filings ([`Store::file_on_sqlite`])
//! and the short writes of [`Store::write_in_group`] (a draft created, a
//! page saved):
//! - each member runs inside a **savepoint** of its own, opened by the
//!   member's one hand-off together with its statements: a member refused
//!   by the database (a draft saved meanwhile, a constraint) rolls back to
//!   it and leaves the others' writes in place;
//! - a filing arrives with its outcome built (validated and its workflow
//!   started before its turn, see [`Store::file_demande`]): in its turn it
//!   only takes its number ([`Outcome::renumber`]), seals and sends;
//! - a démarche's last number is read once per group and kept in memory
//!   (the group holds the write lock, so nobody else numbers meanwhile); a
//!   filing's number goes to the database in its batch, with its writes,
//!   whose `RETURNING` confirms it;
//! - the member that finds nobody waiting behind it (or the group full,
//!   [`MAX_MEMBERS`] turns) commits for all, in a task of its own that a
//!   cancelled request cannot interrupt; a group left open for members
//!   queued behind gets a watchdog that commits it after [`COMMIT_AFTER`]
//!   should they all be cancelled. Every member answers only once the
//!   `COMMIT` succeeded, so an acknowledged demande or draft survives the
//!   process's crash (WAL with `synchronous = NORMAL`: a power loss may
//!   lose the last commits); a failed `COMMIT` fails every member of the
//!   group (none was acknowledged).
//!
//! A member's batch is sent, and its turn settled, in a task of its own
//! ([`Turn::settle`]): a request cancelled meanwhile (its client gone)
//! leaves its member written or refused as a whole, and the group goes on.
//! A member that meets a database error (after which SQLite may have
//! rolled the whole transaction back) leaves the transaction in a state
//! nobody can vouch for: the group is given up (rolled back when its
//! connection closes), and its other members fail with a database error,
//! which their users see as a failure to retry. A member refused for what
//! it holds (a draft saved meanwhile, a constraint) rolls back to its
//! savepoint. No demande is half-written, and none acknowledged is lost.
//!
//! Other writes wait for the writer's pool as before; a group holds the
//! writer for at most [`MAX_MEMBERS`] turns.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use guichet_core::id::{FileId, Slug};
use guichet_core::workflow::Outcome;
use sqlx::AnyPool;
use sqlx::any::AnyRow;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::demande::{numero, push_next_number};
use crate::draft::FilingContext;
use crate::error::{Result, StoreError};
use crate::outcome::{Extras, FilingReads, filed_rows};
use crate::sql::{Batch, RowExt};
use crate::sqlite::Immediate;
use crate::{Backend, Store};

/// Most members one transaction holds before it commits (so that other
/// writes are not kept from the writer long).
pub(crate) const MAX_MEMBERS: usize = 16;

/// How long a group left open for the members queued behind it waits for
/// them before its watchdog commits it.
pub(crate) const COMMIT_AFTER: std::time::Duration = std::time::Duration::from_millis(5);

/// The groups of writes of one SQLite store.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    /// The open transaction, if any; its lock serialises the members.
    open: Arc<Mutex<Option<Group>>>,
    /// Members waiting for `open`'s lock: while some wait, the holder
    /// leaves the transaction open for them instead of committing.
    waiting: AtomicUsize,
    /// The number of the last group begun.
    groups: AtomicU64,
}

/// The outcome of a group's `COMMIT`, as its members learn it (`None`
/// until then; the sender dropped without a value: the group was given up).
type Committed = Option<std::result::Result<(), String>>;

/// An open transaction of members.
struct Group {
    /// Which group this is ([`GroupCommit::groups`]).
    number: u64,
    tx: Immediate,
    /// The last number taken in this transaction, per démarche and year.
    numbers: HashMap<(String, i32), i64>,
    /// Members written in the transaction, waiting for its commit.
    members: usize,
    /// Members that had their turn in it, written or refused.
    turns: usize,
    /// Whether a watchdog will commit it ([`GroupCommit::watch`]).
    watched: bool,
    /// The previous member's savepoint, to release before the next
    /// statement (it was written).
    release: bool,
    /// Where the members learn the outcome of the commit.
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

    /// Commits and tells the members.
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

/// Counts a member waiting for the group's lock, until it has it (or is
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

/// A member holding the group's lock. Dropped, it commits the group when
/// nobody waits to join it or the group is full, and otherwise has a
/// watchdog commit it after [`COMMIT_AFTER`]; dropped while `armed` (during
/// its writes, or after a database error), it gives the group up.
struct Turn {
    /// The store's group commit, handed to a watchdog.
    commit: Arc<GroupCommit>,
    slot: OwnedMutexGuard<Option<Group>>,
    armed: bool,
}

impl Turn {
    fn group(&mut self) -> &mut Group {
        match self.slot.as_mut() {
            Some(group) => group,
            None => unreachable!("a turn holds an open group"),
        }
    }

    /// Gives the group up: its connection closes, which rolls it back, and
    /// its members learn that it failed.
    fn abandon(&mut self) {
        self.armed = false;
        if let Some(group) = self.slot.take() {
            tracing::error!(
                members = group.members,
                "group of writes given up: a member was cancelled, met a database error or could not roll back"
            );
        }
    }

    /// Ends the turn of a member refused with `error`: its savepoint, if
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
            undo.statement("ROLLBACK TO member");
            undo.statement("RELEASE member");
            if undo.run(self.group().tx.conn()).await.is_err() {
                self.abandon();
                return;
            }
        }
        self.armed = false;
    }
}

impl Drop for Turn {
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
    /// open then: the members queued to join it when it was left open may
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

impl GroupCommit {
    /// The caller's turn in the open group, once those queued before it
    /// had theirs; a group is begun (the writer of `pool` taken, `BEGIN
    /// IMMEDIATE`) if none is open.
    ///
    /// # Errors
    /// A database error while beginning a group.
    async fn turn(self: &Arc<Self>, pool: &AnyPool) -> Result<Turn> {
        let slot = {
            let _waiting = Waiting::new(&self.waiting);
            self.open.clone().lock_owned().await
        };
        let mut turn = Turn {
            commit: self.clone(),
            slot,
            armed: false,
        };
        if turn.slot.is_none() {
            let number = self.groups.fetch_add(1, Ordering::SeqCst) + 1;
            *turn.slot = Some(Group::begin(pool, number).await?);
        }
        Ok(turn)
    }
}

impl Turn {
    /// A batch for this member's writes: it begins with the release of the
    /// previous member's savepoint (that member was written) and this
    /// member's savepoint; [`Turn::run`] sends it.
    fn batch(&mut self) -> Batch {
        let mut batch = Batch::new(Backend::Sqlite);
        if self.group().release {
            batch.statement("RELEASE member");
        }
        batch.statement("SAVEPOINT member");
        batch
    }

    /// Runs `batch` (made by [`Turn::batch`]) in one hand-off, then `read`
    /// reads the rows its `RETURNING` clauses gave and may refuse. A
    /// refusal (by the database for what the statements hold, or by
    /// `read`) rolls this member back to its savepoint; a database error
    /// gives the group up.
    async fn run<T>(
        &mut self,
        batch: Batch,
        read: impl FnOnce(Vec<AnyRow>) -> Result<T>,
    ) -> Result<T> {
        let prepared = match batch.prepare() {
            Ok(prepared) => prepared,
            Err(error) => {
                // Nothing was sent: the previous member's savepoint stays
                // to be released by the next batch.
                self.refuse(&error, false).await;
                return Err(error);
            }
        };
        // From here until the turn is settled, a cancelled member leaves
        // writes nobody can vouch for: the turn gives the group up.
        self.armed = true;
        self.group().release = false;
        let read = match prepared.run(self.group().tx.conn()).await {
            Ok(rows) => read(rows),
            Err(error) => Err(error),
        };
        match read {
            Ok(value) => {
                self.group().release = true;
                Ok(value)
            }
            Err(error) => {
                self.refuse(&error, true).await;
                Err(error)
            }
        }
    }

    /// Sends `batch` (made by [`Turn::batch`]) and settles the turn as
    /// [`Turn::run`] does, recording `number` (the démarche's last number
    /// this member took) once it is written, then answers once the group
    /// has committed. The sending and settling run in a task of their own:
    /// a caller cancelled meanwhile (a request whose client went away)
    /// leaves the member written or refused as a whole, and does not give
    /// up the group of the others.
    ///
    /// # Errors
    /// As [`Turn::run`]; a database error if the group did not commit
    /// (none of its members is then written).
    async fn settle<T: Send + 'static>(
        mut self,
        batch: Batch,
        read: impl FnOnce(Vec<AnyRow>) -> Result<T> + Send + 'static,
        number: Option<((String, i32), i64)>,
    ) -> Result<T> {
        let sent = tokio::spawn(async move {
            let value = self.run(batch, read).await?;
            let group = self.group();
            if let Some((key, last)) = number {
                group.numbers.insert(key, last);
            }
            group.members += 1;
            let committed = group.committed.subscribe();
            self.armed = false;
            // Dropped, the turn commits the group or leaves it open for
            // those queued behind.
            drop(self);
            Ok::<_, StoreError>((value, committed))
        })
        .await;
        let (value, mut committed) = match sent {
            Ok(sent) => sent?,
            Err(error) => return Err(group_failed(&error.to_string())),
        };
        // The watch's `Ref` is a lock guard: it is cloned at once.
        let outcome = committed
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|seen| seen.clone());
        match outcome {
            Some(Ok(())) => Ok(value),
            Some(Err(message)) => Err(group_failed(&message)),
            None => Err(group_failed("transaction abandonnée")),
        }
    }
}

impl Store {
    /// A write of a few statements on SQLite, in the open group (see the
    /// module's docs): `push` adds them to a batch that runs in one
    /// hand-off inside a savepoint of its own, `read` reads the rows their
    /// `RETURNING` clauses gave and may refuse them (the savepoint is
    /// rolled back then). Answered once the group has committed.
    ///
    /// # Errors
    /// `push`'s or `read`'s refusal, the database's (a constraint), or a
    /// database error; nothing of this write is stored then.
    pub(crate) async fn write_in_group<T: Send + 'static>(
        &self,
        push: impl FnOnce(&mut Batch) -> Result<()>,
        read: impl FnOnce(Vec<AnyRow>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let mut turn = self.groups.turn(&self.write).await?;
        let mut batch = turn.batch();
        if let Err(error) = push(&mut batch) {
            turn.refuse(&error, false).await;
            return Err(error);
        }
        turn.settle(batch, read, None).await
    }

    /// [`Store::file_demande`]'s write on SQLite, in the open group (see
    /// the module's docs): the démarche's next number (read once per
    /// group) given to `outcome`, built before the turn, then — in one
    /// hand-off — a savepoint, the number, the outcome's writes and the
    /// draft's deletion at its revision; answered once the group has
    /// committed, with the files to delete.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn file_on_sqlite(
        &self,
        slug: &Slug,
        prefix: &str,
        year: i32,
        extras: &Extras,
        context: FilingContext,
        now: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<Vec<FileId>> {
        let mut turn = self.groups.turn(&self.write).await?;
        let key = (slug.as_str().to_owned(), year);
        let cached = turn.group().numbers.get(&key).copied();
        let last = match cached {
            Some(last) => last,
            None => match last_number(&mut turn.group().tx, slug, year).await {
                Ok(last) => last,
                Err(error) => {
                    turn.refuse(&error, false).await;
                    return Err(error);
                }
            },
        };
        outcome.renumber(&numero(prefix, year, last + 1));
        let reads = FilingReads::of(context, outcome);
        // The version's facts, if not cached yet, are read in the group's
        // transaction before the batch is sent.
        let mut batch = turn.batch();
        push_next_number(&mut batch, slug, year);
        let prepared = self
            .push_filing(
                turn.group().tx.conn(),
                &mut batch,
                outcome,
                extras,
                reads,
                now,
            )
            .await;
        let deleted = match prepared {
            Ok(deleted) => deleted,
            Err(error) => {
                turn.refuse(&error, false).await;
                return Err(error);
            }
        };
        let extras = extras.clone();
        turn.settle(
            batch,
            move |rows| filed_rows(rows, Some(last + 1), &extras, deleted),
            Some((key, last + 1)),
        )
        .await
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

/// The error of a member whose group did not commit.
fn group_failed(why: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!(
        "l'enregistrement n'a pas abouti, réessayez ({why})"
    )))
}
