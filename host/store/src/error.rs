//! The one error type of the store, with stable codes the HTTP layer maps to
//! statuses (`not_found` → 404, `conflict` → 409, `invalid` → 422,
//! `last_administrator` → 409, the rest → 500).
//!
//! Messages are French texts written here or by the store's methods, never
//! the database's own text: a unique violation becomes
//! [`StoreError::Conflict`], a foreign-key violation or a character the
//! database cannot encode (PostgreSQL refuses NUL in text, SQLSTATE 22021)
//! becomes [`StoreError::Invalid`], and the database's message goes to the
//! logs only. Methods that know what was duplicated (a login, a group) say
//! so in their own message.

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
    /// The change would leave nobody holding administration: no active
    /// account member of an Administrateur group granted on every démarche.
    #[error("{0}")]
    LastAdministrator(String),
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
            StoreError::LastAdministrator(_) => "last_administrator",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::UnsupportedUrl(_) => "unsupported_database",
            StoreError::Database(_) => "database",
            StoreError::Migration(_) => "migration",
            StoreError::File(_) => "file_storage",
        }
    }
}

/// SQLSTATEs of text the database cannot encode: `character_not_in_repertoire`
/// (PostgreSQL's answer to NUL in text) and `untranslatable_character`.
const UNSTORABLE_TEXT: [&str; 2] = ["22021", "22P05"];

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if connection_lost(&error) {
            lost::record();
        }
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound("ligne"),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                tracing::debug!(detail = db.message(), "unique violation");
                StoreError::Conflict("cette valeur est déjà enregistrée".into())
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                tracing::debug!(detail = db.message(), "foreign key violation");
                StoreError::Invalid("la référence donnée n'existe pas".into())
            }
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|code| UNSTORABLE_TEXT.contains(&code.as_ref())) =>
            {
                tracing::debug!(detail = db.message(), "text the database cannot encode");
                StoreError::Invalid(
                    "le texte contient un caractère que la base de données ne peut pas enregistrer"
                        .into(),
                )
            }
            _ => StoreError::Database(error),
        }
    }
}

/// The result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Whether `error`, from PostgreSQL, says the connection itself is gone
/// rather than the query refused: an I/O or protocol error, or SQLSTATE
/// class `08` (connection exception) or `57P0x` (the server shut the
/// backend down, or dropped its database).
pub(crate) fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

/// When a store error last said a connection was gone
/// ([`connection_lost`]), process-wide: after a database restart, the
/// PostgreSQL pool pings before lending every connection that came back
/// to it before that moment ([`crate::Store::connect_with_key`]), instead
/// of letting each fail a request of its own. Process-wide rather than
/// per store because the conversion of an error knows no store; a SQLite
/// store ignores it, and another PostgreSQL store's loss only costs this
/// one a ping per connection.
pub(crate) mod lost {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    /// The origin of the instants kept here.
    static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
    /// The last loss, in microseconds since [`EPOCH`] plus one; 0: none.
    static LAST: AtomicU64 = AtomicU64::new(0);

    fn now() -> u64 {
        u64::try_from(EPOCH.elapsed().as_micros())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// Notes a connection found gone, now.
    pub(crate) fn record() {
        LAST.fetch_max(now(), Ordering::Relaxed);
    }

    /// Whether a connection was found gone since a connection idle for
    /// `idle_for` came back to its pool.
    pub(crate) fn since_idle(idle_for: Duration) -> bool {
        let last = LAST.load(Ordering::Relaxed);
        let idle = u64::try_from(idle_for.as_micros()).unwrap_or(u64::MAX);
        last != 0 && last >= now().saturating_sub(idle)
    }
}
