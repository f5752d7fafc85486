//! Bad inputs: each gets a clear error in the API's shape (`code`,
//! `message`, and `errors` per field for a form) and writes nothing — the
//! counts of every table that could have changed are compared before and
//! after, and the file storage is checked.

use guichet_tests::app::{Client, TestApp, exe, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    a_submission_without_consent_is_refused_and_nothing_is_filed,
    files_are_judged_by_content_and_size_and_refused_ones_are_not_stored,
    page_answers_outside_the_form_are_refused_and_the_draft_is_unchanged,
    actions_not_allowed_or_without_the_right_change_nothing,
    malformed_or_non_json_bodies_get_errors_in_the_api_shape,
    wrong_credentials_open_no_session,
    another_usagers_demande_does_not_exist_for_them,
    nothing_is_written_anonymously,
);

/// The rows of every table a request could write.
const TABLES: [&str; 9] = [
    "demandes",
    "history",
    "files",
    "drafts",
    "jobs",
    "timers",
    "sessions",
    "users",
    "numero_counters",
];

async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push((table, app.count(table).await));
    }
    counts
}

async fn setup(app: &TestApp) -> (Client, Client) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    (usager, gestionnaire)
}

async fn a_submission_without_consent_is_refused_and_nothing_is_filed(app: TestApp) {
    let (usager, _) = setup(&app).await;
    let draft = fill_velo(&usager, pdf("facture")).await;
    let before = counts(&app).await;

    let refused = usager
        .post(
            &format!("/api/drafts/{draft}/submit"),
            json!({ "consent": false }),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (422, "validation_failed"));
    assert_eq!(refused.field_errors(), ["rgpd:consentement_requis"]);
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("consentement")
    );
    let missing = usager
        .post(&format!("/api/drafts/{draft}/submit"), json!({}))
        .await;
    assert_eq!(missing.field_errors(), ["rgpd:consentement_requis"]);

    assert_eq!(
        counts(&app).await,
        before,
        "no demande, no number, draft kept"
    );
    let filed = submit(&usager, &draft).await;
    let numero = usager_view(&usager, &filed).await["numero"].clone();
    assert!(
        numero.as_str().unwrap().ends_with("-000001"),
        "no gap: {numero}"
    );
}

