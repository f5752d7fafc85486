//! YAML in and out, through JSON values.
//!
//! `serde_yaml` 0.9 writes and reads externally tagged enums as YAML tags
//! (`!equals`), which people do not write. Going through
//! [`serde_json::Value`] makes them one-key maps (`equals: {…}`), so a
//! definition reads the same in YAML and in JSON and writes back as it reads.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A YAML text that is not YAML, or whose content does not fit the type.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// Not YAML, or not representable as JSON (e.g. non-string keys).
    #[error("YAML invalide : {0}")]
    Syntax(#[from] serde_yaml::Error),
    /// Valid YAML whose content does not fit, with the path of the problem.
    #[error("contenu invalide à « {path} » : {message}")]
    Content {
        /// Where (`pages[0].fields[1]`).
        path: String,
        /// What.
        message: String,
    },
}

/// Reads a YAML text into a JSON value.
///
/// # Errors
/// [`YamlError::Syntax`] for invalid YAML.
pub fn to_json(yaml: &str) -> Result<serde_json::Value, YamlError> {
    Ok(serde_yaml::from_str(yaml)?)
}

/// Reads a value from YAML.
///
/// # Errors
/// [`YamlError`] for invalid YAML or content that does not fit `T`.
pub fn from_str<T: DeserializeOwned>(yaml: &str) -> Result<T, YamlError> {
    let json = to_json(yaml)?;
    serde_path_to_error::deserialize(json).map_err(|error| YamlError::Content {
        path: error.path().to_string(),
        message: error.inner().to_string(),
    })
}

/// Writes a value as YAML.
///
/// # Errors
/// [`YamlError::Syntax`] if the value cannot be serialised.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    let json = serde_json::to_value(value).map_err(|e| YamlError::Content {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(serde_yaml::to_string(&json)?)
}
