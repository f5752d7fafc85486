//! Administration: démarche import and versions, groups and grants,
//! accounts, machine tokens, and the connector administration behind the
//! Administrateur role; and its refusals: the last administrator stays,
//! errors carry codes without database text, grants need a démarche.

use guichet_tests::app::{Client, TestApp, example_path};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    import_creates_updates_in_place_or_adds_a_version_as_the_store_decides,
    groups_grants_and_accounts_give_agents_their_back_office,
    machine_tokens_act_within_their_scopes,
    the_last_administrator_cannot_be_removed,
    store_errors_reach_clients_as_codes_without_database_text,
    grants_on_a_demarche_that_does_not_exist_are_refused,
);

const ADMIN: &str = "Admin_SVL_DSI_Guichet";

/// An administrator (group Admin_SVL_DSI_Guichet granted on everything).
pub(crate) async fn admin(app: &TestApp) -> Client {
    app.grant(ADMIN, None).await;
    app.agent("admin@ville.test", &[ADMIN]).await
}

async fn import(client: &Client, yaml: &str) -> guichet_tests::app::Reply {
    client
        .raw(
            "POST",
            "/api/admin/demarches",
            "application/yaml",
            yaml.as_bytes().to_vec(),
        )
        .await
}

async fn import_creates_updates_in_place_or_adds_a_version_as_the_store_decides(app: TestApp) {
    let admin = admin(&app).await;
    let yaml = std::fs::read_to_string(example_path(VELO)).unwrap();

    let created = import(&admin, &yaml).await;
    assert_eq!(created.expect(201)["kind"], "created");
    let same = import(&admin, &yaml).await;
    assert_eq!(same.expect(200)["kind"], "unchanged");
    let retitled = yaml.replace(
        "title: Demander une aide à la réparation d'un vélo",
        "title: Demander l'aide à la réparation de votre vélo",
    );
    let in_place = import(&admin, &retitled).await;
    assert_eq!(
        in_place.expect(200),
        &json!({ "slug": VELO, "version": 1, "kind": "updated_in_place" })
    );

    app.grant(MOBILITES, Some(VELO)).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let on_v1 = file_velo(&usager).await;

    let with_field = retitled.replace(
        "      - id: reparateur\n",
        "      - id: numero_cadre\n        kind: text\n        label: Numéro de cadre (bicycode)\n      - id: reparateur\n",
    );
    let new_version = import(&admin, &with_field).await;
    assert_eq!(
        new_version.expect(201),
        &json!({ "slug": VELO, "version": 2, "kind": "new_version" })
    );

    let versions = admin
        .get(&format!("/api/admin/demarches/{VELO}/versions"))
        .await;
    let numbers: Vec<u64> = versions
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);
    let v1 = admin
        .get(&format!("/api/admin/demarches/{VELO}/versions/1"))
        .await;
    assert!(
        !v1.expect(200)["source"]
            .as_str()
            .unwrap()
            .contains("numero_cadre")
    );
    assert_eq!(
        usager_view(&usager, &on_v1).await["version"],
        1,
        "filed demandes keep theirs"
    );

    let broken = import(&admin, "slug: Pas Un Slug\ntitle: x\n").await;
    assert_eq!((broken.status, broken.code()), (422, "invalid_definition"));
    assert!(!broken.field_errors().is_empty());

    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let refused = import(&gestionnaire, &yaml).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    let schema = app.anonymous().get("/api/schemas/demarche.json").await;
    assert!(schema.expect(200)["properties"]["slug"].is_object());
}

