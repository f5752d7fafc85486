//! Sealing personal values with a key per demande, so that destroying the
//! key at anonymisation erases them from every copy of the database: its
//! files, its write-ahead log, its archives and backups.
//!
//! # Why
//!
//! PostgreSQL cannot be made to forget bytes: an updated or deleted row
//! stays as a dead tuple in the data files until `VACUUM` (which does not
//! zero the freed space either), and every change goes to the WAL, whose
//! segments are recycled, archived and backed up. So personal values never
//! reach the database in clear: they are encrypted before they are bound,
//! with a key that belongs to the demande, and anonymisation rewrites what
//! it keeps in clear (nothing personal is left in it) and deletes the key.
//! What survives in the files afterwards is ciphertext under a key that no
//! longer exists. The same code runs on SQLite, where it also covers backups
//! of the database file (`secure_delete` and the WAL checkpoint of
//! [`crate::Store::scrub`] cover the live file).
//!
//! # What is sealed, with which key
//!
//! | Column | Key |
//! |---|---|
//! | `drafts.answers` | the draft's (`drafts.key_id`) |
//! | `demandes.data` | the demande's (`demandes.key_id`), adopted from its draft at filing |
//! | `history.body`, `history.message`, `history.attachment` | the demande's |
//! | `files.name` | its draft's, then its demande's |
//! | `jobs.payload`, `jobs.last_error` | the job's (`jobs.key_id`): the demande's, or one of its own for the jobs queued by an anonymisation |
//! | `connector_calls.error`, `.logs`, `.exchanges`; `connector_links.card` | the demande's, when the call or link has one |
//! | `connector_instances.secrets` (the settings a connector marks `"x-secret"`) | the instance's (`connector_instances.key_id`), created with it |
//!
//! A key lives in `data_keys` and is deleted ([`release`]) as soon as no
//! draft, demande or job names it: when a draft is deleted without being
//! filed (by its author or at expiry), when a demande is anonymised or
//! purged from the trash, when a job queued by an anonymisation ends (its
//! contact erased). A row without a key (written before this module, or
//! rewritten at anonymisation) holds clear values, which [`open`] passes
//! through: a sealed value starts with [`SEALED_PREFIX`], whose first
//! character is a control character that no input accepted by Guichet can
//! contain.
//!
//! # Keys and algorithms
//!
//! Values are encrypted with XChaCha20-Poly1305 (crate `chacha20poly1305`,
//! RustCrypto; 192-bit random nonces, so random nonces never collide in
//! practice), with the column's name and the key's id as associated data,
//! so a value cannot be moved to another column or demande unnoticed. Data
//! keys are 256-bit random keys, stored wrapped (encrypted with the same
//! AEAD) under the host's **master key**, which is not in the database: a
//! 32-byte key given as base64 by the configuration, or by default kept in
//! the file `master.key` of the data directory (beside the attachments),
//! created on first start with mode 0600. Hosts sharing a PostgreSQL database must share the
//! master key. The table `sealing_check` holds a value wrapped under the
//! master key, so a host started with another key refuses to start instead
//! of failing on every read. Randomness comes from the operating system
//! (`getrandom`); keys in memory are zeroed on drop (`zeroize`).
//!
//! # What remains
//!
//! Until its WAL segment is recycled, and in backups taken before the
//! anonymisation, a deleted data key survives *wrapped*: whoever holds both
//! such a copy and the master key can open the demande's old values. Keep
//! the master key out of database backups, and backups no longer than the
//! retention the collectivité promises.
//!
//! # Rotating the master key
//!
//! Only data keys and the check value are wrapped under the master key;
//! every sealed value — personal values, and the connector instances'
//! secrets alike — is sealed under a data key. Rotating the master key is
//! therefore rewrapping every row of `data_keys` (unwrap under the old key,
//! wrap under the new, same id) and `sealing_check`, in one transaction,
//! hosts stopped; no sealed value is rewritten, and the connector secrets
//! follow the rotation with everything else: [`Store::rotate_master_key`]
//! (module `rotation`), run by `guichet admin rotate-master-key`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::sql::{Batch, RowExt, from_json, millis, to_json};

mod master;
mod rotation;
pub use master::MasterKey;

/// What every sealed value starts with: a control character (refused in
/// every input) and the format's version.
pub const SEALED_PREFIX: &str = "\u{1}s1:";

/// The file holding the master key when the configuration gives none,
/// beside the attachments directory (in the data directory).
pub const MASTER_KEY_FILE: &str = "master.key";

/// Bytes of a key (256 bits).
const KEY_BYTES: usize = 32;

