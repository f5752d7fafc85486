//! Install-time checks of a component: its header says it is a component (not
//! a core module or another file), and what `describe` answered is usable
//! (names, semantic version, a valid JSON Schema, allow-list patterns, data
//! sources). The imports are checked by [`capability`](super::capability).

use super::error::InstallError;
use super::model::{Description, Operation};

/// Tells a component from a core module or another file by its header.
pub(super) fn check_header(bytes: &[u8]) -> Result<(), InstallError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(InstallError::NotWasm);
    }
    // Version 1 with layer 0 is a core module; components use layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(InstallError::CoreModule);
    }
    Ok(())
}

pub(super) fn placeholder_description() -> Description {
    Description {
        name: String::new(),
        version: String::new(),
        vendor: String::new(),
        summary: String::new(),
        operations: Vec::new(),
        config_schema: serde_json::Value::Null,
        hosts: Vec::new(),
        data_sources: Vec::new(),
        contract: String::new(),
    }
}

/// Checks what `describe` answered: names, version, schema, hosts, sources.
pub(super) fn validate_description(d: &Description) -> Result<(), InstallError> {
    let bad = |why: String| Err(InstallError::Description(why));
    let is_name = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !is_name(&d.name) {
        return bad(format!(
            "nom « {} » invalide (lettres minuscules, chiffres et tirets)",
            d.name
        ));
    }
    if !is_semver(&d.version) {
        return bad(format!(
            "version « {} » invalide (forme attendue : 1.2.3)",
            d.version
        ));
    }
    if d.vendor.trim().is_empty() {
        return bad("éditeur manquant".into());
    }
    if d.operations.is_empty() {
        return bad("aucune opération déclarée".into());
    }
    if !d.config_schema.is_object() {
        return bad("le schéma de configuration doit être un objet JSON".into());
    }
    if let Err(e) = jsonschema::options()
        .should_validate_formats(true)
        .build(&d.config_schema)
    {
        return bad(format!("schéma de configuration invalide : {e}"));
    }
    for host in &d.hosts {
        if let Err(e) = super::allowlist::Pattern::parse(host) {
            return bad(e.to_string());
        }
    }
    if d.operations.contains(&Operation::Lookup) && d.data_sources.is_empty() {
        return bad("« lookup » est déclarée sans source de données".into());
    }
    Ok(())
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
