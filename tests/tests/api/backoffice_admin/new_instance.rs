//! A new instance of an installed connector created through the form
//! generated from its newest version's schema: an id taken or malformed
//! and settings the schema refuses are told beside their fields with
//! nothing created; the instance created runs, its secret kept and never
//! shown back, and answers its availability check.

use guichet_tests::ATAL_KEY;
use guichet_tests::app::TestApp;
use guichet_tests::on_both_backends;

use super::administrator;

on_both_backends!(an_administrator_creates_an_instance_through_the_generated_form);

const PAGE: &str = "/admin/connecteurs/atal/nouvelle-instance";

async fn an_administrator_creates_an_instance_through_the_generated_form(app: TestApp) {
    let sim = guichet_tests::atal().await;
    guichet_tests::filing::connect_atal_to(&app, &sim).await;
    let (_, pages) = administrator(&app).await;
    let base_url = sim.base_url();

    let listed = pages.get("/admin/connecteurs").await;
    assert!(
        listed.html.contains(&format!("href=\"{PAGE}\"")),
        "{}",
        listed.html
    );
    let form = pages.get(PAGE).await;
    assert_eq!(form.status, 200, "{}", form.html);
    for expected in [
        "<input id=\"identifiant\" name=\"identifiant\"",
        "<input type=\"url\" id=\"reglage-base_url\" name=\"base_url\"",
        "<input type=\"password\" id=\"reglage-api_key\" name=\"api_key\" value=\"\"",
    ] {
        assert!(form.html.contains(expected), "{expected}: {}", form.html);
    }
    assert_eq!(
        pages
            .get("/admin/connecteurs/inconnu/nouvelle-instance")
            .await
            .status,
        404
    );

    let post = |id: &'static str, url: &str| {
        let url = url.to_owned();
        let pages = &pages;
        async move {
            pages
                .post(
                    PAGE,
                    &[
                        ("identifiant", id),
                        ("base_url", &url),
                        ("api_key", ATAL_KEY),
                        ("requester_id", "310"),
                        ("hotes", &url),
                    ],
                )
                .await
        }
    };

    // Refused beside their fields, nothing created or replaced.
    let taken = post("atal-ville", &base_url).await;
    assert_eq!(taken.status, 422, "{}", taken.html);
    assert!(
        taken
            .html
            .contains("Une instance « atal-ville » existe déjà"),
        "{}",
        taken.html
    );
    assert_eq!(
        app.registry.config("atal-ville").unwrap().settings["requester_id"],
        "105"
    );
    let malformed = post("Atal Centre", &base_url).await;
    assert_eq!(malformed.status, 422, "{}", malformed.html);
    assert!(
        malformed.html.contains("href=\"#identifiant\""),
        "{}",
        malformed.html
    );
    assert!(
        malformed
            .html
            .contains("Identifiant d&#39;instance invalide"),
        "{}",
        malformed.html
    );
    let bad_url = post("atal-centre", "pas une adresse").await;
    assert_eq!(bad_url.status, 422, "{}", bad_url.html);
    assert!(
        !bad_url.html.contains(ATAL_KEY),
        "the secret typed is not shown back"
    );
    assert!(app.registry.instance("atal-centre").is_none());

    let created = post("atal-centre", &base_url).await;
    assert_eq!(created.status, 303, "{}", created.html);
    assert_eq!(
        created.location.as_deref(),
        Some("/admin/connecteurs/instances/atal-centre?fait=creation")
    );
    let info = app.registry.instance("atal-centre").expect("created");
    assert_eq!(info.connector, "atal");
    let settings = app.registry.config("atal-centre").unwrap().settings;
    assert_eq!(
        (
            settings["api_key"].as_str(),
            settings["requester_id"].as_str()
        ),
        (Some(ATAL_KEY), Some("310"))
    );
    let shown = pages
        .get("/admin/connecteurs/instances/atal-centre?fait=creation")
        .await;
    assert!(
        shown.html.contains("L&#39;instance est créée")
            || shown.html.contains("L'instance est créée"),
        "{}",
        shown.html
    );
    assert!(!shown.html.contains(ATAL_KEY));
    let checked = pages
        .post("/admin/connecteurs/instances/atal-centre/verification", &[])
        .await;
    assert!(
        checked.html.contains("<p class=\"lead\">Disponible</p>"),
        "{}",
        checked.html
    );
}
