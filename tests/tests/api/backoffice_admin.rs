//! The administration's pages (`/admin/…`) through their forms, as a
//! browser sends them: an administrator uploads a connector version,
//! activates it and rolls it back (the instance's active version read from
//! the registry and the JSON API after each step); configures an instance
//! through the form generated from its connector's schema, whose secret is
//! never shown back; checks its availability and reads the journal.
//! Agents without the right get 403 on every page and every forged form;
//! a bad upload is told in French. A new instance created through its
//! form is in `backoffice_admin/new_instance.rs`; the queues' page (a dead letter retried
//! or abandoned) is in `backoffice_admin/queues.rs`; the version swapped
//! in Chromium while an usager files demandes, in
//! `backoffice_admin/hot_swap.rs`.

use guichet_tests::app::{Client, TestApp};
use guichet_tests::filing::{VOIRIE, connect_atal};
use guichet_tests::portal::Visitor;
use guichet_tests::{ATAL_KEY, components, instance_config, on_both_backends};
use serde_json::json;

on_both_backends!(
    an_administrator_uploads_activates_and_rolls_back_a_version_through_the_pages,
    a_configuration_posted_through_the_generated_form_is_applied_and_its_secret_never_shown,
    an_agent_without_the_right_gets_403_on_every_page_and_forged_form,
    a_bad_upload_is_refused_in_french,
);

mod hot_swap;
mod new_instance;
mod queues;

const ADMIN: &str = "Admin_SVL_DSI_Guichet";
const ADMIN_LOGIN: &str = "admin@ville.test";
const PASSWORD: &str = "mot-de-passe-agent";

/// An administrator: the API's client, and the pages' visitor logged in.
async fn administrator(app: &TestApp) -> (Client, Visitor) {
    app.grant(ADMIN, None).await;
    let api = app.agent(ADMIN_LOGIN, &[ADMIN]).await;
    let pages = Visitor::new(&app.base);
    pages.login(ADMIN_LOGIN, PASSWORD).await;
    (api, pages)
}

/// The hostile test connector's first version as the instance `echange`
/// (`check` and `transmit` answer the version that ran them).
async fn echange_on_first_version(app: &TestApp) {
    app.connect(
        components::HOSTILE,
        instance_config(
            "echange",
            "hostile",
            "http://127.0.0.1:1",
            json!({ "behaviour": "version" }),
        ),
    )
    .await;
}

/// The instance's active and previous versions, as the registry runs it.
fn versions(app: &TestApp, id: &str) -> (String, Option<String>) {
    let info = app.registry.instance(id).expect("the instance runs");
    (info.version, info.previous_version)
}

fn component(path: &str) -> Vec<u8> {
    std::fs::read(path).expect("the component")
}

