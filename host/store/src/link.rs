//! Account links: an usager's account linked to their record at a vendor
//! (a family at Espace famille), once per connector instance.
//!
//! A link holds what the vendor's link source answered — the record's id
//! (`remote_id`, fed to later lookups) and its label — and who made it:
//! the usager with the vendor's proof, or an agent on their behalf
//! (`linked_by`). The proof itself (a family code and secret) is never
//! stored. Linking again to the same instance replaces the link.
//!
//! The label names a family, like the account's profile names its
//! holder: kept in clear with the account, and gone with it (`ON DELETE
//! CASCADE` from `users`).

use chrono::{DateTime, Utc};
use guichet_core::id::UserId;
use sqlx::any::AnyRow;

use crate::Store;
use crate::error::Result;
use crate::sql::{RowExt, millis};

/// An account linked to a vendor's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLink {
    /// The usager's account.
    pub account: UserId,
    /// The connector instance (`espace-famille-ville`).
    pub instance: String,
    /// The record's id at the vendor (`F-0002`).
    pub remote_id: String,
    /// The record's label (`Famille MARTIN`).
    pub label: String,
    /// The agent who linked on the usager's behalf; `None` when the usager
    /// linked with the vendor's proof.
    pub linked_by: Option<UserId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Keeps a link, replacing the account's link to the same instance.
    ///
    /// # Errors
    /// [`crate::StoreError::Invalid`] when the account (or the agent) does
    /// not exist; a database error.
    pub async fn save_account_link(&self, link: &AccountLink) -> Result<()> {
        sqlx::query(
            "INSERT INTO account_links (user_id, instance_id, remote_id, label, linked_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id, instance_id) DO UPDATE SET remote_id = excluded.remote_id, \
             label = excluded.label, linked_by = excluded.linked_by, created_at = excluded.created_at",
        )
        .bind(link.account.to_string())
        .bind(link.instance.clone())
        .bind(link.remote_id.clone())
        .bind(link.label.clone())
        .bind(link.linked_by.map(|id| id.to_string()))
        .bind(millis(link.created_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The links of an account, by instance.
    ///
    /// # Errors
    /// A database error.
    pub async fn account_links(&self, account: UserId) -> Result<Vec<AccountLink>> {
        let rows = sqlx::query(
            "SELECT user_id, instance_id, remote_id, label, linked_by, created_at \
             FROM account_links WHERE user_id = $1 ORDER BY instance_id",
        )
        .bind(account.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(account_link).collect()
    }

    /// The link of an account to one instance, if it has one.
    ///
    /// # Errors
    /// A database error.
    pub async fn account_link(
        &self,
        account: UserId,
        instance: &str,
    ) -> Result<Option<AccountLink>> {
        sqlx::query(
            "SELECT user_id, instance_id, remote_id, label, linked_by, created_at \
             FROM account_links WHERE user_id = $1 AND instance_id = $2",
        )
        .bind(account.to_string())
        .bind(instance.to_owned())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(account_link)
        .transpose()
    }

    /// Removes the link of an account to one instance; returns whether
    /// there was one.
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_account_link(&self, account: UserId, instance: &str) -> Result<bool> {
        let deleted =
            sqlx::query("DELETE FROM account_links WHERE user_id = $1 AND instance_id = $2")
                .bind(account.to_string())
                .bind(instance.to_owned())
                .execute(&self.write)
                .await?
                .rows_affected();
        Ok(deleted > 0)
    }
}

fn account_link(row: &AnyRow) -> Result<AccountLink> {
    Ok(AccountLink {
        account: UserId::from_uuid(row.uuid("user_id")?),
        instance: row.text("instance_id")?,
        remote_id: row.text("remote_id")?,
        label: row.text("label")?,
        linked_by: row.uuid_opt("linked_by")?.map(UserId::from_uuid),
        created_at: row.instant("created_at")?,
    })
}
