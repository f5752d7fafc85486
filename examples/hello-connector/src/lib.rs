//! The smallest Guichet connector, for authors to start from.
//!
//! It "transmits" a demande by posting a JSON summary to `{base_url}/messages`
//! with the configured `token`, and describes itself with a configuration schema
//! marking the token as a secret. Build it with
//! `cargo build --release --target wasm32-wasip2 -p hello-connector` and validate
//! it with `guichet connector check target/wasm32-wasip2/release/hello_connector.wasm`.

use guichet_sdk::http::{self, Request};
use guichet_sdk::{
    Connector, Demande, Description, Error, Operation, Receipt, config, export_connector, log,
};

/// The connector. It keeps no state: every call runs in a fresh instance.
pub struct Hello;

impl Connector for Hello {
    fn describe() -> Description {
        Description {
            name: "hello".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "Guichet".into(),
            summary: "Connecteur d'exemple : envoie un résumé de la demande à un service web."
                .into(),
            operations: vec![Operation::Transmit],
            config_schema: serde_json::json!({
                "type": "object",
                "required": ["base_url", "token"],
                "properties": {
                    "base_url": { "type": "string", "format": "uri", "title": "URL du service" },
                    "token": { "type": "string", "title": "Jeton d'accès", "x-secret": true }
                },
                "additionalProperties": false
            })
            .to_string(),
            hosts: vec!["https://*.example.org:443".into()],
            data_sources: vec![],
        }
    }

    fn transmit(demande: Demande, idempotency_key: &str) -> Result<Receipt, Error> {
        let base = config::require("base_url")?;
        let token = config::require_secret("token")?;
        log::info(&format!("envoi de la demande {}", demande.numero));
        let response = Request::post(http::join(&base, "messages"))
            .bearer(token.expose())
            .header("Idempotency-Key", idempotency_key)
            .json(&serde_json::json!({
                "numero": demande.numero,
                "demarche": demande.demarche,
                "champs": demande.fields.len(),
            }))?
            .send()?
            .error_for_status()?;
        let created: serde_json::Value = response.json()?;
        let id = created["id"]
            .as_str()
            .ok_or_else(|| Error::Other("réponse sans « id »".into()))?;
        Ok(Receipt {
            remote_id: id.to_string(),
            display_id: None,
        })
    }
}

export_connector!(Hello);

#[cfg(test)]
mod tests {
    use super::*;
    use guichet_sdk::Identity;
    use guichet_sdk::http::{Method, Response};
    use guichet_sdk::testing::MockHost;

    fn demande() -> Demande {
        Demande {
            id: "d1".into(),
            numero: "VELO-2026-000001".into(),
            demarche: "aide-reparation-velo".into(),
            demarche_version: 1,
            submitted_at: "2026-11-29T10:00:00Z".into(),
            usager: Identity {
                first_name: "Léa".into(),
                last_name: "Dupont".into(),
                email: None,
                phone: None,
                mobile: None,
                address: None,
                birth_date: None,
            },
            fields: vec![],
        }
    }

    #[test]
    fn transmit_posts_the_summary_with_the_token_and_key() {
        let host = MockHost::new()
            .config("base_url", "https://hello.example.org")
            .secret("token", "t0k3n")
            .respond(
                Method::Post,
                "https://hello.example.org/messages",
                Response::json_body(201, &serde_json::json!({ "id": "m-1" })),
            );

        let receipt = host.run(|| Hello::transmit(demande(), "key-1"));

        assert_eq!(receipt.map(|r| r.remote_id).ok().as_deref(), Some("m-1"));
        let sent = &host.requests()[0];
        assert_eq!(sent.header_value("Authorization"), Some("Bearer t0k3n"));
        assert_eq!(sent.header_value("Idempotency-Key"), Some("key-1"));
    }

    #[test]
    fn transmit_without_base_url_is_a_configuration_error() {
        let host = MockHost::new().secret("token", "t");

        let result = host.run(|| Hello::transmit(demande(), "k"));

        assert!(matches!(result, Err(Error::Configuration(_))));
    }
}
