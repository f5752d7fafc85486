//! Demandes: numbering, reading, the usager's list and the agents'
//! processing table. Writing goes through [`crate::outcome`].
//!
//! A demande is stored whole as JSON beside the columns the lists filter
//! and sort on: status and its phase, services (`demande_services`, for
//! joint processing), submission date and the processing deadline. The
//! deadline column holds the deadline *without* the current hold; with
//! `on_hold_since` it gives the deadline at any instant (a hold moves it
//! day by day) and the *late* flag in SQL, through an index:
//! late ⇔ in processing and `processing_deadline < COALESCE(on_hold_since, now)`
//! — the same rule as `guichet_core::workflow::deadline::is_late`.
//! Beside it, the table flags the demandes in progress past an agent
//! reminder (`last_reminder`, the days of the last reminder sent: 15, then
//! 21), filters and sorts on it ([`ProcessingQuery::reminder`],
//! [`TableSort`]).
//!
//! Numbers (`ARV-2026-000123`) are unique per démarche and year: a counter
//! row per (démarche, year) is incremented by one upsert, which PostgreSQL
//! serialises on the row lock and SQLite on its single writer. A filing's
//! outcome is built before its number is taken, with a placeholder that
//! the number then replaces wherever the workflow wrote it (texts and
//! mails: `Outcome::renumber`); [`Store::file_demande`] makes sure a refused
//! submission takes none (on SQLite numbering has no gap at all; on
//! PostgreSQL a failure while storing, after the number was taken, leaves
//! one, never a duplicate: a database failure, a filing cancelled, or a
//! draft saved between the number and the demande).

use chrono::{DateTime, Utc};
use guichet_core::access::Perimeter;
use guichet_core::calendar::Zone;
use guichet_core::demande::{Demande, DemarcheRef};
use guichet_core::id::{DemandeId, Slug, StatusId, UserId};
use guichet_core::workflow::deadline;

use guichet_core::role::{GroupName, Role};
use guichet_core::workflow::Phase;
use sqlx::any::AnyRow;

use crate::Store;
use crate::demarche::VersionFacts;
use crate::error::{Result, StoreError};
use crate::seal::{self, Keyring};
use crate::sql::{Batch, RowExt, Sql, millis, new_id};

/// The row version of a demande, for optimistic concurrency: a write names
/// the revision it read, and fails with [`StoreError::Conflict`] if the
/// demande changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(pub i64);

/// A demande as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDemande {
    /// The demande.
    pub demande: Demande,
    /// Its revision, to name when writing an outcome computed from it.
    pub revision: Revision,
    /// Last written.
    pub updated_at: DateTime<Utc>,
}

/// The identity of a demande about to be filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// A fresh identifier.
    pub id: DemandeId,
    /// The next number of the démarche for the year (`ARV-2026-000123`).
    pub numero: String,
}

impl Reservation {
    /// A fresh identifier and, for the number, a placeholder made of it
    /// (`numero-<id>`, a text no definition holds): a filing's outcome is
    /// built with it, then numbered ([`Outcome::renumber`]).
    ///
    /// [`Outcome::renumber`]: guichet_core::workflow::Outcome::renumber
    pub(crate) fn unnumbered() -> Reservation {
        let id = new_id();
        Reservation {
            id: DemandeId::from_uuid(id),
            numero: format!("numero-{id}"),
        }
    }
}

/// Takes the démarche's next number for `year` on `conn`, in a statement
/// of its own (outside any transaction), as its text (`ARV-2026-000123`),
/// for filings written by hand in tests. Filings take theirs with the
/// others waiting at the same moment ([`crate::numbering`], whose statement
/// does the same, and whose docs say why its commit does not wait for its
/// flush on PostgreSQL). Never call it inside a transaction that writes
/// anything else: the whole transaction's commit would not wait for its
/// flush.
#[cfg(any(test, feature = "test-support"))]
pub(crate) async fn next_number(
    conn: &mut sqlx::AnyConnection,
    slug: &Slug,
    prefix: &str,
    year: i32,
) -> Result<String> {
    let mut batch = Batch::on(conn);
    let postgres = conn.backend_name() == "PostgreSQL";
    let statement = push_next_number(&mut batch, slug, year);
    if postgres {
        statement.push(", set_config('synchronous_commit', 'off', true) AS unflushed");
    }
    let rows = batch.run(conn).await?;
    let number = rows
        .first()
        .ok_or_else(|| StoreError::Corrupt("compteur de numéros sans valeur".into()))?
        .int("n")?;
    Ok(numero(prefix, year, number))
}

