//! The API's edges under attack: control characters in every kind of input,
//! downloads' names and security headers, bounded password hashing,
//! brute-force delays, cross-site writes, the last administrator, weak
//! passwords, database text in errors, and grants on nothing.

use std::time::Duration;

use guichet_host::http::{LoginLimits, Settings, Tier};
use guichet_tests::app::{Backend, Client, TestApp, pdf, session_cookie, test_settings};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

on_both_backends!(
    control_characters_are_refused_in_every_kind_of_input,
    downloads_carry_an_encoded_name_and_every_answer_security_headers,
    wrong_passwords_are_slowed_down_and_the_right_one_passes_later,
    cross_site_writes_and_undocumented_content_types_are_refused,
    the_last_administrator_cannot_be_removed,
    weak_passwords_are_refused,
    store_errors_reach_clients_as_codes_without_database_text,
    grants_on_a_demarche_that_does_not_exist_are_refused,
);

/// Runs a test on both backends with its own settings.
macro_rules! on_both_backends_with {
    ($settings:expr; $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                guichet_tests::app::run_with(super::Backend::Sqlite, $settings, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                guichet_tests::app::run_with(super::Backend::Postgres, $settings, super::$name).await;
            }
        }
    )+};
}

on_both_backends_with!(super::bounded_hashing(); concurrent_logins_never_hash_more_than_the_bound);
on_both_backends_with!(super::behind_tls(); answers_behind_tls_ask_for_https_only);

const ADMIN: &str = "Admin_SVL_DSI_Guichet";
const PASSWORD: &str = "mot-de-passe-usager";

/// An answer with its headers.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Raw {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn raw(request: reqwest::RequestBuilder) -> Raw {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    Raw {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn login_raw(app: &TestApp, login: &str, password: &str) -> Raw {
    raw(http()
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "login": login, "password": password })))
    .await
}

/// Logs in and returns the session cookie (`guichet_session=…`).
async fn cookie(app: &TestApp, login: &str, password: &str) -> String {
    let reply = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({ "login": login, "password": password }),
        )
        .await;
    session_cookie(&reply).unwrap()
}

async fn admin(app: &TestApp) -> Client {
    app.grant(ADMIN, None).await;
    app.agent("admin@ville.test", &[ADMIN]).await
}

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

    let mut registration =
        guichet_tests::app::usager_registration("dominique@exemple.test", PASSWORD, "Do", "Essai");
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
        &raw(http().get(format!("{}/nulle-part", app.base))).await,
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

fn bounded_hashing() -> Settings {
    let generous = Tier::new(1000, Duration::from_millis(1));
    Settings {
        password_hashing_slots: 2,
        password_hashing_wait: Duration::from_millis(200),
        login_limits: LoginLimits {
            account: [generous, generous],
            address: [generous, generous],
        },
        ..test_settings()
    }
}

async fn concurrent_logins_never_hash_more_than_the_bound(app: TestApp) {
    app.usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let attempts = (0..32).map(|n| {
        let login = if n % 2 == 0 {
            "camille.martin@exemple.test".to_owned()
        } else {
            format!("inconnu{n}@exemple.test")
        };
        let app = &app;
        async move { login_raw(app, &login, "pas-le-bon-mot-de-passe").await }
    });
    let answers = futures::future::join_all(attempts).await;
    for answer in &answers {
        assert!(
            matches!(
                (answer.status, answer.code()),
                (401, "invalid_credentials") | (503, "service_busy")
            ),
            "{} {}",
            answer.status,
            answer.body
        );
    }
    let peak = app.passwords.peak();
    assert!(
        (1..=2).contains(&peak),
        "at most 2 hashes at once, saw {peak}"
    );

    // Every slot taken: a login waits briefly, then is told to come back.
    let first = app.passwords.reserve().await.unwrap();
    let second = app.passwords.reserve().await.unwrap();
    let busy = login_raw(&app, "camille.martin@exemple.test", PASSWORD).await;
    assert_eq!((busy.status, busy.code()), (503, "service_busy"));
    assert_eq!(busy.header("retry-after"), "1");
    drop((first, second));
    assert_eq!(
        login_raw(&app, "camille.martin@exemple.test", PASSWORD)
            .await
            .status,
        200
    );
}

async fn wrong_passwords_are_slowed_down_and_the_right_one_passes_later(app: TestApp) {
    app.usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let camille = "camille.martin@exemple.test";
    for _ in 0..5 {
        let wrong = login_raw(&app, camille, "pas-le-bon-mot-de-passe").await;
        assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    }
    // Even the right password waits now, before any hashing.
    let limited = login_raw(&app, camille, PASSWORD).await;
    assert_eq!((limited.status, limited.code()), (429, "too_many_attempts"));
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=31).contains(&retry), "{retry}");
    assert!(limited.headers.get(header::SET_COOKIE).is_none());

    // The delay decays on the clock: then the right password is accepted.
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(login_raw(&app, camille, PASSWORD).await.status, 200);

    // One address trying many accounts is slowed down too.
    for n in 0..20 {
        let wrong = login_raw(&app, &format!("inconnu{n}@exemple.test"), "pas-le-bon").await;
        assert_eq!(wrong.status, 401, "{n}");
    }
    let sprayed = login_raw(&app, "encore-un@exemple.test", "pas-le-bon").await;
    assert_eq!((sprayed.status, sprayed.code()), (429, "too_many_attempts"));
    app.clock.advance(chrono::Duration::seconds(6));
    assert_eq!(login_raw(&app, camille, PASSWORD).await.status, 200);
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

async fn weak_passwords_are_refused(app: TestApp) {
    let anonymous = app.anonymous();
    let register = |password: &str| {
        anonymous.post(
            "/api/auth/register",
            guichet_tests::app::usager_registration(
                "dominique.essai@exemple.test",
                password,
                "Dominique",
                "Essai",
            ),
        )
    };
    for (password, code) in [
        ("12345678", "password:mot_de_passe_trop_court"),
        ("123456789012", "password:mot_de_passe_trop_faible"),
        ("motdepasse2026", "password:mot_de_passe_trop_faible"),
        ("dominique.essai", "password:mot_de_passe_trop_faible"),
    ] {
        let reply = register(password).await;
        assert_eq!(reply.status, 422, "{password}");
        assert_eq!(reply.field_errors(), [code], "{password}");
    }
    let long = "Tartine-Vélo-Soleil-".repeat(7);
    assert_eq!(
        register(&long).await.field_errors(),
        ["password:mot_de_passe_trop_long"]
    );
    register("Tartine-Vélo-Soleil-42").await.expect(201);

    let admin = admin(&app).await;
    let agent = admin
        .post(
            "/api/admin/users",
            json!({ "login": "lea@ville.test", "display_name": "Léa",
                    "password": "12345678", "groups": [] }),
        )
        .await;
    assert_eq!(agent.field_errors(), ["password:mot_de_passe_trop_court"]);

    // A login with a password past the cap is refused without hashing.
    let huge = login_raw(&app, "dominique.essai@exemple.test", &"x".repeat(100_000)).await;
    assert_eq!((huge.status, huge.code()), (401, "invalid_credentials"));
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
