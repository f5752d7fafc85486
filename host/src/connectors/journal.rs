//! The journal of connector calls: what every call did, for the SI and admins.
//!
//! The runtime writes one [`CallRecord`] per call (install-time `describe`
//! included) to a [`Journal`], after masking the instance's secrets. The
//! platform persists records through its store; [`MemoryJournal`] keeps the
//! latest ones in memory (CLI, tests, demo), bounded in records and in bytes.
//! Each record is bounded where it is made (see [`bounds`](super::bounds)). Every record is also emitted as a
//! `tracing` event.
//!
//! **Time.** A record's `at` is the journal's [`Journal::now`] when the call
//! starts: the platform's journal reads the application's clock (the one the
//! workflow reads, fake in the tests), not the system's.
//!
//! **Held back for a job.** A worker runs a job's attempt inside
//! [`collect`]: the records of the calls the attempt makes (in that task)
//! are handed back to it ([`hold`]), each naming the attempt's demande,
//! instead of being written beside the call, so that the worker writes them
//! in the transaction that records the attempt's outcome.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::bounds::{DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_RECORDS};
use super::model::{GuestLog, Operation};
use super::outbound::Exchange;

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The operation answered.
    Ok,
    /// The connector returned one of its typed errors.
    ConnectorError,
    /// The guest trapped (panic, stack overflow, unreachable…).
    Trap,
    /// The call passed its deadline.
    Timeout,
    /// The guest tried to grow its memory past the cap.
    MemoryLimit,
    /// The host could not run the call (instantiation, unsupported operation).
    HostError,
}

/// One call, as journaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// When the call started.
    pub at: DateTime<Utc>,
    /// Connector name.
    pub connector: String,
    /// Connector version.
    pub version: String,
    /// Instance id.
    pub instance: String,
    /// Operation.
    pub operation: Operation,
    /// The demande the call was about, by its id: a transmission's, and
    /// every call made inside a [`collect`] for a demande (the readings of
    /// its status and card).
    #[serde(default)]
    pub demande: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// How it ended.
    pub outcome: Outcome,
    /// The error, masked, when it did not end `ok`.
    pub error: Option<String>,
    /// Logs the guest wrote, masked.
    pub logs: Vec<GuestLog>,
    /// Outbound HTTP exchanges, URLs masked.
    pub http: Vec<Exchange>,
}

/// Where call records go.
pub trait Journal: Send + Sync {
    /// Records one call.
    fn record(&self, record: CallRecord);

    /// The time a call starts at (its record's `at`): the system's clock,
    /// unless the journal reads another one (the platform's, injected).
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The most records one [`collect`] holds back; past it, records go to the
/// journal as if no collect were running (an attempt makes two calls).
pub const MAX_HELD: usize = 64;

tokio::task_local! {
    static HELD: Held;
}

/// The records held back by the running [`collect`].
struct Held {
    demande: Option<String>,
    records: Mutex<Vec<CallRecord>>,
}

/// Runs `work`, holding back the records of the connector calls it makes
/// in this task (see [`hold`]), each naming `demande` unless it names one
/// already; returns `work`'s output and the records, oldest first, for the
/// caller to write with the outcome of `work`.
pub async fn collect<F: Future>(demande: Option<String>, work: F) -> (F::Output, Vec<CallRecord>) {
    let held = Held {
        demande,
        records: Mutex::new(Vec::new()),
    };
    HELD.scope(held, async {
        let output = work.await;
        let records = HELD.with(|held| {
            std::mem::take(&mut *held.records.lock().unwrap_or_else(|p| p.into_inner()))
        });
        (output, records)
    })
    .await
}

/// Hands `record` to the [`collect`] running in this task, naming its
/// demande; gives it back when none runs or it holds [`MAX_HELD`] already
/// (the journal then writes it itself).
pub fn hold(record: CallRecord) -> Option<CallRecord> {
    let mut record = Some(record);
    let _ = HELD.try_with(|held| {
        let mut records = held.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() < MAX_HELD
            && let Some(mut kept) = record.take()
        {
            if kept.demande.is_none() {
                kept.demande.clone_from(&held.demande);
            }
            records.push(kept);
        }
    });
    record
}

/// Keeps the latest records in memory, bounded in records and in bytes
/// (oldest dropped first).
#[derive(Debug)]
pub struct MemoryJournal {
    capacity: usize,
    max_bytes: usize,
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    records: VecDeque<(CallRecord, usize)>,
    bytes: usize,
}

impl MemoryJournal {
    /// A journal keeping at most `capacity` records and
    /// [`DEFAULT_JOURNAL_BYTES`] bytes.
    pub fn new(capacity: usize) -> Self {
        Self::with_limits(capacity, DEFAULT_JOURNAL_BYTES)
    }

