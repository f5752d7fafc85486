//! The cache of data-source answers (`lookup`), one per instance slot.
//!
//! A démarche's choice field fed by a data source names how long an
//! answer stays good (`DataSource::cache_seconds` in the definition,
//! [`DEFAULT_TTL`] when silent): within that time the same query (source,
//! parameters, search text, id) is answered from memory, without calling
//! the connector. Concurrent misses of one query make one call (the others
//! wait for its answer). Failures are not kept: the next query calls
//! again.
//!
//! Each configured instance slot of the registry owns its cache, so
//! activating another version, rolling back or changing the configuration
//! (which replace the slot) starts from an empty cache: an answer never
//! outlives the version and settings that gave it. Answers naming people
//! (the children of a family) are kept under their parameters (the
//! family's id) only, in this process's memory only, and for the source's
//! duration at most.
//!
//! The cache itself is `moka` (bounded, per-entry expiry, coalesced
//! loads).

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;

use super::model::{LookupItem, LookupQuery};
use super::registry::RegistryError;

/// How long an answer stays good when the source does not say.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Answers kept per instance at most (the least used go first).
pub const CAPACITY: u64 = 10_000;

/// One kept answer and how long it stays good.
#[derive(Clone)]
struct Entry {
    items: Arc<Vec<LookupItem>>,
    ttl: Duration,
}

/// Each entry expires after its own duration.
struct PerEntry;

impl Expiry<LookupQuery, Entry> for PerEntry {
    fn expire_after_create(
        &self,
        _query: &LookupQuery,
        entry: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The kept answers of one instance slot.
pub struct Lookups(Cache<LookupQuery, Entry>);

impl Default for Lookups {
    fn default() -> Self {
        Lookups(
            Cache::builder()
                .max_capacity(CAPACITY)
                .expire_after(PerEntry)
                .build(),
        )
    }
}

impl Lookups {
    /// The answer to `query`: kept, or fetched by `call` and kept for
    /// `ttl` (a zero `ttl` always calls).
    ///
    /// # Errors
    /// The error of `call`, shared by every caller that waited for it.
    pub async fn get_or_call<F>(
        &self,
        query: LookupQuery,
        ttl: Duration,
        call: F,
    ) -> Result<Arc<Vec<LookupItem>>, Arc<RegistryError>>
    where
        F: Future<Output = Result<Vec<LookupItem>, RegistryError>>,
    {
        if ttl.is_zero() {
            return call.await.map(Arc::new).map_err(Arc::new);
        }
        let entry = self
            .0
            .try_get_with(query, async move {
                call.await.map(|items| Entry {
                    items: Arc::new(items),
                    ttl,
                })
            })
            .await?;
        Ok(entry.items)
    }
}
