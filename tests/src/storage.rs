//! What the database and the file storage hold, read underneath the API:
//! row counts (to prove a refused request wrote nothing), every stored text
//! and every stored file (to prove anonymisation left nothing personal).

use std::path::PathBuf;

use sqlx::Connection;

use crate::app::{Backend, TestApp};

impl TestApp {
    /// Counts the rows of a table.
    pub async fn count(&self, table: &str) -> i64 {
        let mut conn = sqlx::AnyConnection::connect(&self.url)
            .await
            .expect("connection");
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .expect("count");
        conn.close().await.expect("closed");
        n
    }

    /// Every text value of every column of every table, as
    /// (`table.column`, value), to look for what must not remain.
    pub async fn every_stored_text(&self) -> Vec<(String, String)> {
        let mut conn = sqlx::AnyConnection::connect(&self.url)
            .await
            .expect("connection");
        let tables_sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name AS t FROM sqlite_master WHERE type = 'table' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) AS t FROM information_schema.tables \
                 WHERE table_schema = 'public' ORDER BY table_name"
            }
        };
        let columns_sql = match self.backend {
            Backend::Sqlite => "SELECT name AS c FROM pragma_table_info($1)",
            Backend::Postgres => {
                "SELECT CAST(column_name AS TEXT) AS c FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1"
            }
        };
        let tables: Vec<String> = sqlx::query_scalar(tables_sql)
            .fetch_all(&mut conn)
            .await
            .expect("tables");
        let mut texts = Vec::new();
        for table in tables.into_iter().filter(|t| !t.starts_with("_sqlx")) {
            let columns: Vec<String> = sqlx::query_scalar(columns_sql)
                .bind(table.clone())
                .fetch_all(&mut conn)
                .await
                .expect("columns");
            for column in columns {
                let values: Vec<Option<String>> =
                    sqlx::query_scalar(&format!("SELECT CAST({column} AS TEXT) FROM {table}"))
                        .fetch_all(&mut conn)
                        .await
                        .expect("values");
                texts.extend(
                    values
                        .into_iter()
                        .flatten()
                        .map(|value| (format!("{table}.{column}"), value)),
                );
            }
        }
        conn.close().await.expect("closed");
        texts
    }

    /// Every file under the attachments directory, with its content.
    pub fn stored_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if let Ok(content) = std::fs::read(&path) {
                    out.push((path, content));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.files_dir, &mut out);
        out
    }
}
