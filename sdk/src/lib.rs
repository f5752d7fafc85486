//! # guichet-sdk — write a Guichet connector
//!
//! A connector (connecteur métier) maps Guichet demandes to a vendor's business
//! application. It is a WebAssembly component implementing the WIT package
//! `guichet:connector@0.1.0` (see `wit/` at the repository root). This crate hides
//! the generated bindings: an author implements one trait, [`Connector`], whose
//! hooks all have defaults but [`Connector::describe`], and registers it with one
//! macro, [`export_connector!`].
//!
//! Inside the hooks, the host's capabilities are typed wrappers:
//! [`http`] (outbound requests to the hosts the administrator allowed),
//! [`config`] (instance configuration and secrets), [`log`] (structured logs
//! journaled with each call) and [`attachments`] (file contents).
//!
//! Built for `wasm32-wasip2`, the wrappers call the host. Built natively (for
//! `cargo test`), they call the thread-local [`testing::MockHost`], so the mapping
//! logic is tested without the platform.
//!
//! ```ignore
//! use guichet_sdk::{Connector, Demande, Description, Error, Receipt, export_connector};
//!
//! struct Hello;
//!
//! impl Connector for Hello {
//!     fn describe() -> Description { /* … */ }
//!     fn transmit(demande: Demande, key: &str) -> Result<Receipt, Error> { /* … */ }
//! }
//!
//! export_connector!(Hello);
//! ```

#[doc(hidden)]
pub mod bindings;

pub mod attachments;
pub mod config;
pub mod demande;
pub mod http;
pub mod log;
pub mod lookup;
pub mod testing;

pub use bindings::guichet::connector::types::{
    Address, AgentCard as Card, AttachmentRef, Availability, CardEntry, CardSection, Choice,
    ConnectorError as Error, DataSource, Demande, Description, Field, FieldValue, Identity,
    LookupItem, LookupQuery, Operation, Receipt, RemoteComment, RemoteStatus,
};

/// Version of the WIT contract this SDK builds against.
pub const CONTRACT_VERSION: &str = "guichet:connector@0.1.0";

/// A connector: the operations Guichet calls on a vendor integration.
///
/// Each call runs in a fresh instance, so the hooks are associated functions
/// without `self`: nothing survives from one call to the next. Every hook but
/// [`describe`](Connector::describe) has a default answering
/// [`Error::Other`] "non pris en charge", so an author implements only what the
/// connector supports (and lists it in [`Description::operations`]).
pub trait Connector {
    /// Describes the connector: name, version, operations, configuration schema,
    /// hosts and data sources. Called at install time, without configuration.
    fn describe() -> Description;

    /// Checks that the vendor application answers with this configuration.
    ///
    /// # Errors
    /// [`Error::Configuration`] for a missing or wrong setting,
    /// [`Error::Unavailable`] when the vendor cannot be reached.
    fn check() -> Result<Availability, Error> {
        Err(unsupported(Operation::Check))
    }

    /// Sends a demande. The same `idempotency_key` twice must not create two
    /// remote records.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the demande cannot be mapped,
    /// [`Error::Rejected`] when the vendor refuses it.
    fn transmit(demande: Demande, idempotency_key: &str) -> Result<Receipt, Error> {
        let _ = (demande, idempotency_key);
        Err(unsupported(Operation::Transmit))
    }

    /// Reads the remote status of a transmitted demande.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the vendor has no such record.
    fn status(remote_id: &str) -> Result<RemoteStatus, Error> {
        let _ = remote_id;
        Err(unsupported(Operation::Status))
    }

    /// Queries a data source: search with `q`, or fetch one item with `id`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown source or a missing parameter.
    fn lookup(query: LookupQuery) -> Result<Vec<LookupItem>, Error> {
        let _ = query;
        Err(unsupported(Operation::Lookup))
    }

    /// Builds what an agent sees about the remote record.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the vendor has no such record.
    fn card(remote_id: &str) -> Result<Card, Error> {
        let _ = remote_id;
        Err(unsupported(Operation::Card))
    }
}

/// The error of an operation the connector does not support:
/// [`Error::Other`] with "opération « transmit » non prise en charge par ce
/// connecteur". What every [`Connector`] hook answers by default, and what
/// the stubs of `guichet connector new` answer until they are written; the
/// host calls only the operations [`Description::operations`] lists.
pub fn unsupported(operation: Operation) -> Error {
    let name = match operation {
        Operation::Check => "check",
        Operation::Transmit => "transmit",
        Operation::Status => "status",
        Operation::Lookup => "lookup",
        Operation::Card => "card",
    };
    Error::Other(format!(
        "opération « {name} » non prise en charge par ce connecteur"
    ))
}

impl From<http::HttpError> for Error {
    fn from(error: http::HttpError) -> Self {
        match error {
            http::HttpError::Forbidden(url) => {
                Error::Configuration(format!("hôte non autorisé pour cette instance : {url}"))
            }
            http::HttpError::InvalidUrl(url) => {
                Error::Configuration(format!("URL invalide : {url}"))
            }
            other => Error::Unavailable(other.message()),
        }
    }
}

/// Registers a type implementing [`Connector`] as the component's export.
///
/// Use it once, at the root of the connector crate. Natively (for `cargo test`)
/// it expands to nothing.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct GuichetExport;

            impl $crate::__private::Guest for GuichetExport {
                fn describe() -> $crate::Description {
                    <$connector as $crate::Connector>::describe()
                }
                fn check() -> ::core::result::Result<$crate::Availability, $crate::Error> {
                    <$connector as $crate::Connector>::check()
                }
                fn transmit(
                    demande: $crate::Demande,
                    idempotency_key: ::std::string::String,
                ) -> ::core::result::Result<$crate::Receipt, $crate::Error> {
                    <$connector as $crate::Connector>::transmit(demande, &idempotency_key)
                }
                fn status(
                    remote_id: ::std::string::String,
                ) -> ::core::result::Result<$crate::RemoteStatus, $crate::Error> {
                    <$connector as $crate::Connector>::status(&remote_id)
                }
                fn lookup_items(
                    query: $crate::LookupQuery,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::LookupItem>, $crate::Error>
                {
                    <$connector as $crate::Connector>::lookup(query)
                }
                fn card(
                    remote_id: ::std::string::String,
                ) -> ::core::result::Result<$crate::Card, $crate::Error> {
                    <$connector as $crate::Connector>::card(&remote_id)
                }
            }

    $crate::__private::export!(GuichetExport with_types_in $crate::__private::bindings);
        };
    };
}

/// Implementation details of [`export_connector!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use crate::bindings::export;
    pub use crate::bindings::exports::guichet::connector::connector::Guest;
}
