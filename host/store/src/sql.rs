//! Portable SQL: how values cross into the database, and a small builder
//! for queries whose filters vary.
//!
//! `sqlx::Any` carries only integers, floats, text, bytes and booleans, so
//! every other type has one storage form, the same on both backends:
//! instants are `BIGINT` milliseconds since the Unix epoch (they sort and
//! compare as numbers and index well), dates are `TEXT` `YYYY-MM-DD` (they
//! sort as text), identifiers are `TEXT` UUIDs ([`new_id`]: time-ordered
//! for the rows a filing writes), structured values are `TEXT` JSON.
//! Placeholders are `$1`, `$2`… in increasing order of first appearance,
//! because SQLite numbers `$n` parameters in the order it first meets them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::AnyConnection;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Arguments, Encode, Row, Type};
use uuid::Uuid;

use crate::Backend;
use crate::error::{Result, StoreError};

/// A fresh identifier for a row a request writes (a demande, a draft, a
/// job, a connector call): a UUID version 7 (RFC 9562 §5.7, built by the
/// `uuid` crate), 48 bits of milliseconds since the Unix epoch then 74
/// random bits. Its text sorts in creation order to the millisecond (ids
/// made in the same millisecond sort among themselves at random), so the
/// rows written together land at the right edge of the indexes keyed by
/// their ids (`demandes (id)`, `history (demande_id, seq)`, `jobs
/// (demande_id)`, …) and share their pages: a SQLite commit writes to the
/// WAL the pages its transaction touched, and random version-4 ids touched
/// one page per index per row. The id reveals the millisecond it was made,
/// which each of these rows shows anyway (`submitted_at`, `created_at`);
/// nothing relies on an id being unguessable (every read checks rights),
/// and the 74 random bits keep two hosts' ids apart. Attachments keep
/// random ids: their first digits spread them over directories
/// ([`crate::FileStore::path`]).
pub(crate) fn new_id() -> Uuid {
    Uuid::new_v7(uuid::Timestamp::now(uuid::NoContext))
}

/// An instant as stored: milliseconds since the Unix epoch.
pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// An instant read back from milliseconds.
pub(crate) fn instant(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("instant hors limites : {ms}")))
}

/// An optional instant read back.
pub(crate) fn instant_opt(ms: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    ms.map(instant).transpose()
}

/// A date as stored: `YYYY-MM-DD`.
pub(crate) fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A value as stored JSON.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Stored JSON read back.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A UUID read back from text.
pub(crate) fn uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("identifiant « {text} » : {e}")))
}

/// A non-negative count as stored (counts above `i64::MAX` do not occur).
pub(crate) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored count read back (negative values read as 0).
pub(crate) fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// Column readers with the store's error type.
pub(crate) trait RowExt {
    /// A text column.
    fn text(&self, column: &str) -> Result<String>;
    /// A nullable text column.
    fn text_opt(&self, column: &str) -> Result<Option<String>>;
    /// An integer column.
    fn int(&self, column: &str) -> Result<i64>;
    /// A nullable integer column.
    fn int_opt(&self, column: &str) -> Result<Option<i64>>;
    /// An instant column.
    fn instant(&self, column: &str) -> Result<DateTime<Utc>> {
        instant(self.int(column)?)
    }
    /// A nullable instant column.
    fn instant_opt(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        instant_opt(self.int_opt(column)?)
    }
    /// A JSON column.
    fn json<T: DeserializeOwned>(&self, column: &str) -> Result<T> {
        from_json(&self.text(column)?)
    }
    /// A UUID column.
    fn uuid(&self, column: &str) -> Result<Uuid> {
        uuid(&self.text(column)?)
    }
    /// A nullable UUID column.
    fn uuid_opt(&self, column: &str) -> Result<Option<Uuid>> {
        self.text_opt(column)?.as_deref().map(uuid).transpose()
    }
}

impl RowExt for AnyRow {
    fn text(&self, column: &str) -> Result<String> {
        Ok(self.try_get(column)?)
    }

