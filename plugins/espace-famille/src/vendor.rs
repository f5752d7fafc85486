//! The calls to Espace famille's REST API, through the host's HTTP capability.

use guichet_sdk::http::{self, Request, Response};
use guichet_sdk::lookup::{filter, param};
use guichet_sdk::{
    Availability, Card, Demande, Error, LookupItem, LookupQuery, Receipt, config, log,
};
use serde::Deserialize;
use serde_json::json;

use crate::mapping::{self, Activity, Child, Family, FieldIds, Registration};

struct Api {
    base: String,
    token: guichet_sdk::config::Secret,
}

impl Api {
    fn from_config() -> Result<Self, Error> {
        Ok(Self {
            base: config::require("base_url")?,
            token: config::require_secret("token")?,
        })
    }

    fn get(&self, path: &str) -> Request {
        Request::get(http::join(&self.base, path)).bearer(self.token.expose())
    }

    fn post(&self, path: &str) -> Request {
        Request::post(http::join(&self.base, path)).bearer(self.token.expose())
    }
}

fn send(request: Request) -> Result<Response, Error> {
    request.send()?.error_for_status()
}

/// GET that turns a 404 into `not-found` naming `what`.
fn fetch(api: &Api, path: &str, what: &str) -> Result<Response, Error> {
    let response = api.get(path).send()?;
    if response.status == 404 {
        return Err(Error::NotFound(what.to_string()));
    }
    response.error_for_status()
}

#[derive(Deserialize)]
struct Ping {
    statut: Option<String>,
    version: Option<String>,
}

pub fn check() -> Result<Availability, Error> {
    let api = Api::from_config()?;
    let ping: Ping = send(api.get("api/ping"))?.json()?;
    let available = ping.statut.as_deref() == Some("ok");
    Ok(Availability {
        available,
        message: if available {
            "Espace famille répond et accepte le jeton.".into()
        } else {
            "Espace famille répond mais signale un problème.".into()
        },
        remote_version: ping.version,
    })
}

#[derive(Deserialize)]
struct Created {
    id: String,
    numero: String,
}

pub fn register(demande: &Demande, idempotency_key: &str) -> Result<Receipt, Error> {
    let api = Api::from_config()?;
    let fields = config::get_json::<FieldIds>("fields")?.unwrap_or_default();
    let body = mapping::registration(demande, &fields)?;
    let response = send(
        api.post("api/inscriptions")
            .header("Idempotency-Key", idempotency_key)
            .json(&body)?,
    )?;
    let created: Created = response.json()?;
    log::write(
        log::Level::Info,
        if response.status == 200 {
            "inscription déjà enregistrée"
        } else {
            "inscription créée"
        },
        &[
            ("numero", demande.numero.as_str()),
            ("inscription", created.numero.as_str()),
        ],
    );
    Ok(Receipt {
        remote_id: created.id,
        display_id: Some(created.numero),
    })
}

pub fn registration(remote_id: &str) -> Result<Registration, Error> {
    let api = Api::from_config()?;
    registration_with(&api, remote_id)
}

fn registration_with(api: &Api, remote_id: &str) -> Result<Registration, Error> {
    fetch(
        api,
        &format!("api/inscriptions/{}", http::encode(remote_id)),
        &format!("inscription {remote_id}"),
    )?
    .json()
}

fn family(api: &Api, family_id: &str) -> Result<Family, Error> {
    fetch(
        api,
        &format!("api/familles/{}", http::encode(family_id)),
        &format!("famille {family_id}"),
    )?
    .json()
}

pub fn card(remote_id: &str) -> Result<Card, Error> {
    let api = Api::from_config()?;
    let registration = registration_with(&api, remote_id)?;
    // The card is still useful when the family or activity cannot be read.
    let family = family(&api, &registration.id_famille).ok();
    let activity: Option<Activity> = fetch(
        &api,
        &format!("api/activites/{}", http::encode(&registration.id_activite)),
        "activité",
    )
    .and_then(|r| r.json())
    .ok();
    Ok(mapping::card(
        &registration,
        family.as_ref(),
        activity.as_ref(),
    ))
}

