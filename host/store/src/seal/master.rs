//! The host's master key: where it comes from (a base64 text, a file of
//! its own created on first start) and how it is kept in memory (zeroed on
//! drop, never printed).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use super::{KEY_BYTES, fill_random};
use crate::error::{Result, StoreError};

/// The host's master key: 32 bytes that wrap every data key. Kept out of
/// the database (configuration or a file of its own).
pub struct MasterKey(Zeroizing<[u8; KEY_BYTES]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// A new random master key.
    ///
    /// # Errors
    /// [`StoreError::File`] if the operating system gives no randomness.
    pub fn generate() -> Result<MasterKey> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        fill_random(key.as_mut_slice())?;
        Ok(MasterKey(key))
    }

    /// The key written as standard base64 (44 characters), as in the
    /// configuration (`GUICHET_MASTER_KEY`).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] unless `text` is base64 of exactly 32 bytes.
    pub(crate) fn from_base64(text: &str) -> Result<MasterKey> {
        let bytes = Zeroizing::new(BASE64.decode(text.trim()).map_err(|_| {
            StoreError::Invalid("la clé maîtresse n'est pas écrite en base64".into())
        })?);
        let key: [u8; KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| {
            StoreError::Invalid(format!(
                "la clé maîtresse doit compter {KEY_BYTES} octets, elle en a {}",
                bytes.len()
            ))
        })?;
        Ok(MasterKey(Zeroizing::new(key)))
    }

    /// The key as standard base64.
    pub(crate) fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.0.as_slice()))
    }

    /// The key stored in the file `path` (base64), created with a new
    /// random key (mode 0600, its directory too) when it does not exist.
    ///
    /// # Errors
    /// [`StoreError::File`] if the file cannot be read or written,
    /// [`StoreError::Invalid`] if it does not hold a key.
    pub fn load_or_create(path: &Path) -> Result<MasterKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => MasterKey::from_base64(&Zeroizing::new(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate()?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_private(path, key.to_base64().as_bytes())?;
                Ok(key)
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// Writes a new file readable by its owner only; fails if it exists (two
/// hosts creating the key at once: the loser reads the winner's).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

impl MasterKey {
    /// The key's bytes.
    pub(super) fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_keys_round_trip_through_base64_and_refuse_wrong_sizes() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.bytes().as_slice(), again.bytes().as_slice());
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("pas du base64 !").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(***)");
    }
}
