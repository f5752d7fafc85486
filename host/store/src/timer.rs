//! Timers: (demande, kind, due date) rows, at most one per (demande, kind),
//! read through an index on the due date so the scheduler's cost grows with
//! what is due, not with the number of demandes.
//!
//! Written by outcomes (cancels then schedules, in the order given), read by
//! the scheduler with [`Store::claim_timers`]: with several hosts on
//! PostgreSQL, each due timer is claimed by one of them (`FOR UPDATE SKIP
//! LOCKED` and a lease, so a timer whose host died is claimed again once the
//! lease ends). The fired timer is deleted in the transaction that stores
//! its outcome ([`crate::outcome::Extras::fired_timer`]), or alone with
//! [`Store::delete_timer`] when it was stale.

use chrono::{DateTime, Duration, Utc};
use guichet_core::id::DemandeId;
use guichet_core::workflow::deadline::{Timer, TimerChange, TimerKind};

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::sql::{Batch, RowExt, millis};

/// How long a claimed timer is reserved for the host that claimed it.
pub const TIMER_LEASE: Duration = Duration::minutes(5);

fn timer(row: &AnyRow) -> Result<Timer> {
    let kind = row.text("kind")?;
    Ok(Timer {
        kind: kind
            .parse::<TimerKind>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        demande: DemandeId::from_uuid(row.uuid("demande_id")?),
        due_at: row.instant("due_at")?,
    })
}

/// Adds timer changes to `batch`, in order: a schedule inserts or replaces
/// the timer of its (demande, kind) and frees any claim on it; a cancel
/// deletes it.
pub(crate) fn push_changes(batch: &mut Batch, changes: &[TimerChange]) {
    for change in changes {
        match change {
            TimerChange::Schedule(timer) => {
                batch
                    .statement(
                        "INSERT INTO timers (demande_id, kind, due_at, claimed_by, lease_until) VALUES (",
                    )
                    .bind(timer.demande.to_string())
                    .push(", ")
                    .bind(timer.kind.to_string())
                    .push(", ")
                    .bind(millis(timer.due_at))
                    .push(
                        ", NULL, NULL) ON CONFLICT (demande_id, kind) DO UPDATE \
                         SET due_at = excluded.due_at, claimed_by = NULL, lease_until = NULL",
                    );
            }
            TimerChange::Cancel { demande, kind } => {
                batch
                    .statement("DELETE FROM timers WHERE demande_id = ")
                    .bind(demande.to_string())
                    .push(" AND kind = ")
                    .bind(kind.to_string());
            }
        }
    }
}

/// Deletes a timer if it is still the one given (same due date: a timer
/// rescheduled meanwhile stays). Returns whether it was deleted.
pub(crate) async fn delete_exact(conn: &mut AnyConnection, timer: &Timer) -> Result<bool> {
    let done =
        sqlx::query("DELETE FROM timers WHERE demande_id = $1 AND kind = $2 AND due_at = $3")
            .bind(timer.demande.to_string())
            .bind(timer.kind.to_string())
            .bind(millis(timer.due_at))
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Adds to `batch` the deletion of a timer if it is still the one given
/// (same due date: a timer rescheduled meanwhile stays).
pub(crate) fn push_delete_exact(batch: &mut Batch, timer: &Timer) {
    batch
        .statement("DELETE FROM timers WHERE demande_id = ")
        .bind(timer.demande.to_string())
        .push(" AND kind = ")
        .bind(timer.kind.to_string())
        .push(" AND due_at = ")
        .bind(millis(timer.due_at));
}

fn sorted(mut timers: Vec<Timer>) -> Vec<Timer> {
    timers.sort_by(|a, b| {
        (a.due_at, a.demande, a.kind.to_string()).cmp(&(b.due_at, b.demande, b.kind.to_string()))
    });
    timers
}

impl Store {
    /// The timers due at `now`, earliest first, at most `limit`.
    ///
    /// # Errors
    /// A database error.
    #[cfg(feature = "test-support")]
    pub async fn due_timers(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Timer>> {
        let rows = sqlx::query(
            "SELECT demande_id, kind, due_at FROM timers WHERE due_at <= $1 \
             ORDER BY due_at, demande_id, kind LIMIT $2",
        )
        .bind(millis(now))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(timer).collect()
    }

    /// Claims up to `limit` due timers for `worker`, earliest first: each is
    /// leased to it for [`TIMER_LEASE`], during which no other host claims
    /// it.
    ///
    /// # Errors
    /// A database error.
    pub async fn claim_timers(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Timer>> {
        let sql = format!(
            "UPDATE timers SET claimed_by = $1, lease_until = $2 \
             WHERE (demande_id, kind) IN (SELECT demande_id, kind FROM timers \
             WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
             ORDER BY due_at LIMIT $4{}) RETURNING demande_id, kind, due_at",
            self.skip_locked()
        );
        let mut tx = self.begin().await?;
        let rows = sqlx::query(&sql)
            .bind(worker.to_owned())
            .bind(millis(now + TIMER_LEASE))
            .bind(millis(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(sorted(rows.iter().map(timer).collect::<Result<_>>()?))
    }

    /// Deletes a timer that fired with nothing to do (stale), if it was not
    /// rescheduled meanwhile. Returns whether it was deleted.
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_timer(&self, timer: &Timer) -> Result<bool> {
        let mut conn = self.write.acquire().await?;
        delete_exact(&mut conn, timer).await
    }

    /// The timers of a demande, earliest first.
    ///
    /// # Errors
    /// A database error.
    #[cfg(feature = "test-support")]
    pub async fn timers_of(&self, demande: DemandeId) -> Result<Vec<Timer>> {
        let rows = sqlx::query(
            "SELECT demande_id, kind, due_at FROM timers WHERE demande_id = $1 ORDER BY due_at, kind",
        )
        .bind(demande.to_string())
        .fetch_all(&self.read)
        .await?;
        Ok(sorted(rows.iter().map(timer).collect::<Result<_>>()?))
    }
}
