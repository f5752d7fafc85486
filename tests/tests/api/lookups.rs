//! Data sources answer from the instance's cache for the duration the
//! démarche gives them: with ATAL unreachable for a moment, usagers still
//! get the signalement's categories; a new configuration or version starts
//! from an empty cache; a source cached for 0 seconds asks every time; a
//! lookup is in the journal by the time its answer is seen.

use guichet_tests::app::{Client, TestApp, example_path};
use guichet_tests::filing::{
    SIGNALEMENT, connect_atal_to, file_signalement, file_signalement_on, open_draft,
};
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    a_source_answers_from_its_cache_while_the_vendor_is_unreachable,
    a_source_cached_for_no_time_asks_the_vendor_every_time,
    a_lookup_is_journaled_before_its_choices_are_shown,
);

/// Saving the signalement's first page with a category: the status.
async fn save_category(usager: &Client, slug: &str) -> (u16, String) {
    let draft = open_draft(usager, slug).await;
    let reply = usager
        .put(
            &format!("/api/drafts/{draft}/pages/signalement"),
            json!({ "objet": "Banc cassé", "categorie": "50",
                    "description": "Le banc du square est cassé." }),
        )
        .await;
    (reply.status, reply.field_errors().join(", "))
}

async fn a_source_answers_from_its_cache_while_the_vendor_is_unreachable(app: TestApp) {
    let sim = guichet_tests::atal().await;
    connect_atal_to(&app, &sim).await;
    app.import(SIGNALEMENT).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    file_signalement(&usager, None).await;

    // ATAL unreachable: the request types asked a moment ago still serve.
    sim.set_mode(atal_sim::Mode::Down);
    file_signalement(&usager, None).await;
    assert_eq!(save_category(&usager, SIGNALEMENT).await.0, 200);

    // The instance configured again: its cache starts empty, and ATAL
    // still does not answer.
    connect_atal_to(&app, &sim).await;
    let (status, errors) = save_category(&usager, SIGNALEMENT).await;
    assert_eq!(status, 422);
    assert!(errors.contains("source_indisponible"), "{errors}");

    sim.set_mode(atal_sim::Mode::Normal);
    assert_eq!(save_category(&usager, SIGNALEMENT).await.0, 200);
}

async fn a_source_cached_for_no_time_asks_the_vendor_every_time(app: TestApp) {
    let sim = guichet_tests::atal().await;
    connect_atal_to(&app, &sim).await;
    let slug = "signalement-sans-cache";
    let text = std::fs::read_to_string(example_path(SIGNALEMENT))
        .unwrap()
        .replacen(
            "slug: signalement-voie-publique",
            &format!("slug: {slug}"),
            1,
        )
        .replacen("cache_seconds: 3600", "cache_seconds: 0", 1);
    assert!(text.contains("cache_seconds: 0"), "the example changed");
    app.import_yaml(text).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    file_signalement_on(&usager, slug, None).await;

    sim.set_mode(atal_sim::Mode::Down);
    let (status, errors) = save_category(&usager, slug).await;
    assert_eq!(status, 422, "asked again, unreachable");
    assert!(errors.contains("source_indisponible"), "{errors}");
}

async fn a_lookup_is_journaled_before_its_choices_are_shown(app: TestApp) {
    let sim = guichet_tests::atal().await;
    connect_atal_to(&app, &sim).await;
    app.import(SIGNALEMENT).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let lookups = || async {
        app.store
            .connector_calls(&guichet_store::connector::CallQuery {
                instance: Some("atal-ville".to_owned()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, call)| call.operation == "lookup")
            .count()
    };
    assert_eq!(lookups().await, 0);

    // Saving the page checks the category against ATAL's request types.
    assert_eq!(save_category(&usager, SIGNALEMENT).await.0, 200);

    // Read at once, without waiting for a background write.
    assert_eq!(lookups().await, 1, "the lookup, written before the answer");
}
