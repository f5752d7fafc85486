//! `guichet demarche import <file>` and `guichet demarche schema`.
//!
//! An import reads a YAML (or `.json`) definition, checks it, and stores it
//! as the store decides: a new démarche (version 1), nothing changed, texts
//! and dates updated in place, or a new version. Problems are listed with
//! their path, in French, and exit with code 1.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Subcommand;
use guichet_core::clock::{Clock, SystemClock};
use guichet_core::demarche::{Definition, definition_schema};
use guichet_store::demarche::{DefinitionSource, ImportKind, SourceFormat};

use super::serve::Database;
use super::{Failure, print_json, say};
use crate::app::open_store;

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Imports a démarche definition (YAML, or JSON for a `.json` file).
    Import {
        /// The definition file.
        file: PathBuf,
        #[command(flatten)]
        database: Database,
    },
    /// Prints the JSON Schema of the definition format.
    Schema,
}

pub(super) async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Schema => print_json(&definition_schema()),
        Command::Import { file, database } => import(&file, &database).await,
    }
}

/// Reads and checks a definition file.
pub(super) fn read(file: &std::path::Path) -> Result<(Definition, DefinitionSource), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::input(format!("{} : {e}", file.display())))?;
    let json = file.extension().is_some_and(|e| e == "json");
    let parsed = if json {
        Definition::from_json(&text)
    } else {
        Definition::from_yaml(&text)
    };
    let definition = parsed.map_err(|e| Failure::input(format!("{} : {e}", file.display())))?;
    let format = if json {
        SourceFormat::Json
    } else {
        SourceFormat::Yaml
    };
    Ok((definition, DefinitionSource { format, text }))
}

/// What an import did, for people.
pub(super) fn describe(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Created => "créée",
        ImportKind::Unchanged => "inchangée",
        ImportKind::UpdatedInPlace => "mise à jour sur place (textes et dates)",
        ImportKind::NewVersion => "nouvelle version",
    }
}

async fn import(file: &std::path::Path, database: &Database) -> Result<(), Failure> {
    let (definition, source) = read(file)?;
    let config = database.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    let store = open_store(&config)
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    let imported = store
        .import_demarche(&definition, &source, SystemClock.now())
        .await
        .map_err(|e| Failure::call(e.to_string()));
    store.close().await;
    let imported = imported?;
    say(&format!(
        "Démarche « {} » version {} : {}.",
        imported.slug,
        imported.version,
        describe(imported.kind)
    ));
    Ok(())
}
