//! What the database and the file storage hold, read underneath the API:
//! row counts (to prove a refused request wrote nothing), every stored text
//! and every stored file (to prove anonymisation left nothing personal).

use std::path::PathBuf;

use sqlx::Connection;

use crate::app::TestApp;

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
        guichet_testdb::every_stored_text(&self.url).await
    }

    /// The raw files of a SQLite database (main file, WAL, journal) with
    /// their content; `None` on PostgreSQL.
    pub fn sqlite_files(&self) -> Option<Vec<(PathBuf, Vec<u8>)>> {
        guichet_testdb::sqlite_files(&self.url)
    }

    /// The raw files of the database on either backend (see
    /// `guichet_testdb::database_files`): SQLite's main file and WAL, or
    /// PostgreSQL's data files of this database and its WAL segments.
    pub async fn database_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        guichet_testdb::database_files(&self.url).await
    }

    /// Every file under the attachments directory, with its content.
    pub fn stored_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        guichet_testdb::stored_files(&self.files_dir)
    }
}
