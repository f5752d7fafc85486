//! # ATAL connector
//!
//! Maps a *signalement* demande (a problem on the public highway: pothole,
//! broken street light…) to an ATAL work request (demande d'intervention) over
//! ATAL's v6 REST API, and reads back its state and the technical services'
//! responses. See `README.md` beside this file for the field mapping.
//!
//! Operations: `check` (`GET /api/Test`), `transmit` (`POST /api/WorksRequests`
//! then one `POST …/Attachments` per photo), `status` and `card`
//! (`GET /api/WorksRequests/{id}?$expand=Responses`), `lookup` (request types
//! from `GET /api/Thematics`, requesting and recipient services from
//! `GET /api/ThirdParties?type=2|1`).

pub mod mapping;
mod vendor;

use guichet_sdk::{
    Availability, Card, Connector, DataSource, Demande, Description, Error, LookupItem,
    LookupQuery, Operation, Receipt, RemoteStatus,
};

/// The ATAL connector.
pub struct Atal;

impl Connector for Atal {
    fn describe() -> Description {
        Description {
            name: "atal".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "Guichet (connecteur de référence)".into(),
            summary: "Transmet les signalements à ATAL sous forme de demandes d'intervention et en suit l'avancement."
                .into(),
            operations: vec![
                Operation::Check,
                Operation::Transmit,
                Operation::Status,
                Operation::Lookup,
                Operation::Card,
            ],
            config_schema: mapping::config_schema().to_string(),
            hosts: vec!["https://*.atal.example:443".into()],
            data_sources: vec![
                DataSource {
                    name: "thematics".into(),
                    label: "Types de demande ATAL".into(),
                    params: vec![],
                },
                DataSource {
                    name: "requesting-services".into(),
                    label: "Services demandeurs".into(),
                    params: vec![],
                },
                DataSource {
                    name: "recipient-services".into(),
                    label: "Services destinataires (équipes techniques)".into(),
                    params: vec![],
                },
            ],
        }
    }

    fn check() -> Result<Availability, Error> {
        vendor::check()
    }

    fn transmit(demande: Demande, idempotency_key: &str) -> Result<Receipt, Error> {
        vendor::transmit(&demande, idempotency_key)
    }

    fn status(remote_id: &str) -> Result<RemoteStatus, Error> {
        vendor::read(remote_id).map(|request| mapping::remote_status(&request))
    }

    fn lookup(query: LookupQuery) -> Result<Vec<LookupItem>, Error> {
        vendor::lookup(&query)
    }

    fn card(remote_id: &str) -> Result<Card, Error> {
        let request = vendor::read(remote_id)?;
        Ok(mapping::card(
            &request,
            guichet_sdk::config::get("app_url").as_deref(),
        ))
    }
}

guichet_sdk::export_connector!(Atal);

#[cfg(test)]
mod tests;
