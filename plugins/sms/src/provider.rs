//! The provider's REST API as requests and answers, without calling it:
//! what `POST /api/messages` and `GET /api/status` carry, and what their
//! statuses mean. Pure, so it is tested natively.
//!
//! | provider answers | the gateway returns |
//! |---|---|
//! | 200 or 201 `{"id": …}` (200: the same `Idempotency-Key` again) | the receipt |
//! | 400 (a number, sender or text refused) | `invalid-input` |
//! | 401, 403 (the key) | `configuration` |
//! | 409 (the key was used for another message) | `rejected` |
//! | 408, 429, 5xx, no answer | `unavailable` (retried later) |

use serde::Deserialize;
use serde_json::{Value, json};

use crate::bindings::exports::guichet::connector::sms::{SmsMessage, SmsReceipt};
use crate::bindings::guichet::connector::http::{HttpError, Method, Request, Response};
use crate::bindings::guichet::connector::types::{Availability, ConnectorError};

/// What an instance is configured with.
pub struct Settings {
    /// The provider's API, e.g. `https://api.sms.example`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer`.
    pub api_key: String,
    /// The sender name shown on the phone (3 to 11 letters, digits, spaces).
    pub sender: String,
}

/// The JSON Schema of an instance's configuration.
pub fn config_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Passerelle SMS",
        "type": "object",
        "required": ["base_url", "api_key", "sender"],
        "additionalProperties": false,
        "properties": {
            "base_url": { "type": "string", "format": "uri", "title": "URL de l'API du fournisseur de SMS", "examples": ["https://api.sms.example"] },
            "api_key": { "type": "string", "minLength": 1, "title": "Clé d'API (en-tête Authorization: Bearer)", "x-secret": true },
            "sender": { "type": "string", "pattern": "^[A-Za-z0-9 ]{3,11}$", "title": "Expéditeur affiché (3 à 11 lettres, chiffres ou espaces)", "examples": ["MAIRIE"] }
        }
    })
}

fn url(settings: &Settings, path: &str) -> String {
    format!("{}/{path}", settings.base_url.trim_end_matches('/'))
}

fn bearer(settings: &Settings) -> (String, String) {
    (
        "Authorization".into(),
        format!("Bearer {}", settings.api_key),
    )
}

/// `GET /api/status`.
pub fn status_request(settings: &Settings) -> Request {
    Request {
        method: Method::Get,
        url: url(settings, "api/status"),
        headers: vec![
            bearer(settings),
            ("Accept".into(), "application/json".into()),
        ],
        body: None,
    }
}

/// `POST /api/messages` for `message`, its idempotency key as the
/// `Idempotency-Key` header.
pub fn send_request(settings: &Settings, message: &SmsMessage) -> Request {
    let body = json!({ "to": message.to, "from": settings.sender, "text": message.text });
    Request {
        method: Method::Post,
        url: url(settings, "api/messages"),
        headers: vec![
            bearer(settings),
            ("Content-Type".into(), "application/json".into()),
            ("Idempotency-Key".into(), message.idempotency_key.clone()),
        ],
        body: Some(body.to_string().into_bytes()),
    }
}

#[derive(Deserialize)]
struct Accepted {
    id: String,
}

#[derive(Deserialize)]
struct StatusAnswer {
    status: Option<String>,
    version: Option<String>,
}

/// The receipt of an accepted message, or the error the answer means.
///
/// # Errors
/// See the module's table.
pub fn receipt(response: &Response) -> Result<SmsReceipt, ConnectorError> {
    refused(response)?;
    let accepted: Accepted = serde_json::from_slice(&response.body).map_err(|e| {
        ConnectorError::Other(format!("réponse du fournisseur de SMS illisible : {e}"))
    })?;
    Ok(SmsReceipt {
        message_id: accepted.id,
    })
}

/// What `GET /api/status` says.
///
/// # Errors
/// See the module's table.
pub fn availability(response: &Response) -> Result<Availability, ConnectorError> {
    refused(response)?;
    let answer: Option<StatusAnswer> = serde_json::from_slice(&response.body).ok();
    let available = answer.as_ref().and_then(|a| a.status.as_deref()) == Some("ok");
    Ok(Availability {
        available,
        message: if available {
            "le fournisseur de SMS répond".into()
        } else {
            "le fournisseur de SMS répond sans se dire disponible".into()
        },
        remote_version: answer.and_then(|a| a.version),
    })
}

