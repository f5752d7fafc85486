//! The usager's *Mes demandes* pages, over HTTP as a browser speaks to
//! them (the session and CSRF cookies, forms with their `csrf` field):
//! the list, a demande's page with its history in Paris time and its
//! files, someone else's demande not found, forms without their token
//! refused, the reply to the service with a file checked by content, the
//! abandon with its confirmation; and the same path in Chromium, with and
//! without JavaScript, checked by axe-core.

use guichet_tests::app::{TestApp, exe, pdf};
use guichet_tests::filing::{MOBILITES, VELO, act, file_velo, step, usager_view};
use guichet_tests::on_both_backends;
use guichet_tests::portal::{Answer, Visitor};
use serde_json::json;

on_both_backends!(
    an_usager_lists_and_reads_only_their_own_demandes,
    forms_without_their_csrf_token_change_nothing,
    the_usager_answers_the_service_with_a_file_checked_by_content,
    abandon_asks_for_confirmation_then_closes_the_demande,
);

const PASSWORD: &str = "mot-de-passe-usager";

/// The reply's multipart form: the token when given, the message, and
/// the file input (empty when no file is chosen, as browsers send it).
async fn reply_to(
    portal: &Visitor,
    demande: &str,
    csrf: Option<&str>,
    message: &str,
    file: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut fields = Vec::new();
    if let Some(token) = csrf {
        fields.push(("csrf", token));
    }
    fields.push(("message", message));
    let (name, content) = file.unwrap_or(("", Vec::new()));
    portal
        .post_multipart_raw(
            &format!("/demandes/{demande}/reponse"),
            &fields,
            vec![("file", name, content)],
        )
        .await
}

/// An usager registered through the API (its client for the JSON API)
/// and logged in on the portal.
async fn usager(app: &TestApp, first: &str, email: &str) -> (guichet_tests::app::Client, Visitor) {
    let api = app.usager(first, "Martin", email).await;
    let portal = Visitor::new(&app.base);
    portal.login(email, PASSWORD).await;
    (api, portal)
}

/// The number of a demande, from the usager's API.
async fn numero(api: &guichet_tests::app::Client, id: &str) -> String {
    usager_view(api, id).await["numero"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn title(html: &str) -> &str {
    html.split("<title>")
        .nth(1)
        .and_then(|rest| rest.split("</title>").next())
        .unwrap_or_default()
}

async fn an_usager_lists_and_reads_only_their_own_demandes(app: TestApp) {
    app.import(VELO).await;
    let (api, portal) = usager(&app, "Camille", "camille.martin@exemple.test").await;

    // Anonymous: sent to the login page, back here after.
    let anonymous = Visitor::new(&app.base).get("/demandes").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.location.as_deref(),
        Some("/connexion?suite=%2Fdemandes")
    );

    // Nothing filed yet: the page points to the démarches.
    let empty = portal.get("/demandes").await;
    assert_eq!(empty.status, 200);
    assert!(
        empty
            .html
            .contains("Vous n'avez encore déposé aucune demande")
            && empty.html.contains("<a class=\"button\" href=\"/\">"),
        "{}",
        empty.html
    );
    assert_eq!(title(&empty.html), "Mes demandes — Guichet");

    // Filed at 9:00 UTC, 10:00 in Paris; a second one an hour later.
    let first = file_velo(&api).await;
    app.clock.advance(chrono::Duration::hours(1));
    let second = file_velo(&api).await;
    let (first_numero, second_numero) = (numero(&api, &first).await, numero(&api, &second).await);

    let list = portal.get("/demandes").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.html.matches("<h1").count(), 1);
    let at = |needle: &str| {
        list.html
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {}", list.html))
    };
    assert!(
        at(&format!("href=\"/demandes/{second}\"")) < at(&format!("href=\"/demandes/{first}\"")),
        "newest first"
    );
    assert!(list.html.contains(&format!("Demande n° {first_numero}")));
    assert!(
        list.html
            .contains("Demander une aide à la réparation d&#39;un vélo")
    );
    assert!(list.html.contains("Demande transmise"));
    assert!(list.html.contains("<td>02/03/2026</td>"), "{}", list.html);

    // The page after filing: the confirmation banner, the history in
    // Paris time, the invoice sent, no abandon while not taken.
    let page = portal.get(&format!("/demandes/{first}?depose=1")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.html.matches("<h1").count(), 1);
    assert_eq!(
        title(&page.html),
        format!("Demande n° {first_numero} — Guichet")
    );
    assert!(
        page.html.contains(&format!(
            "Votre demande n° {first_numero} a bien été déposée"
        )),
        "{}",
        page.html
    );
    assert!(page.html.contains("02/03/2026 à 10:00"), "{}", page.html);
    assert!(page.html.contains("Demande transmise"));
    assert!(!page.html.contains("/abandon\""), "not yet abandonable");
    let files = format!("/api/demandes/{first}/files/");
    let link = page
        .html
        .split(&format!("href=\"{files}"))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a download link in {}", page.html));
    let (status, kind, bytes) = portal.download(&format!("{files}{link}")).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert_eq!(bytes, pdf("facture Cycles du Vieux-Port"));
    let plain = portal.get(&format!("/demandes/{first}")).await;
    assert!(!plain.html.contains("a bien été déposée"), "no banner");

    // Someone else: not found, for the page and the confirmation alike.
    let (_, other) = usager(&app, "Dominique", "dominique.durand@exemple.test").await;
    for path in [
        format!("/demandes/{first}"),
        format!("/demandes/{first}/abandon"),
        "/demandes/pas-un-identifiant".to_owned(),
        "/demandes/00000000-0000-0000-0000-000000000000".to_owned(),
    ] {
        let refused = other.get(&path).await;
        assert_eq!(refused.status, 404, "{path}");
        assert!(refused.html.contains("Page introuvable"), "{path}");
    }
    let forged = other.post(&format!("/demandes/{first}/abandon"), &[]).await;
    assert_eq!(forged.status, 404, "{}", forged.html);
    let token = other.csrf();
    let reply = reply_to(&other, &first, Some(&token), "Je réponds à sa place.", None).await;
    assert_eq!(reply.status, 404, "{}", reply.html);
    let (status, _, _) = other.download(&format!("{files}{link}")).await;
    assert_eq!(status, 404);
    let theirs = other.get("/demandes").await;
    assert!(!theirs.html.contains(&first_numero) && !theirs.html.contains(&second_numero));
}

