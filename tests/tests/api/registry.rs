//! The persistent connector registry through the admin API, with real
//! components: a component uploaded and an instance configured are back,
//! active and callable, after a restart on the same database; activation
//! and rollback are kept; two instances of one connector coexist; secrets
//! are never answered nor stored in clear; a bad configuration is refused
//! in French and writes nothing.

use guichet_tests::app::{Client, Reply, TestApp};
use guichet_tests::{ATAL_KEY, atal, components, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    an_instance_configured_through_the_api_is_active_and_callable_after_a_restart,
    activation_and_rollback_are_kept_across_a_restart,
    two_instances_of_one_connector_coexist_with_their_own_settings,
    secrets_are_never_answered_nor_stored_in_clear,
    a_secret_sent_back_masked_keeps_its_value,
    a_bad_configuration_is_refused_in_french_and_writes_nothing,
    what_is_not_a_component_is_refused,
);

async fn upload(admin: &Client, file: &str) -> Reply {
    admin
        .raw(
            "POST",
            "/api/connectors",
            "application/wasm",
            std::fs::read(file).unwrap(),
        )
        .await
}

fn atal_body(base_url: &str, api_key: &str) -> Value {
    json!({
        "connector": "atal",
        "settings": { "base_url": base_url, "api_key": api_key, "requester_id": "105" },
        "allowed_hosts": [base_url],
    })
}

/// Configures the ATAL instance `id` for the simulator `vendor`.
async fn configure_atal(admin: &Client, id: &str, vendor: &atal_sim::Handle) {
    admin
        .put(
            &format!("/api/connectors/instances/{id}"),
            atal_body(&vendor.base_url(), ATAL_KEY),
        )
        .await
        .expect(200);
}

fn hostile_body(version: &str) -> Value {
    json!({
        "connector": "hostile",
        "version": version,
        "settings": { "behaviour": "version" },
        "allowed_hosts": ["http://127.0.0.1:1"],
    })
}

async fn an_instance_configured_through_the_api_is_active_and_callable_after_a_restart(
    app: TestApp,
) {
    let admin = crate::admin::admin(&app).await;
    let atal = atal().await;
    let installed = upload(&admin, components::ATAL).await;
    let installed = installed.expect(201);
    assert_eq!(installed["description"]["name"], "atal");
    assert_eq!(installed["sha256"].as_str().unwrap().len(), 64);
    configure_atal(&admin, "atal-ville", &atal).await;

    let again = app.start_again().await;

    let info = again
        .state
        .registry
        .instance("atal-ville")
        .expect("instance restored");
    assert_eq!(info.connector, "atal");
    assert_eq!(info.version, installed["description"]["version"]);
    let availability = again
        .state
        .registry
        .check("atal-ville")
        .await
        .expect("callable");
    assert!(availability.available, "{availability:?}");
    again.state.store.close().await;
}

async fn activation_and_rollback_are_kept_across_a_restart(app: TestApp) {
    let admin = crate::admin::admin(&app).await;
    upload(&admin, components::HOSTILE).await.expect(201);
    upload(&admin, components::HOSTILE_V2).await.expect(201);
    admin
        .put("/api/connectors/instances/echange", hostile_body("0.1.0"))
        .await
        .expect(200);

    let activated = admin
        .post(
            "/api/connectors/instances/echange/activate",
            json!({ "version": "0.2.0" }),
        )
        .await;
    activated.expect(200);
    let after_activation = app.start_again().await;
    let info = after_activation.state.registry.instance("echange").unwrap();
    after_activation.state.store.close().await;
    assert_eq!(
        (info.version.as_str(), info.previous_version.as_deref()),
        ("0.2.0", Some("0.1.0"))
    );

    admin
        .post("/api/connectors/instances/echange/rollback", json!({}))
        .await
        .expect(200);
    let after_rollback = app.start_again().await;
    let info = after_rollback.state.registry.instance("echange").unwrap();
    after_rollback.state.store.close().await;
    assert_eq!(
        (info.version.as_str(), info.previous_version.as_deref()),
        ("0.1.0", Some("0.2.0"))
    );
}

async fn two_instances_of_one_connector_coexist_with_their_own_settings(app: TestApp) {
    let admin = crate::admin::admin(&app).await;
    let nord = atal().await;
    let sud = atal().await;
    upload(&admin, components::ATAL).await.expect(201);
    for (id, vendor) in [("atal-nord", &nord), ("atal-sud", &sud)] {
        configure_atal(&admin, id, vendor).await;
    }

    let listed = admin.get("/api/connectors/instances").await;
    let again = app.start_again().await;

    let ids: Vec<&str> = listed
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["atal-nord", "atal-sud"]);
    for (id, vendor) in [("atal-nord", &nord), ("atal-sud", &sud)] {
        let info = again.state.registry.instance(id).expect("restored");
        assert_eq!(info.settings["base_url"], vendor.base_url());
        assert_eq!(info.allowed_hosts.len(), 1);
        let availability = again.state.registry.check(id).await.expect("callable");
        assert!(availability.available, "{id}: {availability:?}");
    }
    again.state.store.close().await;
}