/// Bytes of an XChaCha20-Poly1305 nonce.
const NONCE_BYTES: usize = 24;

/// The associated data of wrapped keys.
const WRAP_CONTEXT: &str = "guichet data key";

/// The clear text of the master key's check value.
const CHECK_TEXT: &str = "guichet master key check";

pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<()> {
    getrandom::fill(bytes).map_err(|e| StoreError::File(std::io::Error::other(e.to_string())))
}

fn cipher(key: &[u8; KEY_BYTES]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

/// Encrypts `clear` with a random nonce; returns base64 of nonce and
/// ciphertext.
fn encrypt(cipher: &XChaCha20Poly1305, aad: &[u8], clear: &[u8]) -> Result<String> {
    let mut nonce = [0u8; NONCE_BYTES];
    fill_random(&mut nonce)?;
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: clear, aad })
        .map_err(|_| StoreError::Invalid("chiffrement impossible".into()))?;
    let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(BASE64.encode(out))
}

/// The inverse of [`encrypt`]; `what` names the value in errors.
fn decrypt(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    text: &str,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| StoreError::Corrupt(format!("{what} : chiffré illisible")))?;
    if bytes.len() < NONCE_BYTES {
        return Err(StoreError::Corrupt(format!("{what} : chiffré tronqué")));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
        .map(Zeroizing::new)
        .map_err(|_| StoreError::Corrupt(format!("{what} : déchiffrement refusé")))
}

/// The master key in use, shared by the clones of a store.
#[derive(Clone)]
pub(crate) struct Keyring {
    master: XChaCha20Poly1305,
    /// The HKDF-SHA256 pseudo-random key extracted from the master key,
    /// from which each purpose's signing key is expanded
    /// ([`Keyring::sign`]); the master key itself signs nothing.
    signing: std::sync::Arc<hkdf::Hkdf<sha2::Sha256>>,
}

/// A demande's (or draft's, or job's) data key, unwrapped.
#[derive(Clone)]
pub(crate) struct DataKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    /// The key's id (`data_keys.id`).
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    fn aad(&self, column: &str) -> Vec<u8> {
        format!("{column}\u{0}{}", self.id).into_bytes()
    }
}

impl Keyring {
    pub(crate) fn new(master: &MasterKey) -> Keyring {
        Keyring {
            master: cipher(master.bytes()),
            signing: std::sync::Arc::new(hkdf::Hkdf::new(Some(b"guichet signing"), master.bytes())),
        }
    }