async fn groups_grants_and_accounts_give_agents_their_back_office(app: TestApp) {
    app.import(VELO).await;
    let admin = admin(&app).await;

    let bad = admin
        .post(
            "/api/admin/groups",
            json!({ "name": "Chef_SVL_DACT_Mobilités" }),
        )
        .await;
    assert_eq!(bad.field_errors(), ["name:nom_de_groupe_invalide"]);
    let group = admin
        .post("/api/admin/groups", json!({ "name": MOBILITES }))
        .await;
    assert_eq!(group.expect(201)["role"], "gestionnaire");
    admin
        .post(
            "/api/admin/grants",
            json!({ "group": MOBILITES, "scope": { "demarche": VELO } }),
        )
        .await
        .expect(201);

    let created = admin
        .post(
            "/api/admin/users",
            json!({ "login": "lea.velo@ville.test", "display_name": "Léa Vélo",
                    "password": "un-bon-mot-de-passe", "groups": [MOBILITES] }),
        )
        .await;
    let created = created.expect(201).clone();
    assert_eq!(created["groups"], json!([MOBILITES]));
    let lea = app
        .login("lea.velo@ville.test", "un-bon-mot-de-passe")
        .await;
    let demarches = lea.get("/api/agent/demarches").await;
    let demarches = demarches.expect(200);
    assert_eq!(demarches[0]["slug"], VELO);
    assert!(
        demarches[0]["rights"]
            .as_array()
            .unwrap()
            .contains(&json!("process"))
    );

    let unknown_group = admin
        .post(
            "/api/admin/users",
            json!({ "login": "x@ville.test", "display_name": "X",
                    "password": "un-bon-mot-de-passe", "groups": ["Gest_SVL_DACT_Inconnu"] }),
        )
        .await;
    assert_eq!(unknown_group.field_errors(), ["groups:groupe_inconnu"]);

    let id = created["id"].as_str().unwrap();
    admin
        .post(&format!("/api/admin/users/{id}/deactivate"), json!({}))
        .await
        .expect(200);
    assert_eq!(lea.get("/api/me").await.status, 401, "sessions end");
    let login = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({ "login": "lea.velo@ville.test", "password": "un-bon-mot-de-passe" }),
        )
        .await;
    assert_eq!(login.status, 401);

    admin
        .delete(
            "/api/admin/grants",
            Some(json!({ "group": MOBILITES, "scope": { "demarche": VELO } })),
        )
        .await
        .expect(204);
    assert_eq!(
        admin
            .get("/api/admin/grants")
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn machine_tokens_act_within_their_scopes(app: TestApp) {
    app.import(VELO).await;
    let admin = admin(&app).await;
    let me = admin.get("/api/me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let token = admin
        .post(
            &format!("/api/admin/users/{me}/tokens"),
            json!({ "name": "supervision", "scopes": ["administration"] }),
        )
        .await;
    let secret = token.expect(201)["secret"].as_str().unwrap().to_owned();
    let machine = app.with_token(&secret);
    assert_eq!(machine.get("/api/connectors/instances").await.status, 200);
    assert_eq!(machine.get("/api/admin/groups").await.status, 200);
    assert_eq!(
        machine.get("/api/agent/demandes").await.status,
        403,
        "the token may only administer"
    );

    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let gest_id = gestionnaire.get("/api/me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = admin
        .post(
            &format!("/api/admin/users/{gest_id}/tokens"),
            json!({ "name": "tableau", "scopes": ["back_office", "read"] }),
        )
        .await;
    let reader_secret = reader.expect(201)["secret"].as_str().unwrap().to_owned();
    let reader = app.with_token(&reader_secret);
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    assert_eq!(reader.get("/api/agent/demandes").await.status, 200);
    let process = act(&reader, &id, json!({ "transition": "prendre_en_compte" })).await;
    assert_eq!((process.status, process.code()), (403, "forbidden"));
    assert_eq!(reader.get("/api/connectors/instances").await.status, 403);
    assert_eq!(
        admin.get("/api/connectors/instances").await.status,
        200,
        "the admin's session too"
    );

    let tokens = admin
        .get(&format!("/api/admin/users/{gest_id}/tokens"))
        .await;
    let token_id = tokens.expect(200)[0]["id"].as_str().unwrap().to_owned();
    admin
        .delete(&format!("/api/admin/tokens/{token_id}"), None)
        .await
        .expect(204);
    assert_eq!(reader.get("/api/agent/demandes").await.status, 401);
    let texts = app.every_stored_text().await;
    assert!(
        !texts.iter().any(|(_, v)| v.contains(&secret)),
        "only hashes are stored"
    );
}

async fn the_last_administrator_cannot_be_removed(app: TestApp) {
    let admin = admin(&app).await;
    let me = admin.get("/api/me").await.expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = json!({ "group": ADMIN, "scope": "all" });

    // The reported input: deleting the only administration group.
    let delete = admin
        .delete(&format!("/api/admin/groups/{ADMIN}"), None)
        .await;
    assert_eq!(
        (delete.status, delete.code()),
        (409, "last_administrator"),
        "{}",
        delete.body
    );
    let leave = admin
        .delete(&format!("/api/admin/groups/{ADMIN}/members/{me}"), None)
        .await;
    assert_eq!((leave.status, leave.code()), (409, "last_administrator"));
    let revoke = admin.delete("/api/admin/grants", Some(grant.clone())).await;
    assert_eq!((revoke.status, revoke.code()), (409, "last_administrator"));
    let deactivate = admin
        .post(&format!("/api/admin/users/{me}/deactivate"), json!({}))
        .await;
    assert_eq!(
        (deactivate.status, deactivate.code()),
        (409, "last_administrator")
    );
    assert_eq!(
        admin.get("/api/admin/groups").await.status,
        200,
        "still administrator"
    );

    // A second administrator: now the first may go.
    let second = admin
        .post(
            "/api/admin/users",
            json!({ "login": "admin2@ville.test", "display_name": "Admin 2",
                    "password": "Tartine-Vélo-Soleil-42", "groups": [ADMIN] }),
        )
        .await;
    second.expect(201);
    admin
        .delete(&format!("/api/admin/groups/{ADMIN}/members/{me}"), None)
        .await
        .expect(204);
    let second = app
        .login("admin2@ville.test", "Tartine-Vélo-Soleil-42")
        .await;
    let again = second
        .delete(&format!("/api/admin/groups/{ADMIN}"), None)
        .await;
    assert_eq!((again.status, again.code()), (409, "last_administrator"));
}

async fn store_errors_reach_clients_as_codes_without_database_text(app: TestApp) {
    let admin = admin(&app).await;
    let twice = admin
        .post("/api/admin/groups", json!({ "name": MOBILITES }))
        .await;
    twice.expect(201);
    let again = admin
        .post("/api/admin/groups", json!({ "name": MOBILITES }))
        .await;
    assert_eq!((again.status, again.code()), (409, "group_exists"));
    let unknown_member = admin
        .put(
            &format!(
                "/api/admin/groups/Gest_SVL_DACT_Inconnu/members/{}",
                uuid::Uuid::nil()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (unknown_member.status, unknown_member.code()),
        (404, "group_not_found")
    );
    app.usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let taken = app
        .anonymous()
        .post(
            "/api/auth/register",
            guichet_tests::app::usager_registration(
                "camille.martin@exemple.test",
                "Tartine-Vélo-Soleil-42",
                "Camille",
                "Martin",
            ),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "login_taken"));
    for reply in [&again, &unknown_member, &taken] {
        let message = reply.body["message"].as_str().unwrap().to_lowercase();
        for database_word in [
            "unique",
            "constraint",
            "duplicate",
            "violates",
            "sqlite",
            "key",
        ] {
            assert!(!message.contains(database_word), "{message}");
        }
    }
}

async fn grants_on_a_demarche_that_does_not_exist_are_refused(app: TestApp) {
    let admin = admin(&app).await;
    app.import(VELO).await;
    admin
        .post("/api/admin/groups", json!({ "name": MOBILITES }))
        .await
        .expect(201);
    let grants = app.count("grants").await;
    let nothing = admin
        .post(
            "/api/admin/grants",
            json!({ "group": MOBILITES, "scope": { "demarche": "n-existe-pas" } }),
        )
        .await;
    assert_eq!(
        (nothing.status, nothing.code()),
        (404, "demarche_not_found")
    );
    let no_group = admin
        .post(
            "/api/admin/grants",
            json!({ "group": "Gest_SVL_DACT_Inconnu", "scope": { "demarche": VELO } }),
        )
        .await;
    assert_eq!((no_group.status, no_group.code()), (404, "group_not_found"));
    assert_eq!(app.count("grants").await, grants);
    admin
        .post(
            "/api/admin/grants",
            json!({ "group": MOBILITES, "scope": { "demarche": VELO } }),
        )
        .await
        .expect(201);
}
