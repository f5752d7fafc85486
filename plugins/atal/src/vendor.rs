//! The calls to ATAL's REST API, through the host's HTTP capability.

use guichet_sdk::http::{self, Multipart, Request, Response};
use guichet_sdk::{
    Availability, Demande, Error, LookupItem, LookupQuery, Receipt, attachments, config, log,
};
use serde::Deserialize;

use crate::mapping::{self, FieldIds, RemoteRequest, Settings};

struct Api {
    base: String,
    key: guichet_sdk::config::Secret,
}

impl Api {
    fn from_config() -> Result<Self, Error> {
        Ok(Self {
            base: config::require("base_url")?,
            key: config::require_secret("api_key")?,
        })
    }

    fn get(&self, path: &str) -> Request {
        Request::get(http::join(&self.base, path)).header("X-API-Key", self.key.expose())
    }

    fn post(&self, path: &str) -> Request {
        Request::post(http::join(&self.base, path)).header("X-API-Key", self.key.expose())
    }
}

fn send(request: Request) -> Result<Response, Error> {
    request.send()?.error_for_status()
}

fn settings() -> Result<Settings, Error> {
    Ok(Settings {
        fields: config::get_json::<FieldIds>("fields")?.unwrap_or_default(),
        request_types: config::get_json("request_types")?.unwrap_or_default(),
        requester_id: config::get("requester_id"),
        recipient_id: config::get("recipient_id"),
        requesting_department_id: config::get("requesting_department_id"),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TestAnswer {
    status: Option<String>,
    version: Option<String>,
}

pub fn check() -> Result<Availability, Error> {
    let api = Api::from_config()?;
    let answer: TestAnswer = send(api.get("api/Test"))?.json()?;
    let available = answer.status.as_deref() == Some("OK");
    Ok(Availability {
        available,
        message: if available {
            "ATAL répond et accepte la clé d'API.".into()
        } else {
            format!(
                "ATAL répond avec l'état « {} ».",
                answer.status.unwrap_or_default()
            )
        },
        remote_version: answer.version,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    id: String,
    request_number: Option<String>,
}

pub fn transmit(demande: &Demande, idempotency_key: &str) -> Result<Receipt, Error> {
    let api = Api::from_config()?;
    let settings = settings()?;
    let body = mapping::works_request(demande, &settings)?;
    let response = send(
        api.post("api/WorksRequests")
            .header("Idempotency-Key", idempotency_key)
            .json(&body)?,
    )?;
    let replayed = response.status == 200;
    let created: Created = response.json()?;
    log::write(
        log::Level::Info,
        if replayed {
            "demande d'intervention déjà créée"
        } else {
            "demande d'intervention créée"
        },
        &[
            ("numero", demande.numero.as_str()),
            ("atal_id", created.id.as_str()),
        ],
    );
    // On a replay, ATAL already has some photos: send only the missing ones.
    let already: Vec<String> = if replayed {
        read_with(&api, &created.id)?
            .attachments
            .into_iter()
            .map(|a| a.file_name)
            .collect()
    } else {
        Vec::new()
    };
    for photo in demande.files(&settings.fields.photos) {
        if already.contains(&photo.filename) {
            continue;
        }
        let bytes = attachments::read(photo)?;
        let form = Multipart::new().file("file", &photo.filename, &photo.media_type, &bytes);
        send(
            api.post(&format!(
                "api/WorksRequests/{}/Attachments",
                http::encode(&created.id)
            ))
            .multipart(form),
        )?;
    }
    Ok(Receipt {
        remote_id: created.id,
        display_id: created.request_number,
    })
}

pub fn read(remote_id: &str) -> Result<RemoteRequest, Error> {
    read_with(&Api::from_config()?, remote_id)
}

fn read_with(api: &Api, remote_id: &str) -> Result<RemoteRequest, Error> {
    let path = format!(
        "api/WorksRequests/{}?$expand=Responses",
        http::encode(remote_id)
    );
    let response = api.get(&path).send()?;
    if response.status == 404 {
        return Err(Error::NotFound(format!(
            "demande d'intervention ATAL {remote_id}"
        )));
    }
    response.error_for_status()?.json()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Thematic {
    id: String,
    label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ThirdParty {
    id: String,
    name: String,
}

pub fn lookup(query: &LookupQuery) -> Result<Vec<LookupItem>, Error> {
    let api = Api::from_config()?;
    let items: Vec<LookupItem> = match query.source.as_str() {
        "thematics" => send(api.get("api/Thematics"))?
            .json::<Vec<Thematic>>()?
            .into_iter()
            .map(|t| item(t.id, t.label))
            .collect(),
        "requesting-services" | "recipient-services" => {
            let kind = if query.source == "requesting-services" {
                2
            } else {
                1
            };
            send(api.get(&format!("api/ThirdParties?type={kind}")))?
                .json::<Vec<ThirdParty>>()?
                .into_iter()
                .map(|t| item(t.id, t.name))
                .collect()
        }
        other => {
            return Err(Error::InvalidInput(format!(
                "source de données inconnue « {other} » (thematics, requesting-services, recipient-services)"
            )));
        }
    };
    Ok(guichet_sdk::lookup::filter(items, query))
}

fn item(id: String, text: String) -> LookupItem {
    LookupItem {
        id,
        text,
        extra: None,
    }
}