    /// A journal keeping at most `capacity` records and about `max_bytes`
    /// bytes of them (the text they hold, see [`CallRecord::size`]).
    pub fn with_limits(capacity: usize, max_bytes: usize) -> Self {
        Self {
            capacity,
            max_bytes,
            kept: Mutex::new(Kept {
                records: VecDeque::with_capacity(capacity.min(1024)),
                bytes: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The records kept, oldest first.
    pub fn records(&self) -> Vec<CallRecord> {
        self.lock().records.iter().map(|(r, _)| r.clone()).collect()
    }

    /// Bytes held by the records kept (see [`CallRecord::size`]).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Default for MemoryJournal {
    /// [`DEFAULT_JOURNAL_RECORDS`] records, [`DEFAULT_JOURNAL_BYTES`] bytes.
    fn default() -> Self {
        Self::with_limits(DEFAULT_JOURNAL_RECORDS, DEFAULT_JOURNAL_BYTES)
    }
}

impl Journal for MemoryJournal {
    fn record(&self, record: CallRecord) {
        let size = record.size();
        if self.capacity == 0 || size > self.max_bytes {
            // Cannot happen with the default per-call limits; never evict
            // everything for one record.
            return;
        }
        let mut kept = self.lock();
        while !kept.records.is_empty()
            && (kept.records.len() >= self.capacity || kept.bytes + size > self.max_bytes)
        {
            if let Some((_, dropped)) = kept.records.pop_front() {
                kept.bytes -= dropped;
            }
        }
        kept.bytes += size;
        kept.records.push_back((record, size));
    }
}

impl CallRecord {
    /// About how many bytes the record holds: its texts plus a fixed cost per
    /// record, log and exchange (what the in-memory journal counts).
    pub fn size(&self) -> usize {
        const FIXED: usize = 64;
        let texts = self.connector.len()
            + self.version.len()
            + self.instance.len()
            + self.error.as_ref().map_or(0, String::len);
        let logs: usize = self
            .logs
            .iter()
            .map(|l| {
                FIXED
                    + l.level.len()
                    + l.message.len()
                    + l.fields
                        .iter()
                        .map(|(k, v)| FIXED + k.len() + v.len())
                        .sum::<usize>()
            })
            .sum();
        let http: usize = self
            .http
            .iter()
            .map(|e| FIXED + e.method.len() + e.url.len() + e.error.as_ref().map_or(0, String::len))
            .sum();
        std::mem::size_of::<CallRecord>() + texts + logs + http
    }
}

/// Emits the record as a tracing event (the runtime does it for every call).
pub(crate) fn trace(record: &CallRecord) {
    if record.outcome == Outcome::Ok {
        tracing::info!(
            connector = %record.connector,
            version = %record.version,
            instance = %record.instance,
            operation = %record.operation,
            duration_ms = record.duration_ms,
            "connector call ok"
        );
    } else {
        tracing::warn!(
            connector = %record.connector,
            version = %record.version,
            instance = %record.instance,
            operation = %record.operation,
            duration_ms = record.duration_ms,
            outcome = ?record.outcome,
            error = record.error.as_deref().unwrap_or(""),
            "connector call failed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(error_bytes: usize) -> CallRecord {
        CallRecord {
            at: Utc::now(),
            connector: "c".into(),
            version: "1.0.0".into(),
            instance: "i".into(),
            operation: Operation::Check,
            demande: None,
            duration_ms: 1.0,
            outcome: Outcome::ConnectorError,
            error: Some("e".repeat(error_bytes)),
            logs: Vec::new(),
            http: Vec::new(),
        }
    }

    #[test]
    fn the_memory_journal_drops_the_oldest_records_past_its_byte_bound() {
        let journal = MemoryJournal::with_limits(1_000, 10_000);

        for _ in 0..100 {
            journal.record(record(1_000));
        }

        assert!(journal.bytes() <= 10_000, "{}", journal.bytes());
        let kept = journal.records().len();
        assert!((5..10).contains(&kept), "{kept}");
    }

    #[tokio::test]
    async fn records_made_inside_a_collect_are_held_back_with_its_demande() {
        assert!(
            hold(record(1)).is_some(),
            "no collect: the journal writes it"
        );

        let (answer, held) = collect(Some("d-1".into()), async {
            assert!(hold(record(1)).is_none());
            let mut named = record(1);
            named.demande = Some("d-2".into());
            assert!(hold(named).is_none());
            42
        })
        .await;

        assert_eq!(answer, 42);
        let demandes: Vec<_> = held.iter().map(|r| r.demande.as_deref()).collect();
        assert_eq!(demandes, [Some("d-1"), Some("d-2")]);
    }

    #[test]
    fn a_record_larger_than_the_whole_bound_is_not_kept() {
        let journal = MemoryJournal::with_limits(10, 10_000);
        journal.record(record(10));

        journal.record(record(20_000));

        assert_eq!(journal.records().len(), 1);
    }
}
