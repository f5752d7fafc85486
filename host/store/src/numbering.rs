//! Numbers of demandes on PostgreSQL, taken together by the filings that
//! wait for them.
//!
//! A demande's number is the next value of its démarche's counter for the
//! year (`numero_counters`, one row per démarche and year). On SQLite the
//! single writer takes it inside the transaction that stores the demande
//! ([`crate::group_commit`]). On PostgreSQL it is taken in a statement of
//! its own, before the demande is stored.
//!
//! **That statement's commit does not wait for its flush.** The counter's
//! row stays locked until the statement commits; were the commit to wait
//! for its WAL flush, every filing of the démarche would wait for the
//! previous one's flush, one disk write after another. So the statement
//! sets `synchronous_commit` off for its own transaction (`set_config(…,
//! true)`, PostgreSQL's "asynchronous commit"). PostgreSQL writes and
//! flushes its WAL in order: the synchronous commit of a demande that
//! carries a number flushes the counter's commit before it. A crash of the
//! database can therefore lose only numbers no stored demande holds, which
//! the next filings take again: never a number given to two demandes.
//!
//! Every filing of a démarche updates the same row, so those statements
//! queue on its lock, and each costs the database a statement and a
//! commit: replayed by pgbench with no server, the counter's statement made
//! a submission about a third slower than its other statements alone
//! (`BENCHMARKS.md` §2, "PostgreSQL's own floor").
//!
//! **What this module does.** The filings of one host that need a number
//! of the same démarche and year while that counter's statement is in
//! flight wait for it to end, then take their numbers with **one**
//! statement, `last_number + n` for `n` filings, and share the `n` numbers
//! in their order of arrival. A lone filing still takes its number at once,
//! so nothing waits that did not already wait: the numbers are grouped
//! only when the counter is already busy. One task per démarche and year
//! runs the statements (`Numbering::take`), so a filing cancelled while it
//! waits (its client gone) cancels nobody else's number.
//!
//! **A filing from a draft names it with the revision it read**, and its
//! number is taken only if the draft is still at that revision, in the
//! same statement: a filing whose draft was saved meanwhile (by another
//! request, or on another host when the draft came from this host's memory,
//! [`crate::draft`]) takes no number and fails as a conflict before
//! anything is written, instead of leaving a gap.
//!
//! **What it promises**, as before: never a number given twice. A gap is
//! left, as before, by a filing that fails or is cancelled after its
//! number was taken, and by a database crash between the counter's commit
//! and the demande's; grouping adds none. The numbers of one group go to
//! its filings in their order of arrival, and each host groups only its
//! own filings: across hosts, numbers follow the order in which the
//! counter's statements committed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use guichet_core::id::Slug;
use sqlx::AnyPool;
use tokio::sync::oneshot;

use crate::Store;
use crate::demande::numero;
use crate::draft::DraftId;
use crate::error::{Result, StoreError};
use crate::sql::{RowExt, Sql};

impl Store {
    /// The démarche's next number for `year` on PostgreSQL, as its text
    /// (`ARV-2026-000123`), taken with the filings of this host that wait
    /// for one meanwhile (see the module docs); `None`, and no number
    /// taken, when `draft` (a draft and the revision the filing read) was
    /// saved or deleted since.
    ///
    /// # Errors
    /// As [`Numbering::take`].
    pub(crate) async fn take_number(
        &self,
        slug: &Slug,
        prefix: &str,
        year: i32,
        draft: Option<(DraftId, i64)>,
    ) -> Result<Option<String>> {
        let number = self.numbering.take(&self.write, slug, year, draft).await?;
        Ok(number.map(|number| numero(prefix, year, number)))
    }

    /// How many demande numbers this store took on PostgreSQL since it
    /// opened, and in how many counter statements (see the module docs);
    /// `(0, 0)` on SQLite, whose filings take theirs in their transaction.
    pub fn numbering_counts(&self) -> (u64, u64) {
        self.numbering.counts()
    }
}

/// A démarche's counter for a year: its slug and the year.
type Counter = (Slug, i32);

