//! The JSON of each connector call as `guichet connector call` takes and
//! prints it, and the JSON Schemas that describe it (derived by `schemars`
//! from these types; published in `sdk/schemas/`, kept identical by
//! `tests/tests/vendor_kit/`; printed by `guichet connector schema`).
//!
//! `connector call <file> --config <file> <operation> <input>` takes the
//! operation's input (`transmit.input`…; describe and check take none) and
//! prints `{"<operation>": <output>}`.

use serde::{Deserialize, Serialize};

use super::{
    Availability, Card, Demande, Description, LookupItem, LookupQuery, Receipt, RemoteStatus,
    SmsMessage, SmsReceipt,
};

/// The input of `transmit`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransmitInput {
    /// The demande, as the connector receives it.
    pub demande: Demande,
    /// The same key twice must not create two remote records (Guichet
    /// passes the transmission job's key on each retry).
    pub idempotency_key: String,
}

/// The input of `status` and `card`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteIdInput {
    /// The vendor's id of the record, as `transmit` returned it.
    pub remote_id: String,
}

/// The names of the published schemas and the schemas, in the order of
/// the contract: the demande, then each operation's input and output.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn of<T: schemars::JsonSchema>() -> serde_json::Value {
        serde_json::Value::from(schemars::schema_for!(T))
    }
    vec![
        ("demande", of::<Demande>()),
        ("describe.output", of::<Description>()),
        ("check.output", of::<Availability>()),
        ("transmit.input", of::<TransmitInput>()),
        ("transmit.output", of::<Receipt>()),
        ("status.input", of::<RemoteIdInput>()),
        ("status.output", of::<RemoteStatus>()),
        ("lookup.input", of::<LookupQuery>()),
        ("lookup.output", of::<Vec<LookupItem>>()),
        ("card.input", of::<RemoteIdInput>()),
        ("card.output", of::<Card>()),
        ("send_sms.input", of::<SmsMessage>()),
        ("send_sms.output", of::<SmsReceipt>()),
    ]
}
