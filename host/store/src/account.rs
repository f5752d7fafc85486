//! Accounts: usagers and agents, their profile (for prefilling forms) and
//! their password hash.
//!
//! The hash is opaque here: the caller hashes with argon2 and verifies; the
//! store only keeps it, never shows it with the [`User`]. Logins are
//! compared without case (stored trimmed and lowercase). Sessions and API
//! tokens are in [`crate::session`].

use chrono::{DateTime, Utc};
use guichet_core::id::UserId;

use guichet_core::profile::Profile;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::sql::{RowExt, millis, to_json};

/// Whether an account files demandes or processes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// A citizen on the portal.
    Usager,
    /// A staff member of the back office (rights come from groups).
    Agent,
}

impl UserKind {
    fn key(self) -> &'static str {
        match self {
            UserKind::Usager => "usager",
            UserKind::Agent => "agent",
        }
    }

    fn from_key(key: &str) -> Result<UserKind> {
        match key {
            "usager" => Ok(UserKind::Usager),
            "agent" => Ok(UserKind::Agent),
            other => Err(StoreError::Corrupt(format!("type de compte « {other} »"))),
        }
    }
}

/// An account to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// The login (usually the e-mail), unique without case.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// Usager or agent.
    pub kind: UserKind,
    /// Identity for prefilling.
    pub profile: Profile,
    /// The argon2 hash of the password, if the account logs in with one.
    pub password_hash: Option<String>,
}

/// An account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// Login, lowercase.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// Usager or agent.
    pub kind: UserKind,
    /// Identity for prefilling.
    pub profile: Profile,
    /// Whether the account may log in.
    pub active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

pub(crate) const USER_COLUMNS: &str =
    "id, login, display_name, kind, profile, disabled_at, created_at";

/// The same columns prefixed with `u.`, for joins.
pub(crate) const USER_COLUMNS_U: &str =
    "u.id, u.login, u.display_name, u.kind, u.profile, u.disabled_at, u.created_at";

/// The same columns of `u`, each renamed with the prefix `account_`: for
/// a join whose other table has columns of the same names (read with
/// [`account`]).
pub(crate) const USER_COLUMNS_ACCOUNT: &str = "u.id AS account_id, u.login AS account_login, \
     u.display_name AS account_display_name, u.kind AS account_kind, u.profile AS account_profile, \
     u.disabled_at AS account_disabled_at, u.created_at AS account_created_at";

pub(crate) fn user(row: &AnyRow) -> Result<User> {
    user_named(row, "")
}

/// The account of [`USER_COLUMNS_ACCOUNT`], if the join found one.
pub(crate) fn account(row: &AnyRow) -> Result<Option<User>> {
    match row.text_opt("account_id")? {
        Some(_) => user_named(row, "account_").map(Some),
        None => Ok(None),
    }
}

/// An account whose columns are named `{prefix}id`, `{prefix}login`…
fn user_named(row: &AnyRow, prefix: &str) -> Result<User> {
    let column = |name: &str| format!("{prefix}{name}");
    Ok(User {
        id: UserId::from_uuid(row.uuid(&column("id"))?),
        login: row.text(&column("login"))?,
        display_name: row.text(&column("display_name"))?,
        kind: UserKind::from_key(&row.text(&column("kind"))?)?,
        profile: row.json(&column("profile"))?,
        active: row.int_opt(&column("disabled_at"))?.is_none(),
        created_at: row.instant(&column("created_at"))?,
    })
}

/// Inserts an account (see [`Store::create_user`]).
///
/// # Errors
/// As [`Store::create_user`].
pub(crate) async fn insert_user(
    conn: &mut sqlx::AnyConnection,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User> {
    let login = normalise_login(&new.login);
    if login.is_empty() {
        return Err(StoreError::Invalid("identifiant vide".into()));
    }
    let user = User {
        id: UserId::from_uuid(Uuid::new_v4()),
        login,
        display_name: new.display_name,
        kind: new.kind,
        profile: new.profile,
        active: true,
        created_at: now,
    };
    sqlx::query(
        "INSERT INTO users (id, login, display_name, kind, profile, password_hash, disabled_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
    )
    .bind(user.id.to_string())
    .bind(user.login.clone())
    .bind(user.display_name.clone())
    .bind(user.kind.key().to_owned())
    .bind(to_json(&user.profile)?)
    .bind(new.password_hash)
    .bind(millis(now))
    .execute(&mut *conn)
    .await
    .map_err(|error| match StoreError::from(error) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("l'identifiant « {} » est déjà pris", user.login))
        }
        other => other,
    })?;
    Ok(user)
}

/// The stored form of a login.
pub(crate) fn normalise_login(login: &str) -> String {
    login.trim().to_lowercase()
}

impl Store {
    /// Creates an account.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an empty login, [`StoreError::Conflict`]
    /// if the login is taken.
    pub async fn create_user(&self, new: NewUser, now: DateTime<Utc>) -> Result<User> {
        let mut conn = self.write.acquire().await?;
        insert_user(&mut conn, new, now).await
    }

