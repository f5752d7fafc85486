//! Espace famille's error shape: `{"erreur": "...", "code": "..."}`.

use vendor_sim::{Error, ErrorShape};

/// Espace famille writes errors as `{"erreur": <French message>, "code": <stable code>}`.
#[derive(Debug, Clone, Copy)]
pub struct EspaceFamilleShape;

impl ErrorShape for EspaceFamilleShape {
    fn body(code: &str, message: &str) -> serde_json::Value {
        serde_json::json!({ "erreur": message, "code": code })
    }
}

/// Every error the simulated Espace famille API answers with.
pub type ApiError = Error<EspaceFamilleShape>;
