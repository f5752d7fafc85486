//! Groups named `Role_Collectivité_Direction_Service`, their members, and
//! the grants that give a group its role on one démarche or on all.
//!
//! A grant stores no role of its own: the role is the group name's first
//! part (`Gest_…` → Gestionnaire), as `guichet_core::role` reads it, so the
//! two can never disagree. [`Store::access`] returns the groups of a person
//! and the grants of those groups: what `guichet_core::role::rights` needs,
//! for every démarche at once.
//!
//! **Someone always administers.** A change that would leave no active
//! account holding administration — a member of a group whose role has the
//! `administration` right, granted on every démarche — is refused with
//! [`StoreError::LastAdministrator`]: deleting that group, removing its last
//! such member, revoking its grant, or disabling the last such account
//! ([`Store::set_active`]). The change and the count run in one
//! transaction, serialised by SQLite's single writer and, on PostgreSQL, by
//! an advisory lock, so two administrators removing each other at once
//! cannot both succeed. A database that never had an administrator (a fresh
//! install before `guichet admin create`) is not held to it.

use chrono::{DateTime, Utc};
use guichet_core::id::{Slug, UserId};

use guichet_core::role::{self, Grant, GroupName, Right, Rights, Scope};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Transaction};

use crate::error::{Result, StoreError};
use crate::sql::{RowExt, millis};
use crate::{Backend, Store};

/// The stored scope meaning every démarche (slugs never contain `*`).
const ALL: &str = "*";

/// The groups of a person and the grants of those groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Access {
    /// The groups the person is a member of.
    pub groups: Vec<GroupName>,
    /// The grants of those groups.
    pub grants: Vec<Grant>,
}

impl Access {
    /// The person's rights on a démarche (`guichet_core::role::rights`).
    pub fn rights(&self, demarche: &Slug) -> Rights {
        role::rights(&self.groups, &self.grants, demarche)
    }
}

