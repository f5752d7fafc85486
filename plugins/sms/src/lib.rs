//! # SMS gateway (`sms`)
//!
//! Sends the platform's notification SMS through an SMS provider's REST
//! API. It is a component of the world `sms-gateway` of
//! `guichet:connector@0.2.0` (exports `gateway` and `sms`, imports `http`,
//! `log` and `config`), written directly against the WIT with
//! `wit-bindgen`: the SDK builds `plugin` components of 0.1.0 only (see
//! `sdk/README.md`). See `README.md` beside this file for the
//! configuration and the provider's API; [`provider`] holds the mapping,
//! tested natively; this file only reads the configuration, calls the
//! host and logs.

pub mod provider;

#[doc(hidden)]
pub mod bindings {
    //! Bindings generated from `wit/connector@0.2.0`, world `sms-gateway`.
    #![allow(missing_docs, unsafe_code, clippy::all)]

    wit_bindgen::generate!({
        path: "../../wit/connector@0.2.0",
        world: "sms-gateway",
    });
}

use bindings::exports::guichet::connector::{gateway, sms};
use bindings::guichet::connector::config;
use bindings::guichet::connector::http::{self, Request, Response};
use bindings::guichet::connector::log::{self, Level};
use bindings::guichet::connector::types::{Availability, ConnectorError, Description, Operation};
use provider::Settings;

/// The SMS gateway.
pub struct SmsGateway;

impl gateway::Guest for SmsGateway {
    fn describe() -> Description {
        Description {
            name: "sms".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "Guichet (connecteur de référence)".into(),
            summary: "Envoie les SMS des notifications par l'API REST d'un fournisseur de SMS."
                .into(),
            operations: vec![Operation::Check, Operation::SendSms],
            config_schema: provider::config_schema().to_string(),
            hosts: vec!["https://api.sms.example:443".into()],
            data_sources: Vec::new(),
        }
    }

    fn check() -> Result<Availability, ConnectorError> {
        let settings = settings()?;
        provider::availability(&send(provider::status_request(&settings))?)
    }
}

impl sms::Guest for SmsGateway {
    fn send(message: sms::SmsMessage) -> Result<sms::SmsReceipt, ConnectorError> {
        let settings = settings()?;
        let response = send(provider::send_request(&settings, &message))?;
        let receipt = provider::receipt(&response)?;
        // Neither the number nor the text: the journal keeps logs.
        log::write(
            Level::Info,
            if response.status == 200 {
                "SMS déjà accepté par le fournisseur (même clé d'idempotence)"
            } else {
                "SMS accepté par le fournisseur"
            },
            &[("message_id".into(), receipt.message_id.clone())],
        );
        Ok(receipt)
    }
}

/// The instance's settings, each required one named when missing.
fn settings() -> Result<Settings, ConnectorError> {
    let missing =
        |key: &str| ConnectorError::Configuration(format!("paramètre « {key} » manquant"));
    Ok(Settings {
        base_url: config::get("base_url").ok_or_else(|| missing("base_url"))?,
        api_key: config::secret("api_key").ok_or_else(|| missing("api_key"))?,
        sender: config::get("sender").ok_or_else(|| missing("sender"))?,
    })
}

/// Sends through the host; a request that got no answer is an error.
fn send(request: Request) -> Result<Response, ConnectorError> {
    http::send(&request).map_err(provider::unanswered)
}

/// The component's exports: the generated glue is `unsafe` (raw
/// pointers of the canonical ABI), allowed here only.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use super::SmsGateway;

    crate::bindings::export!(SmsGateway with_types_in crate::bindings);
}
