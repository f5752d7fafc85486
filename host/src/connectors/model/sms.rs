//! What crosses the boundary of an SMS gateway (the `sms` interface of
//! `guichet:connector@0.2.0`).

use serde::{Deserialize, Serialize};

/// One text message to one mobile phone.
///
/// The platform checks the number and fits the text before sending:
/// `guichet_core::phone::mobile_e164` gives `to`, `guichet_core::sms::fit`
/// the text; the gateway sends them as they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SmsMessage {
    /// The recipient's mobile number in E.164, e.g. `+33612345678`.
    pub to: String,
    /// The text, already fitted to the segments allowed.
    pub text: String,
    /// The same key twice sends one SMS: a delivery retried after a
    /// timeout passes its job's key again.
    pub idempotency_key: String,
}

/// What the provider answered for an accepted message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SmsReceipt {
    /// The provider's id of the message.
    pub message_id: String,
}