    /// An account.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such account.
    pub async fn user(&self, id: UserId) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("compte"))?;
        user(&row)
    }

    /// An account by login (any case).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such account.
    pub async fn user_by_login(&self, login: &str) -> Result<User> {
        Ok(self.credentials(login).await?.0)
    }

    /// An account by login with its password hash, to check a password.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such account.
    pub async fn credentials(&self, login: &str) -> Result<(User, Option<String>)> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE login = $1"
        ))
        .bind(normalise_login(login))
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("compte"))?;
        Ok((user(&row)?, row.text_opt("password_hash")?))
    }

    /// Every account, or those of one kind, by login.
    ///
    /// # Errors
    /// A database error.
    pub async fn users(&self, kind: Option<UserKind>) -> Result<Vec<User>> {
        let rows = match kind {
            Some(kind) => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE kind = $1 ORDER BY login"
                ))
                .bind(kind.key().to_owned())
                .fetch_all(&self.read)
                .await?
            }
            None => {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY login"))
                    .fetch_all(&self.read)
                    .await?
            }
        };
        rows.iter().map(user).collect()
    }

    /// The active usagers whose login or name holds every word of `text`
    /// (case ignored), by name, at most `limit`: whom an agent files a
    /// demande for (*saisie au nom de l'usager*).
    ///
    /// # Errors
    /// A database error.
    pub async fn find_usagers(&self, text: &str, limit: u32) -> Result<Vec<User>> {
        let mut sql =
            crate::sql::Sql::new(&format!("SELECT {USER_COLUMNS} FROM users WHERE kind = "));
        sql.bind(UserKind::Usager.key().to_owned())
            .push(" AND disabled_at IS NULL");
        for word in text.split_whitespace() {
            let pattern = format!("%{}%", crate::sql::like_escape(&word.to_lowercase()));
            sql.push(" AND (LOWER(login) LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR LOWER(display_name) LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
        sql.push(" ORDER BY display_name, login LIMIT ")
            .bind(i64::from(limit));
        let (text, args) = sql.finish()?;
        let rows = sqlx::query_with(&text, args).fetch_all(&self.read).await?;
        rows.iter().map(user).collect()
    }

    /// Replaces the password hash.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such account.
    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<()> {
        self.update_user(
            "UPDATE users SET password_hash = $1 WHERE id = $2",
            hash.to_owned(),
            id,
        )
        .await
    }

    /// Replaces the name shown and the profile.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such account.
    pub async fn update_profile(
        &self,
        id: UserId,
        display_name: &str,
        profile: &Profile,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE users SET display_name = $1, profile = $2 WHERE id = $3")
            .bind(display_name.to_owned())
            .bind(to_json(profile)?)
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        self.sessions.clear();
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("compte"));
        }
        Ok(())
    }

    /// Deletes an usager's account at their request, in one transaction:
    /// their drafts with their files (overwritten, then unlinked after the
    /// commit), then the account, whose sessions, API tokens and account
    /// links go with it (`ON DELETE CASCADE`). Their demandes stay with the
    /// services, which must keep them (they are anonymised on the
    /// démarche's schedule), no longer tied to any account (`ON DELETE SET
    /// NULL`). Agents' accounts are never deleted this way.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no usager account with this
    /// id; a database error, nothing deleted then.
    pub async fn delete_usager_account(&self, id: UserId, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        let drafts: Vec<crate::draft::DraftId> =
            sqlx::query("SELECT id FROM drafts WHERE owner_id = $1 OR usager_id = $1 ORDER BY id")
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| Ok(crate::draft::DraftId(row.uuid("id")?)))
                .collect::<Result<_>>()?;
        let mut files = Vec::new();
        for draft in &drafts {
            files.extend(crate::draft::delete_draft_in(&mut tx, *draft, None, now).await?);
        }
        let done = sqlx::query("DELETE FROM users WHERE id = $1 AND kind = $2")
            .bind(id.to_string())
            .bind(UserKind::Usager.key())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("compte"));
        }
        tx.commit().await?;
        self.sessions.clear();
        for draft in drafts {
            self.forget_draft(draft);
        }
        self.delete_files_after_commit(&files).await;
        self.personal_data_erased();
        Ok(())
    }

    /// Enables or disables an account; disabling also ends its sessions.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such account,
    /// [`StoreError::LastAdministrator`] when disabling the last active
    /// account holding administration.
    pub async fn set_active(&self, id: UserId, active: bool, now: DateTime<Utc>) -> Result<()> {
        let (mut tx, before) = self.begin_administration_change().await?;
        let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind((!active).then(|| millis(now)))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("compte"));
        }
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let committed = self
            .commit_administration_change(tx, before, || {
                "impossible de désactiver ce compte : c'est le dernier compte actif ayant le droit d'administration".to_owned()
            })
            .await;
        self.sessions.clear();
        committed
    }

    async fn update_user(&self, sql: &str, value: String, id: UserId) -> Result<()> {
        let done = sqlx::query(sql)
            .bind(value)
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("compte"));
        }
        Ok(())
    }
}
