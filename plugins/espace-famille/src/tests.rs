//! Native tests of the Espace famille connector against the SDK's mock host.

use guichet_sdk::http::{Method, Response};
use guichet_sdk::testing::MockHost;
use guichet_sdk::{Choice, Connector, Demande, Error, Field, FieldValue, Identity, LookupQuery};
use serde_json::json;

use crate::EspaceFamille;

const BASE: &str = "https://api.espace-famille.example";

fn host() -> MockHost {
    MockHost::new()
        .config("base_url", BASE)
        .secret("token", "jeton")
}

fn choice(value: &str) -> FieldValue {
    FieldValue::Choice(Choice {
        value: value.into(),
        label: value.into(),
    })
}

fn field(id: &str, value: FieldValue) -> Field {
    Field {
        id: id.into(),
        label: id.into(),
        value,
    }
}

fn inscription() -> Demande {
    Demande {
        id: "d-2".into(),
        numero: "CANT-2026-000007".into(),
        demarche: "inscription-restauration-scolaire".into(),
        demarche_version: 1,
        submitted_at: "2026-11-29T09:30:00Z".into(),
        usager: Identity {
            first_name: "Paul".into(),
            last_name: "Dupont".into(),
            email: None,
            phone: None,
            mobile: None,
            address: None,
            birth_date: None,
        },
        fields: vec![
            field("famille", FieldValue::Text("F-0001".into())),
            field("enfant", choice("E-0001")),
            field("activite", choice("CANT-2026")),
            field("date_debut", FieldValue::Date("2027-01-04".into())),
            field(
                "jours",
                FieldValue::Choices(vec![
                    Choice {
                        value: "lundi".into(),
                        label: "Lundi".into(),
                    },
                    Choice {
                        value: "jeudi".into(),
                        label: "Jeudi".into(),
                    },
                ]),
            ),
        ],
    }
}

fn query(source: &str, params: &[(&str, &str)]) -> LookupQuery {
    LookupQuery {
        source: source.into(),
        q: None,
        id: None,
        params: params
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    }
}

#[test]
fn transmit_registers_the_child_with_the_key() {
    let host = host().respond(
        Method::Post,
        &format!("{BASE}/api/inscriptions"),
        Response::json_body(201, &json!({"id": "i-1", "numero": "INS-2026-0001"})),
    );

    let receipt = host
        .run(|| EspaceFamille::transmit(inscription(), "k-1"))
        .expect("registered");

    assert_eq!(receipt.display_id.as_deref(), Some("INS-2026-0001"));
    let sent = &host.requests()[0];
    assert_eq!(sent.header_value("Authorization"), Some("Bearer jeton"));
    assert_eq!(sent.header_value("Idempotency-Key"), Some("k-1"));
    let body: serde_json::Value =
        serde_json::from_slice(sent.body.as_deref().unwrap_or_default()).expect("json");
    assert_eq!(
        body,
        json!({"id_famille": "F-0001", "id_enfant": "E-0001", "id_activite": "CANT-2026", "date_debut": "2027-01-04", "jours": ["lundi", "jeudi"]})
    );
}

#[test]
fn transmit_without_child_is_invalid_input() {
    let mut demande = inscription();
    demande.fields.retain(|f| f.id != "enfant");

    let result = host().run(|| EspaceFamille::transmit(demande, "k"));

    assert!(matches!(result, Err(Error::InvalidInput(m)) if m.contains("enfant")));
}

#[test]
fn linking_with_a_wrong_secret_is_rejected() {
    let host = host().respond(
        Method::Post,
        &format!("{BASE}/api/familles/rattachement"),
        Response::json_body(
            403,
            &json!({"erreur": "secret incorrect", "code": "secret_incorrect"}),
        ),
    );

    let result = host.run(|| {
        EspaceFamille::lookup(query(
            "family-link",
            &[("family-code", "F-0001"), ("secret", "x")],
        ))
    });

    assert!(matches!(result, Err(Error::Rejected(_))), "{result:?}");
}

#[test]
fn linking_needs_both_code_and_secret() {
    let result =
        host().run(|| EspaceFamille::lookup(query("family-link", &[("family-code", "F-0001")])));

    assert!(matches!(result, Err(Error::InvalidInput(_))));
}

#[test]
fn children_need_the_family_id() {
    let result = host().run(|| EspaceFamille::lookup(query("children", &[])));

    assert!(matches!(result, Err(Error::InvalidInput(m)) if m.contains("family-id")));
}

#[test]
fn status_reads_the_registration() {
    let host = host().respond(
        Method::Get,
        &format!("{BASE}/api/inscriptions/i-1"),
        Response::json_body(200, &json!({"id": "i-1", "numero": "INS-2026-0001",
            "statut": {"code": "VALIDEE", "libelle": "Validée", "definitif": true},
            "commentaires": [{"date": "2026-12-02T10:00:00Z", "auteur": "Service scolaire", "texte": "Bienvenue"}]})),
    );

    let status = host.run(|| EspaceFamille::status("i-1")).expect("status");

    assert!(status.is_final);
    assert_eq!(status.label, "Validée");
    assert_eq!(
        status.comments[0].author.as_deref(),
        Some("Service scolaire")
    );
}
