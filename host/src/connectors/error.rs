//! Errors of installing and calling connectors. Messages are French: they reach
//! administrators (CLI, admin API) and agents (the demande's connector panel).

use std::time::Duration;

use super::instance::ConfigError;
use super::model::{ConnectorError, Operation};

/// Why a component could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The file could not be read.
    #[error("lecture impossible de {path} : {reason}")]
    Read {
        /// Path.
        path: String,
        /// OS error.
        reason: String,
    },
    /// Not a WebAssembly component at all (empty, text, another format).
    #[error("ce fichier n'est pas un composant WebAssembly (en-tête « \\0asm » absent)")]
    NotWasm,
    /// A core WebAssembly module, not a component.
    #[error(
        "ce fichier est un module WebAssembly, pas un composant : compilez avec `cargo build --target wasm32-wasip2`"
    )]
    CoreModule,
    /// The component does not compile.
    #[error("composant invalide : {0}")]
    Invalid(String),
    /// It imports something the host does not provide.
    #[error("le composant demande des capacités que Guichet ne fournit pas : {0}")]
    Imports(String),
    /// It implements no supported world.
    #[error("le composant n'implémente aucun contrat pris en charge ({supported}) : {reason}")]
    World {
        /// Supported contract versions.
        supported: String,
        /// Why the last one did not match.
        reason: String,
    },
    /// `describe` failed.
    #[error("l'appel de « describe » a échoué : {0}")]
    Describe(Box<CallError>),
    /// `describe` answered something unusable.
    #[error("description invalide : {0}")]
    Description(String),
    /// The precompiled cache failed (the directory is not writable…).
    #[error("cache des composants précompilés : {0}")]
    Cache(String),
    /// The install-time instance could not be built.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Why a call did not produce an answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The connector returned one of its typed errors.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// The connector does not implement this operation.
    #[error("le connecteur ne prend pas en charge l'opération « {0} »")]
    Unsupported(Operation),
    /// The guest trapped: a panic, a stack overflow, an `unreachable`…
    #[error("le connecteur s'est arrêté sur une erreur interne : {0}")]
    Trap(String),
    /// The call passed its deadline.
    #[error("le connecteur n'a pas répondu dans le délai de {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The guest tried to use more memory than allowed (bytes).
    #[error("le connecteur a dépassé sa limite de mémoire ({} Mio)", .0 / (1024 * 1024))]
    MemoryLimit(u64),
    /// The host could not run the call.
    #[error("appel du connecteur impossible : {0}")]
    Host(String),
}

impl CallError {
    /// Stable snake_case code for the API and the journal.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Connector(e) => e.kind(),
            CallError::Unsupported(_) => "unsupported",
            CallError::Trap(_) => "trap",
            CallError::Timeout(_) => "timeout",
            CallError::MemoryLimit(_) => "memory_limit",
            CallError::Host(_) => "host_error",
        }
    }

    /// Whether the same call may succeed later (the job queue retries these).
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Connector(e) => e.is_retryable(),
            CallError::Timeout(_) => true,
            _ => false,
        }
    }
}
