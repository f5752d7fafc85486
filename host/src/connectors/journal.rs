//! The journal of connector calls: what every call did, for the SI and admins.
//!
//! The runtime writes one [`CallRecord`] per call (install-time `describe`
//! included) to a [`Journal`], after masking the instance's secrets. The
//! platform persists records through its store; [`MemoryJournal`] keeps the
//! latest ones in memory (CLI, tests, demo). Every record is also emitted as a
//! `tracing` event.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
}

/// Keeps the latest records in memory.
#[derive(Debug)]
pub struct MemoryJournal {
    capacity: usize,
    records: Mutex<VecDeque<CallRecord>>,
}

impl MemoryJournal {
    /// A journal keeping at most `capacity` records (oldest dropped first).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            records: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    /// The records kept, oldest first.
    pub fn records(&self) -> Vec<CallRecord> {
        match self.records.lock() {
            Ok(records) => records.iter().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().iter().cloned().collect(),
        }
    }
}

impl Default for MemoryJournal {
    fn default() -> Self {
        Self::new(10_000)
    }
}

impl Journal for MemoryJournal {
    fn record(&self, record: CallRecord) {
        let mut records = match self.records.lock() {
            Ok(records) => records,
            Err(poisoned) => poisoned.into_inner(),
        };
        if records.len() == self.capacity {
            records.pop_front();
        }
        records.push_back(record);
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
