//! Password hashes: argon2id with a random salt, computed off the async
//! threads; the store keeps only the PHC string, which carries its own
//! parameters.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::http::ApiError;

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

fn argon2(cost: PasswordCost) -> Result<Argon2<'static>, ApiError> {
    let params = match cost {
        PasswordCost::Standard => Params::default(),
        PasswordCost::Fast => Params::new(1024, 1, 1, None).map_err(ApiError::internal)?,
    };
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id and a random salt, off the async threads.
///
/// # Errors
/// 500 if the system has no randomness.
pub async fn hash_password(password: String, cost: PasswordCost) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0_u8; 16];
        getrandom::fill(&mut salt).map_err(ApiError::internal)?;
        let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
        argon2(cost)?
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Whether `password` matches `hash` (a PHC string), off the async threads.
pub(crate) async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password nobody knows, with the parameters of `cost`,
/// verified when the login is unknown so that an unknown login takes as
/// long as a wrong password (made once per process).
pub(crate) async fn decoy_hash(cost: PasswordCost) -> Result<String, ApiError> {
    static STANDARD: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    static FAST: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let cell = match cost {
        PasswordCost::Standard => &STANDARD,
        PasswordCost::Fast => &FAST,
    };
    cell.get_or_try_init(|| async {
        let mut secret = [0_u8; 32];
        getrandom::fill(&mut secret).map_err(ApiError::internal)?;
        hash_password(hex::encode(secret), cost).await
    })
    .await
    .cloned()
}
