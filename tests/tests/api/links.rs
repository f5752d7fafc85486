//! Account links through the API, with the real Espace famille component
//! against the simulated Espace famille over HTTP: an usager links their
//! account once with the family code and secret, lists and removes the
//! link; a wrong secret or a vendor down links nothing; a name and a birth
//! date are refused to usagers but accepted from an agent with the
//! *saisie* right; the restauration lists the children of the linked
//! family only; an instance's link settings are checked against its
//! connector.

use guichet_tests::app::{Client, TestApp};
use guichet_tests::filing::*;
use guichet_tests::{FAMILLE_TOKEN, components, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    an_usager_links_their_family_with_its_code_and_secret,
    a_wrong_secret_links_nothing,
    a_vendor_down_links_nothing,
    an_usager_cannot_link_by_name_and_birth_date,
    an_agent_with_the_saisie_right_links_an_usager_by_name_and_birth_date,
    an_usager_removes_their_link_and_the_form_asks_for_it_again,
    an_instance_without_link_settings_offers_no_link,
    the_link_settings_of_an_instance_are_checked_against_its_connector,
);

/// The restauration scolaire service, whose gestionnaire files on behalf.
const RESTAURATION_SCOLAIRE: &str = "Gest_SVL_DEJ_RestaurationScolaire";

async fn camille(app: &TestApp) -> Client {
    app.usager("Camille", "Martin", "camille.martin@example.fr")
        .await
}

async fn links_of(usager: &Client) -> Value {
    usager.get("/api/me/links").await.expect(200).clone()
}

async fn an_usager_links_their_family_with_its_code_and_secret(app: TestApp) {
    let _sim = app.connect_famille().await;
    let usager = camille(&app).await;
    assert_eq!(links_of(&usager).await, json!([]));

    let linked = link_family(&usager, MARTIN).await;

    let linked = linked.expect(200);
    assert_eq!(linked["instance"], FAMILLE);
    assert_eq!(linked["remote_id"], "F-0002");
    assert_eq!(linked["label"], "Famille MARTIN");
    assert_eq!(linked["by_agent"], false);
    let listed = links_of(&usager).await;
    assert_eq!(listed, json!([linked]));
    assert!(
        !listed.to_string().contains("s3cret"),
        "the proof is not kept"
    );
    // Linking again (another family of theirs) replaces the link.
    link_family(&usager, ("F-0001", "s3cret-dupont"))
        .await
        .expect(200);
    let listed = links_of(&usager).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["remote_id"], "F-0001");
}

async fn a_wrong_secret_links_nothing(app: TestApp) {
    let _sim = app.connect_famille().await;
    let usager = camille(&app).await;

    let refused = link_family(&usager, ("F-0002", "devine")).await;

    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.code(), "link_refused");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("code famille ou code secret incorrect"),
        "{}",
        refused.body
    );
    let unknown = link_family(&usager, ("F-9999", "s3cret-martin")).await;
    assert_eq!(unknown.code(), "link_refused", "{}", unknown.body);
    assert_eq!(links_of(&usager).await, json!([]));
    assert_eq!(app.count("account_links").await, 0);
}

async fn a_vendor_down_links_nothing(app: TestApp) {
    let sim = app.connect_famille().await;
    let usager = camille(&app).await;
    sim.set_mode(espace_famille_sim::Mode::Down);

    let refused = link_family(&usager, MARTIN).await;

    assert_eq!(refused.status, 502, "{}", refused.body);
    assert_eq!(refused.code(), "connector_unavailable");
    assert_eq!(links_of(&usager).await, json!([]));
}

