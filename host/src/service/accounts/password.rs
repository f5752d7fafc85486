//! Password hashes: argon2id with a random salt, computed off the async
//! threads; the store keeps only the PHC string, which carries its own
//! parameters.
//!
//! Hashing is deliberately expensive (19 MiB and two passes per hash at the
//! standard cost), so the API never runs more of it at once than
//! [`PasswordHashing`] allows: a semaphore of a few slots (by default twice
//! the cores) that every login, registration, password change and account
//! creation waits for, a short while at most; past that wait the request
//! is refused ([`HashingError::Busy`]), and memory stays bounded whatever
//! the number of concurrent logins.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a password could not be hashed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashingError {
    /// Every slot stayed taken for the whole wait: try again in a moment.
    #[error("trop de connexions en cours : réessayez dans un instant")]
    Busy,
    /// The system failed: no randomness, or the hashing thread stopped.
    #[error("calcul de l'empreinte du mot de passe impossible : {0}")]
    Failed(String),
}

impl HashingError {
    fn failed(detail: impl std::fmt::Display) -> Self {
        HashingError::Failed(detail.to_string())
    }
}

/// How expensive password hashes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCost {
    /// argon2id with the OWASP parameters (19 MiB, 2 passes): production.
    Standard,
    /// argon2id with 1 MiB and 1 pass: test suites, which hash many
    /// passwords in unoptimised builds. Hashes say their parameters, so
    /// either kind verifies everywhere.
    Fast,
}

fn argon2(cost: PasswordCost) -> Result<Argon2<'static>, HashingError> {
    let params = match cost {
        PasswordCost::Standard => Params::default(),
        PasswordCost::Fast => Params::new(1024, 1, 1, None).map_err(HashingError::failed)?,
    };
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(password: &str, cost: PasswordCost) -> Result<String, HashingError> {
    let mut salt = [0_u8; 16];
    getrandom::fill(&mut salt).map_err(HashingError::failed)?;
    let salt = SaltString::encode_b64(&salt).map_err(HashingError::failed)?;
    argon2(cost)?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(HashingError::failed)
}

fn verify_now(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Hashes a password with argon2id and a random salt, off the async threads,
/// without any bound: for the command line and fixtures. The use cases hash
/// through [`PasswordHashing`]. Returns the PHC string.
///
/// # Errors
/// [`HashingError::Failed`] if the system has no randomness.
pub async fn hash_password(password: String, cost: PasswordCost) -> Result<String, HashingError> {
    tokio::task::spawn_blocking(move || hash_now(&password, cost))
        .await
        .map_err(HashingError::failed)?
}

/// The default number of hashing slots: twice the cores.
pub fn default_hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// The bounded password hashing of the use cases: at most `slots` hashes or
/// verifications run at once; a request waits at most `wait` for a slot.
#[derive(Debug)]
pub struct PasswordHashing {
    cost: PasswordCost,
    slots: usize,
    permits: Arc<Semaphore>,
    wait: Duration,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// A slot of [`PasswordHashing`], given back when dropped.
#[derive(Debug)]
pub struct HashingSlot(#[allow(dead_code)] OwnedSemaphorePermit);

impl PasswordHashing {
    /// `slots` concurrent hashes at most (at least 1), each request waiting
    /// at most `wait` for one.
    pub fn new(cost: PasswordCost, slots: usize, wait: Duration) -> Self {
        let slots = slots.max(1);
        Self {
            cost,
            slots,
            permits: Arc::new(Semaphore::new(slots)),
            wait,
            running: Arc::default(),
            peak: Arc::default(),
        }
    }

    /// The number of slots.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The most hashes that ever ran at once (for supervision and tests).
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Takes a slot, waiting at most the configured while.
    ///
    /// # Errors
    /// [`HashingError::Busy`] when no slot freed in time.
    pub async fn reserve(&self) -> Result<HashingSlot, HashingError> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashingSlot(permit)),
            Ok(Err(closed)) => Err(HashingError::failed(closed)),
            Err(_) => Err(HashingError::Busy),
        }
    }

    /// Runs `work` on a blocking thread while holding a slot, counting how
    /// many run at once.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let slot = self.reserve().await?;
        let running = self.running.clone();
        let peak = self.peak.clone();
        tokio::task::spawn_blocking(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = work();
            running.fetch_sub(1, Ordering::SeqCst);
            drop(slot);
            result
        })
        .await
        .map_err(HashingError::failed)
    }

    /// Hashes a password with argon2id and a random salt; returns the PHC
    /// string.
    ///
    /// # Errors
    /// [`HashingError::Busy`], or [`HashingError::Failed`] if the system
    /// has no randomness.
    pub async fn hash(&self, password: String) -> Result<String, HashingError> {
        let cost = self.cost;
        self.run(move || hash_now(&password, cost)).await?
    }

    /// Whether `password` matches `hash` (a PHC string).
    ///
    /// # Errors
    /// [`HashingError::Busy`].
    pub async fn verify(&self, hash: String, password: String) -> Result<bool, HashingError> {
        self.run(move || verify_now(&hash, &password)).await
    }

    /// Verifies `password` against a hash nobody knows, so that an unknown
    /// login takes as long as a wrong password; always false.
    ///
    /// # Errors
    /// [`HashingError::Busy`], or [`HashingError::Failed`] if the system
    /// has no randomness.
    pub async fn verify_decoy(&self, password: String) -> Result<bool, HashingError> {
        let decoy = decoy_hash(self.cost).await?;
        self.verify(decoy, password).await.map(|_| false)
    }
}

/// A hash of a random password nobody knows, with the parameters of `cost`
/// (made once per process).
async fn decoy_hash(cost: PasswordCost) -> Result<String, HashingError> {
    static STANDARD: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    static FAST: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let cell = match cost {
        PasswordCost::Standard => &STANDARD,
        PasswordCost::Fast => &FAST,
    };
    cell.get_or_try_init(|| async {
        let mut secret = [0_u8; 32];
        getrandom::fill(&mut secret).map_err(HashingError::failed)?;
        hash_password(hex::encode(secret), cost).await
    })
    .await
    .cloned()
}
