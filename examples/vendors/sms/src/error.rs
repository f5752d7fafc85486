//! The provider's error shape: `{"error": {"code": "...", "message": "..."}}`.

use vendor_sim::{Error, ErrorShape};

/// The simulated provider writes errors as
/// `{"error": {"code": "<snake_case>", "message": "<français>"}}`.
#[derive(Debug, Clone, Copy)]
pub struct SmsShape;

impl ErrorShape for SmsShape {
    fn body(code: &str, message: &str) -> serde_json::Value {
        serde_json::json!({ "error": { "code": code, "message": message } })
    }
}

/// Every error the simulated provider answers with.
pub type ApiError = Error<SmsShape>;