async fn an_usager_cannot_link_by_name_and_birth_date(app: TestApp) {
    let _sim = app.connect_famille().await;
    let usager = camille(&app).await;
    let path = format!("/api/me/links/{FAMILLE}");
    for params in [
        json!({ "last-name": "MARTIN", "first-name": "Camille", "birth-date": "1988-04-12" }),
        json!({ "family-code": "F-0002", "secret": "s3cret-martin", "last-name": "MARTIN" }),
        json!({ "family-code": "F-0002" }),
        json!({ "family-code": "F-0002", "secret": "   " }),
        json!({}),
    ] {
        let refused = usager.put(&path, json!({ "params": params })).await;
        assert_eq!(refused.status, 422, "{params}: {}", refused.body);
        assert_eq!(refused.code(), "link_params_invalid", "{params}");
    }
    assert_eq!(links_of(&usager).await, json!([]));
    // An agent's route is not an usager's.
    let forbidden = usager
        .put(
            &format!("/api/agent/usagers/camille.martin@example.fr/links/{FAMILLE}"),
            json!({ "params": { "last-name": "MARTIN", "birth-date": "1988-04-12" } }),
        )
        .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    assert_eq!(links_of(&usager).await, json!([]));
}

async fn an_agent_with_the_saisie_right_links_an_usager_by_name_and_birth_date(app: TestApp) {
    let _sim = app.connect_famille().await;
    app.import(RESTAURATION).await;
    app.import(VELO).await;
    app.grant(RESTAURATION_SCOLAIRE, Some(RESTAURATION)).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant("Obs_SVL_DGS_GRU", Some(RESTAURATION)).await;
    let cantine = app
        .agent("cantine@ville.test", &[RESTAURATION_SCOLAIRE])
        .await;
    let velo = app.agent("velo@ville.test", &[MOBILITES]).await;
    let observateur = app.agent("obs@ville.test", &["Obs_SVL_DGS_GRU"]).await;
    let usager = camille(&app).await;
    let path = format!("/api/agent/usagers/camille.martin@example.fr/links/{FAMILLE}");
    let identity = json!({ "params": { "last-name": "MARTIN", "first-name": "Camille", "birth-date": "1988-04-12" } });

    // Rights on another démarche, or without the saisie right, are not
    // enough.
    for agent in [&velo, &observateur] {
        let refused = agent.put(&path, identity.clone()).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
    }
    assert_eq!(links_of(&usager).await, json!([]));
    let unknown = cantine
        .put(
            &format!("/api/agent/usagers/personne@example.fr/links/{FAMILLE}"),
            identity.clone(),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let undeclared = cantine
        .put(&path, json!({ "params": { "nir": "188047512345678" } }))
        .await;
    assert_eq!(
        undeclared.code(),
        "link_params_invalid",
        "{}",
        undeclared.body
    );

    let linked = cantine.put(&path, identity).await;

    let linked = linked.expect(200);
    assert_eq!(linked["remote_id"], "F-0002");
    assert_eq!(linked["by_agent"], true);
    assert_eq!(links_of(&usager).await, json!([linked]));
}

async fn an_usager_removes_their_link_and_the_form_asks_for_it_again(app: TestApp) {
    let _sim = app.connect_famille().await;
    app.import(RESTAURATION).await;
    app.jump_days(70).await; // registrations open on 1 May
    let usager = camille(&app).await;
    link_family(&usager, MARTIN).await.expect(200);
    let draft = open_draft(&usager, RESTAURATION).await;
    let page_1 = format!("/api/drafts/{draft}/pages/responsable");
    usager
        .put(&page_1, restauration_responsable("F-0002"))
        .await
        .expect(200);

    let removed = usager
        .delete(&format!("/api/me/links/{FAMILLE}"), None)
        .await;

    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(links_of(&usager).await, json!([]));
    let again = usager
        .delete(&format!("/api/me/links/{FAMILLE}"), None)
        .await;
    assert_eq!(again.status, 404, "{}", again.body);
    let shown = usager
        .get(&format!("/api/drafts/{draft}/pages/enfant/options"))
        .await;
    assert_eq!(
        shown.expect(200)["choices"],
        json!({}),
        "no family, no children"
    );
    assert_eq!(
        shown.expect(200)["unavailable"][0]["code"],
        "rattachement_requis",
        "{}",
        shown.body
    );
    let unlinked = usager
        .put(&page_1, restauration_responsable("F-0002"))
        .await;
    assert_eq!(unlinked.field_errors(), ["famille:rattachement_requis"]);
    assert!(
        unlinked.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("rattachez d'abord votre compte"),
        "{}",
        unlinked.body
    );
    let filed = usager
        .post(
            &format!("/api/drafts/{draft}/submit"),
            json!({ "consent": true }),
        )
        .await;
    assert_eq!(filed.status, 422, "{}", filed.body);
    assert!(
        filed
            .field_errors()
            .contains(&"famille:rattachement_requis".to_owned()),
        "{}",
        filed.body
    );
}

async fn an_instance_without_link_settings_offers_no_link(app: TestApp) {
    let sim = guichet_tests::espace_famille().await;
    app.connect(
        components::ESPACE_FAMILLE,
        guichet_tests::famille_config(FAMILLE, &sim.base_url()),
    )
    .await;
    let usager = camille(&app).await;

    let refused = link_family(&usager, MARTIN).await;

    assert_eq!(refused.status, 404, "{}", refused.body);
    let unknown = usager
        .put(
            "/api/me/links/atal-ville",
            json!({ "params": { "family-code": "F-0002", "secret": "s3cret-martin" } }),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(links_of(&usager).await, json!([]));
}

async fn the_link_settings_of_an_instance_are_checked_against_its_connector(app: TestApp) {
    let sim = guichet_tests::espace_famille().await;
    let admin = crate::admin::admin(&app).await;
    admin
        .raw(
            "POST",
            "/api/connectors",
            "application/wasm",
            std::fs::read(components::ESPACE_FAMILLE).unwrap(),
        )
        .await
        .expect(201);
    let body = |link: Value, every: Value| {
        json!({
            "connector": "espace-famille",
            "settings": { "base_url": sim.base_url(), "token": FAMILLE_TOKEN },
            "allowed_hosts": [sim.base_url()],
            "link": link,
            "sync_every_minutes": every,
        })
    };
    let path = format!("/api/connectors/instances/{FAMILLE}");
    for (link, every, setting) in [
        (
            json!({ "source": "famille-rattachement", "usager_params": ["secret"] }),
            json!(null),
            "link.source",
        ),
        (
            json!({ "source": "family-link", "usager_params": ["family-code", "nir"] }),
            json!(null),
            "link.usager_params",
        ),
        (
            json!({ "source": "family-link", "usager_params": [] }),
            json!(null),
            "link.usager_params:choix_trop_peu",
        ),
        (
            json!(null),
            json!(0),
            "sync_every_minutes:nombre_trop_petit",
        ),
        (
            json!(null),
            json!(7 * 24 * 60 + 1),
            "sync_every_minutes:nombre_trop_grand",
        ),
    ] {
        let refused = admin.put(&path, body(link.clone(), every)).await;
        assert_eq!(refused.status, 422, "{link}: {}", refused.body);
        assert_eq!(refused.code(), "connector_config_invalid");
        let expected = if setting.contains(':') {
            setting.to_owned()
        } else {
            format!("{setting}:choix_inconnu")
        };
        assert_eq!(refused.field_errors(), [expected]);
    }
    admin.get(&path).await.expect(404);

    let link = json!({ "source": "family-link", "usager_params": ["family-code", "secret"] });
    let configured = admin.put(&path, body(link.clone(), json!(30))).await;
    assert_eq!(configured.expect(200)["link"], link);
    let shown = admin.get(&path).await;
    assert_eq!(shown.expect(200)["link"], link);
    assert_eq!(shown.expect(200)["sync_every_minutes"], 30);
    assert_eq!(shown.expect(200)["connector"], "espace-famille");

    let usager = camille(&app).await;
    link_family(&usager, MARTIN).await.expect(200);
    // Without link settings, the instance links no one any more.
    admin
        .put(&path, body(json!(null), json!(null)))
        .await
        .expect(200);
    assert_eq!(admin.get(&path).await.expect(200)["link"], json!(null));
    link_family(&usager, MARTIN).await.expect(404);
}
