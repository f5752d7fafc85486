//! Contract `guichet:connector@0.2.0`: generated bindings, the [`Version`]
//! the runtime sees, and its two worlds:
//!
//! - `plugin`, as in 0.1.0 (the `operation` enum gained `send-sms`, which
//!   a plugin cannot export): call, conversions and host imports expanded
//!   from [`super::conversions`];
//! - `sms-gateway`, new: `gateway` (`describe`, `check`) and `sms`
//!   (`send`), over the same `http`, `log` and `config` imports (its
//!   bindings reuse the `plugin` ones, so the imports are linked once).

use futures::future::BoxFuture;
use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::{Answer, Version, World};
use crate::connectors::host::CallState;
use crate::connectors::model;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/connector@0.2.0",
        world: "plugin",
        imports: { default: async },
        exports: { default: async },
    });
}

mod sms_bindings {
    wasmtime::component::bindgen!({
        path: "../wit/connector@0.2.0",
        world: "sms-gateway",
        imports: { default: async },
        exports: { default: async },
        with: {
            "guichet:connector/types": super::bindings::guichet::connector::types,
            "guichet:connector/http": super::bindings::guichet::connector::http,
            "guichet:connector/log": super::bindings::guichet::connector::log,
            "guichet:connector/config": super::bindings::guichet::connector::config,
        },
    });
}

use self::bindings::guichet::connector::{attachments, config, http, log, types};
use self::bindings::{Plugin, PluginPre};
use self::sms_bindings::exports::guichet::connector::sms;
use self::sms_bindings::{SmsGateway, SmsGatewayPre};

/// The contract id this module implements.
const CONTRACT: &str = "guichet:connector@0.2.0";

/// `guichet:connector@0.2.0`, worlds `plugin` and `sms-gateway`.
pub(super) struct V0_2_0;

impl Version for V0_2_0 {
    fn id(&self) -> &'static str {
        CONTRACT
    }

    /// The imports of `plugin`, which include all of `sms-gateway`'s.
    fn add_to_linker(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)
    }

    fn bind(&self, pre: InstancePre<CallState>) -> wasmtime::Result<Box<dyn World>> {
        let plugin = match PluginPre::new(pre.clone()) {
            Ok(plugin) => return Ok(Box::new(plugin)),
            Err(e) => e,
        };
        SmsGatewayPre::new(pre)
            .map(|gateway| Box::new(gateway) as Box<dyn World>)
            .map_err(|gateway| {
                wasmtime::Error::msg(format!(
                    "{CONTRACT} : ni « plugin » ({plugin:#}) ni « sms-gateway » ({gateway:#})"
                ))
            })
    }
}

fn operation(op: types::Operation) -> model::Operation {
    match op {
        types::Operation::Check => model::Operation::Check,
        types::Operation::Transmit => model::Operation::Transmit,
        types::Operation::Status => model::Operation::Status,
        types::Operation::Lookup => model::Operation::Lookup,
        types::Operation::Card => model::Operation::Card,
        types::Operation::SendSms => model::Operation::SendSms,
    }
}

super::conversions::plugin_world!();

impl World for SmsGatewayPre<CallState> {
    fn serves(&self, operation: model::Operation) -> bool {
        matches!(
            operation,
            model::Operation::Describe | model::Operation::Check | model::Operation::SendSms
        )
    }

    fn call<'a>(
        &'a self,
        store: &'a mut Store<CallState>,
        request: &'a model::Request,
    ) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let gateway = self.instantiate_async(&mut *store).await?;
            dispatch_gateway(&gateway, store, request).await
        })
    }

    fn instantiate<'a>(
        &'a self,
        store: &'a mut Store<CallState>,
    ) -> BoxFuture<'a, wasmtime::Result<()>> {
        Box::pin(async move { self.instantiate_async(store).await.map(drop) })
    }
}

/// Runs one request on an instantiated SMS gateway.
///
/// # Errors
/// A trap or host error as `wasmtime::Error`; a connector error inside `Ok`.
async fn dispatch_gateway(
    gateway: &SmsGateway,
    store: &mut Store<CallState>,
    request: &model::Request,
) -> Answer {
    let about = gateway.guichet_connector_gateway();
    Ok(match request {
        model::Request::Describe => Ok(model::Response::Describe(description(
            about.call_describe(&mut *store).await?,
        ))),
        model::Request::Check => about
            .call_check(&mut *store)
            .await?
            .map(|a| model::Response::Check(availability(a))),
        model::Request::SendSms(message) => gateway
            .guichet_connector_sms()
            .call_send(
                &mut *store,
                &sms::SmsMessage {
                    to: message.to.clone(),
                    text: message.text.clone(),
                    idempotency_key: message.idempotency_key.clone(),
                },
            )
            .await?
            .map(|r| {
                model::Response::SendSms(model::SmsReceipt {
                    message_id: r.message_id,
                })
            }),
        // Refused at install (`World::serves`): never called.
        other => {
            return Err(wasmtime::Error::msg(format!(
                "le monde « sms-gateway » n'exporte pas « {} »",
                other.operation()
            )));
        }
    }
    .map_err(connector_error))
}