    fn text_opt(&self, column: &str) -> Result<Option<String>> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<i64> {
        Ok(self.try_get(column)?)
    }

    fn int_opt(&self, column: &str) -> Result<Option<i64>> {
        Ok(self.try_get(column)?)
    }
}

/// A query built piece by piece, numbering its placeholders as it goes.
pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    bound: usize,
    error: Option<String>,
}

impl Sql {
    /// Starts a query.
    pub(crate) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            args: AnyArguments::default(),
            bound: 0,
            error: None,
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder and binds its value.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        self.bound += 1;
        self.text.push('$');
        self.text.push_str(&self.bound.to_string());
        if let Err(error) = self.args.add(value)
            && self.error.is_none()
        {
            self.error = Some(error.to_string());
        }
        self
    }

    /// Appends `, ` (unless the text just opened a parenthesis) and the next
    /// placeholder bound to `value`: one item of a `VALUES (…)` list.
    pub(crate) fn item<T>(&mut self, value: T) -> &mut Sql
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        if !self.text.ends_with('(') {
            self.text.push_str(", ");
        }
        self.bind(value)
    }

    /// The text and arguments, ready for `sqlx::query_with`.
    pub(crate) fn finish(self) -> Result<(String, AnyArguments<'static>)> {
        match self.error {
            Some(error) => Err(StoreError::Invalid(error)),
            None => Ok((self.text, self.args)),
        }
    }
}

/// Write statements sent together in the caller's open transaction.
///
/// On SQLite every statement is a hand-off to the connection's worker
/// thread, and the single writer is held for all of them: a batch goes as
/// **one** string of statements in one hand-off (SQLite prepares and runs
/// them in turn, and sqlx binds each `$N` to the N-th value whichever
/// statement names it, so the placeholders simply go on numbering from one
/// statement to the next). PostgreSQL's extended protocol takes one
/// statement per query: there the statements run one after the other, one
/// round trip each — unless the batch was made with [`Batch::one_statement`],
/// which sends them as **one** statement of data-modifying CTEs
/// (`WITH s0 AS (INSERT …), s1 AS (DELETE … RETURNING …) SELECT …`).
/// Either way [`Batch::run`] returns the rows their `RETURNING` clauses
/// gave, in order of the statements.
pub(crate) struct Batch {
    backend: Backend,
    /// The statements; on SQLite, and on PostgreSQL in one-statement mode,
    /// one `Sql` holding them all.
    statements: Vec<Sql>,
    /// One-statement mode on PostgreSQL: where each statement starts in the
    /// single `Sql`'s text.
    ctes: Option<Vec<usize>>,
    /// One-statement mode on PostgreSQL: the statements that must return a
    /// row ([`Batch::require_row`]).
    required: Vec<usize>,
}

/// The SQLSTATE of a one-statement batch whose required row is missing
/// (PostgreSQL's `division_by_zero`, see [`Batch::require_row`]).
const REQUIRED_ROW_MISSING: &str = "22012";

/// Whether `error` is a one-statement batch's failure because a statement
/// marked with [`Batch::require_row`] returned no row.
pub(crate) fn required_row_missing(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(db))
        if db.code().as_deref() == Some(REQUIRED_ROW_MISSING))
}

impl Batch {
    /// An empty batch for a store's backend.
    pub(crate) fn new(backend: Backend) -> Batch {
        Batch {
            backend,
            statements: Vec::new(),
            ctes: None,
            required: Vec::new(),
        }
    }

    /// Requires the statement last added to return a row (a draft deleted
    /// at its revision). In a one-statement batch on PostgreSQL, which
    /// runs outside any transaction, the statement then fails as a whole
    /// if it returns none, so that nothing is written: the final `SELECT`
    /// divides by the number of rows it returned
    /// ([`required_row_missing`] tells that error). Elsewhere the batch
    /// runs in the caller's transaction, which reads the rows and rolls
    /// back: nothing to add.
    pub(crate) fn require_row(&mut self) {
        if let Some(ctes) = &self.ctes {
            self.required.push(ctes.len() - 1);
        }
    }

