//! The API's edges: control characters in every kind of input, downloads'
//! names and the security headers of every answer, and cross-site writes.

use guichet_host::http::Settings;
use guichet_store::StoreError;
use guichet_tests::app::{Backend, Client, TestApp, pdf, test_settings};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use reqwest::header;
use serde_json::json;

use crate::admin::admin;
use crate::raw::{cookie, http, login_raw, raw};

on_both_backends!(
    control_characters_are_refused_in_every_kind_of_input,
    downloads_carry_an_encoded_name_and_every_answer_security_headers,
    cross_site_writes_and_undocumented_content_types_are_refused,
);

on_both_backends_with!(super::behind_tls(); answers_behind_tls_ask_for_https_only);

/// A vélo demande filed by Camille, the gestionnaire's client, and the
/// demande's id.
async fn filed(app: &TestApp) -> (Client, Client, String) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestion@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    (usager, gestionnaire, id)
}

async fn control_characters_are_refused_in_every_kind_of_input(app: TestApp) {
    app.import(VELO).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let draft = open_draft(&usager, VELO).await;
    let admin = admin(&app).await;
    let users = app.count("users").await;
    let files = app.count("files").await;

    // The reported input: NUL in a login answered 500 on PostgreSQL.
    let login = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({ "login": "x\u{0000}@example.org", "password": "whatever-123" }),
        )
        .await;
    assert_eq!(
        (login.status, login.code()),
        (422, "control_character"),
        "{}",
        login.body
    );
    assert_eq!(login.field_errors(), ["login:caractere_interdit"]);

    let mut registration = guichet_tests::app::usager_registration(
        "dominique@exemple.test",
        "mot-de-passe-usager",
        "Do",
        "Essai",
    );
    registration["profile"]["last_name"] = json!("Essai\u{001b}[31m");
    let escape = app
        .anonymous()
        .post("/api/auth/register", registration)
        .await;
    assert_eq!(escape.status, 422, "{}", escape.body);
    assert_eq!(
        escape.field_errors(),
        ["profile.last_name:caractere_interdit"]
    );

    let page = usager
        .put(
            &format!("/api/drafts/{draft}/pages/reparation"),
            json!({ "reparateur": "Cycles\u{0000}", "montant": "86,50" }),
        )
        .await;
    assert_eq!((page.status, page.code()), (422, "control_character"));
    let key = usager
        .put(
            &format!("/api/drafts/{draft}/pages/reparation"),
            json!({ "repa\u{0007}rateur": "Cycles" }),
        )
        .await;
    assert_eq!((key.status, key.code()), (422, "control_character"));

    let query = app.anonymous().get("/api/demarches?q=v%00lo").await;
    assert_eq!((query.status, query.code()), (422, "control_character"));
    let path = app.anonymous().get("/api/demarches/aide%00velo").await;
    assert_eq!((path.status, path.code()), (422, "control_character"));
    let admin_path = admin.delete("/api/admin/groups/Gest_A_B_C%00", None).await;
    assert_eq!(
        (admin_path.status, admin_path.code()),
        (422, "control_character")
    );

    let upload = format!("/api/drafts/{draft}/files/facture");
    let text_part = usager
        .post_form(
            &upload,
            &[("note", "a\u{0000}b")],
            Some(("facture.pdf", pdf("x"))),
        )
        .await;
    assert_eq!(
        (text_part.status, text_part.code()),
        (422, "control_character")
    );
    // Clients percent-encode names, and C0 bytes break the part's headers;
    // a hand-made form carries a C1 control (NEL, U+0085) in UTF-8.
    let mut body = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"facture\xc2\x85.pdf\"\r\n\r\n".to_vec();
    body.extend(pdf("x"));
    body.extend(b"\r\n--B--\r\n");
    let file_name = usager
        .raw("POST", &upload, "multipart/form-data; boundary=B", body)
        .await;
    assert_eq!(
        (file_name.status, file_name.code()),
        (422, "control_character"),
        "{}",
        file_name.body
    );
    assert_eq!(
        file_name.field_errors(),
        ["nom du fichier:caractere_interdit"]
    );
    let yaml = admin
        .raw(
            "POST",
            "/api/admin/demarches",
            "application/yaml",
            b"slug: a\x00b\n".to_vec(),
        )
        .await;
    assert_eq!((yaml.status, yaml.code()), (422, "control_character"));

    // Tabs and line breaks are text, not controls.
    let comment = usager
        .put(
            &format!("/api/drafts/{draft}/pages/reparation"),
            json!({ "reparateur": "Cycles du\tVieux-Port\r\nMarseille" }),
        )
        .await;
    assert_ne!(comment.code(), "control_character", "{}", comment.body);

    assert_eq!(app.count("users").await, users);
    assert_eq!(app.count("files").await, files);

    // Below the API, the store names what PostgreSQL cannot encode as
    // refused input, never as a database failure (a 500).
    match app.store.credentials("x\u{0000}@example.org").await {
        Err(StoreError::Invalid(message)) => {
            assert!(!message.contains("0x00"), "{message}");
        }
        Err(StoreError::NotFound(_)) => assert_eq!(app.backend, Backend::Sqlite),
        other => panic!("{other:?}"),
    }
}

