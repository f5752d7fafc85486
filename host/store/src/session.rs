//! Sessions of people (cookie tokens) and API tokens of machines (bearer
//! tokens).
//!
//! A token is 32 random bytes from the operating system, given once to the
//! caller as hex and stored only as its SHA-256: a copy of the database
//! does not let anyone log in. A session ends at its expiry, when deleted
//! (logout), or when its account is disabled; an API token when revoked.
//!
//! **Sessions read without a round trip.** Every request of a logged-in
//! person checks their session; [`Store::session_user`] keeps what it read
//! for [`SESSION_CACHE_TTL`] in memory (`SessionCache`), keyed by the
//! token's hash, so that a burst of requests costs one query. Every write
//! of this store that ends sessions or changes accounts (logout, password,
//! profile, deactivation, deletion) empties the cache at once, so on one
//! host a session ends exactly when it did before. Another host sharing a
//! PostgreSQL database may accept a session ended elsewhere for at most
//! [`SESSION_CACHE_TTL`]; its expiry date is still checked on each request.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::Store;
use crate::account::{USER_COLUMNS_U, User, user};
use crate::error::{Result, StoreError};
use crate::sql::{RowExt, millis, to_json};
use guichet_core::id::UserId;

/// How long a session read from the database answers from memory
/// (`SessionCache`).
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Beyond this many sessions in memory, the cache starts again from empty.
const SESSION_CACHE_CAPACITY: usize = 50_000;

/// Sessions recently read, by token hash (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<String, CachedSession>>,
}

/// A session as read: its account, its expiry (ms since the epoch) and
/// when it was read.
#[derive(Debug)]
struct CachedSession {
    user: User,
    expires_at: i64,
    read_at: Instant,
}

impl SessionCache {
    /// The account of a cached live session, read less than
    /// [`SESSION_CACHE_TTL`] ago.
    fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<User> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(hash)
            .filter(|cached| {
                cached.read_at.elapsed() < SESSION_CACHE_TTL && cached.expires_at > millis(now)
            })
            .map(|cached| cached.user.clone())
    }

    fn put(&self, hash: String, user: User, expires_at: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= SESSION_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(
            hash,
            CachedSession {
                user,
                expires_at,
                read_at: Instant::now(),
            },
        );
    }

    /// Forgets every session: called after each write that ends sessions
    /// or changes accounts.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// A secret token, shown once. Its `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A new random token (32 bytes from the operating system, in hex).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if the operating system has no randomness.
    pub fn generate() -> Result<Secret> {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| StoreError::Invalid(format!("aléa indisponible : {e}")))?;
        Ok(Secret(hex::encode(bytes)))
    }

    /// The token as given by a client (cookie or `Authorization` header).
    pub fn from_client(token: &str) -> Secret {
        Secret(token.to_owned())
    }

    /// The token, to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A session just opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The cookie value.
    pub token: Secret,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// The identifier of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiTokenId(pub Uuid);

/// An API token (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Identifier.
    pub id: ApiTokenId,
    /// What it is for (`supervision`, `import-démarches`).
    pub name: String,
    /// The account it acts as.
    pub user: UserId,
    /// What it may do, as the HTTP layer names it.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
}

const TOKEN_COLUMNS: &str = "t.id, t.name, t.user_id, t.scopes, t.created_at, t.last_used_at";

fn api_token(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: ApiTokenId(row.uuid("id")?),
        name: row.text("name")?,
        user: UserId::from_uuid(row.uuid("user_id")?),
        scopes: row.json("scopes")?,
        created_at: row.instant("created_at")?,
        last_used_at: row.instant_opt("last_used_at")?,
    })
}

impl Store {
    /// Opens a session for an account, valid for `ttl`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown account.
    pub async fn create_session(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<NewSession> {
        let token = Secret::generate()?;
        let expires_at = now + ttl;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token.hash())
        .bind(user.to_string())
        .bind(millis(now))
        .bind(millis(expires_at))
        .execute(&self.write)
        .await?;
        Ok(NewSession { token, expires_at })
    }

    /// The account of a live session.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the token is unknown, expired, or its
    /// account disabled.
    pub async fn session_user(&self, token: &Secret, now: DateTime<Utc>) -> Result<User> {
        let hash = token.hash();
        if let Some(user) = self.sessions.get(&hash, now) {
            return Ok(user);
        }
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS_U}, s.expires_at AS session_expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
        ))
        .bind(hash.clone())
        .bind(millis(now))
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("session"))?;
        let found = user(&row)?;
        self.sessions
            .put(hash, found.clone(), row.int("session_expires_at")?);
        Ok(found)
    }

    /// Ends a session (logout); ending an unknown one is not an error.
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_session(&self, token: &Secret) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token.hash())
            .execute(&self.write)
            .await?;
        self.sessions.clear();
        Ok(())
    }

    /// Ends every session of an account but `keep` (the one in use when
    /// its password changes); returns how many ended.
    ///
    /// # Errors
    /// A database error.
    pub async fn end_other_sessions(&self, user: UserId, keep: &Secret) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user.to_string())
            .bind(keep.hash())
            .execute(&self.write)
            .await?;
        self.sessions.clear();
        Ok(done.rows_affected())
    }

    /// Deletes the sessions expired at `now`; returns how many.
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(millis(now))
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    /// Creates an API token for an account; the secret is returned once.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown account.
    pub async fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(ApiToken, Secret)> {
        let secret = Secret::generate()?;
        let token = ApiToken {
            id: ApiTokenId(Uuid::new_v4()),
            name: name.to_owned(),
            user,
            scopes: scopes.to_vec(),
            created_at: now,
            last_used_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, token_hash, name, user_id, scopes, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(token.id.0.to_string())
        .bind(secret.hash())
        .bind(token.name.clone())
        .bind(user.to_string())
        .bind(to_json(&token.scopes)?)
        .bind(millis(now))
        .execute(&self.write)
        .await?;
        Ok((token, secret))
    }

    /// The account and token a bearer secret stands for; records the use.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the secret is unknown or revoked, or its
    /// account disabled.
    pub async fn api_token_user(
        &self,
        secret: &Secret,
        now: DateTime<Utc>,
    ) -> Result<(User, ApiToken)> {
        let row = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 \
             RETURNING id, name, user_id, scopes, created_at, last_used_at",
        )
        .bind(millis(now))
        .bind(secret.hash())
        .fetch_optional(&self.write)
        .await?
        .ok_or(StoreError::NotFound("jeton d'API"))?;
        let token = api_token(&row)?;
        let account = self.user(token.user).await?;
        if !account.active {
            return Err(StoreError::NotFound("jeton d'API"));
        }
        Ok((account, token))
    }

    /// The API tokens of an account, by name.
    ///
    /// # Errors
    /// A database error.
    pub async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.name, t.id"
        ))
        .bind(user.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(api_token).collect()
    }

    /// Revokes an API token.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such token.
    pub async fn revoke_api_token(&self, id: ApiTokenId) -> Result<()> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id.0.to_string())
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("jeton d'API"));
        }
        Ok(())
    }
}
