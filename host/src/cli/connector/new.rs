//! `guichet connector new <name>`: creates a connector project a vendor
//! starts from (as `cargo new` or `spin new` do): a Cargo project of its
//! own depending on `guichet-sdk` (by path, by git, or the registry's
//! version), a [`Connector`](https://docs.rs/guichet-sdk) whose `check`
//! asks the application whether it answers and whose other operations
//! answer the SDK's typed « non pris en charge » (`guichet_sdk::unsupported`),
//! native tests with the SDK's mock host, a README, a `.gitignore` and an
//! `instance.json` for `connector call` and `connector verify`. As
//! generated it builds for `wasm32-wasip2` and passes `connector check`
//! (`tests/tests/vendor_kit/`).
//!
//! The files are `askama` templates (`host/templates/connector_new/`,
//! compiled in), rendered without escaping: every value put in them is
//! either a checked name or quoted for its language here.

use std::path::{Path, PathBuf};

use askama::Template;

use crate::cli::Failure;

/// What `connector new` is given.
#[derive(Debug, clap::Args)]
pub(in crate::cli) struct Args {
    /// The connector's name (`bibliotheque`: lowercase letters, digits and
    /// dashes, starting with a letter); also the project's directory and
    /// crate name.
    name: String,
    /// The directory to create the project in (default: the current one).
    #[arg(long, value_name = "RÉPERTOIRE")]
    dir: Option<PathBuf>,
    /// Depend on the SDK at this path (a checkout's `sdk/` directory).
    #[arg(long, value_name = "RÉPERTOIRE", conflicts_with = "sdk_git")]
    sdk_path: Option<PathBuf>,
    /// Depend on the SDK from this git repository (the Guichet repository).
    #[arg(long, value_name = "URL")]
    sdk_git: Option<String>,
    /// The vendor named in the connector's description.
    #[arg(long, default_value = "Éditeur à renseigner")]
    vendor: String,
}

/// The registry version of `guichet-sdk` a project depends on when given
/// neither a path nor a git URL: the SDK's own version
/// (`sdk/Cargo.toml`, checked by `tests/tests/vendor_kit/`).
pub(in crate::cli) const SDK_REQUIREMENT: &str = "0.1.0";

#[derive(Template)]
#[template(path = "connector_new/Cargo.toml.txt", escape = "none")]
struct CargoToml<'a> {
    name: &'a str,
    lib_name: &'a str,
    /// The dependency's TOML value: `"0.1"` or an inline table.
    sdk_dependency: &'a str,
}

#[derive(Template)]
#[template(path = "connector_new/lib.rs.txt", escape = "none")]
struct LibRs<'a> {
    name: &'a str,
    lib_name: &'a str,
    type_name: &'a str,
    /// The vendor as a Rust string literal.
    vendor_literal: &'a str,
}

#[derive(Template)]
#[template(path = "connector_new/README.md.txt", escape = "none")]
struct Readme<'a> {
    name: &'a str,
    lib_name: &'a str,
}

/// Creates the project and says what to do next.
///
/// # Errors
/// [`Failure::input`] (exit code 1) for an invalid name or SDK path, a
/// directory that exists already, or a file that cannot be written.
pub(in crate::cli) fn run(args: Args) -> Result<(), Failure> {
    let name = args.name.as_str();
    if !is_connector_name(name) {
        return Err(Failure::input(format!(
            "nom « {} » invalide : lettres minuscules, chiffres et tirets, en commençant par une lettre (64 caractères au plus)",
            super::printable(name)
        )));
    }
    let sdk_dependency = sdk_dependency(args.sdk_path.as_deref(), args.sdk_git.as_deref())?;
    let project = args.dir.unwrap_or_else(|| PathBuf::from(".")).join(name);
    if project.exists() {
        return Err(Failure::input(format!(
            "{} existe déjà : choisissez un autre nom ou un autre répertoire (--dir)",
            project.display()
        )));
    }
    let lib_name = name.replace('-', "_");
    let type_name = type_name(name);
    let vendor_literal = format!("{:?}", args.vendor);
    let files = [
        (
            "Cargo.toml",
            render(&CargoToml {
                name,
                lib_name: &lib_name,
                sdk_dependency: &sdk_dependency,
            })?,
        ),
        (
            "src/lib.rs",
            render(&LibRs {
                name,
                lib_name: &lib_name,
                type_name: &type_name,
                vendor_literal: &vendor_literal,
            })?,
        ),
        (
            "README.md",
            render(&Readme {
                name,
                lib_name: &lib_name,
            })?,
        ),
        (
            ".gitignore",
            include_str!("../../../templates/connector_new/gitignore.txt").to_owned(),
        ),
        (
            "instance.json",
            include_str!("../../../templates/connector_new/instance.json.txt").to_owned(),
        ),
    ];
    for (path, text) in files {
        write(&project.join(path), &text)?;
    }
    super::super::say(&format!(
        "Projet de connecteur créé dans {dir}.\n\
         Ensuite :\n  cd {dir}\n  cargo test\n  cargo build --release --target wasm32-wasip2\n  \
         guichet connector check target/wasm32-wasip2/release/{lib_name}.wasm",
        dir = project.display()
    ));
    Ok(())
}

/// A connector's name as `describe` must give it (the host's rule, see
/// `connectors::validation`), starting with a letter so that it also
/// names a crate and a Rust type.
fn is_connector_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// `mon-connecteur-2` → `MonConnecteur2`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The TOML value of the `guichet-sdk` dependency. A path is made absolute
/// (the project may move); strings are quoted as JSON, whose escapes TOML's
/// basic strings share.
fn sdk_dependency(path: Option<&Path>, git: Option<&str>) -> Result<String, Failure> {
    let quote = |text: &str| serde_json::Value::from(text).to_string();
    if let Some(path) = path {
        let absolute = std::fs::canonicalize(path)
            .map_err(|e| Failure::input(format!("SDK introuvable à {} : {e}", path.display())))?;
        if !absolute.join("Cargo.toml").is_file() {
            return Err(Failure::input(format!(
                "{} n'est pas le répertoire du SDK (pas de Cargo.toml)",
                absolute.display()
            )));
        }
        return Ok(format!(
            "{{ path = {} }}",
            quote(&absolute.to_string_lossy())
        ));
    }
    if let Some(url) = git {
        return Ok(format!("{{ git = {} }}", quote(url)));
    }
    Ok(format!("\"{}\"", SDK_REQUIREMENT))
}

fn render(template: &impl Template) -> Result<String, Failure> {
    template
        .render()
        .map_err(|e| Failure::input(format!("modèle de projet illisible : {e}")))
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::input(format!("écriture impossible de {} : {e}", path.display()))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_host_rule_and_make_a_type_name() {
        for good in ["bibliotheque", "mon-connecteur-2", "a"] {
            assert!(is_connector_name(good), "{good}");
        }
        for bad in ["", "2fois", "Majuscule", "tiret-", "double--tiret", "é"] {
            assert!(!is_connector_name(bad), "{bad}");
        }
        assert_eq!(type_name("mon-connecteur-2"), "MonConnecteur2");
    }

    #[test]
    fn a_path_or_url_is_quoted_for_toml() {
        let git = sdk_dependency(None, Some(r#"https://x.example/a"b"#)).expect("a git URL");
        assert_eq!(git, r#"{ git = "https://x.example/a\"b" }"#);
        assert_eq!(
            sdk_dependency(None, None).expect("the registry version"),
            format!("\"{}\"", SDK_REQUIREMENT)
        );
    }
}