async fn secrets_are_never_answered_nor_stored_in_clear(app: TestApp) {
    let admin = crate::admin::admin(&app).await;
    upload(&admin, components::ATAL).await.expect(201);
    let secret = format!("cle-secrete-{}", uuid::Uuid::new_v4().simple());
    let base_url = format!("http://atal-{}.test", uuid::Uuid::new_v4().simple());

    let answers = [
        admin
            .put(
                "/api/connectors/instances/atal-ville",
                atal_body(&base_url, &secret),
            )
            .await,
        admin.get("/api/connectors/instances/atal-ville").await,
        admin.get("/api/connectors/instances").await,
    ];

    for answer in &answers {
        let text = answer.expect(200).to_string();
        assert!(!text.contains(&secret), "secret answered: {text}");
        assert!(text.contains("********"), "secret not shown masked: {text}");
    }
    let files = app.database_files().await;
    let holds = |needle: &str| {
        files
            .iter()
            .any(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    };
    assert!(
        holds(&base_url),
        "the settings in clear are not in the files"
    );
    assert!(
        !holds(&secret),
        "the secret is in the database files in clear"
    );
}

async fn a_secret_sent_back_masked_keeps_its_value(app: TestApp) {
    let admin = crate::admin::admin(&app).await;
    let atal = atal().await;
    upload(&admin, components::ATAL).await.expect(201);
    configure_atal(&admin, "atal-ville", &atal).await;
    let read = admin.get("/api/connectors/instances/atal-ville").await;
    let mut settings = read.expect(200)["settings"].clone();
    assert_eq!(settings["api_key"], "********");
    settings["requester_id"] = json!("106");

    admin
        .put(
            "/api/connectors/instances/atal-ville",
            json!({ "connector": "atal", "settings": settings, "allowed_hosts": [atal.base_url()] }),
        )
        .await
        .expect(200);
    let again = app.start_again().await;

    let check = admin
        .post("/api/connectors/instances/atal-ville/check", json!({}))
        .await;
    assert_eq!(check.expect(200)["available"], true);
    let info = again.state.registry.instance("atal-ville").unwrap();
    assert_eq!(info.settings["requester_id"], "106");
    let availability = again.state.registry.check("atal-ville").await.unwrap();
    again.state.store.close().await;
    assert!(availability.available, "{availability:?}");
}

async fn a_bad_configuration_is_refused_in_french_and_writes_nothing(app: TestApp) {
    let admin = crate::admin::admin(&app).await;
    upload(&admin, components::ATAL).await.expect(201);
    let url = "http://127.0.0.1:9";
    let invalid = "configuration invalide pour le connecteur « atal »";
    let cases = [
        (
            "atal-ville",
            json!({ "connector": "atal", "settings": { "base_url": url }, "allowed_hosts": [url] }),
            (422, "connector_config_invalid", invalid),
            Some(("settings", "propriété obligatoire manquante")),
        ),
        (
            "atal-ville",
            json!({ "connector": "atal", "settings": { "base_url": url, "api_key": 12, "couleur": "bleu" }, "allowed_hosts": [url] }),
            (422, "connector_config_invalid", invalid),
            Some(("settings.api_key", "type incorrect")),
        ),
        (
            "Atal Ville",
            atal_body(url, ATAL_KEY),
            (
                422,
                "connector_config_invalid",
                "identifiant d'instance invalide",
            ),
            None,
        ),
        (
            "atal-ville",
            json!({ "connector": "atal", "settings": { "base_url": url, "api_key": "k" }, "allowed_hosts": ["ftp://x"] }),
            (
                422,
                "connector_config_invalid",
                "seuls http et https sont permis",
            ),
            None,
        ),
        (
            "atal-ville",
            json!({ "connector": "inconnu", "settings": {} }),
            (
                404,
                "connector_not_found",
                "connecteur inconnu : « inconnu »",
            ),
            None,
        ),
        (
            "atal-ville",
            json!({ "connector": "atal", "version": "9.9.9", "settings": {} }),
            (
                404,
                "connector_not_found",
                "version inconnue du connecteur « atal » : 9.9.9",
            ),
            None,
        ),
    ];

    for (id, body, (status, code, message), field) in cases {
        let path = format!("/api/connectors/instances/{}", id.replace(' ', "%20"));
        let reply = admin.put(&path, body.clone()).await;
        let error = reply.expect(status);
        assert_eq!(reply.code(), code, "{body}");
        let said = error["message"].as_str().unwrap();
        assert!(said.contains(message), "{said}");
        if let Some((field, text)) = field {
            let problem = error["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["field"] == field)
                .unwrap_or_else(|| panic!("no problem on {field}: {error}"));
            assert!(
                problem["message"].as_str().unwrap().contains(text),
                "{problem}"
            );
        }
    }

    let listed = admin.get("/api/connectors/instances").await;
    assert_eq!(listed.expect(200), &json!([]));
    assert!(app.store.connector_instances().await.unwrap().is_empty());
}

async fn what_is_not_a_component_is_refused(app: TestApp) {
    let admin = crate::admin::admin(&app).await;

    let text = admin
        .raw(
            "POST",
            "/api/connectors",
            "application/wasm",
            b"pas un composant".to_vec(),
        )
        .await;
    let json_body = admin.post("/api/connectors", json!({})).await;

    text.expect(422);
    assert_eq!(text.code(), "connector_invalid");
    json_body.expect(415);
    assert!(app.store.connector_versions().await.unwrap().is_empty());
}