/// The error an HTTP status other than 2xx means.
fn refused(response: &Response) -> Result<(), ConnectorError> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let said = provider_message(&response.body);
    Err(match status {
        400 | 404 | 413 | 422 => ConnectorError::InvalidInput(said),
        401 | 403 => ConnectorError::Configuration(format!(
            "le fournisseur de SMS refuse la clé d'API ({status}) : {said}"
        )),
        409 => ConnectorError::Rejected(said),
        408 | 429 | 500..=599 => {
            ConnectorError::Unavailable(format!("fournisseur de SMS en erreur ({status}) : {said}"))
        }
        _ => ConnectorError::Other(format!("réponse inattendue ({status}) : {said}")),
    })
}

/// The provider's own words: `{"error": {"message"}}`, else the start of
/// the body.
fn provider_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect())
}

/// The error a request that got no answer means.
pub fn unanswered(error: HttpError) -> ConnectorError {
    match error {
        HttpError::Forbidden(url) => ConnectorError::Configuration(format!(
            "hôte du fournisseur de SMS non autorisé pour cette instance : {url}"
        )),
        HttpError::InvalidUrl(url) => {
            ConnectorError::Configuration(format!("URL du fournisseur de SMS invalide : {url}"))
        }
        HttpError::Connection(why) => {
            ConnectorError::Unavailable(format!("fournisseur de SMS injoignable : {why}"))
        }
        HttpError::Timeout => {
            ConnectorError::Unavailable("fournisseur de SMS : délai d'attente dépassé".into())
        }
        HttpError::TooLarge(bytes) => ConnectorError::Unavailable(format!(
            "réponse du fournisseur de SMS trop volumineuse (plus de {bytes} octets)"
        )),
        HttpError::TooManyRedirects => {
            ConnectorError::Unavailable("fournisseur de SMS : trop de redirections".into())
        }
        HttpError::Other(why) => ConnectorError::Unavailable(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            base_url: "https://api.sms.example/".into(),
            api_key: "k3y".into(),
            sender: "MAIRIE".into(),
        }
    }

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_message_is_posted_with_its_sender_and_idempotency_key() {
        let message = SmsMessage {
            to: "+33612345678".into(),
            text: "Votre demande a été reçue.".into(),
            idempotency_key: "notification-42".into(),
        };

        let request = send_request(&settings(), &message);

        assert!(matches!(request.method, Method::Post));
        assert_eq!(request.url, "https://api.sms.example/api/messages");
        assert_eq!(header(&request, "authorization"), Some("Bearer k3y"));
        assert_eq!(header(&request, "idempotency-key"), Some("notification-42"));
        let body: Value = serde_json::from_slice(request.body.as_deref().unwrap_or_default())
            .expect("a JSON body");
        assert_eq!(
            body,
            json!({ "to": "+33612345678", "from": "MAIRIE", "text": "Votre demande a été reçue." })
        );
    }

    #[test]
    fn an_accepted_message_gives_the_providers_id() {
        for status in [200, 201] {
            let receipt = receipt(&answer(
                status,
                r#"{"id":"MSG-2026-000001","status":"accepted"}"#,
            ))
            .expect("accepted");
            assert_eq!(receipt.message_id, "MSG-2026-000001");
        }
    }

    #[test]
    fn each_refusal_maps_to_its_error() {
        let body = r#"{"error":{"code":"c","message":"refusé"}}"#;
        for (status, expected) in [
            (400, "invalid-input"),
            (401, "configuration"),
            (403, "configuration"),
            (409, "rejected"),
            (429, "unavailable"),
            (500, "unavailable"),
            (503, "unavailable"),
            (302, "other"),
        ] {
            let error = receipt(&answer(status, body)).expect_err("refused");
            let kind = match &error {
                ConnectorError::InvalidInput(m) => {
                    assert_eq!(m, "refusé");
                    "invalid-input"
                }
                ConnectorError::Configuration(_) => "configuration",
                ConnectorError::Rejected(_) => "rejected",
                ConnectorError::Unavailable(_) => "unavailable",
                ConnectorError::NotFound(_) => "not-found",
                ConnectorError::Other(_) => "other",
            };
            assert_eq!(kind, expected, "{status}");
        }
    }

    #[test]
    fn no_answer_is_unavailable_but_a_forbidden_host_is_configuration() {
        assert!(matches!(
            unanswered(HttpError::Connection("refused".into())),
            ConnectorError::Unavailable(_)
        ));
        assert!(matches!(
            unanswered(HttpError::Timeout),
            ConnectorError::Unavailable(_)
        ));
        assert!(matches!(
            unanswered(HttpError::Forbidden("https://x".into())),
            ConnectorError::Configuration(_)
        ));
    }

    #[test]
    fn the_status_route_tells_availability_and_version() {
        let up =
            availability(&answer(200, r#"{"status":"ok","version":"1.0-sim"}"#)).expect("answers");

        assert!(up.available);
        assert_eq!(up.remote_version.as_deref(), Some("1.0-sim"));
        assert!(!availability(&answer(200, "{}")).expect("answers").available);
    }
}
