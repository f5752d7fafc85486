//! A connector whose configuration schema is not valid JSON Schema: installing
//! it must fail with a clear message.

use guichet_sdk::{Connector, Description, Operation, export_connector};

/// The connector.
pub struct BadSchema;

impl Connector for BadSchema {
    fn describe() -> Description {
        Description {
            name: "bad-schema".into(),
            version: "0.1.0".into(),
            vendor: "Tests".into(),
            summary: "Schéma invalide".into(),
            operations: vec![Operation::Check],
            config_schema: r#"{"type": 12, "properties": []}"#.into(),
            hosts: vec![],
            data_sources: vec![],
        }
    }
}

export_connector!(BadSchema);
