//! What connectors leave behind: the journal of their calls (for the SI to
//! see every exchange and error) and the link of a demande to its record in
//! a business application (for agents to see the remote number, status and
//! card).
//!
//! The connector runtime's own record type lives in the host; the store
//! takes a plain [`ConnectorCall`], with logs and HTTP exchanges as JSON.
//!
//! **Durable.** The calls a job's attempt made (a transmission, a reading
//! of the vendor's record) are written in the transaction that records the
//! attempt's outcome ([`Store::complete_job_journaled`],
//! [`Store::fail_job_journaled`]), naming their job and demande; calls made
//! outside jobs (lookups, checks) are written on their own
//! ([`Store::record_connector_call`]). The texts a call may quote the usager
//! in (error, logs, exchanges) are sealed with its demande's key and erased
//! when the demande is anonymised (`erase_of`).

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::Store;
use crate::error::Result;
use crate::job::JobId;
use crate::seal::{self, Keyring};
use crate::sql::{RowExt, Sql, count, from_json, millis, new_id, to_json, unsigned};
use guichet_core::history::HistoryEntry;
use guichet_core::id::DemandeId;

/// The identifier of a journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub Uuid);

/// One call of a connector, as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorCall {
    /// The connector's name (`atal`).
    pub connector: String,
    /// Its version (`1.2.0`).
    pub connector_version: String,
    /// The configured instance (`atal-ville`).
    pub instance: String,
    /// The operation (`transmit`, `status`, `lookup`, `card`, `check`).
    pub operation: String,
    /// When the call started.
    pub at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// How it ended (`ok`, `error`, `trap`, `timeout`…).
    pub outcome: String,
    /// The error, if any.
    pub error: Option<String>,
    /// The structured logs the component wrote.
    pub logs: serde_json::Value,
    /// The HTTP exchanges it made.
    pub exchanges: serde_json::Value,
    /// The demande concerned, if any.
    pub demande: Option<DemandeId>,
    /// The job whose attempt made the call, if any (set by the store when
    /// it writes the call with the attempt's outcome).
    pub job: Option<JobId>,
}

/// Which journal entries to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallQuery {
    /// Only this instance.
    pub instance: Option<String>,
    /// Only the calls of this connector (by name, every version).
    pub connector: Option<String>,
    /// Only calls about this demande.
    pub demande: Option<DemandeId>,
    /// At most this many, latest first.
    pub limit: u32,
}

/// The record of a demande in a business application, as its connector last
/// reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteLink {
    /// The demande.
    pub demande: DemandeId,
    /// The connector instance.
    pub instance: String,
    /// The id in the business application.
    pub remote_id: String,
    /// The number shown to people, if the application has one.
    pub display_id: Option<String>,
    /// The last remote status read (code, label, final, comments).
    pub remote_status: Option<serde_json::Value>,
    /// The last card read (what agents see on the demande).
    pub card: Option<serde_json::Value>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The columns of a call, with its demande's key ([`seal::key_columns`]).
fn call_columns() -> String {
    format!(
        "id, connector, connector_version, instance, operation, called_at, duration_ms, outcome, \
         error, logs, exchanges, demande_id, job_id, {}",
        seal::key_columns(DEMANDE_KEY)
    )
}

/// The key id of the demande of a call or link.
const DEMANDE_KEY: &str = "(SELECT d.key_id FROM demandes d WHERE d.id = demande_id)";

/// The sealed columns of calls and links.
const ERROR: &str = "connector_calls.error";
const LOGS: &str = "connector_calls.logs";
const EXCHANGES: &str = "connector_calls.exchanges";
const REMOTE_STATUS: &str = "connector_links.remote_status";
const CARD: &str = "connector_links.card";

fn call(row: &AnyRow, keys: &Keyring) -> Result<(CallId, ConnectorCall)> {
    let key = keys.of_row(row)?;
    let key = key.as_ref();
    Ok((
        CallId(row.uuid("id")?),
        ConnectorCall {
            connector: row.text("connector")?,
            connector_version: row.text("connector_version")?,
            instance: row.text("instance")?,
            operation: row.text("operation")?,
            at: row.instant("called_at")?,
            duration_ms: unsigned(row.int("duration_ms")?),
            outcome: row.text("outcome")?,
            error: seal::open_opt(key, ERROR, row.text_opt("error")?)?,
            logs: seal::open_json(key, LOGS, row.text("logs")?)?,
            exchanges: seal::open_json(key, EXCHANGES, row.text("exchanges")?)?,
            demande: row.uuid_opt("demande_id")?.map(DemandeId::from_uuid),
            job: row.uuid_opt("job_id")?.map(JobId),
        },
    ))
}