#[derive(Deserialize)]
struct Link {
    id_famille: String,
    libelle: String,
}

pub fn lookup(query: &LookupQuery) -> Result<Vec<LookupItem>, Error> {
    let api = Api::from_config()?;
    match query.source.as_str() {
        "family-link" => link(&api, query).map(|item| vec![item]),
        "children" => {
            // A form that has no linked family yet proves it belongs to one
            // with the parameters of `family-link`.
            let family_id = match param(query, "family-id") {
                Some(id) => id.to_owned(),
                None if LINK_PARAMS.iter().any(|name| param(query, name).is_some()) => {
                    link(&api, query)?.id
                }
                None => {
                    return Err(Error::InvalidInput(
                        "paramètre « family-id » manquant (ou ceux de family-link)".into(),
                    ));
                }
            };
            let children: Vec<Child> = fetch(
                &api,
                &format!("api/familles/{}/enfants", http::encode(&family_id)),
                &format!("famille {family_id}"),
            )?
            .json()?;
            Ok(filter(
                children.iter().map(mapping::child_item).collect(),
                query,
            ))
        }
        "activities" => {
            let mut path = String::from("api/activites");
            if let Some(category) = param(query, "category") {
                path.push_str(&format!("?categorie={}", http::encode(category)));
            }
            let activities: Vec<Activity> = send(api.get(&path))?.json()?;
            Ok(filter(
                activities.iter().map(mapping::activity_item).collect(),
                query,
            ))
        }
        "family" => {
            let family_id = require_param(query, "family-id")?;
            let family = family(&api, family_id)?;
            Ok(vec![LookupItem {
                id: family.id_famille.clone(),
                text: family.libelle.clone(),
                extra: serde_json::to_string(&family).ok(),
            }])
        }
        other => Err(Error::InvalidInput(format!(
            "source de données inconnue « {other} » (family-link, children, activities, family)"
        ))),
    }
}

/// The parameters of `family-link`, also accepted by `children`.
pub const LINK_PARAMS: [&str; 5] = [
    "family-code",
    "secret",
    "last-name",
    "first-name",
    "birth-date",
];

fn require_param<'a>(query: &'a LookupQuery, name: &str) -> Result<&'a str, Error> {
    param(query, name).ok_or_else(|| Error::InvalidInput(format!("paramètre « {name} » manquant")))
}

/// Links an usager to a family: family code + secret, or name + birth date.
fn link(api: &Api, query: &LookupQuery) -> Result<LookupItem, Error> {
    let body = match (param(query, "family-code"), param(query, "secret")) {
        (Some(code), Some(secret)) => json!({ "code_famille": code, "secret": secret }),
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::InvalidInput(
                "le code famille et le code secret vont ensemble".into(),
            ));
        }
        (None, None) => {
            let last = require_param(query, "last-name")?;
            let birth = require_param(query, "birth-date")?;
            let mut body = json!({ "nom": last, "date_naissance": birth });
            if let Some(first) = param(query, "first-name") {
                body["prenom"] = json!(first);
            }
            body
        }
    };
    let response = api.post("api/familles/rattachement").json(&body)?.send()?;
    match response.status {
        403 => Err(Error::Rejected(
            "code famille ou code secret incorrect".into(),
        )),
        404 => Err(Error::NotFound(
            "aucune famille ne correspond à ces informations".into(),
        )),
        409 => Err(Error::Rejected(
            "plusieurs familles correspondent : utilisez votre code famille et votre code secret"
                .into(),
        )),
        _ => {
            let link: Link = response.error_for_status()?.json()?;
            Ok(LookupItem {
                id: link.id_famille,
                text: link.libelle,
                extra: None,
            })
        }
    }
}