/// A filing waiting for its number: the draft it files with the revision
/// it read, if any, and where to send its number (`None`: the draft
/// changed, no number taken).
struct Waiter {
    draft: Option<(DraftId, i64)>,
    number: oneshot::Sender<Result<Option<i64>>>,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("draft", &self.draft)
            .finish_non_exhaustive()
    }
}

/// The counters whose statement is in flight, with the filings waiting for
/// the next one (see the module docs); and how many numbers were taken in
/// how many statements, since the store opened.
#[derive(Debug, Default)]
pub(crate) struct Numbering {
    /// A counter is here while its task runs: the filings that arrive
    /// meanwhile wait in its list.
    busy: Mutex<HashMap<Counter, Vec<Waiter>>>,
    numbers: AtomicU64,
    statements: AtomicU64,
}

impl Numbering {
    /// The next number of `slug`'s counter for `year`, taken on a
    /// connection of `pool` with the other filings of this host that wait
    /// meanwhile (see the module docs); `None`, and no number taken, when
    /// `draft` is no longer at the given revision.
    ///
    /// # Errors
    /// The counter statement's error (every filing of its group gets it):
    /// [`StoreError::Invalid`] for an unknown démarche, a database error.
    pub(crate) async fn take(
        self: &Arc<Self>,
        pool: &AnyPool,
        slug: &Slug,
        year: i32,
        draft: Option<(DraftId, i64)>,
    ) -> Result<Option<i64>> {
        let counter = (slug.clone(), year);
        let (number, receiver) = oneshot::channel();
        let sender = Waiter { draft, number };
        let first = {
            let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
            match busy.get_mut(&counter) {
                Some(waiting) => {
                    waiting.push(sender);
                    None
                }
                None => {
                    busy.insert(counter.clone(), Vec::new());
                    Some(sender)
                }
            }
        };
        if let Some(sender) = first {
            let task = Task {
                numbering: Arc::clone(self),
                counter,
                done: false,
            };
            tokio::spawn(task.run(pool.clone(), vec![sender]));
        }
        receiver
            .await
            .unwrap_or_else(|_| Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }

    /// How many numbers were taken, and in how many statements, since the
    /// store opened.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.numbers.load(Ordering::Relaxed),
            self.statements.load(Ordering::Relaxed),
        )
    }

    /// How many filings wait for the statement after the one in flight on
    /// `slug`'s counter for `year`.
    #[cfg(test)]
    fn waiting(&self, slug: &Slug, year: i32) -> usize {
        self.busy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(slug.clone(), year))
            .map_or(0, Vec::len)
    }
}

/// The task that takes a counter's numbers while filings wait for them.
/// Dropped, even by a panic, it lets the counter's next filing start a new
/// one; the filings still waiting then fail instead of waiting forever.
struct Task {
    numbering: Arc<Numbering>,
    counter: Counter,
    /// Whether `run` has already taken the counter out of `busy`.
    done: bool,
}

impl Task {
    /// Takes numbers for `group`, then for the filings that arrived
    /// meanwhile, until none waits.
    async fn run(mut self, pool: AnyPool, mut group: Vec<Waiter>) {
        loop {
            match self.statement(&pool, &group).await {
                Ok(numbers) => {
                    let taken = numbers.iter().flatten().count() as u64;
                    self.numbering.numbers.fetch_add(taken, Ordering::Relaxed);
                    for (waiter, number) in group.into_iter().zip(numbers) {
                        // A filing gone meanwhile leaves its number unused:
                        // a gap, as for any filing that fails after taking
                        // its number.
                        let _ = waiter.number.send(Ok(number));
                    }
                }
                Err(error) => {
                    for waiter in group {
                        let _ = waiter.number.send(Err(same_error(&error)));
                    }
                }
            }
            let mut busy = self
                .numbering
                .busy
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let waiting = busy
                .get_mut(&self.counter)
                .map(std::mem::take)
                .unwrap_or_default();
            if waiting.is_empty() {
                busy.remove(&self.counter);
                self.done = true;
                return;
            }
            group = waiting;
        }
    }

