//! Contract `guichet:connector@0.1.0`: generated bindings and the
//! [`Version`] the runtime sees. Its world `plugin` (call, conversions to
//! the host's [`model`](crate::connectors::model), host imports) is the
//! one every version shares, expanded from [`super::conversions`].

use futures::future::BoxFuture;
use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::{Answer, Version, World};
use crate::connectors::host::CallState;
use crate::connectors::model;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/connector@0.1.0",
        world: "plugin",
        imports: { default: async },
        exports: { default: async },
    });
}

use self::bindings::guichet::connector::{attachments, config, http, log, types};
use self::bindings::{Plugin, PluginPre};

/// The contract id this module implements.
const CONTRACT: &str = "guichet:connector@0.1.0";

/// `guichet:connector@0.1.0`, world `plugin`.
pub(super) struct V0_1_0;

impl Version for V0_1_0 {
    fn id(&self) -> &'static str {
        CONTRACT
    }

    fn add_to_linker(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)
    }

    fn bind(&self, pre: InstancePre<CallState>) -> wasmtime::Result<Box<dyn World>> {
        Ok(Box::new(PluginPre::new(pre)?))
    }
}

fn operation(op: types::Operation) -> model::Operation {
    match op {
        types::Operation::Check => model::Operation::Check,
        types::Operation::Transmit => model::Operation::Transmit,
        types::Operation::Status => model::Operation::Status,
        types::Operation::Lookup => model::Operation::Lookup,
        types::Operation::Card => model::Operation::Card,
    }
}

super::conversions::plugin_world!();