async fn forms_without_their_csrf_token_change_nothing(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let agent = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let (api, portal) = usager(&app, "Camille", "camille.martin@exemple.test").await;
    let id = file_velo(&api).await;
    step(&agent, &id, "prendre_en_compte").await;

    let abandon = portal
        .post_raw(&format!("/demandes/{id}/abandon"), &[])
        .await;
    assert_eq!(abandon.status, 403);
    assert!(
        abandon.html.contains("Formulaire expiré"),
        "{}",
        abandon.html
    );
    let forged = portal
        .post_raw(
            &format!("/demandes/{id}/abandon"),
            &[("csrf", "un-autre-jeton")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let reply = reply_to(&portal, &id, None, "Bonjour", None).await;
    assert_eq!(reply.status, 403);
    let reply = reply_to(&portal, &id, Some("un-autre-jeton"), "Bonjour", None).await;
    assert_eq!(reply.status, 403);

    let view = usager_view(&api, &id).await;
    assert_eq!(view["status"]["id"], "en_cours_analyse", "{view}");
    let history = api.get(&format!("/api/demandes/{id}/history")).await;
    assert!(
        !guichet_tests::filing::events(history.expect(200)).contains(&"repondre".to_owned()),
        "no reply recorded"
    );
}

async fn the_usager_answers_the_service_with_a_file_checked_by_content(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let agent = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let (api, portal) = usager(&app, "Camille", "camille.martin@exemple.test").await;
    let id = file_velo(&api).await;
    let number = numero(&api, &id).await;
    step(&agent, &id, "prendre_en_compte").await;
    act(
        &agent,
        &id,
        json!({ "transition": "echanger", "inputs": { "message": "Merci de joindre le devis du réparateur." } }),
    )
    .await
    .expect(200);

    let page = portal.get(&format!("/demandes/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.html
            .contains("Merci de joindre le devis du réparateur.")
            && page.html.contains("Le service"),
        "{}",
        page.html
    );
    assert!(page.html.contains("enctype=\"multipart/form-data\""));
    assert!(
        page.html
            .contains(&format!("action=\"/demandes/{id}/reponse\""))
    );

    // No text: the summary at the top, tied to the field.
    let token = portal.csrf();
    let blank = reply_to(&portal, &id, Some(&token), "   ", None).await;
    assert_eq!(blank.status, 422);
    assert_eq!(
        title(&blank.html),
        format!("Erreur : Demande n° {number} — Guichet")
    );
    assert!(
        blank.html.contains("role=\"alert\"") && blank.html.contains("autofocus"),
        "{}",
        blank.html
    );
    assert!(
        blank
            .html
            .contains("<a href=\"#message\">Écrivez votre réponse au service.</a>")
    );
    assert!(
        blank
            .html
            .contains("aria-describedby=\"message-hint message-error\"")
    );
    assert!(blank.html.contains("aria-invalid=\"true\""));

    // A program renamed as a PDF: refused by its content, the text kept.
    let program = reply_to(
        &portal,
        &id,
        Some(&token),
        "Voici le devis.",
        Some(("devis.pdf", exe())),
    )
    .await;
    assert_eq!(program.status, 422, "{}", program.html);
    assert!(program.html.contains("href=\"#file\""), "{}", program.html);
    assert!(
        program.html.contains("n&#39;est ni un PDF"),
        "{}",
        program.html
    );
    assert!(
        program
            .html
            .contains("aria-describedby=\"file-hint file-error\"")
    );
    assert!(program.html.contains(">Voici le devis.</textarea>"));

    // The reply with its PDF.
    let sent = reply_to(
        &portal,
        &id,
        Some(&token),
        "Voici le devis.\nBonne journée.",
        Some(("devis.pdf", pdf("devis Cycles du Vieux-Port"))),
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.html);
    let location = sent.location.unwrap_or_default();
    assert_eq!(location, format!("/demandes/{id}?repondu=1"));
    let after = portal.get(&location).await;
    assert!(
        after
            .html
            .contains("Votre réponse a bien été envoyée au service.")
    );
    assert!(
        after.html.contains("Voici le devis.\nBonne journée."),
        "{}",
        after.html
    );
    assert!(
        after.html.contains("Joint à votre message du"),
        "{}",
        after.html
    );

    let history = api.get(&format!("/api/demandes/{id}/history")).await;
    let entries = history.expect(200).as_array().unwrap().clone();
    let reply = entries
        .iter()
        .find(|e| e["event"] == "repondre")
        .expect("the reply in the history");
    assert_eq!(reply["message"], "Voici le devis.\nBonne journée.");
    assert_eq!(reply["attachment"]["name"], "devis.pdf");
    let file = reply["attachment"]["id"].as_str().unwrap();
    assert!(
        after
            .html
            .contains(&format!("/api/demandes/{id}/files/{file}"))
    );
    let (status, _, bytes) = portal
        .download(&format!("/api/demandes/{id}/files/{file}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(bytes, pdf("devis Cycles du Vieux-Port"));
    assert_eq!(
        entries.iter().filter(|e| e["event"] == "repondre").count(),
        1,
        "the refused replies wrote nothing"
    );
}

async fn abandon_asks_for_confirmation_then_closes_the_demande(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let agent = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let (api, portal) = usager(&app, "Camille", "camille.martin@exemple.test").await;
    let id = file_velo(&api).await;
    let number = numero(&api, &id).await;

    // Not taken yet: the workflow does not offer it.
    let early = portal.get(&format!("/demandes/{id}/abandon")).await;
    assert_eq!(early.status, 409);
    assert!(early.html.contains("Abandon impossible"));

    step(&agent, &id, "prendre_en_compte").await;
    let page = portal.get(&format!("/demandes/{id}")).await;
    assert!(
        page.html
            .contains(&format!("href=\"/demandes/{id}/abandon\""))
    );

    let confirm = portal.get(&format!("/demandes/{id}/abandon")).await;
    assert_eq!(confirm.status, 200);
    assert_eq!(
        title(&confirm.html),
        format!("Abandonner la demande n° {number} — Guichet")
    );
    assert!(confirm.html.contains("vous ne pourrez pas la reprendre"));
    assert!(
        confirm
            .html
            .contains(&format!("action=\"/demandes/{id}/abandon\""))
    );
    // Seeing the confirmation changes nothing.
    assert_eq!(
        usager_view(&api, &id).await["status"]["id"],
        "en_cours_analyse"
    );

    let done = portal.post(&format!("/demandes/{id}/abandon"), &[]).await;
    assert_eq!(done.status, 303, "{}", done.html);
    let location = done.location.unwrap_or_default();
    assert_eq!(location, format!("/demandes/{id}?abandonne=1"));
    let after = portal.get(&location).await;
    assert!(after.html.contains("Vous avez abandonné votre démarche"));
    assert!(
        after.html.contains("Demande abandonnée par l&#39;usager"),
        "{}",
        after.html
    );
    assert!(
        !after
            .html
            .contains(&format!("href=\"/demandes/{id}/abandon\""))
    );
    assert_eq!(usager_view(&api, &id).await["status"]["id"], "abandonnee");

    // Twice: the workflow refuses, the page says so.
    let again = portal.post(&format!("/demandes/{id}/abandon"), &[]).await;
    assert_eq!(again.status, 409);
    assert!(again.html.contains("Action impossible"), "{}", again.html);
    let list = portal.get("/demandes").await;
    assert!(list.html.contains("Demande abandonnée par l&#39;usager"));

    // Closed: the page leads to the survey, until it is answered.
    let before = "Donner mon avis sur le traitement de cette demande";
    assert!(after.html.contains(before), "{}", after.html);
    let start = after
        .html
        .find("href=\"/enquete/")
        .expect("the survey's link")
        + 6;
    let link = &after.html[start..start + after.html[start..].find('"').unwrap()];
    let survey = portal.get(link).await;
    assert_eq!(survey.status, 200);
    assert!(
        survey
            .html
            .contains(&format!("Votre avis sur la demande {number}"))
    );
    let answered = portal.post(link, &[("note", "4")]).await;
    assert_eq!(answered.status, 200, "{}", answered.html);
    let page = portal.get(&format!("/demandes/{id}")).await;
    assert!(!page.html.contains(before), "answered: no more link");
}

/// The usager's path in Chromium, with and without JavaScript: log in,
/// *Mes demandes*, the demande's page, a reply without text then with a
/// file, the abandon and its confirmation; each page checked by axe-core.
mod mes_demandes_work_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::in_a_browser).await;
    }
}

async fn in_a_browser(app: TestApp) {
    use fantoccini::Locator;
    use guichet_tests::browser::Browser;
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let agent = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let email = "camille.martin@exemple.test";
    let api = app.usager("Camille", "Martin", email).await;
    let invoice = std::env::temp_dir().join(format!("devis-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&invoice, pdf("devis")).unwrap();
    for javascript in [true, false] {
        let id = file_velo(&api).await;
        step(&agent, &id, "prendre_en_compte").await;
        act(
            &agent,
            &id,
            json!({ "transition": "echanger", "inputs": { "message": "Merci de joindre le devis." } }),
        )
        .await
        .expect(200);
        let number = numero(&api, &id).await;
        let browser = Browser::start(javascript).await;
        let click = |css: &'static str| {
            let client = browser.client.clone();
            async move {
                client
                    .find(Locator::Css(css))
                    .await
                    .unwrap_or_else(|_| panic!("{css}"))
                    .click()
                    .await
                    .unwrap();
            }
        };

        // Log in by the form; the portal comes back to Mes demandes.
        browser.open(&format!("{}/demandes", app.base)).await;
        browser.wait_for_address("/connexion").await;
        browser
            .client
            .find(Locator::Id("login"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        browser
            .client
            .find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        click("main form button[type=submit]").await;
        browser.wait_for_address("/demandes").await;
        assert_eq!(
            browser.client.title().await.unwrap(),
            "Mes demandes — Guichet"
        );
        browser.check("mes-demandes").await;

        browser
            .client
            .find(Locator::LinkText(&format!("Demande n° {number}")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.wait_for_address(&format!("/demandes/{id}")).await;
        assert!(
            browser
                .source()
                .await
                .contains("Merci de joindre le devis.")
        );
        browser.check("demande").await;

        // Sent without text: the summary, then the reply with its file.
        click("form[enctype] button[type=submit]").await;
        browser.wait_for_address("/reponse").await;
        assert!(
            browser
                .client
                .title()
                .await
                .unwrap()
                .starts_with("Erreur : "),
            "the title says the page is in error"
        );
        browser.check("demande-reponse-erreur").await;
        browser
            .client
            .find(Locator::Id("message"))
            .await
            .unwrap()
            .send_keys("Voici le devis demandé.")
            .await
            .unwrap();
        browser
            .client
            .find(Locator::Id("file"))
            .await
            .unwrap()
            .send_keys(invoice.to_str().unwrap())
            .await
            .unwrap();
        click("form[enctype] button[type=submit]").await;
        browser.wait_for_address("repondu=1").await;
        let replied = browser.source().await;
        assert!(
            replied.contains("Votre réponse a bien été envoyée au service.")
                && replied.contains("Voici le devis demandé."),
            "javascript {javascript}: {replied}"
        );
        browser.check("demande-reponse-envoyee").await;

        // Abandon, confirmed on its own page.
        click("section[aria-labelledby=abandonner] a").await;
        browser.wait_for_address("/abandon").await;
        browser.check("demande-abandon").await;
        click("main form button[type=submit]").await;
        browser.wait_for_address("abandonne=1").await;
        let abandoned = browser.source().await;
        assert!(
            abandoned.contains("Demande abandonnée par l'usager"),
            "javascript {javascript}: {abandoned}"
        );
        browser.check("demande-abandonnee").await;
        assert_eq!(usager_view(&api, &id).await["status"]["id"], "abandonnee");
        let history = api.get(&format!("/api/demandes/{id}/history")).await;
        let entries = history.expect(200).as_array().unwrap().clone();
        assert!(
            entries.iter().any(|e| e["event"] == "repondre"
                && e["attachment"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(".pdf"))),
            "the reply and its file are recorded: {entries:?}"
        );
    }
    let _ = std::fs::remove_file(invoice);
}