    /// The MAC of `data` under the signing key of `purpose`.
    fn mac(&self, purpose: &str) -> hmac::Hmac<sha2::Sha256> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        // 32 bytes are always within HKDF-SHA256's output limit.
        let _ = self.signing.expand(purpose.as_bytes(), key.as_mut_slice());
        // HMAC takes keys of any length.
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"))
    }

    /// HMAC-SHA256 of `data` under the key of `purpose`.
    pub(crate) fn sign(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        use hmac::Mac as _;
        let mut mac = self.mac(purpose);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` (16 bytes at least) begins [`Keyring::sign`]'s
    /// signature of `data`, compared in constant time.
    pub(crate) fn verify(&self, purpose: &str, data: &[u8], tag: &[u8]) -> bool {
        use hmac::Mac as _;
        if tag.len() < 16 {
            return false;
        }
        let mut mac = self.mac(purpose);
        mac.update(data);
        mac.verify_truncated_left(tag).is_ok()
    }

    /// Checks that the database was sealed with this master key, recording
    /// the check value on first start.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if the database belongs to another master
    /// key.
    pub(crate) async fn check(&self, conn: &mut AnyConnection) -> Result<()> {
        // First start: record this key's check value (another host starting
        // at the same moment may win; the value read back is checked).
        let value = encrypt(&self.master, WRAP_CONTEXT.as_bytes(), CHECK_TEXT.as_bytes())?;
        sqlx::query(
            "INSERT INTO sealing_check (id, check_value) VALUES (1, $1) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(value)
        .execute(&mut *conn)
        .await?;
        let stored = sqlx::query("SELECT check_value FROM sealing_check WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?
            .text("check_value")?;
        decrypt(&self.master, WRAP_CONTEXT.as_bytes(), &stored, "contrôle")
            .ok()
            .filter(|clear| clear.as_slice() == CHECK_TEXT.as_bytes())
            .map(|_| ())
            .ok_or_else(|| {
                StoreError::Invalid(
                    "la clé maîtresse configurée n'est pas celle de cette base de données".into(),
                )
            })
    }

    /// Creates a data key and stores it wrapped, in the caller's
    /// transaction.
    ///
    /// # Errors
    /// A database error, or no randomness.
    pub(crate) async fn create(
        &self,
        conn: &mut AnyConnection,
        now: DateTime<Utc>,
    ) -> Result<DataKey> {
        let mut batch = Batch::on(conn);
        let key = self.push_create(&mut batch, now)?;
        batch.run(conn).await?;
        Ok(key)
    }

    /// Creates a data key and adds the statement that stores it wrapped to
    /// `batch` (a row of `data_keys`, written with the batch).
    ///
    /// # Errors
    /// No randomness, or the key could not be wrapped.
    pub(crate) fn push_create(&self, batch: &mut Batch, now: DateTime<Utc>) -> Result<DataKey> {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        fill_random(bytes.as_mut_slice())?;
        let id = Uuid::new_v4().to_string();
        let wrapped = encrypt(&self.master, &wrap_aad(&id), bytes.as_slice())?;
        batch
            .statement("INSERT INTO data_keys (id, wrapped, created_at) VALUES (")
            .item(id.clone())
            .item(wrapped)
            .item(millis(now))
            .push(")");
        Ok(DataKey {
            id,
            cipher: cipher(&bytes),
        })
    }

    /// Unwraps a stored key.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if it does not open under the master key.
    pub(crate) fn unwrap(&self, id: &str, wrapped: &str) -> Result<DataKey> {
        let clear = decrypt(&self.master, &wrap_aad(id), wrapped, "clé de données")?;
        let bytes: &[u8; KEY_BYTES] = clear
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("clé de données de taille inattendue".into()))?;
        Ok(DataKey {
            id: id.to_owned(),
            cipher: cipher(bytes),
        })
    }

    /// The key of a row selected with [`key_columns`], if it has one.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the row names a key that does not open.
    pub(crate) fn of_row(&self, row: &AnyRow) -> Result<Option<DataKey>> {
        match (
            row.text_opt("sealing_key_id")?,
            row.text_opt("sealing_key")?,
        ) {
            (Some(id), Some(wrapped)) => self.unwrap(&id, &wrapped).map(Some),
            _ => Ok(None),
        }
    }

    /// The key of the row `id` of `table` (`demandes`, `drafts`, `jobs`:
    /// the tables with a `key_id`), read in the caller's transaction.
    async fn of_owner(
        &self,
        conn: &mut AnyConnection,
        table: &'static str,
        id: String,
    ) -> Result<Option<DataKey>> {
        let query = format!(
            "SELECT {} FROM {table} o WHERE o.id = $1",
            key_columns("o.key_id")
        );
        let row = sqlx::query(&query)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(row) => self.of_row(&row),
            None => Ok(None),
        }
    }

    /// The key of a demande, read in the caller's transaction.
    ///
    /// # Errors
    /// A database error, or a key that does not open.
    pub(crate) async fn of_demande(
        &self,
        conn: &mut AnyConnection,
        demande: guichet_core::id::DemandeId,
    ) -> Result<Option<DataKey>> {
        self.of_owner(conn, "demandes", demande.to_string()).await
    }

    /// The key of a draft, read in the caller's transaction.
    ///
    /// # Errors
    /// A database error, or a key that does not open.
    #[cfg(feature = "test-support")]
    pub(crate) async fn of_draft(
        &self,
        conn: &mut AnyConnection,
        draft: Uuid,
    ) -> Result<Option<DataKey>> {
        self.of_owner(conn, "drafts", draft.to_string()).await
    }

    /// The key of a job, read in the caller's transaction.
    ///
    /// # Errors
    /// A database error, or a key that does not open.
    pub(crate) async fn of_job(
        &self,
        conn: &mut AnyConnection,
        job: Uuid,
    ) -> Result<Option<DataKey>> {
        self.of_owner(conn, "jobs", job.to_string()).await
    }
}

fn wrap_aad(id: &str) -> Vec<u8> {
    format!("{WRAP_CONTEXT}\u{0}{id}").into_bytes()
}

/// The columns [`Keyring::of_row`] reads, for a SELECT whose owner's key id
/// is the SQL expression `key_id` (`d.key_id`, or a subquery).
pub(crate) fn key_columns(key_id: &str) -> String {
    format!(
        "{key_id} AS sealing_key_id, \
         (SELECT k.wrapped FROM data_keys k WHERE k.id = {key_id}) AS sealing_key"
    )
}

/// `clear` sealed with `key` for `column` (`table.column`), or `clear`
/// itself when there is no key.
///
/// # Errors
/// No randomness.
pub(crate) fn seal(key: Option<&DataKey>, column: &str, clear: String) -> Result<String> {
    match key {
        Some(key) => Ok(format!(
            "{SEALED_PREFIX}{}",
            encrypt(&key.cipher, &key.aad(column), clear.as_bytes())?
        )),
        None => Ok(clear),
    }
}

/// [`seal`] of a value that may be absent.
///
/// # Errors
/// As [`seal`].
pub(crate) fn seal_opt(
    key: Option<&DataKey>,
    column: &str,
    clear: Option<String>,
) -> Result<Option<String>> {
    clear.map(|clear| seal(key, column, clear)).transpose()
}

/// `value` serialised to JSON and sealed.
///
/// # Errors
/// As [`to_json`] and [`seal`].
pub(crate) fn seal_json<T: Serialize + ?Sized>(
    key: Option<&DataKey>,
    column: &str,
    value: &T,
) -> Result<String> {
    seal(key, column, to_json(value)?)
}

/// The clear text of a stored value: opened with `key` when sealed, as is
/// otherwise.
///
/// # Errors
/// [`StoreError::Corrupt`] if the value is sealed and the key is missing
/// (destroyed) or does not open it.
pub(crate) fn open(key: Option<&DataKey>, column: &str, stored: String) -> Result<String> {
    let Some(sealed) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok(stored);
    };
    let key = key.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "{column} : valeur chiffrée dont la clé est détruite"
        ))
    })?;
    let clear = decrypt(&key.cipher, &key.aad(column), sealed, column)?;
    String::from_utf8(clear.to_vec())
        .map_err(|_| StoreError::Corrupt(format!("{column} : texte déchiffré invalide")))
}

/// [`open`] of a value that may be absent.
///
/// # Errors
/// As [`open`].
pub(crate) fn open_opt(
    key: Option<&DataKey>,
    column: &str,
    stored: Option<String>,
) -> Result<Option<String>> {
    stored.map(|stored| open(key, column, stored)).transpose()
}

/// A sealed JSON value read back.
///
/// # Errors
/// As [`open`] and [`from_json`].
pub(crate) fn open_json<T: DeserializeOwned>(
    key: Option<&DataKey>,
    column: &str,
    stored: String,
) -> Result<T> {
    from_json(&open(key, column, stored)?)
}

/// Deletes the key `id` if no draft, demande or job names it any more;
/// returns whether it was deleted. Called in the transaction that drops the
/// last reference.
///
/// # Errors
/// A database error.
pub(crate) async fn release(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let deleted = sqlx::query(
        "DELETE FROM data_keys WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM demandes WHERE key_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM drafts WHERE key_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM jobs WHERE key_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM connector_instances WHERE key_id = $1)",
    )
    .bind(id.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(deleted.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey {
            id: "k1".into(),
            cipher: cipher(&[7u8; KEY_BYTES]),
        }
    }

    #[test]
    fn sealed_values_open_with_their_key_and_column_only() {
        let key = key();
        let sealed = seal(Some(&key), "demandes.data", "06 12 34 56 78".into()).unwrap();
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(!sealed.contains("06 12"));
        assert_eq!(
            open(Some(&key), "demandes.data", sealed.clone()).unwrap(),
            "06 12 34 56 78"
        );
        assert!(open(Some(&key), "history.message", sealed.clone()).is_err());
        let other = DataKey {
            id: "k2".into(),
            cipher: cipher(&[7u8; KEY_BYTES]),
        };
        assert!(open(Some(&other), "demandes.data", sealed.clone()).is_err());
        assert!(matches!(
            open(None, "demandes.data", sealed),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn clear_values_pass_through() {
        assert_eq!(
            open(None, "history.message", "Bonjour".into()).unwrap(),
            "Bonjour"
        );
        assert_eq!(
            seal(None, "history.message", "Bonjour".into()).unwrap(),
            "Bonjour"
        );
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let key = key();
        let a = seal(Some(&key), "files.name", "a.pdf".into()).unwrap();
        let b = seal(Some(&key), "files.name", "a.pdf".into()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn wrapped_keys_open_under_their_master_only() {
        let ring = Keyring::new(&MasterKey::generate().unwrap());
        let wrapped = encrypt(&ring.master, &wrap_aad("k1"), &[9u8; KEY_BYTES]).unwrap();
        assert!(ring.unwrap("k1", &wrapped).is_ok());
        assert!(ring.unwrap("k2", &wrapped).is_err());
        let other = Keyring::new(&MasterKey::generate().unwrap());
        assert!(other.unwrap("k1", &wrapped).is_err());
    }
}