async fn files_are_judged_by_content_and_size_and_refused_ones_are_not_stored(app: TestApp) {
    let (usager, _) = setup(&app).await;
    let draft = open_draft(&usager, VELO).await;
    let upload = format!("/api/drafts/{draft}/files/facture");
    let mut oversized = pdf("grosse facture");
    oversized.resize(10 * 1024 * 1024 + 1, b' ');
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("facture.pdf", exe(), "facture:type_fichier"),
        (
            "facture.pdf",
            b"GIF89a une image GIF".to_vec(),
            "facture:type_fichier",
        ),
        ("facture.pdf", oversized, "facture:fichier_trop_gros"),
    ];
    let before = counts(&app).await;
    for (name, content, expected) in cases {
        let reply = usager.post_form(&upload, &[], Some((name, content))).await;
        assert_eq!(reply.status, 422, "{expected}: {}", reply.body);
        assert_eq!(reply.field_errors(), [expected]);
    }
    let without_file = usager.post_form(&upload, &[("note", "rien")], None).await;
    assert_eq!(without_file.field_errors(), ["file:requis"]);
    let not_a_file_field = usager
        .post_form(
            &format!("/api/drafts/{draft}/files/montant"),
            &[],
            Some(("facture.pdf", pdf("x"))),
        )
        .await;
    assert_eq!(not_a_file_field.status, 404);
    assert_eq!(counts(&app).await, before);
    assert!(app.stored_files().is_empty(), "nothing reached the storage");

    let renamed_png = usager
        .post_form(
            &upload,
            &[],
            Some(("scan.pdf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec())),
        )
        .await;
    assert_eq!(
        renamed_png.expect(201)["name"],
        "scan.png",
        "named after its content"
    );
}

async fn page_answers_outside_the_form_are_refused_and_the_draft_is_unchanged(app: TestApp) {
    let (usager, _) = setup(&app).await;
    let draft = open_draft(&usager, VELO).await;
    let page = format!("/api/drafts/{draft}/pages/reparation");
    let with = |extra: Value| {
        let mut answers = velo_repair();
        for (k, v) in extra.as_object().unwrap() {
            answers[k] = v.clone();
        }
        answers
    };
    let cases: [(Value, &str); 8] = [
        (with(json!({ "couleur": "rouge" })), "couleur:champ_inconnu"),
        (
            with(json!({ "type_velo": "tandem" })),
            "type_velo:choix_inconnu",
        ),
        (
            with(json!({ "montant": "beaucoup" })),
            "montant:nombre_invalide",
        ),
        (
            with(json!({ "montant": 9000 })),
            "montant:nombre_trop_grand",
        ),
        (
            with(json!({ "date_reparation": "2025-12-31" })),
            "date_reparation:date_trop_tot",
        ),
        (with(json!({ "reparateur": null })), "reparateur:requis"),
        (with(json!({ "nom": "Martin" })), "nom:champ_hors_page"),
        (
            with(json!({ "montant_accorde": 50 })),
            "montant_accorde:champ_reserve_administration",
        ),
    ];
    let before_draft = usager.get(&format!("/api/drafts/{draft}")).await.body["answers"].clone();
    let before = counts(&app).await;
    for (answers, expected) in cases {
        let reply = usager.put(&page, answers).await;
        assert_eq!(reply.status, 422, "{expected}: {}", reply.body);
        assert!(
            reply.field_errors().contains(&expected.to_owned()),
            "{expected} in {:?}",
            reply.field_errors()
        );
        assert!(
            reply.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let unknown_page = usager
        .put(&format!("/api/drafts/{draft}/pages/nulle-part"), json!({}))
        .await;
    assert_eq!(unknown_page.status, 404);
    assert_eq!(counts(&app).await, before);
    let after_draft = usager.get(&format!("/api/drafts/{draft}")).await.body["answers"].clone();
    assert_eq!(after_draft, before_draft);
}

async fn actions_not_allowed_or_without_the_right_change_nothing(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;
    app.grant("Cons_SVL_DACT_Mobilités", Some(VELO)).await;
    let consultant = app
        .agent("consultant@ville.test", &["Cons_SVL_DACT_Mobilités"])
        .await;
    let id = file_velo(&usager).await;
    let cases: [(&Client, Value, u16, &str); 7] = [
        (
            &gestionnaire,
            json!({ "transition": "accepter" }),
            409,
            "action_not_allowed",
        ),
        (
            &gestionnaire,
            json!({ "transition": "cloturer", "inputs": { "closing_comment": "x", "confirmed": true } }),
            409,
            "action_not_allowed",
        ),
        (
            &gestionnaire,
            json!({ "transition": "decoller" }),
            422,
            "unknown_action",
        ),
        (
            &gestionnaire,
            json!({ "transition": "abandonner", "inputs": { "confirmed": true } }),
            403,
            "forbidden",
        ),
        (
            &gestionnaire,
            json!({ "transition": "commenter" }),
            422,
            "invalid_action",
        ),
        (
            &consultant,
            json!({ "transition": "prendre_en_compte" }),
            403,
            "forbidden",
        ),
        (
            &gestionnaire,
            json!({ "transicion": "accepter" }),
            422,
            "invalid_body",
        ),
    ];
    let before = counts(&app).await;
    for (client, action, status, code) in cases {
        let reply = act(client, &id, action.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{action}: {}",
            reply.body
        );
        assert!(
            !reply.body["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "transmise"
    );

    let refused_file = gestionnaire
        .post_form(
            &format!("/api/agent/demandes/{id}/actions"),
            &[("action", &json!({ "transition": "accepter" }).to_string())],
            Some(("note.pdf", pdf("note"))),
        )
        .await;
    assert_eq!(refused_file.status, 409);
    assert_eq!(
        counts(&app).await,
        before,
        "a refused action stores no file"
    );
}

async fn malformed_or_non_json_bodies_get_errors_in_the_api_shape(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;
    let id = file_velo(&usager).await;
    let draft = open_draft(&usager, VELO).await;
    let before = counts(&app).await;
    let cases: [(&Client, &str, &str, &str, u16, &str); 5] = [
        (
            &usager,
            "PUT",
            "/api/drafts/{draft}/pages/reparation",
            "{\"montant\": ",
            400,
            "malformed_json",
        ),
        (
            &gestionnaire,
            "POST",
            "/api/agent/demandes/{id}/actions",
            "{transition: accepter}",
            400,
            "malformed_json",
        ),
        (
            &usager,
            "POST",
            "/api/drafts",
            "[1, 2",
            400,
            "malformed_json",
        ),
        (
            &usager,
            "POST",
            "/api/drafts",
            "{\"demarche\": 42}",
            422,
            "invalid_body",
        ),
        (
            &usager,
            "PUT",
            "/api/drafts/{draft}/pages/reparation",
            "null",
            422,
            "validation_failed",
        ),
    ];
    for (client, method, path, body, status, code) in cases {
        let path = path.replace("{draft}", &draft).replace("{id}", &id);
        let reply = client
            .raw(method, &path, "application/json", body.as_bytes().to_vec())
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{path}: {}",
            reply.body
        );
        assert!(reply.body["message"].is_string());
    }
    let text = usager
        .raw(
            "POST",
            "/api/drafts",
            "text/plain",
            b"demarche=velo".to_vec(),
        )
        .await;
    assert_eq!((text.status, text.code()), (415, "unsupported_media_type"));
    let login = app
        .anonymous()
        .raw(
            "POST",
            "/api/auth/login",
            "application/json",
            b"{\"login\":".to_vec(),
        )
        .await;
    assert_eq!((login.status, login.code()), (400, "malformed_json"));
    let bad_id = usager.get("/api/demandes/pas-un-identifiant").await;
    assert_eq!((bad_id.status, bad_id.code()), (404, "not_found"));
    let nowhere = usager.get("/api/nulle-part").await;
    assert_eq!((nowhere.status, nowhere.code()), (404, "route_not_found"));
    let wrong_method = usager.delete("/api/demarches", None).await;
    assert_eq!(
        (wrong_method.status, wrong_method.code()),
        (405, "method_not_allowed")
    );
    assert_eq!(counts(&app).await, before);
}

async fn wrong_credentials_open_no_session(app: TestApp) {
    let (_, _) = setup(&app).await;
    let before = counts(&app).await;
    for (login, password) in [
        ("camille.martin@exemple.test", "pas-le-bon"),
        ("personne@exemple.test", "mot-de-passe-usager"),
        ("gestionnaire@ville.test", ""),
    ] {
        let reply = app
            .anonymous()
            .post(
                "/api/auth/login",
                json!({ "login": login, "password": password }),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (401, "invalid_credentials"),
            "{login}"
        );
        assert!(reply.cookies.is_empty());
    }
    let forged = app.with_cookie("guichet_session=0123456789abcdef");
    assert_eq!(forged.get("/api/me").await.status, 401);
    let bad_token = app.with_token("pas-un-jeton");
    assert_eq!(bad_token.get("/api/me").await.status, 401);
    assert_eq!(counts(&app).await, before);
}

async fn another_usagers_demande_does_not_exist_for_them(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;
    let other = app
        .usager("Dominique", "Autre", "dominique.autre@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    step(&gestionnaire, &id, "prendre_en_compte").await;
    let invoice = usager_view(&usager, &id).await;
    assert_eq!(invoice["status"]["id"], "en_cours_analyse");
    let agent_view = agent_view(&gestionnaire, &id).await;
    let file = agent_view["answers"]["facture"]["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = open_draft(&usager, VELO).await;
    let before = counts(&app).await;

    let tries = [
        other.get(&format!("/api/demandes/{id}")).await,
        other.get(&format!("/api/demandes/{id}/history")).await,
        other.get(&format!("/api/demandes/{id}/files/{file}")).await,
        other
            .post(
                &format!("/api/demandes/{id}/reply"),
                json!({ "message": "Coucou" }),
            )
            .await,
        other
            .post(
                &format!("/api/demandes/{id}/abandon"),
                json!({ "confirmed": true }),
            )
            .await,
        other.get(&format!("/api/drafts/{draft}")).await,
        other
            .put(
                &format!("/api/drafts/{draft}/pages/reparation"),
                velo_repair(),
            )
            .await,
        other
            .post(
                &format!("/api/drafts/{draft}/submit"),
                json!({ "consent": true }),
            )
            .await,
    ];
    for reply in tries {
        assert_eq!(
            (reply.status, reply.code()),
            (404, "not_found"),
            "{}",
            reply.body
        );
    }
    let unknown = other
        .get("/api/demandes/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(unknown.status, 404, "indistinguishable from a missing one");
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        other.get("/api/demandes").await.expect(200),
        &json!([]),
        "their list is empty"
    );
}

async fn nothing_is_written_anonymously(app: TestApp) {
    let (usager, _) = setup(&app).await;
    let id = file_velo(&usager).await;
    let draft = open_draft(&usager, VELO).await;
    let anonymous = app.anonymous();
    let before = counts(&app).await;
    let tries = [
        anonymous
            .post("/api/drafts", json!({ "demarche": VELO }))
            .await,
        anonymous
            .put(
                &format!("/api/drafts/{draft}/pages/reparation"),
                velo_repair(),
            )
            .await,
        anonymous
            .post(
                &format!("/api/drafts/{draft}/submit"),
                json!({ "consent": true }),
            )
            .await,
        anonymous
            .post(
                &format!("/api/demandes/{id}/reply"),
                json!({ "message": "?" }),
            )
            .await,
        act(
            &anonymous,
            &id,
            json!({ "transition": "prendre_en_compte" }),
        )
        .await,
        anonymous
            .raw(
                "POST",
                "/api/admin/demarches",
                "application/yaml",
                b"slug: x".to_vec(),
            )
            .await,
        anonymous.post("/api/auth/logout", json!({})).await,
    ];
    for reply in tries {
        assert_eq!(
            (reply.status, reply.code()),
            (401, "unauthenticated"),
            "{}",
            reply.body
        );
    }
    assert_eq!(counts(&app).await, before);
}
