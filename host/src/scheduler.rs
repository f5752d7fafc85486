//! The scheduler: fires due timers (reminders at 15 and 21 days, the 27-day
//! deadline, archive, anonymisation, the no-answer delay, the end of a hold).
//!
//! Timers are rows indexed by due date; [`fire_due_timers`] claims only what
//! is due (a lease, and `SKIP LOCKED` on PostgreSQL, so several hosts never
//! fire one timer twice), and fires each through the application layer
//! ([`processing::fire_timer`]: the core's `deadline::fire` on the demande as
//! stored), which writes the outcome — new state, history, notification jobs,
//! timer changes, the fired timer's deletion — in one transaction. A timer the
//! demande no longer answers (a reminder already sent, a status that moved on,
//! a deadline moved by a hold) is simply deleted.
//!
//! Delays and dates in texts are counted in the store's time zone (the
//! collectivité's, see [`guichet_core::calendar`]).
//!
//! The end of life of what is not a timer of the workflow is swept by
//! [`sweep_end_of_life`], with the host's [`Retention`] settings: demandes
//! in the trash past the trash period are purged (deleted whole, see
//! `guichet_store::trash`), and drafts not saved for the draft delay are
//! deleted with their files; expired sessions are deleted, and file
//! deletions a crash left undone are carried out. After a round that erased personal data
//! (anonymisation, purge, expired drafts) the store scrubs the database's
//! files ([`Store::scrub`]: on SQLite, the WAL checkpointed and truncated).
//!
//! [`run`] calls both in a loop on the injected clock; tests call
//! [`fire_due_timers`] and [`sweep_end_of_life`] directly after jumping the
//! clock. Notification jobs stay in the outbox: their delivery is another
//! module.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use guichet_core::clock::Clock;
use guichet_store::{Store, StoreError};

use crate::service::processing;

/// Timers claimed per round.
const BATCH: u32 = 200;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// Timers whose outcome was written.
    pub applied: usize,
    /// Timers dropped because the demande no longer answers them.
    pub dropped: usize,
    /// Timers left for a later round after an error (logged).
    pub failed: usize,
}

/// How long what has ended is kept before it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// How long a demande stays in the trash, restorable by an
    /// administrator, before it is purged (default 30 days).
    pub trash: chrono::Duration,
    /// How long a draft is kept after its last save (default 90 days).
    pub drafts: chrono::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            trash: chrono::Duration::days(30),
            drafts: chrono::Duration::days(90),
        }
    }
}

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Demandes purged from the trash.
    pub purged: usize,
    /// Drafts deleted.
    pub drafts: u64,
    /// Expired sessions deleted.
    pub sessions: u64,
    /// File deletions a crash had left undone, carried out.
    pub files: u64,
}

/// Purges the demandes whose trash period is over at `now` and deletes the
/// drafts not saved for the draft delay, batch after batch, then scrubs the
/// database's files if anything personal was erased since the last scrub
/// (this round's anonymisations included).
///
/// # Errors
/// A storage error; what was deleted before stays deleted, and the next
/// round goes on.
pub async fn sweep_end_of_life(
    store: &Store,
    retention: &Retention,
    now: DateTime<Utc>,
) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    // Trashed at or before this instant ⇔ the trash period is over
    // (`guichet_core::trash::purge_due`).
    let trash_cutoff = now - retention.trash;
    loop {
        let batch = store.trashed_before(trash_cutoff, BATCH).await?;
        for demande in &batch {
            if store.purge_demande(*demande, now).await? {
                swept.purged += 1;
            }
        }
        if (batch.len() as u32) < BATCH {
            break;
        }
    }
    loop {
        let deleted = store
            .delete_drafts_saved_before(now - retention.drafts, BATCH, now)
            .await?;
        swept.drafts += deleted;
        if deleted < u64::from(BATCH) {
            break;
        }
    }
    swept.sessions = store.delete_expired_sessions(now).await?;
    swept.files = store.purge_deleted_files().await?;
    store.scrub().await?;
    Ok(swept)
}

/// Fires every timer due at `now`, batch after batch, until none is left.
///
/// # Errors
/// A storage error while claiming; errors on single timers are logged and
/// counted in [`Fired::failed`] (their lease expires and a later round retries).
pub async fn fire_due_timers(
    store: &Store,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<Fired, StoreError> {
    let mut fired = Fired::default();
    loop {
        let batch = store.claim_timers(worker, now, BATCH).await?;
        if batch.is_empty() {
            return Ok(fired);
        }
        let full = batch.len() as u32 == BATCH;
        for timer in batch {
            match processing::fire_timer(store, &timer, now).await {
                Ok(true) => fired.applied += 1,
                Ok(false) => fired.dropped += 1,
                Err(error) => {
                    fired.failed += 1;
                    tracing::warn!(demande = %timer.demande.uuid(), kind = %timer.kind, %error, "timer not fired");
                }
            }
        }
        if !full {
            return Ok(fired);
        }
    }
}

/// One round of the scheduler at `now`: the due timers, then the
/// end-of-life sweep — what [`run`] does each period, and what tests call
/// after each jump of their clock.
///
/// # Errors
/// A storage error of either step (the timers fired before stay fired).
pub async fn round(
    store: &Store,
    worker: &str,
    now: DateTime<Utc>,
    retention: &Retention,
) -> Result<(Fired, Swept), StoreError> {
    let fired = fire_due_timers(store, worker, now).await?;
    let swept = sweep_end_of_life(store, retention, now).await?;
    Ok((fired, swept))
}

/// Runs the scheduler until the task is dropped: a [`round`] every
/// `period`, on the injected clock.
pub async fn run(
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    worker: String,
    period: Duration,
    retention: Retention,
) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match round(&store, &worker, clock.now(), &retention).await {
            Ok((fired, swept)) => {
                if fired != Fired::default() {
                    tracing::info!(?fired, "timers fired");
                }
                if swept != Swept::default() {
                    tracing::info!(?swept, "end of life swept");
                }
            }
            Err(error) => tracing::warn!(%error, "scheduler round failed"),
        }
    }
}
