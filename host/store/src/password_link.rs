//! Password links: how a person chooses a password without knowing the
//! one in use — *mot de passe oublié* ([`LinkPurpose::Reset`]) — or any at
//! all — the account an agent created for an usager at the guichet
//! ([`LinkPurpose::Claim`]).
//!
//! A link is a row of `password_links` (migration `0011`): its account,
//! purpose, creation, expiry and use. The row keeps **no secret**: the
//! mail carries the row's id signed with the host's master key
//! ([`Store::sign`]), so a copy of the database gives no working link. The
//! mail itself is a job ([`PASSWORD_LINK_JOB`], payload `{"link": id}`)
//! written in the transaction that creates the link, and sent by the
//! notification worker.
//!
//! **Once.** [`Store::use_password_link`] marks the link used, sets the
//! password, marks the account's other open links used and ends all its
//! sessions, in one transaction guarded by `used_at IS NULL`: two
//! concurrent uses of one link, on one host or two, set one password.
//! A link whose account is deleted goes with it (`ON DELETE CASCADE`).

use chrono::{DateTime, Utc};
use guichet_core::id::UserId;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::Store;
use crate::account::{NewUser, User, insert_user};
use crate::error::{Result, StoreError};
use crate::job::{NewJob, insert as insert_jobs};
use crate::sql::{RowExt, millis};

/// The kind of the job that mails a password link.
pub const PASSWORD_LINK_JOB: &str = "password-link";

/// Why a link was made: what its mail says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// The person asked for a new password (*mot de passe oublié*).
    Reset,
    /// An agent created the account; the usager chooses its first
    /// password.
    Claim,
}

impl LinkPurpose {
    fn key(self) -> &'static str {
        match self {
            LinkPurpose::Reset => "reset",
            LinkPurpose::Claim => "claim",
        }
    }

    fn from_key(key: &str) -> Result<LinkPurpose> {
        match key {
            "reset" => Ok(LinkPurpose::Reset),
            "claim" => Ok(LinkPurpose::Claim),
            other => Err(StoreError::Corrupt(format!(
                "lien de mot de passe « {other} »"
            ))),
        }
    }
}

/// A password link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordLink {
    /// Its id (what the mail's link carries, signed).
    pub id: Uuid,
    /// The account whose password it sets.
    pub user: UserId,
    /// Why it was made.
    pub purpose: LinkPurpose,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// After this instant it sets nothing.
    pub expires_at: DateTime<Utc>,
    /// When it was used (or made useless by another link's use).
    pub used_at: Option<DateTime<Utc>>,
}

fn link(row: &AnyRow) -> Result<PasswordLink> {
    Ok(PasswordLink {
        id: row.uuid("id")?,
        user: UserId::from_uuid(row.uuid("user_id")?),
        purpose: LinkPurpose::from_key(&row.text("purpose")?)?,
        created_at: row.instant("created_at")?,
        expires_at: row.instant("expires_at")?,
        used_at: row.instant_opt("used_at")?,
    })
}

/// Inserts a link and the job that mails it.
async fn insert_link(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO password_links (id, user_id, purpose, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, NULL)",
    )
    .bind(id.to_string())
    .bind(user.to_string())
    .bind(purpose.key())
    .bind(millis(now))
    .bind(millis(expires_at))
    .execute(&mut *conn)
    .await?;
    let job = NewJob {
        kind: PASSWORD_LINK_JOB.to_owned(),
        demande: None,
        payload: serde_json::json!({ "link": id }),
        run_at: now,
    };
    insert_jobs(conn, std::slice::from_ref(&job), None, now).await?;
    Ok(id)
}

impl Store {
    /// Makes a link for `user` valid until `expires_at`, with the job
    /// that mails it, in one transaction — unless the account was sent a
    /// link after `quiet_since` (one mail per account per period, whoever
    /// asks): `None` then, and nothing is written.
    ///
    /// # Errors
    /// A database error (a missing account is a conflict of the foreign
    /// key), nothing written then.
    pub async fn create_password_link(
        &self,
        user: UserId,
        purpose: LinkPurpose,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        quiet_since: DateTime<Utc>,
    ) -> Result<Option<Uuid>> {
        let mut tx = self.begin().await?;
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_links WHERE user_id = $1 AND created_at > $2",
        )
        .bind(user.to_string())
        .bind(millis(quiet_since))
        .fetch_one(&mut *tx)
        .await?;
        if recent > 0 {
            return Ok(None);
        }
        let id = insert_link(&mut tx, user, purpose, now, expires_at).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Creates an account without a password and the
    /// [`LinkPurpose::Claim`] link (with its mail's job) by which its
    /// owner chooses one, in one transaction.
    ///
    /// # Errors
    /// As [`Store::create_user`] (`Conflict` when the login is taken);
    /// nothing written then.
    pub async fn create_user_to_claim(
        &self,
        new: NewUser,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(User, Uuid)> {
        let mut tx = self.begin().await?;
        let user = insert_user(&mut tx, new, now).await?;
        let id = insert_link(&mut tx, user.id, LinkPurpose::Claim, now, expires_at).await?;
        tx.commit().await?;
        Ok((user, id))
    }

    /// A link.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is none (never made, or its
    /// account deleted).
    pub async fn password_link(&self, id: Uuid) -> Result<PasswordLink> {
        let row = sqlx::query(
            "SELECT id, user_id, purpose, created_at, expires_at, used_at \
             FROM password_links WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("lien"))?;
        link(&row)
    }

    /// Uses a link: sets its account's password hash, marks this link and
    /// the account's other open links used, and ends the account's
    /// sessions, in one transaction. Returns the account.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such link;
    /// [`StoreError::Conflict`] when it was used already or expired at
    /// `now` (nothing changed then).
    pub async fn use_password_link(
        &self,
        id: Uuid,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<UserId> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE password_links SET used_at = $1 \
             WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(millis(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT id FROM password_links WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                Some(_) => StoreError::Conflict("lien déjà utilisé ou expiré".into()),
                None => StoreError::NotFound("lien"),
            });
        }
        let user: String = sqlx::query_scalar("SELECT user_id FROM password_links WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash.to_owned())
            .bind(user.clone())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE password_links SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
        )
        .bind(millis(now))
        .bind(user.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.clone())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.sessions.clear();
        Ok(UserId::from_uuid(crate::sql::uuid(&user)?))
    }
}
