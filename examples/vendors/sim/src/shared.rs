//! In-memory state shared by the handlers of one simulator.

use std::sync::{Arc, Mutex, PoisonError};

/// A value behind an `Arc<Mutex<_>>` that is only reachable through a
/// synchronous closure, so the lock can never be held across an `.await`.
#[derive(Debug, Default)]
pub struct Shared<T>(Arc<Mutex<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Shared<T> {
    /// Shares `value`.
    pub fn new(value: T) -> Self {
        Self(Arc::new(Mutex::new(value)))
    }

    /// Runs `f` with the value locked. A panic in an earlier holder does
    /// not poison the simulator: the value is used as it was left.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }
}
