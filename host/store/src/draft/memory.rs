//! This host's memory of drafts, so that saving a page or filing reads
//! nothing when the draft was written or read here a moment ago.
//!
//! Without it every page saved reads the draft before its guarded write,
//! and every filing reads it before its number and its statement: a
//! quarter of a whole filing's statements (`BENCHMARKS.md` §2). Replayed
//! by pgbench with no server, that one read made a PostgreSQL submission
//! about a quarter slower than its other statements alone.
//!
//! **What is kept.** Each draft this host created, saved, read to save or
//! read to file, with its data key (`Remembered`), in a bounded cache
//! (moka: at most [`DRAFT_MEMORY_CAPACITY`] drafts, each forgotten after
//! [`DRAFT_MEMORY_IDLE`] unused). A draft filed, deleted or expired here is
//! forgotten at once, as are the drafts of a deleted account.
//!
//! **Why a remembered draft can be trusted for writes only.** Another host
//! (or a command run beside the server) may save the draft meanwhile; this
//! host cannot know. Every use of a remembered draft is therefore a write
//! guarded by the revision it remembers, which the database checks:
//! - a page save writes only if the draft is still at that revision, and
//!   otherwise runs again on the draft read and locked in the write
//!   transaction (`Store::update_read_draft`): nothing saved elsewhere is
//!   lost;
//! - a filing takes its number and deletes the draft only at that revision
//!   (on PostgreSQL the number's statement checks it,
//!   [`crate::numbering`]; on SQLite both are in one transaction), and
//!   otherwise fails as a conflict having written nothing and taken no
//!   number; the caller then files again from the draft as stored
//!   ([`FilingContext::remembered`](crate::draft::FilingContext::remembered)).
//!
//! What is shown (a draft's page, its list) is always read from the
//! database.
//!
//! **What a remembered draft is filed with besides.** The definition of its
//! version and the démarche's numbering prefix come from a stamp of the
//! version (its `updated_at` and the prefix) read at most
//! [`VERSION_STAMP_TTL`] ago, forgotten here when this host changes a
//! démarche: on another host a change is seen within that delay, as a
//! session ended elsewhere is ([`crate::session`]). The usager's account
//! (for their contact) is the one of the session filing it, when the usager
//! files their own draft; an agent's filing reads the draft.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moka::sync::Cache;

use super::{Draft, DraftId};
use crate::seal::DataKey;

/// At most this many drafts are remembered; beyond it moka forgets those
/// least used.
pub const DRAFT_MEMORY_CAPACITY: u64 = 10_000;

/// A remembered draft unused for this long is forgotten: a usager filling
/// a form saves a page every few minutes.
pub const DRAFT_MEMORY_IDLE: Duration = Duration::from_secs(30 * 60);

/// How long a version's stamp (its `updated_at` and its démarche's
/// numbering prefix) read from the database answers from memory.
pub const VERSION_STAMP_TTL: Duration = Duration::from_secs(2);

/// The drafts this host remembers, and the stamps of their versions.
pub(crate) struct DraftMemory {
    drafts: Cache<DraftId, Arc<Remembered>>,
    stamps: Mutex<HashMap<(String, u32), Stamp>>,
}

impl Default for DraftMemory {
    fn default() -> Self {
        DraftMemory {
            drafts: Cache::builder()
                .max_capacity(DRAFT_MEMORY_CAPACITY)
                .time_to_idle(DRAFT_MEMORY_IDLE)
                .build(),
            stamps: Mutex::default(),
        }
    }
}

/// A draft as this host last wrote or read it, with its data key.
pub(crate) struct Remembered {
    pub(crate) draft: Draft,
    pub(crate) key: Option<DataKey>,
}

/// A version's `updated_at` (ms) and its démarche's numbering prefix, as
/// read at `read_at`.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub(crate) updated_at: i64,
    pub(crate) prefix: Option<String>,
    read_at: Instant,
}

impl DraftMemory {
    /// The draft `id` as remembered.
    pub(crate) fn get(&self, id: DraftId) -> Option<Arc<Remembered>> {
        self.drafts.get(&id)
    }

    /// Remembers `draft` as just written or read, with its key.
    pub(crate) fn put(&self, draft: &Draft, key: Option<&DataKey>) {
        self.drafts.insert(
            draft.id,
            Arc::new(Remembered {
                draft: draft.clone(),
                key: key.cloned(),
            }),
        );
    }

    /// Forgets the draft `id`.
    pub(crate) fn forget(&self, id: DraftId) {
        self.drafts.invalidate(&id);
    }

    /// The stamp of `slug`'s `version` read less than
    /// [`VERSION_STAMP_TTL`] ago.
    pub(crate) fn stamp(&self, slug: &str, version: u32) -> Option<Stamp> {
        let stamps = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
        stamps
            .get(&(slug.to_owned(), version))
            .filter(|stamp| stamp.read_at.elapsed() < VERSION_STAMP_TTL)
            .cloned()
    }

    /// Keeps the stamp of `slug`'s `version` just read, and returns it.
    pub(crate) fn put_stamp(
        &self,
        slug: &str,
        version: u32,
        updated_at: i64,
        prefix: Option<String>,
    ) -> Stamp {
        let stamp = Stamp {
            updated_at,
            prefix,
            read_at: Instant::now(),
        };
        let mut stamps = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
        stamps.retain(|_, stamp| stamp.read_at.elapsed() < VERSION_STAMP_TTL);
        stamps.insert((slug.to_owned(), version), stamp.clone());
        stamp
    }

    /// Forgets every stamp: called after each change of a démarche here.
    pub(crate) fn forget_stamps(&self) {
        self.stamps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