/// Adds to `batch` the statement that takes the démarche's next number for
/// `year`; it returns one row whose `kind` is `'number'` and whose `n` is
/// the number. Returns the statement, whose `RETURNING` clause may take
/// more columns.
pub(crate) fn push_next_number<'b>(batch: &'b mut Batch, slug: &Slug, year: i32) -> &'b mut Sql {
    batch
        .statement("INSERT INTO numero_counters (slug, year, last_number) VALUES (")
        .item(slug.as_str().to_owned())
        .item(i64::from(year))
        .push(
            ", 1) ON CONFLICT (slug, year) DO UPDATE SET last_number = numero_counters.last_number + 1 \
             RETURNING 'number' AS kind, last_number AS n",
        )
}

/// The text of the `number` taken for `year` (`ARV-2026-000123`).
pub(crate) fn numero(prefix: &str, year: i32, number: i64) -> String {
    format!("{prefix}-{year}-{number:06}")
}

/// Filters and page of the processing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingQuery {
    /// The démarches to list, each with the demandes the agent may read
    /// there ([`guichet_core::access::read_perimeter`]); empty lists nothing.
    pub demarches: Vec<(Slug, Perimeter)>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<StatusId>,
    /// Only demandes processed by this service (primary or joint).
    pub service: Option<GroupName>,
    /// Only late demandes (`Some(true)`) or only those not late (`Some(false)`).
    pub late: Option<bool>,
    /// Only demandes in progress past their reminder of at least this many
    /// days (`Some(15)`: the 15- or 21-day reminder was sent), or with no
    /// reminder flag (`Some(0)`).
    pub reminder: Option<u32>,
    /// Only demandes on hold (`Some(true)`) or only those not on hold.
    pub on_hold: Option<bool>,
    /// Only demandes whose number contains this text, or whose usager's
    /// account name does (case ignored; every word must match).
    pub search: Option<String>,
    /// The order of the rows.
    pub sort: TableSort,
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return.
    pub limit: u32,
}

impl ProcessingQuery {
    /// Every demande of these démarches, first page of 50.
    pub fn of(demarches: Vec<Slug>) -> ProcessingQuery {
        ProcessingQuery {
            demarches: demarches
                .into_iter()
                .map(|slug| (slug, Perimeter::Everything))
                .collect(),
            statuses: Vec::new(),
            service: None,
            late: None,
            reminder: None,
            on_hold: None,
            search: None,
            sort: TableSort::Deadline,
            offset: 0,
            limit: 50,
        }
    }
}

/// The order of the processing table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TableSort {
    /// By processing deadline, earliest first, none last; then by filing.
    #[default]
    Deadline,
    /// The most advanced reminder first (21 days, then 15, then none),
    /// then as [`TableSort::Deadline`].
    Reminder,
}

/// A line of the processing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingRow {
    /// The demande.
    pub id: DemandeId,
    /// Its number.
    pub numero: String,
    /// Its démarche version.
    pub demarche: DemarcheRef,
    /// Its status.
    pub status: StatusId,
    /// Its service in charge.
    pub service: GroupName,
    /// Filed.
    pub submitted_at: DateTime<Utc>,
    /// The processing deadline as of the query (moved by holds).
    pub deadline: Option<DateTime<Utc>>,
    /// In processing past its deadline.
    pub late: bool,
    /// In processing past an agent reminder: the days of the last one sent
    /// (15, 21; PROCESS.md, « relance à 15 et 21 jours »), the flag the
    /// table shows before `late` turns true at the deadline.
    pub reminder: Option<u32>,
    /// On hold since then (*mise en attente*), if it is.
    pub on_hold_since: Option<DateTime<Utc>>,
    /// The name of the usager's account, if the demande has one (a
    /// *saisie au nom de l'usager* may have none).
    pub usager_name: Option<String>,
    /// Last written.
    pub updated_at: DateTime<Utc>,
}

/// A page of the processing table, sorted by deadline (none last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingPage {
    /// The rows of the page.
    pub rows: Vec<ProcessingRow>,
    /// How many rows match, all pages together.
    pub total: u64,
}

/// The phases during which a demande can be late.
pub(crate) const IN_PROGRESS: [Phase; 3] = [Phase::Analysis, Phase::Processing, Phase::OnHold];

/// The stable key of a phase.
pub(crate) fn phase_key(phase: Phase) -> &'static str {
    match phase {
        Phase::Submitted => "submitted",
        Phase::Analysis => "analysis",
        Phase::Processing => "processing",
        Phase::OnHold => "on_hold",
        Phase::Closed => "closed",
        Phase::Archived => "archived",
        Phase::Anonymised => "anonymised",
        Phase::Trashed => "trashed",
    }
}

