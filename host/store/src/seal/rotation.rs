//! Rotating the master key ([`Store::rotate_master_key`]).
//!
//! Only the data keys and the check value are wrapped under the master
//! key; every sealed value — personal values and connector secrets alike —
//! is sealed under a data key. A rotation therefore rewraps each row of
//! `data_keys` (opened under the current key, sealed under the new one,
//! same id) and the row of `sealing_check`, in one write transaction:
//! either the database answers to the new key only, or nothing changed. No
//! sealed value is rewritten.
//!
//! What is signed under keys derived from the master key (the survey
//! links) no longer verifies after a rotation: those links are refused as
//! altered, and the next mails carry new ones.

use super::{CHECK_TEXT, Keyring, MasterKey, WRAP_CONTEXT, decrypt, encrypt, wrap_aad};
use crate::Store;
use crate::error::Result;
use crate::sql::RowExt;

impl Store {
    /// Rewraps every data key and the check value under `new`, in one
    /// transaction; returns how many data keys were rewrapped. Run it with
    /// every host of the database stopped, then start them with `new`:
    /// this store, and any host still holding the old key, can no longer
    /// open a key afterwards.
    ///
    /// # Errors
    /// [`crate::StoreError::Invalid`] if this store's key is not the
    /// database's (nothing is changed); [`crate::StoreError::Corrupt`] for
    /// a data key that does not open (nothing is changed); a database
    /// error.
    pub async fn rotate_master_key(&self, new: &MasterKey) -> Result<u64> {
        let next = Keyring::new(new);
        let mut tx = self.begin().await?;
        self.keys.check(&mut tx).await?;
        let rows = sqlx::query("SELECT id, wrapped FROM data_keys")
            .fetch_all(&mut *tx)
            .await?;
        for row in &rows {
            let id = row.text("id")?;
            let clear = decrypt(
                &self.keys.master,
                &wrap_aad(&id),
                &row.text("wrapped")?,
                "clé de données",
            )?;
            let rewrapped = encrypt(&next.master, &wrap_aad(&id), &clear)?;
            sqlx::query("UPDATE data_keys SET wrapped = $1 WHERE id = $2")
                .bind(rewrapped)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let check = encrypt(&next.master, WRAP_CONTEXT.as_bytes(), CHECK_TEXT.as_bytes())?;
        sqlx::query("UPDATE sealing_check SET check_value = $1 WHERE id = 1")
            .bind(check)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}