    /// An empty batch whose statements go to the database as one, on
    /// either backend. On PostgreSQL they become data-modifying CTEs of one
    /// statement, which **see one snapshot**: no statement may touch a row
    /// another one of the batch touches, nor read what another one writes
    /// (foreign keys are checked at the end of the statement, so a row may
    /// name one inserted by an earlier statement). Every statement is an
    /// `INSERT`, `UPDATE` or `DELETE`, and one with a `RETURNING` clause
    /// returns exactly two text columns, `kind` and `returned`.
    pub(crate) fn one_statement(backend: Backend) -> Batch {
        Batch {
            ctes: (backend == Backend::Postgres).then(Vec::new),
            ..Batch::new(backend)
        }
    }

    /// An empty batch for the backend of `conn`.
    pub(crate) fn on(conn: &AnyConnection) -> Batch {
        Batch::new(if conn.backend_name() == "SQLite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        })
    }

    /// Starts the next statement with `text`; push and bind the rest into
    /// what it returns.
    pub(crate) fn statement(&mut self, text: &str) -> &mut Sql {
        let joined = self.backend == Backend::Sqlite || self.ctes.is_some();
        if !joined || self.statements.is_empty() {
            self.statements.push(Sql::new(""));
        }
        let last = self.statements.len() - 1;
        let sql = &mut self.statements[last];
        if let Some(ctes) = &mut self.ctes {
            let n = ctes.len();
            sql.push(if n == 0 { "WITH " } else { "), " });
            sql.push(&format!("s{n} AS ("));
            ctes.push(sql.text.len());
        } else if !sql.text.is_empty() {
            sql.push(";\n");
        }
        sql.push(text)
    }

    /// Closes a one-statement batch on PostgreSQL: the rows of every
    /// statement with a `RETURNING` clause, in order.
    fn close_ctes(sql: &mut Sql, starts: &[usize], required: &[usize]) {
        let returning: Vec<usize> = (0..starts.len())
            .filter(|&n| {
                let end = starts.get(n + 1).copied().unwrap_or(sql.text.len());
                sql.text[starts[n]..end].contains(" RETURNING ")
            })
            .collect();
        sql.push(")\n");
        if returning.is_empty() {
            sql.push("SELECT NULL AS kind, NULL AS returned WHERE FALSE");
        }
        for (i, n) in returning.into_iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push(&format!("SELECT kind, returned FROM s{n}"));
        }
        for n in required {
            sql.push(&format!(
                " UNION ALL SELECT 'required' AS kind, \
                 CAST(1 / (SELECT COUNT(*) FROM s{n}) AS TEXT) AS returned"
            ));
        }
    }

