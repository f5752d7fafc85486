//! The one error type of the store, with stable codes the HTTP layer maps to
//! statuses (`not_found` → 404, `conflict` → 409, `invalid` → 422, the rest
//! → 500).

/// Why a store operation failed. Nothing is half-written: every write runs
/// in one transaction, rolled back on error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (or no longer: an expired session).
    #[error("{0} introuvable")]
    NotFound(&'static str),
    /// A uniqueness rule or a concurrent change refused the write: a login
    /// already taken, a draft already open, a demande changed by someone
    /// else since it was read.
    #[error("conflit : {0}")]
    Conflict(String),
    /// The input cannot be stored: a reference to nothing, a bad group name,
    /// a value that does not serialise.
    #[error("donnée refusée : {0}")]
    Invalid(String),
    /// A stored value cannot be read back (a bug or a manual edit).
    #[error("donnée stockée illisible : {0}")]
    Corrupt(String),
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("adresse de base de données non reconnue « {0} » (attendu : sqlite:… ou postgres:…)")]
    UnsupportedUrl(String),
    /// The database failed (connection, I/O, an unexpected constraint).
    #[error("erreur de base de données : {0}")]
    Database(#[source] sqlx::Error),
    /// A migration failed or a landed migration was edited.
    #[error("erreur de migration : {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The file storage failed.
    #[error("erreur de stockage de fichier : {0}")]
    File(#[from] std::io::Error),
}

impl StoreError {
    /// The stable snake_case code of the error, for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound(_) => "not_found",
            StoreError::Conflict(_) => "conflict",
            StoreError::Invalid(_) => "invalid",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::UnsupportedUrl(_) => "unsupported_database",
            StoreError::Database(_) => "database",
            StoreError::Migration(_) => "migration",
            StoreError::File(_) => "file_storage",
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound("ligne"),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(format!("valeur déjà enregistrée ({})", db.message()))
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::Invalid(format!("référence inconnue ({})", db.message()))
            }
            _ => StoreError::Database(error),
        }
    }
}

/// The result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
