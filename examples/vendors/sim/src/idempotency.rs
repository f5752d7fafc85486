//! `Idempotency-Key` bookkeeping for creation routes.
//!
//! The same key with the same body returns the record created the first
//! time (200 instead of 201, nothing new created); the same key with another
//! body is a conflict (409). A request that fails validation leaves no
//! trace, so the caller may retry it with the same key once corrected.

use std::collections::HashMap;

use axum::{
    Json,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::error::Error;

/// The header carrying the key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Longest key accepted.
const MAX_KEY_LEN: usize = 255;

/// One request's key and the fingerprint of what it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    key: String,
    fingerprint: serde_json::Value,
}

impl Claim {
    /// Reads the `Idempotency-Key` header; `fingerprint` stands for the body
    /// (the parsed JSON, or a summary of an upload).
    ///
    /// # Errors
    /// 400 when the header is present but empty, too long or not visible ASCII.
    pub fn from_headers<S>(
        headers: &HeaderMap,
        fingerprint: serde_json::Value,
    ) -> Result<Option<Self>, Error<S>> {
        let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|key| !key.is_empty() && key.len() <= MAX_KEY_LEN)
            .ok_or_else(|| {
                Error::bad_request(
                    "cle_idempotence_invalide",
                    "En-tête Idempotency-Key invalide (1 à 255 caractères ASCII visibles)",
                )
            })?;
        Ok(Some(Self {
            key: key.to_owned(),
            fingerprint,
        }))
    }
}

/// The keys already used on one route, with the id of what each created.
#[derive(Debug)]
pub struct Ledger<Id> {
    entries: HashMap<String, (serde_json::Value, Id)>,
}

impl<Id> Default for Ledger<Id> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<Id: Clone> Ledger<Id> {
    /// The id to replay for `claim`, if its key was already used with the
    /// same fingerprint.
    ///
    /// # Errors
    /// 409 when the key was used with another fingerprint.
    pub fn replay<S>(&self, claim: Option<&Claim>) -> Result<Option<Id>, Error<S>> {
        let Some(claim) = claim else {
            return Ok(None);
        };
        match self.entries.get(&claim.key) {
            None => Ok(None),
            Some((fingerprint, id)) if *fingerprint == claim.fingerprint => Ok(Some(id.clone())),
            Some(_) => Err(Error::conflict(
                "cle_idempotence_reutilisee",
                "Clé d'idempotence déjà utilisée pour une autre requête",
            )),
        }
    }

    /// Remembers that `claim` produced `id`.
    pub fn record(&mut self, claim: Option<Claim>, id: Id) {
        if let Some(claim) = claim {
            self.entries.insert(claim.key, (claim.fingerprint, id));
        }
    }
}

/// The result of a creation route: a new record, or one already there.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// Created now: 201.
    Created(T),
    /// Returned again (same idempotency key, or a duplicate the vendor
    /// recognises): 200.
    Existing(T),
}

impl<T> Outcome<T> {
    /// The record, whichever way it came.
    pub fn into_inner(self) -> T {
        match self {
            Self::Created(value) | Self::Existing(value) => value,
        }
    }

    /// Converts the record, keeping the way it came.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Self::Created(value) => Outcome::Created(f(value)),
            Self::Existing(value) => Outcome::Existing(f(value)),
        }
    }
}

impl<T: Serialize> IntoResponse for Outcome<T> {
    fn into_response(self) -> Response {
        match self {
            Self::Created(value) => (StatusCode::CREATED, Json(value)).into_response(),
            Self::Existing(value) => (StatusCode::OK, Json(value)).into_response(),
        }
    }
}