async fn downloads_carry_an_encoded_name_and_every_answer_security_headers(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.agent("gestion@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let draft = fill_velo(&usager, pdf("facture")).await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("Facture été n°3 «vélo».pdf", pdf("été"))),
        )
        .await
        .expect(201);
    let id = submit(&usager, &draft).await;
    let gestion = cookie(&app, "gestion@ville.test", "mot-de-passe-agent").await;
    let view = raw(http()
        .get(format!("{}/api/agent/demandes/{id}", app.base))
        .header(header::COOKIE, &gestion))
    .await;
    assert_eq!(view.status, 200, "{}", view.body);
    let file = view.body["answers"]["facture"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap_or_default().contains("vélo"))
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no vélo invoice in {}", view.body["answers"]["facture"]));

    let download = raw(http()
        .get(format!("{}/api/agent/demandes/{id}/files/{file}", app.base))
        .header(header::COOKIE, &gestion))
    .await;
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-disposition"),
        "attachment; filename=\"Facture ete n_3 _velo_.pdf\"; \
         filename*=UTF-8''Facture%20%C3%A9t%C3%A9%20n%C2%B03%20%C2%ABv%C3%A9lo%C2%BB.pdf"
    );

    for answer in [
        &download,
        &view,
        &raw(http().get(format!("{}/api/health", app.base))).await,
        &raw(http().get(format!("{}/api/nulle-part", app.base))).await,
        &login_raw(&app, "personne@exemple.test", "pas-le-bon-mot").await,
    ] {
        assert_eq!(answer.header("x-content-type-options"), "nosniff");
        assert_eq!(
            answer.header("content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(answer.header("x-frame-options"), "DENY");
        assert_eq!(answer.header("referrer-policy"), "no-referrer");
        assert_eq!(answer.header("cache-control"), "no-store");
        assert_eq!(
            answer.header("strict-transport-security"),
            "",
            "no TLS here"
        );
    }
    // The portal's pages load their own stylesheet, nothing else.
    let page = raw(http().get(format!("{}/nulle-part", app.base))).await;
    assert_eq!(page.status, 404);
    assert_eq!(
        page.header("content-security-policy"),
        guichet_host::web::CONTENT_SECURITY_POLICY
    );
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(page.header(name), value, "{name}");
    }
}

fn behind_tls() -> Settings {
    Settings {
        secure_cookies: true,
        ..test_settings()
    }
}

async fn answers_behind_tls_ask_for_https_only(app: TestApp) {
    let health = raw(http().get(format!("{}/api/health", app.base))).await;
    assert_eq!(
        health.header("strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(health.header("x-content-type-options"), "nosniff");
}

async fn cross_site_writes_and_undocumented_content_types_are_refused(app: TestApp) {
    let (usager, _, id) = filed(&app).await;
    let gestion = cookie(&app, "gestion@ville.test", "mot-de-passe-agent").await;
    let actions = format!("{}/api/agent/demandes/{id}/actions", app.base);
    let form =
        || reqwest::multipart::Form::new().text("action", r#"{"transition":"prendre_en_compte"}"#);
    let status = |app: &TestApp| {
        let url = format!("{}/api/agent/demandes/{id}", app.base);
        let gestion = gestion.clone();
        async move {
            raw(http().get(url).header(header::COOKIE, gestion))
                .await
                .body["status"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };

    // The reported input: a multipart POST from evil.example with the cookie.
    let evil = raw(http()
        .post(&actions)
        .header(header::COOKIE, &gestion)
        .header(header::ORIGIN, "https://evil.example")
        .multipart(form()))
    .await;
    assert_eq!(
        (evil.status, evil.code()),
        (403, "cross_site_request"),
        "{}",
        evil.body
    );
    let fetch = raw(http()
        .post(&actions)
        .header(header::COOKIE, &gestion)
        .header("sec-fetch-site", "cross-site")
        .multipart(form()))
    .await;
    assert_eq!((fetch.status, fetch.code()), (403, "cross_site_request"));
    let null = raw(http()
        .delete(format!("{}/api/admin/groups/{MOBILITES}", app.base))
        .header(header::COOKIE, &gestion)
        .header(header::ORIGIN, "null"))
    .await;
    assert_eq!((null.status, null.code()), (403, "cross_site_request"));
    let login = raw(http()
        .post(format!("{}/api/auth/login", app.base))
        .header(header::ORIGIN, "https://evil.example")
        .json(&json!({ "login": "gestion@ville.test", "password": "mot-de-passe-agent" })))
    .await;
    assert_eq!((login.status, login.code()), (403, "cross_site_request"));
    assert_eq!(status(&app).await, "transmise");

    // Content types a route does not document.
    let text = raw(http()
        .post(&actions)
        .header(header::COOKIE, &gestion)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(r#"{"transition":"prendre_en_compte"}"#))
    .await;
    assert_eq!((text.status, text.code()), (415, "unsupported_media_type"));
    let form_login = raw(http().post(format!("{}/api/auth/login", app.base)).form(&[
        ("login", "gestion@ville.test"),
        ("password", "mot-de-passe-agent"),
    ]))
    .await;
    assert_eq!(
        (form_login.status, form_login.code()),
        (415, "unsupported_media_type")
    );
    let draft = open_draft(&usager, VELO).await;
    let json_upload = usager
        .post(
            &format!("/api/drafts/{draft}/files/facture"),
            json!({ "file": "x" }),
        )
        .await;
    assert_eq!(
        (json_upload.status, json_upload.code()),
        (415, "unsupported_media_type")
    );
    assert_eq!(status(&app).await, "transmise");

    // The same site, and clients that send no Origin, may write.
    let same = raw(http()
        .post(&actions)
        .header(header::COOKIE, &gestion)
        .header(header::ORIGIN, &app.base)
        .header("sec-fetch-site", "same-origin")
        .multipart(form()))
    .await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(status(&app).await, "en_cours_analyse");
    let curl = raw(http()
        .post(&actions)
        .header(header::COOKIE, &gestion)
        .json(&json!({ "transition": "accepter" })))
    .await;
    assert_eq!(curl.status, 200, "{}", curl.body);
}
