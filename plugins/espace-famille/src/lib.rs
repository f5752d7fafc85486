//! # Espace famille connector
//!
//! Links an usager to a family of the Espace famille application (family code
//! and secret, or name and birth date), lists the family's children and the
//! activity catalogue (cantine, périscolaire, centre de loisirs), registers a
//! child to an activity from a demande, and reads the registration back. See
//! `README.md` beside this file for the mapping.
//!
//! Data sources (`lookup`): `family-link` (params `family-code` + `secret`, or
//! `last-name` + `first-name` + `birth-date`), `children` (param `family-id`),
//! `activities` (`q`, optional param `category`), `family` (param `family-id`).

pub mod mapping;
mod vendor;

use guichet_sdk::{
    Availability, Card, Connector, DataSource, Demande, Description, Error, LookupItem,
    LookupQuery, Operation, Receipt, RemoteStatus,
};

/// The Espace famille connector.
pub struct EspaceFamille;

impl Connector for EspaceFamille {
    fn describe() -> Description {
        let source = |name: &str, label: &str, params: &[&str]| DataSource {
            name: name.into(),
            label: label.into(),
            params: params.iter().map(|p| (*p).to_string()).collect(),
        };
        Description {
            name: "espace-famille".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "Guichet (connecteur de référence)".into(),
            summary: "Rattache l'usager à sa famille et inscrit les enfants aux activités (cantine, périscolaire, centre de loisirs)."
                .into(),
            operations: vec![
                Operation::Check,
                Operation::Transmit,
                Operation::Status,
                Operation::Lookup,
                Operation::Card,
            ],
            config_schema: mapping::config_schema().to_string(),
            hosts: vec!["https://*.espace-famille.example:443".into()],
            data_sources: vec![
                source(
                    "family-link",
                    "Rattachement à une famille",
                    &vendor::LINK_PARAMS,
                ),
                source(
                    "children",
                    "Enfants de la famille",
                    &[
                        "family-id",
                        "family-code",
                        "secret",
                        "last-name",
                        "first-name",
                        "birth-date",
                    ],
                ),
                source("activities", "Catalogue des activités", &["category"]),
                source("family", "Dossier famille", &["family-id"]),
            ],
        }
    }

    fn check() -> Result<Availability, Error> {
        vendor::check()
    }

    fn transmit(demande: Demande, idempotency_key: &str) -> Result<Receipt, Error> {
        vendor::register(&demande, idempotency_key)
    }

    fn status(remote_id: &str) -> Result<RemoteStatus, Error> {
        vendor::registration(remote_id).map(|r| mapping::remote_status(&r))
    }

    fn lookup(query: LookupQuery) -> Result<Vec<LookupItem>, Error> {
        vendor::lookup(&query)
    }

    fn card(remote_id: &str) -> Result<Card, Error> {
        vendor::card(remote_id)
    }
}

guichet_sdk::export_connector!(EspaceFamille);

#[cfg(test)]
mod tests;
