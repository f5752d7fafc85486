//! The scheduler: fires due timers (reminders at 15 and 21 days, the 27-day
//! deadline, archive, anonymisation, the no-answer delay, the end of a hold).
//!
//! Timers are rows indexed by due date; [`fire_due_timers`] claims only what
//! is due (a lease, and `SKIP LOCKED` on PostgreSQL, so several hosts never
//! fire one timer twice), runs the core's [`deadline::fire`] on the demande as
//! stored, and writes the outcome — new state, history, notification jobs,
//! timer changes, the fired timer's deletion — in one transaction. A timer the
//! demande no longer answers (a reminder already sent, a status that moved on,
//! a deadline moved by a hold) is simply deleted.
//!
//! Delays and dates in texts are counted in the store's time zone (the
//! collectivité's, see [`guichet_core::calendar`]).
//!
//! [`run`] calls it in a loop on the injected clock; tests call
//! [`fire_due_timers`] directly after jumping the clock.
//! Notification jobs stay in the outbox: their delivery is another module.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use guichet_core::clock::Clock;
use guichet_core::deadline::{self, Timer};
use guichet_core::workflow::WorkflowError;
use guichet_store::outcome::Extras;
use guichet_store::{Store, StoreError};

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
            match fire_one(store, &timer, now).await {
                Ok(true) => fired.applied += 1,
                Ok(false) => fired.dropped += 1,
                Err(error) => {
                    fired.failed += 1;
                    tracing::warn!(demande = %timer.demande.0, kind = %timer.kind, %error, "timer not fired");
                }
            }
        }
        if !full {
            return Ok(fired);
        }
    }
}

/// Fires one claimed timer; `Ok(false)` when it was stale and dropped.
async fn fire_one(store: &Store, timer: &Timer, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let stored = match store.demande(timer.demande).await {
        Ok(stored) => stored,
        Err(StoreError::NotFound(_)) => {
            store.delete_timer(timer).await?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let reference = &stored.demande.demarche;
    let definition = store
        .demarche_version(&reference.slug, reference.version)
        .await?;
    let workflow = definition.definition.workflow();
    match deadline::fire(&workflow, &stored.demande, timer.kind, now, store.zone()) {
        Ok(outcome) => {
            let extras = Extras {
                fired_timer: Some(*timer),
                ..Extras::default()
            };
            store
                .apply_outcome(&outcome, stored.revision, extras, now)
                .await?;
            Ok(true)
        }
        Err(WorkflowError::NothingToFire(_)) => {
            store.delete_timer(timer).await?;
            Ok(false)
        }
        Err(other) => {
            tracing::warn!(demande = %timer.demande.0, kind = %timer.kind, error = %other, "timer refused by the workflow; dropped");
            store.delete_timer(timer).await?;
            Ok(false)
        }
    }
}

/// Runs the scheduler until the task is dropped: a round every `period`, on
/// the injected clock.
pub async fn run(store: Arc<Store>, clock: Arc<dyn Clock>, worker: String, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match fire_due_timers(&store, &worker, clock.now()).await {
            Ok(fired) if fired != Fired::default() => tracing::info!(?fired, "timers fired"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "scheduler round failed"),
        }
    }
}