fn group_name(text: &str) -> Result<GroupName> {
    GroupName::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn scope_key(scope: &Scope) -> String {
    match scope {
        Scope::All => ALL.to_owned(),
        Scope::Demarche(slug) => slug.as_str().to_owned(),
    }
}

fn grant(row: &AnyRow) -> Result<Grant> {
    let scope = row.text("scope")?;
    Ok(Grant {
        group: group_name(&row.text("group_name")?)?,
        scope: if scope == ALL {
            Scope::All
        } else {
            Scope::Demarche(Slug::from(scope))
        },
    })
}

/// The key of the PostgreSQL advisory lock serialising changes to who
/// holds administration.
const ADMINISTRATION_LOCK: i64 = 0x6775_6963_6865_7401;

/// The number of active accounts holding administration.
async fn administrators(conn: &mut AnyConnection) -> Result<usize> {
    let rows = sqlx::query(
        "SELECT m.user_id, m.group_name FROM group_members m \
         JOIN grants g ON g.group_name = m.group_name \
         JOIN users u ON u.id = m.user_id \
         WHERE g.scope = $1 AND u.disabled_at IS NULL",
    )
    .bind(ALL.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    let mut holders = std::collections::BTreeSet::new();
    for row in &rows {
        if group_name(&row.text("group_name")?)?
            .role()
            .rights()
            .contains(Right::Administration)
        {
            holders.insert(row.text("user_id")?);
        }
    }
    Ok(holders.len())
}

impl Store {
    /// Starts a transaction that may change who holds administration, and
    /// counts the holders before the change.
    pub(crate) async fn begin_administration_change(
        &self,
    ) -> Result<(Transaction<'static, Any>, usize)> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(ADMINISTRATION_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        let before = administrators(&mut tx).await?;
        Ok((tx, before))
    }

    /// Commits a change begun by [`Store::begin_administration_change`],
    /// unless it leaves nobody holding administration.
    pub(crate) async fn commit_administration_change(
        &self,
        mut tx: Transaction<'static, Any>,
        before: usize,
        refusal: impl FnOnce() -> String,
    ) -> Result<()> {
        if before > 0 && administrators(&mut tx).await? == 0 {
            tx.rollback().await?;
            return Err(StoreError::LastAdministrator(refusal()));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates a group.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if it exists.
    pub async fn create_group(&self, name: &GroupName, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO agent_groups (name, created_at) VALUES ($1, $2)")
            .bind(name.as_str().to_owned())
            .bind(millis(now))
            .execute(&self.write)
            .await
            .map_err(|error| match StoreError::from(error) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("le groupe « {name} » existe déjà"))
                }
                other => other,
            })?;
        Ok(())
    }

    /// Whether a group exists.
    ///
    /// # Errors
    /// A database error.
    pub async fn group_exists(&self, name: &GroupName) -> Result<bool> {
        Ok(sqlx::query("SELECT name FROM agent_groups WHERE name = $1")
            .bind(name.as_str().to_owned())
            .fetch_optional(&self.read)
            .await?
            .is_some())
    }

    /// Sets (or, with `None`, removes) the mailbox of a group: where the
    /// mails to its service go (`guichet_host::service::notifications`).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such group.
    pub async fn set_group_mailbox(&self, name: &GroupName, mailbox: Option<&str>) -> Result<()> {
        let done = sqlx::query("UPDATE agent_groups SET mailbox = $1 WHERE name = $2")
            .bind(mailbox.map(str::to_owned))
            .bind(name.as_str().to_owned())
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("groupe"));
        }
        Ok(())
    }

    /// The mailbox of a group, if it has one (`None` also when there is no
    /// such group).
    ///
    /// # Errors
    /// A database error.
    pub async fn group_mailbox(&self, name: &GroupName) -> Result<Option<String>> {
        let row = sqlx::query("SELECT mailbox FROM agent_groups WHERE name = $1")
            .bind(name.as_str().to_owned())
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(row) => row.text_opt("mailbox"),
            None => Ok(None),
        }
    }

    /// Deletes a group with its memberships and grants.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such group,
    /// [`StoreError::LastAdministrator`] if it is the last one holding
    /// administration.
    pub async fn delete_group(&self, name: &GroupName) -> Result<()> {
        // Memberships and grants go with it (ON DELETE CASCADE).
        let (mut tx, before) = self.begin_administration_change().await?;
        let done = sqlx::query("DELETE FROM agent_groups WHERE name = $1")
            .bind(name.as_str().to_owned())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("groupe"));
        }
        self.commit_administration_change(tx, before, || {
            format!(
                "impossible de supprimer le groupe « {name} » : plus aucun compte actif n'aurait le droit d'administration"
            )
        })
        .await
    }

    /// Every group, by name.
    ///
    /// # Errors
    /// A database error.
    pub async fn groups(&self) -> Result<Vec<GroupName>> {
        let rows = sqlx::query("SELECT name FROM agent_groups ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| group_name(&row.text("name")?))
            .collect()
    }

    /// Adds a member to a group (adding one twice is not an error).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown group or account.
    pub async fn add_member(&self, group: &GroupName, user: UserId) -> Result<()> {
        sqlx::query(
            "INSERT INTO group_members (group_name, user_id) VALUES ($1, $2) \
             ON CONFLICT (group_name, user_id) DO NOTHING",
        )
        .bind(group.as_str().to_owned())
        .bind(user.to_string())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Removes a member from a group.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if they were not a member,
    /// [`StoreError::LastAdministrator`] if they are the last account
    /// holding administration.
    pub async fn remove_member(&self, group: &GroupName, user: UserId) -> Result<()> {
        let (mut tx, before) = self.begin_administration_change().await?;
        let done = sqlx::query("DELETE FROM group_members WHERE group_name = $1 AND user_id = $2")
            .bind(group.as_str().to_owned())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("membre du groupe"));
        }
        self.commit_administration_change(tx, before, || {
            format!(
                "impossible de retirer ce compte du groupe « {group} » : c'est le dernier compte actif ayant le droit d'administration"
            )
        })
        .await
    }

    /// The members of a group.
    ///
    /// # Errors
    /// A database error.
    pub async fn members(&self, group: &GroupName) -> Result<Vec<UserId>> {
        let rows =
            sqlx::query("SELECT user_id FROM group_members WHERE group_name = $1 ORDER BY user_id")
                .bind(group.as_str().to_owned())
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|row| Ok(UserId::from_uuid(row.uuid("user_id")?)))
            .collect()
    }

    /// The groups of a person, by name.
    ///
    /// # Errors
    /// A database error.
    pub async fn groups_of(&self, user: UserId) -> Result<Vec<GroupName>> {
        let rows = sqlx::query(
            "SELECT group_name FROM group_members WHERE user_id = $1 ORDER BY group_name",
        )
        .bind(user.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| group_name(&row.text("group_name")?))
            .collect()
    }

    /// Grants a group its role on a scope (granting twice is not an error).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown group.
    pub async fn grant(&self, grant: &Grant, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO grants (group_name, scope, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (group_name, scope) DO NOTHING",
        )
        .bind(grant.group.as_str().to_owned())
        .bind(scope_key(&grant.scope))
        .bind(millis(now))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Withdraws a grant.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such grant,
    /// [`StoreError::LastAdministrator`] if it is the last one giving
    /// administration.
    pub async fn revoke(&self, grant: &Grant) -> Result<()> {
        let (mut tx, before) = self.begin_administration_change().await?;
        let done = sqlx::query("DELETE FROM grants WHERE group_name = $1 AND scope = $2")
            .bind(grant.group.as_str().to_owned())
            .bind(scope_key(&grant.scope))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("habilitation"));
        }
        self.commit_administration_change(tx, before, || {
            format!(
                "impossible de retirer cette habilitation du groupe « {} » : plus aucun compte actif n'aurait le droit d'administration",
                grant.group
            )
        })
        .await
    }

    /// Every grant, by group then scope.
    ///
    /// # Errors
    /// A database error.
    pub async fn grants(&self) -> Result<Vec<Grant>> {
        let rows = sqlx::query("SELECT group_name, scope FROM grants ORDER BY group_name, scope")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(grant).collect()
    }

    /// The groups of a person and their grants; `.rights(slug)` gives the
    /// person's rights on a démarche.
    ///
    /// # Errors
    /// A database error.
    pub async fn access(&self, user: UserId) -> Result<Access> {
        let groups = self.groups_of(user).await?;
        let rows = sqlx::query(
            "SELECT g.group_name, g.scope FROM grants g JOIN group_members m \
             ON m.group_name = g.group_name WHERE m.user_id = $1 ORDER BY g.group_name, g.scope",
        )
        .bind(user.to_string())
        .fetch_all(&self.read)
        .await?;
        let grants = rows.iter().map(grant).collect::<Result<_>>()?;
        Ok(Access { groups, grants })
    }
}
