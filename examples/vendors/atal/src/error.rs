//! ATAL's error shape: `{"Message": "..."}`, in the style of its .NET API.

use vendor_sim::{Error, ErrorShape};

/// ATAL writes errors as `{"Message": "..."}` and carries no code.
#[derive(Debug, Clone, Copy)]
pub struct AtalShape;

impl ErrorShape for AtalShape {
    fn body(_code: &str, message: &str) -> serde_json::Value {
        serde_json::json!({ "Message": message })
    }
}

/// Every error the simulated ATAL API answers with.
pub type ApiError = Error<AtalShape>;
