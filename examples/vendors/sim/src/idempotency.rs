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

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;

    struct Plain;

    fn claim(key: &str, body: serde_json::Value) -> Option<Claim> {
        let mut headers = HeaderMap::new();
        headers.insert(
            IDEMPOTENCY_KEY,
            HeaderValue::from_str(key).expect("a valid header value"),
        );
        Claim::from_headers::<Plain>(&headers, body).expect("a valid key")
    }

    #[test]
    fn same_key_and_body_replays_the_first_id() {
        let mut ledger = Ledger::default();
        ledger.record(claim("k1", json!({ "a": 1 })), 7);

        let replayed = ledger.replay::<Plain>(claim("k1", json!({ "a": 1 })).as_ref());

        assert_eq!(replayed.expect("no conflict"), Some(7));
    }

    #[test]
    fn same_key_with_another_body_conflicts() {
        let mut ledger = Ledger::default();
        ledger.record(claim("k1", json!({ "a": 1 })), 7);

        let conflict = ledger
            .replay::<Plain>(claim("k1", json!({ "a": 2 })).as_ref())
            .expect_err("a conflict");

        assert_eq!(conflict.status(), StatusCode::CONFLICT);
    }

    #[test]
    fn requests_without_a_key_are_never_replayed() {
        let mut ledger = Ledger::default();
        ledger.record(None, 7);

        assert_eq!(ledger.replay::<Plain>(None).expect("no conflict"), None);
        assert!(ledger.entries.is_empty());
    }

    #[test]
    fn blank_or_oversized_keys_are_rejected() {
        for key in [" ".to_owned(), "k".repeat(MAX_KEY_LEN + 1)] {
            let mut headers = HeaderMap::new();
            headers.insert(
                IDEMPOTENCY_KEY,
                HeaderValue::from_str(&key).expect("a valid header value"),
            );

            let refused = Claim::from_headers::<Plain>(&headers, json!({})).expect_err("refused");

            assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        }
    }
}
