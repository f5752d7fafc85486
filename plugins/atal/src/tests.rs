//! Native tests of the ATAL connector against the SDK's mock host.

use guichet_sdk::http::{Method, Response};
use guichet_sdk::testing::MockHost;
use guichet_sdk::{
    Address, AttachmentRef, Choice, Connector, Demande, Error, Field, FieldValue, Identity,
    LookupQuery,
};
use serde_json::json;

use crate::Atal;

const BASE: &str = "https://ville.atal.example";

fn host() -> MockHost {
    MockHost::new()
        .config("base_url", BASE)
        .secret("api_key", "cle-secrete")
        .config("requester_id", "7")
}

fn field(id: &str, value: FieldValue) -> Field {
    Field {
        id: id.into(),
        label: id.into(),
        value,
    }
}

pub(crate) fn signalement() -> Demande {
    Demande {
        id: "d-1".into(),
        numero: "SIG-2026-000042".into(),
        demarche: "signalement-voie-publique".into(),
        demarche_version: 1,
        submitted_at: "2026-11-29T09:30:00Z".into(),
        usager: Identity {
            first_name: "Léa".into(),
            last_name: "Martin".into(),
            email: Some("lea.martin@example.org".into()),
            phone: None,
            mobile: Some("0612345678".into()),
            address: None,
            birth_date: None,
        },
        fields: vec![
            field("objet", FieldValue::Text("Nid de poule dangereux".into())),
            field(
                "description",
                FieldValue::Text("Trou profond devant l'école.".into()),
            ),
            field(
                "categorie",
                FieldValue::Choice(Choice {
                    value: "12".into(),
                    label: "Voirie - nid de poule".into(),
                }),
            ),
            field(
                "adresse",
                FieldValue::Address(Address {
                    label: "12 rue de la République, 69001 Lyon".into(),
                    street: Some("12 rue de la République".into()),
                    postcode: Some("69001".into()),
                    city: Some("Lyon".into()),
                    latitude: Some(45.767),
                    longitude: Some(4.836),
                }),
            ),
            field(
                "photos",
                FieldValue::Files(vec![AttachmentRef {
                    id: "pj-1".into(),
                    filename: "trou.jpg".into(),
                    media_type: "image/jpeg".into(),
                    size: 4,
                }]),
            ),
        ],
    }
}

#[test]
fn transmit_maps_the_signalement_and_uploads_the_photo() {
    let host = host()
        .attachment("pj-1", b"\xff\xd8\xff\xe0")
        .respond(
            Method::Post,
            &format!("{BASE}/api/WorksRequests"),
            Response::json_body(
                201,
                &json!({"Id": "u-1", "RequestNumber": "DI-2026-000001"}),
            ),
        )
        .respond(
            Method::Post,
            &format!("{BASE}/api/WorksRequests/u-1/Attachments"),
            Response::json_body(201, &json!({"Id": "a-1"})),
        );

    let receipt = host.run(|| Atal::transmit(signalement(), "cle-idem"));

    let receipt = receipt.expect("transmitted");
    assert_eq!(receipt.remote_id, "u-1");
    assert_eq!(receipt.display_id.as_deref(), Some("DI-2026-000001"));
    let sent = host.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].header_value("X-API-Key"), Some("cle-secrete"));
    assert_eq!(sent[0].header_value("Idempotency-Key"), Some("cle-idem"));
    let body: serde_json::Value =
        serde_json::from_slice(sent[0].body.as_deref().unwrap_or_default()).expect("json");
    assert_eq!(body["Object"], "Nid de poule dangereux");
    assert_eq!(body["RequestType"], "12");
    assert_eq!(body["Latitude"], 45.767);
    assert_eq!(body["Contact"]["LastName"], "Martin");
    assert_eq!(body["RequesterId"], "7");
    let upload = String::from_utf8_lossy(sent[1].body.as_deref().unwrap_or_default()).into_owned();
    assert!(upload.contains("filename=\"trou.jpg\""));
}

#[test]
fn transmit_without_category_is_invalid_input() {
    let mut demande = signalement();
    demande.fields.retain(|f| f.id != "categorie");

    let result = host().run(|| Atal::transmit(demande, "k"));

    assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
}

#[test]
fn transmit_without_api_key_is_a_configuration_error() {
    let host = MockHost::new().config("base_url", BASE);

    let result = host.run(|| Atal::transmit(signalement(), "k"));

    assert!(matches!(result, Err(Error::Configuration(_))), "{result:?}");
}

#[test]
fn a_vendor_refusal_keeps_its_message() {
    let host = host().respond(
        Method::Post,
        &format!("{BASE}/api/WorksRequests"),
        Response::json_body(400, &json!({"Message": "RequestType inconnu"})),
    );

    let result = host.run(|| Atal::transmit(signalement(), "k"));

    assert_eq!(
        result.err(),
        Some(Error::Rejected("RequestType inconnu".into()))
    );
}

#[test]
fn status_reads_state_and_responses() {
    let host = host().respond(
        Method::Get,
        &format!("{BASE}/api/WorksRequests/u-1"),
        Response::json_body(
            200,
            &json!({"Id": "u-1", "RequestNumber": "DI-2026-000001",
                    "RequestState": {"Code": "DONE", "Label": "Terminée"},
                    "Responses": [{"Date": "2026-12-01", "Author": "Équipe voirie", "Text": "Trou rebouché."}]}),
        ),
    );

    let status = host.run(|| Atal::status("u-1")).expect("status");

    assert_eq!(status.code, "DONE");
    assert!(status.is_final);
    assert_eq!(status.comments[0].text, "Trou rebouché.");
}

#[test]
fn status_of_an_unknown_request_is_not_found() {
    let host = host().respond(
        Method::Get,
        &format!("{BASE}/api/WorksRequests/nope"),
        Response::json_body(404, &json!({"Message": "introuvable"})),
    );

    let result = host.run(|| Atal::status("nope"));

    assert!(matches!(result, Err(Error::NotFound(_))));
}

#[test]
fn lookup_searches_thematics() {
    let host = host().respond(
        Method::Get,
        &format!("{BASE}/api/Thematics"),
        Response::json_body(200, &json!([{"Id": "12", "Label": "Voirie - nid de poule"}, {"Id": "13", "Label": "Éclairage public"}])),
    );
    let query = LookupQuery {
        source: "thematics".into(),
        q: Some("eclairage".into()),
        id: None,
        params: vec![],
    };

    let items = host.run(|| Atal::lookup(query)).expect("items");

    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, "13");
}

#[test]
fn lookup_of_an_unknown_source_is_invalid_input() {
    let query = LookupQuery {
        source: "familles".into(),
        q: None,
        id: None,
        params: vec![],
    };

    let result = host().run(|| Atal::lookup(query));

    assert!(matches!(result, Err(Error::InvalidInput(_))));
}

#[test]
fn card_shows_number_state_and_responses() {
    let host = host().config("app_url", "https://atal.ville.fr").respond(
        Method::Get,
        &format!("{BASE}/api/WorksRequests/u-1"),
        Response::json_body(
            200,
            &json!({"Id": "u-1", "RequestNumber": "DI-2026-000001",
                    "RequestState": {"Code": "IN_PROGRESS", "Label": "En cours de traitement"},
                    "Responses": []}),
        ),
    );

    let card = host.run(|| Atal::card("u-1")).expect("card");

    assert_eq!(card.title, "ATAL — DI-2026-000001");
    assert_eq!(card.sections[0].entries[1].value, "En cours de traitement");
    assert_eq!(
        card.link.as_deref(),
        Some("https://atal.ville.fr/WorksRequests/u-1")
    );
}
