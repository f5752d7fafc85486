//! The call-overhead benchmark's component: `transmit` runs the ATAL mapping
//! (the very source file the benchmark runs natively) on the demande and
//! returns the size of the JSON body, with no I/O.

#[path = "../../../../plugins/atal/src/mapping.rs"]
#[allow(dead_code)]
mod mapping;

use guichet_sdk::{Connector, Demande, Description, Error, Operation, Receipt, export_connector};
use mapping::{Settings, works_request};

/// The connector.
pub struct Bench;

impl Connector for Bench {
    fn describe() -> Description {
        Description {
            name: "bench".into(),
            version: "0.1.0".into(),
            vendor: "Tests".into(),
            summary: "Mesure du coût d'un appel".into(),
            operations: vec![Operation::Transmit],
            config_schema: r#"{"type": "object"}"#.into(),
            hosts: vec![],
            data_sources: vec![],
        }
    }

    fn transmit(demande: Demande, idempotency_key: &str) -> Result<Receipt, Error> {
        let body = works_request(&demande, &Settings::default())?;
        let json = serde_json::to_vec(&body).map_err(|e| Error::Other(e.to_string()))?;
        Ok(Receipt {
            remote_id: idempotency_key.to_string(),
            display_id: Some(json.len().to_string()),
        })
    }
}

export_connector!(Bench);
