//! The load benchmark's baseline (`tests/benches/submit_load.rs`), built
//! with the `test-support` feature only: what a bare route costs that
//! checks the same session cookie as the API and writes the same 20
//! answers as one row in one transaction, through the store's own pools —
//! the floor a submission's extra work is measured against.

use chrono::{DateTime, Utc};

use crate::Store;
use crate::error::Result;
use crate::session::Secret;
use crate::sql::{millis, new_id};

impl Store {
    /// Creates the baseline's table (`load_baseline`), if missing.
    ///
    /// # Errors
    /// A database error.
    pub async fn create_load_baseline(&self) -> Result<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS load_baseline (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, \
             answers TEXT NOT NULL, created_at BIGINT NOT NULL)",
        )
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Checks the session `token` as every API request does, then writes
    /// `answers` (JSON text) as one row in one transaction.
    ///
    /// # Errors
    /// [`crate::StoreError::NotFound`] for an unknown or expired session;
    /// a database error.
    pub async fn load_baseline_write(
        &self,
        token: &Secret,
        answers: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let user = self.session_user(token, now).await?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO load_baseline (id, user_id, answers, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id().to_string())
        .bind(user.id.to_string())
        .bind(answers.to_owned())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
