//! What each interface a component may import gives it.
//!
//! A connector imports its contract (`guichet:connector/*`) and, because Rust's
//! standard library for `wasm32-wasip2` is built on WASI 0.2, usually some WASI
//! interfaces. The host links all of WASI 0.2, but with an empty context:
//!
//! | interfaces | what the guest gets |
//! |---|---|
//! | `guichet:connector/*` | the contract: HTTP through the allow-list, logs, configuration, attachments |
//! | `wasi:io`, `wasi:clocks`, `wasi:random`, `wasi:cli/{stdin,stdout,stderr,exit}` | provided (stdout discarded, stderr captured and bounded, stdin empty) |
//! | `wasi:filesystem/*` | linked to a deny-all implementation: no directory is opened |
//! | `wasi:sockets/*` | linked to a deny-all implementation: every address and name lookup is refused |
//! | `wasi:cli/environment`, `wasi:cli/terminal-*` | linked to a deny-all implementation: no variable, argument or terminal |
//!
//! Any other import (`wasi:http`, another package, …) is outside the worlds
//! Guichet supports: the component is refused at install with a French message
//! naming those imports.

use serde::Serialize;

/// What an import gives the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The connector contract itself.
    Contract,
    /// A WASI interface with a working, bounded implementation.
    Provided,
    /// A WASI interface linked to an implementation that refuses everything.
    DenyAll,
}

/// What the import `name` (`package:namespace/interface@version`) gives, or
/// `None` when Guichet does not provide it at all.
pub fn classify(name: &str) -> Option<Capability> {
    let interface = name.split('@').next().unwrap_or(name);
    if interface.starts_with("guichet:connector/") {
        return Some(Capability::Contract);
    }
    // WASI 0.2 only: the linker also checks the version.
    if name.contains('@')
        && !name
            .split('@')
            .nth(1)
            .is_some_and(|v| v.starts_with("0.2."))
    {
        return None;
    }
    const PROVIDED: &[&str] = &[
        "wasi:io/",
        "wasi:clocks/",
        "wasi:random/",
        "wasi:cli/stdin",
        "wasi:cli/stdout",
        "wasi:cli/stderr",
        "wasi:cli/exit",
    ];
    const DENIED: &[&str] = &[
        "wasi:filesystem/",
        "wasi:sockets/",
        "wasi:cli/environment",
        "wasi:cli/terminal-",
    ];
    if PROVIDED.iter().any(|p| interface.starts_with(p)) {
        Some(Capability::Provided)
    } else if DENIED.iter().any(|p| interface.starts_with(p)) {
        Some(Capability::DenyAll)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_sorted_into_what_they_give() {
        for (name, expected) in [
            ("guichet:connector/http@0.1.0", Some(Capability::Contract)),
            ("wasi:io/streams@0.2.6", Some(Capability::Provided)),
            ("wasi:cli/stderr@0.2.0", Some(Capability::Provided)),
            ("wasi:filesystem/types@0.2.6", Some(Capability::DenyAll)),
            ("wasi:sockets/tcp@0.2.0", Some(Capability::DenyAll)),
            ("wasi:cli/environment@0.2.6", Some(Capability::DenyAll)),
            ("wasi:http/outgoing-handler@0.2.6", None),
            ("wasi:io/streams@0.3.0", None),
            ("exemple:inconnu/chose@1.0.0", None),
        ] {
            assert_eq!(classify(name), expected, "{name}");
        }
    }
}