    /// Runs the statements in order in `conn`'s transaction.
    ///
    /// # Errors
    /// The first statement's error that fails (the caller's transaction
    /// then rolls back), or a value that could not be bound.
    pub(crate) async fn run(self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>> {
        self.prepare()?.run(conn).await
    }

    /// The batch's texts with their values bound, nothing sent yet.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a value that could not be bound.
    pub(crate) fn prepare(mut self) -> Result<Prepared> {
        if let (Some(starts), Some(sql)) = (&self.ctes, self.statements.first_mut()) {
            Batch::close_ctes(sql, starts, &self.required);
        }
        Ok(Prepared(
            self.statements
                .into_iter()
                .map(Sql::finish)
                .collect::<Result<_>>()?,
        ))
    }
}

/// A [`Batch`] whose values are bound: running it can fail only in the
/// database, once its first statement was sent (which is what a savepoint
/// opened by that statement needs to know).
pub(crate) struct Prepared(Vec<(String, AnyArguments<'static>)>);

impl Prepared {
    /// Runs the statements in order in `conn`'s transaction; the rows
    /// their `RETURNING` clauses gave, in order.
    ///
    /// # Errors
    /// The first statement's error that fails (the caller's transaction
    /// then rolls back).
    pub(crate) async fn run(self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>> {
        let mut rows = Vec::new();
        for (text, args) in self.0 {
            rows.extend(sqlx::query_with(&text, args).fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b = ").bind("x".to_owned());
        let (text, _) = sql.finish().unwrap();
        assert_eq!(text, "SELECT 1 WHERE a = $1 AND b = $2");
    }

    /// A fresh test database and a connection to it (`None` when PostgreSQL
    /// is not available).
    async fn connect(
        postgres: bool,
        purpose: &str,
    ) -> Option<(guichet_testdb::TestDatabase, AnyConnection)> {
        use sqlx::Connection;
        let db = guichet_testdb::TestDatabase::create(postgres, purpose).await?;
        std::fs::create_dir_all(&db.dir).unwrap();
        let url = if postgres {
            db.url.clone()
        } else {
            format!("{}?mode=rwc", db.url)
        };
        let conn = AnyConnection::connect(&url).await.unwrap();
        Some((db, conn))
    }

    /// A batch runs its statements in order, binds each placeholder to its
    /// own value across statements, returns the `RETURNING` rows, and
    /// fails as a whole when one statement fails.
    async fn batch_runs_in_order(postgres: bool) {
        use sqlx::Connection;
        let Some((db, mut conn)) = connect(postgres, "batch").await else {
            return;
        };
        sqlx::query("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL)")
            .execute(&mut conn)
            .await
            .unwrap();
        let mut batch = Batch::on(&conn);
        batch
            .statement("INSERT INTO t (id, n) VALUES (")
            .item("a".to_owned())
            .item(1_i64)
            .push(")");
        batch
            .statement("INSERT INTO t (id, n) VALUES (")
            .item("b".to_owned())
            .item(2_i64)
            .push(")");
        batch
            .statement("UPDATE t SET n = n + ")
            .bind(10_i64)
            .push(" WHERE id = ")
            .bind("a".to_owned())
            .push(" RETURNING 'updated' AS kind, id AS returned");
        let rows = batch.run(&mut conn).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].text("kind").unwrap(), "updated");
        assert_eq!(rows[0].text("returned").unwrap(), "a");
        let sums: Vec<(String, i64)> = sqlx::query("SELECT id, n FROM t ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|row| (row.text("id").unwrap(), row.int("n").unwrap()))
            .collect();
        assert_eq!(sums, [("a".to_owned(), 11), ("b".to_owned(), 2)]);

        let mut tx = conn.begin().await.unwrap();
        let mut failing = Batch::on(&tx);
        failing
            .statement("INSERT INTO t (id, n) VALUES (")
            .item("c".to_owned())
            .item(3_i64)
            .push(")");
        failing
            .statement("INSERT INTO t (id, n) VALUES (")
            .item("a".to_owned())
            .item(4_i64)
            .push(")");
        assert!(failing.run(&mut tx).await.is_err());
        tx.rollback().await.unwrap();
        let count: i64 = sqlx::query("SELECT COUNT(*) AS c FROM t")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .int("c")
            .unwrap();
        assert_eq!(count, 2);
        conn.close().await.unwrap();
        db.remove().await;
    }

    #[tokio::test]
    async fn batches_run_in_order_on_sqlite() {
        batch_runs_in_order(false).await;
    }

    #[tokio::test]
    async fn batches_run_in_order_on_postgres() {
        batch_runs_in_order(true).await;
    }

    /// A one-statement batch (data-modifying CTEs on PostgreSQL) writes
    /// every statement, lets a row name one inserted by an earlier
    /// statement, returns the `RETURNING` rows of all statements, and
    /// fails as a whole.
    async fn one_statement_batches_write_all_or_nothing(postgres: bool) {
        use sqlx::Connection;
        let Some((db, mut conn)) = connect(postgres, "one_statement").await else {
            return;
        };
        if !postgres {
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut conn)
                .await
                .unwrap();
        }
        for statement in [
            "CREATE TABLE parent (id TEXT PRIMARY KEY)",
            "CREATE TABLE child (id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES parent (id))",
            "INSERT INTO parent (id) VALUES ('p0')",
            "INSERT INTO child (id, parent) VALUES ('old', 'p0')",
        ] {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        let backend = if postgres {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let mut tx = conn.begin().await.unwrap();
        let mut batch = Batch::one_statement(backend);
        batch
            .statement("INSERT INTO parent (id) VALUES (")
            .item("p1".to_owned())
            .push(")");
        batch
            .statement("DELETE FROM child WHERE id = ")
            .bind("old".to_owned())
            .push(" RETURNING 'deleted' AS kind, id AS returned");
        batch
            .statement("INSERT INTO child (id, parent) VALUES (")
            .item("c1".to_owned())
            .item("p1".to_owned())
            .push(") RETURNING 'inserted' AS kind, id AS returned");
        let mut rows: Vec<(String, String)> = batch
            .run(&mut tx)
            .await
            .unwrap()
            .iter()
            .map(|row| (row.text("kind").unwrap(), row.text("returned").unwrap()))
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            [
                ("deleted".to_owned(), "old".to_owned()),
                ("inserted".to_owned(), "c1".to_owned())
            ]
        );
        tx.commit().await.unwrap();

        let mut failing = Batch::one_statement(backend);
        failing
            .statement("INSERT INTO parent (id) VALUES (")
            .item("p2".to_owned())
            .push(")");
        failing
            .statement("INSERT INTO child (id, parent) VALUES (")
            .item("c2".to_owned())
            .item("nobody".to_owned())
            .push(")");
        let mut tx = conn.begin().await.unwrap();
        assert!(failing.run(&mut tx).await.is_err());
        tx.rollback().await.unwrap();
        assert_eq!(parents(&mut conn).await, ["p0", "p1"]);

        // Outside any transaction: a statement whose required row is
        // missing fails the whole batch on PostgreSQL.
        let guarded = |parent: &str, child: &str| {
            let mut batch = Batch::one_statement(backend);
            batch
                .statement("INSERT INTO parent (id) VALUES (")
                .item(parent.to_owned())
                .push(") RETURNING 'parent' AS kind, id AS returned");
            batch
                .statement("DELETE FROM child WHERE id = ")
                .bind(child.to_owned())
                .push(" RETURNING 'deleted' AS kind, id AS returned");
            batch.require_row();
            batch
        };
        let rows = guarded("p2", "c1").run(&mut conn).await.unwrap();
        assert!(
            rows.iter()
                .any(|row| row.text("kind").unwrap() == "deleted")
        );
        if postgres {
            // c1 is gone: the parent p3, inserted by the same statement,
            // is not written either.
            let Err(error) = guarded("p3", "c1").run(&mut conn).await else {
                panic!("a missing required row must fail the batch");
            };
            assert!(required_row_missing(&error), "{error:?}");
            assert_eq!(parents(&mut conn).await, ["p0", "p1", "p2"]);
        }
        conn.close().await.unwrap();
        db.remove().await;
    }

    /// The ids of the test's `parent` table, in order.
    async fn parents(conn: &mut AnyConnection) -> Vec<String> {
        sqlx::query("SELECT id FROM parent ORDER BY id")
            .fetch_all(conn)
            .await
            .unwrap()
            .iter()
            .map(|row| row.text("id").unwrap())
            .collect()
    }

    #[tokio::test]
    async fn one_statement_batches_on_sqlite() {
        one_statement_batches_write_all_or_nothing(false).await;
    }

    #[tokio::test]
    async fn one_statement_batches_on_postgres() {
        one_statement_batches_write_all_or_nothing(true).await;
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn instants_round_trip_through_milliseconds() {
        let at = DateTime::from_timestamp_millis(1_772_442_000_123).unwrap();
        assert_eq!(instant(millis(at)).unwrap(), at);
    }

    /// Ids made in successive milliseconds sort, as text, in the order
    /// they were made (version-4 ids would not: each is random).
    #[test]
    fn new_ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..20)
            .map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(2));
                new_id().to_string()
            })
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(
            ids.iter()
                .all(|id| Uuid::parse_str(id).unwrap().get_version_num() == 7)
        );
    }
}