/// The columns computed from a demande for filtering and sorting.
pub(crate) struct Columns {
    pub phase: &'static str,
    pub processing_deadline: Option<i64>,
    pub on_hold_since: Option<i64>,
    /// What the statistics and the reminder flag read.
    pub statistics: crate::statistics::StatisticsColumns,
}

pub(crate) fn columns(demande: &Demande, facts: &VersionFacts, zone: Zone) -> Columns {
    let open_hold = demande
        .dates
        .holds
        .iter()
        .rev()
        .find(|hold| hold.until.is_none())
        .map(|hold| hold.from);
    // At the start of the open hold (or at any instant without one), the
    // time on hold counts only the closed holds.
    let at = open_hold.unwrap_or(demande.dates.submitted_at);
    Columns {
        phase: facts
            .phases
            .get(&demande.status)
            .map_or("unknown", |phase| phase_key(*phase)),
        processing_deadline: deadline::reminder_due(demande, facts.processing_days, at, zone)
            .map(millis),
        on_hold_since: open_hold.map(millis),
        statistics: crate::statistics::statistics_columns(demande, facts),
    }
}

fn version_of(n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("version {n}")))
}

/// The sealed column of demandes.
pub(crate) const DATA: &str = "demandes.data";

/// The columns [`stored`] reads, from a table aliased `d`.
fn stored_columns() -> String {
    format!(
        "d.data, d.revision, d.updated_at, {}",
        seal::key_columns("d.key_id")
    )
}

fn stored(row: &AnyRow, keys: &Keyring) -> Result<StoredDemande> {
    let key = keys.of_row(row)?;
    Ok(StoredDemande {
        demande: seal::open_json(key.as_ref(), DATA, row.text("data")?)?,
        revision: Revision(row.int("revision")?),
        updated_at: row.instant("updated_at")?,
    })
}