/// The columns of a link, with its demande's key ([`seal::key_columns`]).
fn link_columns() -> String {
    format!(
        "demande_id, instance, remote_id, display_id, remote_status, card, updated_at, {}",
        seal::key_columns(DEMANDE_KEY)
    )
}

fn link(row: &AnyRow, keys: &Keyring) -> Result<RemoteLink> {
    let key = keys.of_row(row)?;
    let key = key.as_ref();
    let json = |column: &str, name: &str| -> Result<Option<serde_json::Value>> {
        seal::open_opt(key, name, row.text_opt(column)?)?
            .as_deref()
            .map(from_json)
            .transpose()
    };
    Ok(RemoteLink {
        demande: DemandeId::from_uuid(row.uuid("demande_id")?),
        instance: row.text("instance")?,
        remote_id: row.text("remote_id")?,
        display_id: row.text_opt("display_id")?,
        remote_status: json("remote_status", REMOTE_STATUS)?,
        card: json("card", CARD)?,
        updated_at: row.instant("updated_at")?,
    })
}

/// Erases what connectors recorded about a demande that may quote the
/// usager (anonymisation): logs, exchanges and errors of its calls, the
/// remote status and card of its links. Remote ids and timings stay.
pub(crate) async fn erase_of(conn: &mut AnyConnection, demande: DemandeId) -> Result<()> {
    sqlx::query(
        "UPDATE connector_calls SET logs = $1, exchanges = $2, error = NULL WHERE demande_id = $3",
    )
    .bind("[]".to_owned())
    .bind("[]".to_owned())
    .bind(demande.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE connector_links SET remote_status = NULL, card = NULL WHERE demande_id = $1",
    )
    .bind(demande.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes calls in the current transaction, each sealed with its
/// demande's key, naming `job` when a job's attempt made them; returns
/// their ids.
pub(crate) async fn insert_calls(
    conn: &mut AnyConnection,
    keys: &Keyring,
    calls: &[ConnectorCall],
    job: Option<JobId>,
) -> Result<Vec<CallId>> {
    let mut ids = Vec::with_capacity(calls.len());
    for call in calls {
        let id = CallId(new_id());
        let key = match call.demande {
            Some(demande) => keys.of_demande(conn, demande).await?,
            None => None,
        };
        let key = key.as_ref();
        sqlx::query(
            "INSERT INTO connector_calls (id, connector, connector_version, instance, operation, \
             called_at, duration_ms, outcome, error, logs, exchanges, demande_id, job_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id.0.to_string())
        .bind(call.connector.clone())
        .bind(call.connector_version.clone())
        .bind(call.instance.clone())
        .bind(call.operation.clone())
        .bind(millis(call.at))
        .bind(count(call.duration_ms))
        .bind(call.outcome.clone())
        .bind(seal::seal_opt(key, ERROR, call.error.clone())?)
        .bind(seal::seal_json(key, LOGS, &call.logs)?)
        .bind(seal::seal_json(key, EXCHANGES, &call.exchanges)?)
        .bind(call.demande.map(|d| d.to_string()))
        .bind(job.or(call.job).map(|j| j.0.to_string()))
        .execute(&mut *conn)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

impl Store {
    /// Journals a connector call made outside a job (a lookup, a check);
    /// the calls of a job's attempt go with its outcome
    /// ([`Store::complete_job_journaled`]).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown demande, a database error.
    pub async fn record_connector_call(&self, call: &ConnectorCall) -> Result<CallId> {
        let mut tx = self.begin().await?;
        let ids = insert_calls(&mut tx, &self.keys, std::slice::from_ref(call), None).await?;
        tx.commit().await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| crate::error::StoreError::Corrupt("appel non journalisé".into()))
    }

    /// Journal entries, latest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn connector_calls(&self, query: &CallQuery) -> Result<Vec<(CallId, ConnectorCall)>> {
        self.connector_calls_of(query, None, None).await
    }

    /// [`Store::connector_calls`], only the calls of `operation`
    /// (`transmit`, `check`…) that ended with `outcome` (`ok`, `trap`…),
    /// each when given.
    ///
    /// # Errors
    /// A database error.
    pub async fn connector_calls_of(
        &self,
        query: &CallQuery,
        operation: Option<&str>,
        outcome: Option<&str>,
    ) -> Result<Vec<(CallId, ConnectorCall)>> {
        let mut sql = Sql::new(&format!(
            "SELECT {} FROM connector_calls WHERE 1 = 1",
            call_columns()
        ));
        if let Some(instance) = &query.instance {
            sql.push(" AND instance = ").bind(instance.clone());
        }
        if let Some(connector) = &query.connector {
            sql.push(" AND connector = ").bind(connector.clone());
        }
        if let Some(demande) = query.demande {
            sql.push(" AND demande_id = ").bind(demande.to_string());
        }
        if let Some(operation) = operation {
            sql.push(" AND operation = ").bind(operation.to_owned());
        }
        if let Some(outcome) = outcome {
            sql.push(" AND outcome = ").bind(outcome.to_owned());
        }
        sql.push(" ORDER BY called_at DESC, id LIMIT ")
            .bind(i64::from(query.limit));
        let (text, args) = sql.finish()?;
        let rows = sqlx::query_with(&text, args).fetch_all(&self.read).await?;
        rows.iter().map(|row| call(row, &self.keys)).collect()
    }

    /// Creates or updates the link of a demande to its remote record. A
    /// `None` status or card keeps the one stored (a status poll does not
    /// erase the card, and the reverse).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown demande, a database error.
    pub async fn upsert_remote_link(&self, link: &RemoteLink) -> Result<()> {
        self.record_remote_link(link, None).await
    }

    /// [`Store::upsert_remote_link`], and, when the link is new (the
    /// vendor's record was just made), `entry` appended to the demande's
    /// history in the same transaction: a transmission retried after its
    /// link was written writes it once.
    ///
    /// # Errors
    /// As [`Store::upsert_remote_link`].
    pub async fn record_remote_link(
        &self,
        link: &RemoteLink,
        entry: Option<&HistoryEntry>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        self.write_remote_link(&mut tx, link, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The writes of [`Store::record_remote_link`], in a transaction of
    /// the caller's (a job's completion).
    pub(crate) async fn write_remote_link(
        &self,
        tx: &mut AnyConnection,
        link: &RemoteLink,
        entry: Option<&HistoryEntry>,
    ) -> Result<()> {
        let key = self.keys.of_demande(tx, link.demande).await?;
        let known = sqlx::query(&format!(
            "SELECT remote_id FROM connector_links WHERE demande_id = $1 AND instance = $2{}",
            self.for_update()
        ))
        .bind(link.demande.to_string())
        .bind(link.instance.clone())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if let Some(entry) = entry.filter(|_| !known) {
            crate::history::insert(tx, std::slice::from_ref(entry), key.as_ref()).await?;
        }
        let key = key.as_ref();
        let sealed = |name: &str, value: &Option<serde_json::Value>| -> Result<Option<String>> {
            seal::seal_opt(key, name, value.as_ref().map(to_json).transpose()?)
        };
        sqlx::query(
            "INSERT INTO connector_links (demande_id, instance, remote_id, display_id, remote_status, \
             card, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (demande_id, instance) DO UPDATE SET remote_id = excluded.remote_id, \
             display_id = COALESCE(excluded.display_id, connector_links.display_id), \
             remote_status = COALESCE(excluded.remote_status, connector_links.remote_status), \
             card = COALESCE(excluded.card, connector_links.card), updated_at = excluded.updated_at",
        )
        .bind(link.demande.to_string())
        .bind(link.instance.clone())
        .bind(link.remote_id.clone())
        .bind(link.display_id.clone())
        .bind(sealed(REMOTE_STATUS, &link.remote_status)?)
        .bind(sealed(CARD, &link.card)?)
        .bind(millis(link.updated_at))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Every link of a demande, by instance.
    ///
    /// # Errors
    /// A database error.
    pub async fn remote_links(&self, demande: DemandeId) -> Result<Vec<RemoteLink>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM connector_links WHERE demande_id = $1 ORDER BY instance",
            link_columns()
        ))
        .bind(demande.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|row| link(row, &self.keys)).collect()
    }
}