    /// One counter statement for the filings of `group`: the number of
    /// each, in order, `None` for one whose draft changed.
    ///
    /// The statement counts the drafts still at their revision, adds the
    /// filings without a draft, advances the counter by that many (not at
    /// all for none) and returns the last number with the ids of the drafts
    /// found; the numbers go, in order, to the filings without a draft and
    /// to the first filing of each draft found.
    async fn statement(&self, pool: &AnyPool, group: &[Waiter]) -> Result<Vec<Option<i64>>> {
        self.numbering.statements.fetch_add(1, Ordering::Relaxed);
        let (slug, year) = &self.counter;
        let guarded: Vec<(DraftId, i64)> = group.iter().filter_map(|w| w.draft).collect();
        let unguarded = (group.len() - guarded.len()) as i64;
        let mut sql = Sql::new("WITH fresh AS (SELECT id, revision FROM drafts WHERE ");
        if guarded.is_empty() {
            sql.push("false");
        }
        for (i, (draft, revision)) in guarded.iter().enumerate() {
            sql.push(if i == 0 { "(id = " } else { " OR (id = " })
                .bind(draft.0.to_string())
                .push(" AND revision = ")
                .bind(*revision)
                .push(")");
        }
        sql.push("), wanted AS (SELECT (SELECT COUNT(*) FROM fresh) + ")
            .bind(unguarded)
            .push(
                " AS n), taken AS (INSERT INTO numero_counters (slug, year, last_number) \
             SELECT ",
            )
            .bind(slug.as_str().to_owned())
            .push(", ")
            .bind(i64::from(*year))
            .push(
                ", n FROM wanted WHERE n > 0 \
             ON CONFLICT (slug, year) DO UPDATE \
             SET last_number = numero_counters.last_number + EXCLUDED.last_number \
             RETURNING last_number) \
             SELECT taken.last_number AS n, (SELECT n FROM wanted) AS count, \
             fresh.id AS draft, fresh.revision AS draft_revision, \
             set_config('synchronous_commit', 'off', true) AS unflushed \
             FROM taken LEFT JOIN fresh ON true",
            );
        let (text, args) = sql.finish()?;
        let mut conn = pool.acquire().await?;
        let rows = sqlx::query_with(&text, args).fetch_all(&mut *conn).await?;
        let Some(first) = rows.first() else {
            // Nothing wanted: every draft changed.
            return Ok(vec![None; group.len()]);
        };
        let last = first.int("n")?;
        let count = first.int("count")?;
        let mut fresh = std::collections::HashSet::new();
        for row in &rows {
            if let Some(id) = row.text_opt("draft")? {
                fresh.insert((id, row.int("draft_revision")?));
            }
        }
        let mut next = last - count + 1;
        let numbers = group
            .iter()
            .map(|waiter| {
                let numbered = match waiter.draft {
                    None => true,
                    // The first filing of a draft found takes it out.
                    Some((draft, revision)) => fresh.remove(&(draft.0.to_string(), revision)),
                };
                numbered.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        Ok(numbers)
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if !self.done {
            self.numbering
                .busy
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&self.counter);
        }
    }
}

/// The error each filing of a group gets when its counter statement failed
/// with `error`: the same, or for an error that cannot be copied (the
/// database's own), a database error with its text.
fn same_error(error: &StoreError) -> StoreError {
    match error {
        StoreError::NotFound(what) => StoreError::NotFound(what),
        StoreError::Conflict(message) => StoreError::Conflict(message.clone()),
        StoreError::Invalid(message) => StoreError::Invalid(message.clone()),
        StoreError::Corrupt(message) => StoreError::Corrupt(message.clone()),
        other => StoreError::Database(sqlx::Error::Protocol(format!(
            "le compteur de numéros n'a pas répondu : {other}"
        ))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use sqlx::{AnyConnection, Connection, Row};

    use super::*;

    const SLUG: &str = "numeros";

    /// A store on a fresh PostgreSQL database holding the démarche
    /// `numeros`, and a connection of the test's own; `None` without
    /// PostgreSQL.
    pub(crate) async fn postgres() -> Option<(guichet_testdb::TestDatabase, Store, AnyConnection)> {
        let database = guichet_testdb::TestDatabase::create(true, "store").await?;
        let store = Store::connect(&database.url, crate::FileStore::new(database.files_dir()))
            .await
            .unwrap();
        let mut conn = AnyConnection::connect(&database.url).await.unwrap();
        sqlx::query(
            "INSERT INTO demarches (slug, numero_prefix, latest_version, created_at, updated_at) \
             VALUES ('numeros', 'NUM', 1, 0, 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        Some((database, store, conn))
    }

    /// Waits until `count` filings wait behind the statement in flight on
    /// `slug`'s counter for 2026 (bounded: the test fails after 30 s).
    async fn until_waiting(store: &Store, slug: &Slug, count: usize) {
        for _ in 0..3_000 {
            if store.numbering.waiting(slug, 2026) == count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{count} filings never waited together");
    }

    /// The filings that arrive while the counter's statement is in flight
    /// (here, while its row is locked by another transaction) take their
    /// numbers with one statement, consecutive and each once.
    #[tokio::test]
    async fn filings_waiting_for_the_counter_take_their_numbers_with_one_statement() {
        let Some((database, store, mut conn)) = postgres().await else {
            return;
        };
        let slug = Slug::parse(SLUG).unwrap();
        assert_eq!(
            store.take_number(&slug, "NUM", 2026, None).await.unwrap(),
            Some("NUM-2026-000001".to_owned())
        );
        assert_eq!(store.numbering_counts(), (1, 1));

        let mut lock = conn.begin().await.unwrap();
        sqlx::query("SELECT last_number FROM numero_counters WHERE slug = 'numeros' FOR UPDATE")
            .fetch_one(&mut *lock)
            .await
            .unwrap();
        let filings: Vec<_> = (0..10)
            .map(|_| {
                let store = store.clone();
                let slug = slug.clone();
                tokio::spawn(async move { store.take_number(&slug, "NUM", 2026, None).await })
            })
            .collect();
        // One filing's statement waits for the lock; the nine others wait
        // for that statement.
        until_waiting(&store, &slug, 9).await;
        lock.commit().await.unwrap();
        let mut numbers = Vec::new();
        for filing in filings {
            numbers.push(filing.await.unwrap().unwrap().unwrap());
        }
        numbers.sort();
        let expected: Vec<String> = (2..=11).map(|n| format!("NUM-2026-{n:06}")).collect();
        assert_eq!(numbers, expected);
        assert_eq!(
            store.numbering_counts(),
            (11, 3),
            "one statement, then one for nine"
        );
        let last: i64 =
            sqlx::query("SELECT last_number FROM numero_counters WHERE slug = 'numeros'")
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0);
        assert_eq!(last, 11);

        conn.close().await.unwrap();
        store.close().await;
        database.remove().await;
    }

    /// A counter statement that fails fails each filing of its group with
    /// the same error, and the counter's next filing starts again.
    #[tokio::test]
    async fn a_failed_counter_statement_fails_its_whole_group_and_no_later_filing() {
        let Some((database, store, mut conn)) = postgres().await else {
            return;
        };
        let unknown = Slug::parse("inconnue").unwrap();
        sqlx::query(
            "INSERT INTO numero_counters (slug, year, last_number) VALUES ('numeros', 2026, 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        // An unknown démarche: the counter's foreign key refuses it.
        let mut lock = conn.begin().await.unwrap();
        sqlx::query("LOCK TABLE numero_counters IN EXCLUSIVE MODE")
            .execute(&mut *lock)
            .await
            .unwrap();
        let filings: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                let unknown = unknown.clone();
                tokio::spawn(async move { store.take_number(&unknown, "INC", 2026, None).await })
            })
            .collect();
        until_waiting(&store, &unknown, 3).await;
        lock.commit().await.unwrap();
        for filing in filings {
            let error = filing.await.unwrap().unwrap_err();
            assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
        }
        assert_eq!(store.numbering.waiting(&unknown, 2026), 0);
        let slug = Slug::parse(SLUG).unwrap();
        assert_eq!(
            store.take_number(&slug, "NUM", 2026, None).await.unwrap(),
            Some("NUM-2026-000001".to_owned())
        );

        conn.close().await.unwrap();
        store.close().await;
        database.remove().await;
    }
}
