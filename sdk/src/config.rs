//! The configuration of the instance a call runs for.
//!
//! An administrator configures each instance of a connector (base URL, API key…)
//! against the JSON Schema the connector publishes in its description. Values
//! come back as text: strings raw, other JSON values as JSON text. Properties
//! marked `"x-secret": true` are secrets: only [`secret`] reads them.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::Error;

/// A configuration value by key; `None` when unset.
pub fn get(key: &str) -> Option<String> {
    imp::get(key)
}

/// A configuration value that must be set.
///
/// # Errors
/// [`Error::Configuration`] naming the missing key.
pub fn require(key: &str) -> Result<String, Error> {
    get(key).ok_or_else(|| missing(key))
}

/// A configuration value parsed from JSON (numbers, booleans, objects).
///
/// # Errors
/// [`Error::Configuration`] when the value is not of the expected type.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    let Some(text) = get(key) else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .or_else(|_| serde_json::from_value(serde_json::Value::String(text)))
        .map(Some)
        .map_err(|e| Error::Configuration(format!("paramètre « {key} » invalide : {e}")))
}

/// A secret by key; `None` when unset.
pub fn secret(key: &str) -> Option<Secret> {
    imp::secret(key).map(Secret)
}

/// A secret that must be set.
///
/// # Errors
/// [`Error::Configuration`] naming the missing key.
pub fn require_secret(key: &str) -> Result<Secret, Error> {
    secret(key).ok_or_else(|| missing(key))
}

fn missing(key: &str) -> Error {
    Error::Configuration(format!(
        "paramètre « {key} » manquant dans la configuration"
    ))
}

/// A secret value. Its `Debug` and `Display` print `***`; [`Secret::expose`]
/// gives the value to put in a header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::bindings::guichet::connector::config;

    pub fn get(key: &str) -> Option<String> {
        config::get(key)
    }

    pub fn secret(key: &str) -> Option<String> {
        config::secret(key)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub fn get(key: &str) -> Option<String> {
        crate::testing::config(key)
    }

    pub fn secret(key: &str) -> Option<String> {
        crate::testing::secret(key)
    }
}
