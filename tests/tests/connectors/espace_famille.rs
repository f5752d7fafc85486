//! The Espace famille connector against the simulated Espace famille:
//! linking a family, listing its children and the activities, registering
//! a child, checking the vendor.

use super::*;

async fn with_famille() -> (Arc<Registry>, espace_famille_sim::Handle) {
    let (registry, _) = registry();
    let sim = espace_famille().await;
    registry
        .install_file(components::ESPACE_FAMILLE.as_ref())
        .await
        .expect("Espace famille connector installs");
    registry
        .configure(famille_config("famille-ville", &sim.base_url()), None)
        .expect("instance configured");
    (registry, sim)
}

#[tokio::test]
async fn famille_links_an_usager_by_code_and_secret_or_by_name_and_birth_date() {
    let (registry, _sim) = with_famille().await;

    let by_code = registry
        .lookup(
            "famille-ville",
            query(
                "family-link",
                None,
                &[("family-code", "F-0001"), ("secret", "s3cret-dupont")],
            ),
        )
        .await
        .expect("linked by code");
    let by_name = registry
        .lookup(
            "famille-ville",
            query(
                "family-link",
                None,
                &[
                    ("last-name", "Dupont"),
                    ("first-name", "Léa"),
                    ("birth-date", "2016-04-12"),
                ],
            ),
        )
        .await
        .expect("linked by name");
    let wrong = registry
        .lookup(
            "famille-ville",
            query(
                "family-link",
                None,
                &[("family-code", "F-0001"), ("secret", "devine")],
            ),
        )
        .await;

    assert_eq!(by_code[0].id, "F-0001");
    assert_eq!(by_code[0].text, "Famille DUPONT");
    assert_eq!(by_name[0].id, "F-0001");
    assert!(matches!(
        connector_error(wrong),
        ConnectorError::Rejected(_)
    ));
}

#[tokio::test]
async fn famille_lists_children_and_the_activity_catalogue() {
    let (registry, _sim) = with_famille().await;

    let children = registry
        .lookup(
            "famille-ville",
            query("children", None, &[("family-id", "F-0001")]),
        )
        .await
        .expect("children");
    let canteens = registry
        .lookup(
            "famille-ville",
            query("activities", None, &[("category", "cantine")]),
        )
        .await
        .expect("activities");
    let searched = registry
        .lookup(
            "famille-ville",
            query("activities", Some("periscolaire"), &[]),
        )
        .await
        .expect("search");

    let names: Vec<&str> = children.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(names, ["Léa DUPONT", "Hugo DUPONT"]);
    assert!(!canteens.is_empty());
    assert!(canteens.iter().all(|a| {
        a.extra
            .as_ref()
            .is_some_and(|e| e["categorie"] == "cantine")
    }));
    assert!(!searched.is_empty());
}

fn inscription(child: &str) -> Demande {
    Demande {
        id: "id-cant-1".into(),
        numero: "CANT-2026-000001".into(),
        demarche: "inscription-restauration-scolaire".into(),
        demarche_version: 1,
        submitted_at: "2026-11-29T09:30:00Z".into(),
        usager: usager(),
        fields: vec![
            field("famille", FieldValue::Text("F-0001".into())),
            field("enfant", choice(child, "Léa DUPONT")),
            field("activite", choice("CANT-2026", "Restauration scolaire")),
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

#[tokio::test]
async fn famille_lists_children_after_linking_the_family_in_the_same_lookup() {
    let (registry, _sim) = with_famille().await;
    let children = |params: &'static [(&'static str, &'static str)]| {
        let registry = registry.clone();
        async move {
            registry
                .lookup("famille-ville", query("children", None, params))
                .await
        }
    };

    let by_identity = children(&[
        ("last-name", "Martin"),
        ("first-name", "Camille"),
        ("birth-date", "1988-04-12"),
    ])
    .await
    .expect("children by identity");
    let by_code = children(&[("family-code", "F-0002"), ("secret", "s3cret-martin")])
        .await
        .expect("children by code");
    let wrong_secret = children(&[("family-code", "F-0002"), ("secret", "x")]).await;
    let nobody = children(&[
        ("last-name", "Martin"),
        ("first-name", "Camille"),
        ("birth-date", "1970-01-01"),
    ])
    .await;

    let ids = |items: &[LookupItem]| items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&by_identity), ["E-0003"]);
    assert_eq!(ids(&by_code), ["E-0003"]);
    assert!(matches!(
        connector_error(wrong_secret),
        ConnectorError::Rejected(_)
    ));
    assert!(matches!(
        connector_error(nobody),
        ConnectorError::NotFound(_)
    ));
}

#[tokio::test]
async fn famille_registers_a_child_once_per_key_and_reads_the_registration() {
    let (registry, sim) = with_famille().await;

    let first = registry
        .transmit("famille-ville", inscription("E-0001"), "cant-1", None)
        .await
        .expect("registered");
    let again = registry
        .transmit("famille-ville", inscription("E-0001"), "cant-1", None)
        .await
        .expect("replayed");
    sim.set_statut(
        first.remote_id.parse().expect("uuid"),
        espace_famille_sim::CodeStatut::Validee,
        None,
    )
    .expect("service validates");
    let status = registry
        .status("famille-ville", &first.remote_id)
        .await
        .expect("status");
    let card = registry
        .card("famille-ville", &first.remote_id)
        .await
        .expect("card");

    assert_eq!(first, again);
    assert_eq!(sim.inscriptions().len(), 1);
    assert_eq!(status.code, "VALIDEE");
    assert!(status.is_final);
    let text = serde_json::to_string(&card).expect("json");
    assert!(text.contains("Famille DUPONT"), "{text}");
    assert!(text.contains("Léa DUPONT"), "{text}");
    assert!(text.contains("Validée"), "{text}");
}

#[tokio::test]
async fn famille_refuses_a_child_of_another_family() {
    let (registry, sim) = with_famille().await;

    let result = registry
        .transmit("famille-ville", inscription("E-9999"), "cant-x", None)
        .await;

    assert!(matches!(
        connector_error(result),
        ConnectorError::Rejected(_) | ConnectorError::NotFound(_)
    ));
    assert!(sim.inscriptions().is_empty());
}

#[tokio::test]
async fn famille_check_answers() {
    let (registry, sim) = with_famille().await;

    let up = registry.check("famille-ville").await.expect("check");
    sim.set_mode(espace_famille_sim::Mode::Down);
    let down = registry.check("famille-ville").await;

    assert_eq!(
        (
            up.available,
            up.message.as_str(),
            up.remote_version.as_deref()
        ),
        (
            true,
            "Espace famille répond et accepte le jeton.",
            Some("3.2-sim")
        ),
        "the answer comes from Espace famille's ping, behind its token"
    );
    assert!(
        matches!(connector_error(down), ConnectorError::Unavailable(_)),
        "an Espace famille that does not answer is unavailable"
    );
}