fn group(text: String) -> Result<GroupName> {
    GroupName::parse(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The columns [`processing_row`] reads, from a table aliased `d`.
pub(crate) const PROCESSING_COLUMNS: &str = "d.id, d.numero, d.slug, d.version, d.status, d.phase, \
     d.primary_service, d.submitted_at, d.processing_deadline, d.on_hold_since, d.last_reminder, \
     d.updated_at, (SELECT u.display_name FROM users u WHERE u.id = d.usager_id) AS usager_name";

/// A line of the processing table as of `now`.
pub(crate) fn processing_row(row: &AnyRow, now: DateTime<Utc>) -> Result<ProcessingRow> {
    let base = row.instant_opt("processing_deadline")?;
    let hold = row.instant_opt("on_hold_since")?;
    let deadline = base.map(|base| base + hold.map_or(chrono::Duration::zero(), |from| now - from));
    let phase = row.text("phase")?;
    let in_progress = IN_PROGRESS.iter().any(|p| phase_key(*p) == phase);
    Ok(ProcessingRow {
        id: DemandeId::from_uuid(row.uuid("id")?),
        numero: row.text("numero")?,
        demarche: DemarcheRef {
            slug: Slug::from(row.text("slug")?),
            version: version_of(row.int("version")?)?,
        },
        status: StatusId::from(row.text("status")?),
        service: group(row.text("primary_service")?)?,
        submitted_at: row.instant("submitted_at")?,
        late: in_progress && deadline.is_some_and(|deadline| now > deadline),
        reminder: u32::try_from(row.int("last_reminder")?)
            .ok()
            .filter(|days| in_progress && *days > 0),
        deadline,
        on_hold_since: hold,
        usager_name: row.text_opt("usager_name")?,
        updated_at: row.instant("updated_at")?,
    })
}

/// Appends `d.phase IN (…the phases in progress…)`.
pub(crate) fn push_in_progress(sql: &mut Sql) {
    sql.push("d.phase IN (");
    for (i, phase) in IN_PROGRESS.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(phase_key(*phase).to_owned());
    }
    sql.push(")");
}

/// The `WHERE` clause of the processing table.
fn processing_filter(sql: &mut Sql, query: &ProcessingQuery, now: DateTime<Utc>) {
    sql.push(" WHERE (");
    let mut first = true;
    for (slug, perimeter) in &query.demarches {
        let services = match perimeter {
            Perimeter::Nothing => continue,
            Perimeter::Everything => None,
            Perimeter::Services(services) => Some(services),
        };
        sql.push(if first {
            "(d.slug = "
        } else {
            " OR (d.slug = "
        });
        first = false;
        sql.bind(slug.as_str().to_owned());
        if let Some(services) = services {
            // A service is stored as a group name of any role: match every
            // role's name of each service (indexed on `service`).
            sql.push(
                " AND EXISTS (SELECT 1 FROM demande_services s WHERE s.demande_id = d.id AND s.service IN (",
            );
            let names = services
                .iter()
                .flat_map(|group| Role::ALL.map(|role| group.with_role(role)));
            for (i, name) in names.enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(name.as_str().to_owned());
            }
            sql.push("))");
        }
        sql.push(")");
    }
    if first {
        sql.push("1 = 0");
    }
    sql.push(")");
    if !query.statuses.is_empty() {
        sql.push(" AND d.status IN (");
        for (i, status) in query.statuses.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(status.as_str().to_owned());
        }
        sql.push(")");
    }
    if let Some(service) = &query.service {
        sql.push(
            " AND EXISTS (SELECT 1 FROM demande_services s WHERE s.demande_id = d.id AND s.service = ",
        )
        .bind(service.as_str().to_owned())
        .push(")");
    }
    if let Some(late) = query.late {
        sql.push(if late { " AND (" } else { " AND NOT (" });
        push_in_progress(sql);
        sql.push(" AND d.processing_deadline IS NOT NULL AND d.processing_deadline < COALESCE(d.on_hold_since, ")
            .bind(millis(now))
            .push("))");
    }
    if let Some(days) = query.reminder {
        sql.push(if days > 0 { " AND (" } else { " AND NOT (" });
        push_in_progress(sql);
        sql.push(" AND d.last_reminder >= ")
            .bind(i64::from(days.max(1)))
            .push(")");
    }
    if let Some(on_hold) = query.on_hold {
        sql.push(if on_hold {
            " AND d.on_hold_since IS NOT NULL"
        } else {
            " AND d.on_hold_since IS NULL"
        });
    }
    let words = query
        .search
        .as_deref()
        .map(|text| {
            text.split_whitespace()
                .map(|word| format!("%{}%", crate::sql::like_escape(&word.to_lowercase())))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for word in words {
        sql.push(" AND (LOWER(d.numero) LIKE ")
            .bind(word.clone())
            .push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM users u WHERE u.id = d.usager_id AND LOWER(u.display_name) LIKE ")
            .bind(word)
            .push(" ESCAPE '\\'))");
    }
}

impl Store {
    /// Reserves the identity of a demande about to be filed: a fresh id and
    /// the démarche's next number for the year of `now`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown démarche.
    #[cfg(feature = "test-support")]
    pub async fn reserve_demande(&self, slug: &Slug, now: DateTime<Utc>) -> Result<Reservation> {
        let prefix = self.numero_prefix(slug).await?;
        // One upsert is atomic on its own: no transaction around it.
        let mut conn = self.write.acquire().await?;
        let year = chrono::Datelike::year(&self.zone.today(now));
        Ok(Reservation {
            id: DemandeId::from_uuid(new_id()),
            numero: next_number(&mut conn, slug, &prefix, year).await?,
        })
    }

    /// A demande with its revision.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such demande.
    pub async fn demande(&self, id: DemandeId) -> Result<StoredDemande> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM demandes d WHERE d.id = $1",
            stored_columns()
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("demande"))?;
        stored(&row, &self.keys)
    }

    /// A demande by its number within its démarche.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such demande.
    #[cfg(feature = "test-support")]
    pub async fn demande_by_numero(&self, slug: &Slug, numero: &str) -> Result<StoredDemande> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM demandes d WHERE d.slug = $1 AND d.numero = $2",
            stored_columns()
        ))
        .bind(slug.as_str().to_owned())
        .bind(numero.to_owned())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("demande"))?;
        stored(&row, &self.keys)
    }

    /// A demande of an usager: filed by them or for them, anonymised ones
    /// included (whose data no longer names them; the row keeps the link).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such demande or it is
    /// someone else's.
    pub async fn usager_demande(&self, usager: UserId, id: DemandeId) -> Result<StoredDemande> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM demandes d WHERE d.id = $1 AND d.usager_id = $2",
            stored_columns()
        ))
        .bind(id.to_string())
        .bind(usager.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("demande"))?;
        stored(&row, &self.keys)
    }

    /// An usager's own demandes, most recent first, anonymised ones included.
    ///
    /// # Errors
    /// A database error.
    pub async fn usager_demandes(&self, usager: UserId) -> Result<Vec<StoredDemande>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM demandes d WHERE d.usager_id = $1 \
                 ORDER BY d.submitted_at DESC, d.id",
            stored_columns()
        ))
        .bind(usager.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|row| stored(row, &self.keys)).collect()
    }

    /// The agents' processing table: the demandes of the given démarches,
    /// filtered, sorted by processing deadline (earliest first, none last,
    /// then by submission) or first by reminder ([`TableSort`]), one page.
    ///
    /// # Errors
    /// A database error.
    pub async fn processing_table(
        &self,
        query: &ProcessingQuery,
        now: DateTime<Utc>,
    ) -> Result<ProcessingPage> {
        if query.demarches.is_empty() {
            return Ok(ProcessingPage {
                rows: Vec::new(),
                total: 0,
            });
        }
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM demandes d");
        processing_filter(&mut count, query, now);
        let (text, args) = count.finish()?;
        let total = sqlx::query_with(&text, args)
            .fetch_one(&self.read)
            .await?
            .int("n")?;
        let mut select = Sql::new(&format!("SELECT {PROCESSING_COLUMNS} FROM demandes d"));
        processing_filter(&mut select, query, now);
        select.push(" ORDER BY ");
        if query.sort == TableSort::Reminder {
            select.push("CASE WHEN ");
            push_in_progress(&mut select);
            select.push(" THEN d.last_reminder ELSE 0 END DESC, ");
        }
        select
            .push(
                "CASE WHEN d.processing_deadline IS NULL THEN 1 ELSE 0 END, \
                 d.processing_deadline, d.submitted_at, d.id LIMIT ",
            )
            .bind(i64::from(query.limit))
            .push(" OFFSET ")
            .bind(i64::from(query.offset));
        let (text, args) = select.finish()?;
        let rows = sqlx::query_with(&text, args).fetch_all(&self.read).await?;
        Ok(ProcessingPage {
            rows: rows
                .iter()
                .map(|row| processing_row(row, now))
                .collect::<Result<_>>()?,
            total: crate::sql::unsigned(total),
        })
    }

    /// How many demandes of the processing table each status holds, under
    /// every filter of `query` but its statuses (so that the counts stay
    /// beside a status filter), by status id; statuses without demandes
    /// are absent.
    ///
    /// # Errors
    /// A database error.
    pub async fn processing_counts(
        &self,
        query: &ProcessingQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<(StatusId, u64)>> {
        if query.demarches.is_empty() {
            return Ok(Vec::new());
        }
        let every_status = ProcessingQuery {
            statuses: Vec::new(),
            ..query.clone()
        };
        let mut count = Sql::new("SELECT d.status AS status, COUNT(*) AS n FROM demandes d");
        processing_filter(&mut count, &every_status, now);
        count.push(" GROUP BY d.status ORDER BY d.status");
        let (text, args) = count.finish()?;
        sqlx::query_with(&text, args)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    StatusId::from(row.text("status")?),
                    crate::sql::unsigned(row.int("n")?),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{AnyConnection, Connection, Row};

    use super::*;

    async fn synchronous_commit(conn: &mut AnyConnection) -> String {
        sqlx::query("SELECT current_setting('synchronous_commit') AS value")
            .fetch_one(conn)
            .await
            .unwrap()
            .get("value")
    }

    /// On PostgreSQL the commit that takes a number does not wait for its
    /// flush, and that transaction alone: the connection's next
    /// transaction (a demande's insert) waits again.
    #[tokio::test]
    async fn a_number_is_taken_without_waiting_for_the_flush_on_postgres_alone() {
        let Some((database, store, mut conn)) = crate::numbering::tests::postgres().await else {
            return;
        };
        let slug = Slug::parse("numeros").unwrap();
        let default = synchronous_commit(&mut conn).await;
        assert_ne!(default, "off", "the server's default waits for the flush");

        let mut tx = conn.begin().await.unwrap();
        let first = next_number(&mut tx, &slug, "NUM", 2026).await.unwrap();
        assert_eq!(
            synchronous_commit(&mut tx).await,
            "off",
            "inside its transaction"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            synchronous_commit(&mut conn).await,
            default,
            "after its transaction"
        );

        let second = next_number(&mut conn, &slug, "NUM", 2026).await.unwrap();
        assert_eq!(
            synchronous_commit(&mut conn).await,
            default,
            "after its statement"
        );
        assert_eq!(
            (first.as_str(), second.as_str()),
            ("NUM-2026-000001", "NUM-2026-000002")
        );

        conn.close().await.unwrap();
        store.close().await;
        database.remove().await;
    }
}