async fn an_administrator_uploads_activates_and_rolls_back_a_version_through_the_pages(
    app: TestApp,
) {
    echange_on_first_version(&app).await;
    let (api, pages) = administrator(&app).await;
    let listed = pages.get("/admin/connecteurs").await;
    assert_eq!(listed.status, 200, "{}", listed.html);
    assert!(listed.html.contains("Composant hostile"), "{}", listed.html);

    // Nothing to roll back to yet: told, with no rollback form offered.
    assert!(!listed.html.contains("/instances/echange/retour"));
    let nothing = pages
        .post(
            "/admin/connecteurs/instances/echange/retour",
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(nothing.status, 422, "{}", nothing.html);
    assert!(
        nothing
            .html
            .contains("L&#39;instance « echange » n&#39;a pas de version précédente"),
        "{}",
        nothing.html
    );
    assert!(nothing.html.contains("href=\"#instance-echange\""));

    // Upload: installed, not active anywhere yet.
    let uploaded = pages
        .post_multipart(
            "/admin/connecteurs",
            &[],
            vec![(
                "file",
                "hostile_connector_v2.wasm",
                component(components::HOSTILE_V2),
            )],
        )
        .await;
    assert_eq!(uploaded.status, 303, "{}", uploaded.html);
    let told = pages.get(&uploaded.location.unwrap()).await;
    assert!(
        told.html
            .contains("La version 0.2.0 du connecteur « hostile » est installée"),
        "{}",
        told.html
    );
    assert!(
        told.html.contains("<option value=\"0.2.0\""),
        "{}",
        told.html
    );
    assert_eq!(versions(&app, "echange"), ("0.1.0".to_owned(), None));

    // Activation without its confirmation changes nothing.
    let unconfirmed = pages
        .post(
            "/admin/connecteurs/instances/echange/activation",
            &[("version", "0.2.0")],
        )
        .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.html);
    assert!(
        unconfirmed
            .html
            .contains("Cochez la case pour confirmer l&#39;activation")
    );
    assert!(
        unconfirmed
            .html
            .contains("href=\"#activation-echange-confirme\"")
    );
    assert_eq!(versions(&app, "echange").0, "0.1.0");

    let activated = pages
        .post(
            "/admin/connecteurs/instances/echange/activation",
            &[("version", "0.2.0"), ("confirme", "oui")],
        )
        .await;
    assert_eq!(activated.status, 303, "{}", activated.html);
    assert_eq!(
        versions(&app, "echange"),
        ("0.2.0".to_owned(), Some("0.1.0".to_owned()))
    );
    let through_api = api.get("/api/connectors/instances/echange").await;
    assert_eq!(through_api.expect(200)["version"], "0.2.0");
    let answer = app.registry.check("echange").await.expect("v2 answers");
    assert_eq!(answer.message, "0.2.0", "new calls run the new version");
    let told = pages.get(&activated.location.unwrap()).await;
    assert!(
        told.html
            .contains("utilise maintenant la version 0.2.0 (version précédente : 0.1.0)"),
        "{}",
        told.html
    );

    let rolled_back = pages
        .post(
            "/admin/connecteurs/instances/echange/retour",
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(rolled_back.status, 303, "{}", rolled_back.html);
    assert_eq!(
        versions(&app, "echange"),
        ("0.1.0".to_owned(), Some("0.2.0".to_owned()))
    );
    let through_api = api.get("/api/connectors/instances/echange").await;
    assert_eq!(through_api.expect(200)["version"], "0.1.0");
    let answer = app.registry.check("echange").await.expect("v1 answers");
    assert_eq!(answer.message, "0.1.0");

    // An unknown version is told beside its list, and changes nothing.
    let unknown = pages
        .post(
            "/admin/connecteurs/instances/echange/activation",
            &[("version", "9.9.9"), ("confirme", "oui")],
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.html);
    assert!(
        unknown
            .html
            .contains("Version inconnue du connecteur « hostile » : 9.9.9")
    );
    assert_eq!(versions(&app, "echange").0, "0.1.0");

    // Rolled back twice: the second returns to 0.2.0, the previous one.
    let again = pages
        .post(
            "/admin/connecteurs/instances/echange/retour",
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(again.status, 303, "{}", again.html);
    assert_eq!(
        versions(&app, "echange"),
        ("0.2.0".to_owned(), Some("0.1.0".to_owned()))
    );
}

/// The ATAL instance's stored settings (secrets in clear).
fn atal_settings(app: &TestApp) -> serde_json::Map<String, serde_json::Value> {
    app.registry
        .config("atal-ville")
        .expect("configured")
        .settings
        .as_object()
        .cloned()
        .expect("an object")
}

async fn a_configuration_posted_through_the_generated_form_is_applied_and_its_secret_never_shown(
    app: TestApp,
) {
    connect_atal(&app).await;
    let (api, pages) = administrator(&app).await;
    let before = atal_settings(&app);
    let base_url = before["base_url"].as_str().unwrap().to_owned();
    let hosts = app
        .registry
        .instance("atal-ville")
        .unwrap()
        .allowed_hosts
        .join("\n");

    let form = pages.get("/admin/connecteurs/instances/atal-ville").await;
    assert_eq!(form.status, 200, "{}", form.html);
    for expected in [
        "<input type=\"url\" id=\"reglage-base_url\" name=\"base_url\"",
        "<input type=\"password\" id=\"reglage-api_key\" name=\"api_key\" value=\"\"",
        "URL de l&#39;API ATAL (obligatoire)",
        "Laissez vide pour garder la valeur enregistrée",
        "<textarea id=\"reglage-request_types\"",
    ] {
        assert!(form.html.contains(expected), "{expected}: {}", form.html);
    }
    assert!(!form.html.contains(ATAL_KEY), "the secret is never shown");

    // Another requester, the secret left empty: kept.
    let saved = pages
        .post(
            "/admin/connecteurs/instances/atal-ville/configuration",
            &[
                ("base_url", &base_url),
                ("api_key", ""),
                ("requester_id", "205"),
                ("hotes", &hosts),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let after = atal_settings(&app);
    assert_eq!(after["requester_id"], "205");
    assert_eq!(after["api_key"], ATAL_KEY, "a secret left empty is kept");
    assert!(
        !after.contains_key("app_url"),
        "a text left empty is absent"
    );

    // A bad address is refused beside its field, with nothing written,
    // and the secret typed with it is not shown back.
    let refused = pages
        .post(
            "/admin/connecteurs/instances/atal-ville/configuration",
            &[
                ("base_url", "pas une adresse"),
                ("api_key", "cle-tapee-avec-une-erreur"),
                ("requester_id", "205"),
                ("request_types", "{ pas du json"),
                ("hotes", &hosts),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("class=\"error-summary\""));
    assert!(
        refused.html.contains("href=\"#reglage-request_types\""),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("n&#39;est pas du JSON valide"));
    assert!(!refused.html.contains("cle-tapee-avec-une-erreur"));
    assert!(
        refused.html.contains("value=\"pas une adresse\""),
        "typed text kept"
    );
    assert_eq!(atal_settings(&app), after);

    let schema_refused = pages
        .post(
            "/admin/connecteurs/instances/atal-ville/configuration",
            &[
                ("base_url", "pas une adresse"),
                ("requester_id", "205"),
                ("hotes", &hosts),
            ],
        )
        .await;
    assert_eq!(schema_refused.status, 422, "{}", schema_refused.html);
    assert!(
        schema_refused.html.contains("href=\"#reglage-base_url\""),
        "{}",
        schema_refused.html
    );
    assert_eq!(atal_settings(&app), after);

    // A new secret replaces the old one and is never echoed.
    let rotated = pages
        .post(
            "/admin/connecteurs/instances/atal-ville/configuration",
            &[
                ("base_url", &base_url),
                ("api_key", "une-nouvelle-cle-secrete"),
                ("requester_id", "205"),
                ("hotes", &hosts),
            ],
        )
        .await;
    assert_eq!(rotated.status, 303, "{}", rotated.html);
    assert_eq!(atal_settings(&app)["api_key"], "une-nouvelle-cle-secrete");
    let shown = pages.get(&rotated.location.unwrap()).await;
    assert!(shown.html.contains("La configuration est enregistrée"));
    assert!(!shown.html.contains("une-nouvelle-cle-secrete"));
    let through_api = api.get("/api/connectors/instances/atal-ville").await;
    assert_eq!(through_api.expect(200)["settings"]["api_key"], "********");

    // The simulated ATAL refuses the new key: the check says so, and the
    // journal lists the call.
    let checked = pages
        .post("/admin/connecteurs/instances/atal-ville/verification", &[])
        .await;
    assert_eq!(checked.status, 200, "{}", checked.html);
    assert!(checked.html.contains("Indisponible"), "{}", checked.html);
    pages
        .post(
            "/admin/connecteurs/instances/atal-ville/configuration",
            &[
                ("base_url", &base_url),
                ("api_key", ATAL_KEY),
                ("requester_id", "205"),
                ("hotes", &hosts),
            ],
        )
        .await;
    let checked = pages
        .post("/admin/connecteurs/instances/atal-ville/verification", &[])
        .await;
    assert!(
        checked
            .html
            .contains("<td>vérification de disponibilité</td>"),
        "the instance's last calls: {}",
        checked.html
    );
    assert!(
        checked.html.contains("<p class=\"lead\">Disponible</p>"),
        "{}",
        checked.html
    );

    let journal = pages
        .get("/admin/connecteurs/journal?instance=atal-ville&operation=check&resultat=ok")
        .await;
    assert_eq!(journal.status, 200, "{}", journal.html);
    assert_eq!(
        journal
            .html
            .matches("<td>vérification de disponibilité</td>")
            .count(),
        1
    );
    let both = pages
        .get("/admin/connecteurs/journal?instance=atal-ville&operation=check")
        .await;
    assert_eq!(
        both.html
            .matches("<td>vérification de disponibilité</td>")
            .count(),
        2
    );
    let none = pages
        .get("/admin/connecteurs/journal?instance=atal-ville&operation=transmit")
        .await;
    assert!(
        none.html.contains("Aucun appel ne correspond"),
        "{}",
        none.html
    );
    let wrong = pages
        .get("/admin/connecteurs/journal?operation=pirate")
        .await;
    assert_eq!(wrong.status, 422);
}

async fn an_agent_without_the_right_gets_403_on_every_page_and_forged_form(app: TestApp) {
    echange_on_first_version(&app).await;
    app.install(components::HOSTILE_V2).await;
    app.agent("voirie@ville.test", &[VOIRIE]).await;
    let agent = Visitor::new(&app.base);
    agent.login("voirie@ville.test", PASSWORD).await;

    let desk = agent.get("/back-office/demandes").await;
    assert!(
        !desk.html.contains("href=\"/admin\""),
        "no link to the administration"
    );
    for path in [
        "/admin",
        "/admin/connecteurs",
        "/admin/connecteurs/journal",
        "/admin/connecteurs/instances/echange",
        "/admin/connecteurs/hostile/nouvelle-instance",
        "/admin/files-d-attente",
    ] {
        let answer = agent.get(path).await;
        assert_eq!(answer.status, 403, "{path}");
        assert!(
            answer
                .html
                .contains("<h1>Accès réservé aux administrateurs</h1>"),
            "{path}: {}",
            answer.html
        );
    }
    let job = uuid::Uuid::new_v4().to_string();
    for (path, fields) in [
        (
            "/admin/connecteurs/instances/echange/activation".to_owned(),
            vec![("version", "0.2.0"), ("confirme", "oui")],
        ),
        (
            "/admin/connecteurs/instances/echange/retour".to_owned(),
            vec![("confirme", "oui")],
        ),
        (
            "/admin/connecteurs/instances/echange/configuration".to_owned(),
            vec![("behaviour", "panic")],
        ),
        (
            "/admin/connecteurs/instances/echange/verification".to_owned(),
            vec![],
        ),
        (
            "/admin/connecteurs/hostile/nouvelle-instance".to_owned(),
            vec![("identifiant", "intrus"), ("behaviour", "version")],
        ),
        (
            format!("/admin/files-d-attente/{job}/relance"),
            vec![("confirme", "oui")],
        ),
        (
            format!("/admin/files-d-attente/{job}/abandon"),
            vec![("confirme", "oui")],
        ),
    ] {
        let answer = agent.post(&path, &fields).await;
        assert_eq!(answer.status, 403, "{path}: {}", answer.html);
    }
    let upload = agent
        .post_multipart(
            "/admin/connecteurs",
            &[],
            vec![("file", "hostile.wasm", component(components::HOSTILE_V2))],
        )
        .await;
    assert_eq!(upload.status, 403);
    assert_eq!(versions(&app, "echange"), ("0.1.0".to_owned(), None));
    let config = app.registry.config("echange").unwrap();
    assert_eq!(config.settings["behaviour"], "version");
    assert!(app.registry.instance("intrus").is_none());

    // An usager is refused too; an anonymous visitor is sent to log in.
    let usager = Visitor::new(&app.base);
    usager
        .register("camille@exemple.test", "Camille", "Martin")
        .await;
    assert_eq!(usager.get("/admin/connecteurs").await.status, 403);
    let anonymous = Visitor::new(&app.base).get("/admin/connecteurs").await;
    assert_eq!(anonymous.status, 303);
    assert!(anonymous.location.unwrap().starts_with("/connexion?suite="));
}

/// A file of a multipart form: its part, its name, its content.
type Upload = (&'static str, &'static str, Vec<u8>);

async fn a_bad_upload_is_refused_in_french(app: TestApp) {
    let (_, pages) = administrator(&app).await;
    pages.get("/admin/connecteurs").await;
    let cases: [(&str, Vec<Upload>, &str); 3] = [
        (
            "no file",
            vec![("file", "", Vec::new())],
            "Choisissez le fichier du composant (.wasm) à installer.",
        ),
        (
            "a text",
            vec![("file", "notes.wasm", b"pas un composant".to_vec())],
            "Ce fichier n&#39;est pas un composant WebAssembly",
        ),
        (
            "a component that is no connector",
            vec![(
                "file",
                "not-a-connector.wasm",
                component(components::NOT_A_CONNECTOR),
            )],
            "class=\"error-summary\"",
        ),
    ];
    for (case, files, expected) in cases {
        let answer = pages.post_multipart("/admin/connecteurs", &[], files).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.html);
        assert!(answer.html.contains(expected), "{case}: {}", answer.html);
        assert!(answer.html.contains("href=\"#composant\""), "{case}");
    }
    assert!(app.registry.connectors().is_empty(), "nothing installed");
}
