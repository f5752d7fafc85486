//! The usager portal's first pages, over HTTP: the home page (categories,
//! search ignoring accents), a démarche's presentation page, the page of
//! an address that leads nowhere, the stylesheet; French, escaped, under
//! the portal's Content-Security-Policy; and the same pages in Chromium,
//! with and without JavaScript, checked by axe-core.

use guichet_tests::app::TestApp;
use guichet_tests::filing::{SIGNALEMENT, VELO};
use guichet_tests::on_both_backends;

on_both_backends!(
    the_home_page_lists_searches_and_filters_the_demarches,
    a_presentation_page_shows_the_steps_and_unknown_addresses_a_french_page,
);

const VELO_TITLE: &str = "Demander une aide à la réparation d&#39;un vélo";
const SIGNALEMENT_TITLE: &str = "Signaler un problème sur la voie publique";

/// A page: status, Content-Type, Content-Security-Policy, HTML.
async fn page(app: &TestApp, path: &str) -> (u16, String, String, String) {
    let response = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, policy) = (header("content-type"), header("content-security-policy"));
    let status = response.status().as_u16();
    (status, content_type, policy, response.text().await.unwrap())
}

fn h1_count(html: &str) -> usize {
    html.matches("<h1").count()
}

async fn the_home_page_lists_searches_and_filters_the_demarches(app: TestApp) {
    app.import(VELO).await;
    app.import(SIGNALEMENT).await;

    let (status, content_type, policy, html) = page(&app, "/").await;

    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_eq!(policy, guichet_host::web::CONTENT_SECURITY_POLICY);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"));
    assert_eq!(h1_count(&html), 1);
    assert!(
        html.contains(VELO_TITLE) && html.contains(SIGNALEMENT_TITLE),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/demarches/{VELO}\"")));
    assert!(
        html.contains("<title>Démarches en ligne — Guichet</title>"),
        "{html}"
    );

    // Without accents, in capitals: the service's search.
    let (_, _, _, found) = page(&app, "/?q=VELO").await;
    assert!(found.contains(VELO_TITLE) && !found.contains(SIGNALEMENT_TITLE));
    assert!(
        found.contains("<title>Recherche « VELO » — Guichet</title>"),
        "{found}"
    );
    let (_, _, _, voirie) = page(&app, "/?category=Voirie%20et%20propret%C3%A9").await;
    assert!(voirie.contains(SIGNALEMENT_TITLE) && !voirie.contains(VELO_TITLE));
    assert!(
        voirie.contains("aria-current=\"page\""),
        "the category is marked"
    );
    let (_, _, _, none) = page(&app, "/?q=piscine").await;
    assert!(none.contains("Aucune démarche ne correspond"), "{none}");
    // What a visitor types is escaped.
    let (_, _, _, escaped) = page(&app, "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(
        !escaped.contains("<script>") && escaped.contains("&#60;script&#62;"),
        "{escaped}"
    );

    let (status, content_type, _, css) = page(&app, "/static/portal.css").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/css"), "{content_type}");
    assert!(css.contains(":focus"), "visible focus");

    // The most-filed démarches: none yet; a vélo demande filed puts it
    // first once they are counted again (every ten minutes).
    let most = "Les démarches les plus demandées";
    assert!(!page(&app, "/").await.3.contains(most));
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    guichet_tests::filing::file_velo(&usager).await;
    assert!(
        !page(&app, "/").await.3.contains(most),
        "counted ten minutes ago"
    );
    app.at_day(0.01).await;
    let home = page(&app, "/").await.3;
    let section = &home[home.find(most).expect("the section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains(VELO_TITLE) && !section.contains(SIGNALEMENT_TITLE),
        "{section}"
    );
    // Not on a search's page.
    assert!(!page(&app, "/?q=velo").await.3.contains(most));
}

async fn a_presentation_page_shows_the_steps_and_unknown_addresses_a_french_page(app: TestApp) {
    app.import(VELO).await;

    let (status, _, policy, html) = page(&app, &format!("/demarches/{VELO}")).await;

    assert_eq!(status, 200);
    assert_eq!(policy, guichet_host::web::CONTENT_SECURITY_POLICY);
    assert_eq!(h1_count(&html), 1);
    assert!(html.contains(&format!("<h1>{VELO_TITLE}</h1>")), "{html}");
    assert!(html.contains("<ol class=\"steps\">"), "{html}");
    assert!(
        html.contains("Temps moyen pour la remplir : 10 minutes."),
        "{html}"
    );
    assert!(html.contains("Démarche ouverte"), "{html}");
    assert!(
        !html.contains("Je donne mon avis"),
        "a test host shows no Observatoire button"
    );

    let (status, content_type, _, missing) = page(&app, "/demarches/inconnue").await;
    assert_eq!(status, 404);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(missing.contains("<h1>Page introuvable</h1>"), "{missing}");
    let (status, _, _, nowhere) = page(&app, "/nulle-part").await;
    assert_eq!(status, 404);
    assert!(nowhere.contains("Page introuvable"));
    // The API still answers JSON.
    let (status, content_type, _, api) = page(&app, "/api/nulle-part").await;
    assert_eq!(status, 404);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(api.contains("route_not_found"));
}

/// The first pages in Chromium, with and without JavaScript: each checked
/// by axe-core and screenshotted; the search works by its form.
mod the_first_pages_work_in_a_real_browser_and_pass_axe {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::in_a_browser).await;
    }
}

async fn in_a_browser(app: TestApp) {
    use guichet_tests::browser::Browser;
    app.import(VELO).await;
    app.import(SIGNALEMENT).await;
    for javascript in [true, false] {
        let browser = Browser::start(javascript).await;
        browser.open(&format!("{}/", app.base)).await;
        browser.check("accueil").await;
        // Search by the form, as a person would.
        let field = browser
            .client
            .find(fantoccini::Locator::Id("q"))
            .await
            .expect("the search field");
        field.send_keys("velo").await.unwrap();
        browser
            .client
            .find(fantoccini::Locator::Css("form.search button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.wait_for_address("q=velo").await;
        let results = browser.source().await;
        // The browser's serialisation writes the apostrophe as is.
        assert!(
            results.contains("Demander une aide à la réparation d'un vélo")
                && !results.contains(SIGNALEMENT_TITLE),
            "javascript {javascript}: {results}"
        );
        browser.check("recherche").await;
        browser
            .client
            .find(fantoccini::Locator::LinkText(
                "Demander une aide à la réparation d'un vélo",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser
            .wait_for_address(&format!("/demarches/{VELO}"))
            .await;
        assert_eq!(
            browser.client.title().await.unwrap(),
            "Demander une aide à la réparation d'un vélo — Guichet"
        );
        browser.check("presentation-velo").await;
        browser.open(&format!("{}/nulle-part", app.base)).await;
        browser.check("page-introuvable").await;
    }
}

/// The survey page a refusal mail links to, in Chromium with and without
/// JavaScript: a missing score is summarised at the top and tied to its
/// field; the answer is recorded once; an altered link gets its own page.
mod the_survey_page_records_one_answer_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(
            guichet_tests::app::Backend::Sqlite,
            super::survey_in_a_browser,
        )
        .await;
    }
}

async fn survey_in_a_browser(app: TestApp) {
    use fantoccini::Locator;
    use guichet_tests::browser::Browser;
    use guichet_tests::filing::{MOBILITES, act, file_velo, step};
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    for javascript in [true, false] {
        let id = file_velo(&usager).await;
        step(&gestionnaire, &id, "prendre_en_compte").await;
        act(
            &gestionnaire,
            &id,
            serde_json::json!({ "transition": "refuser", "inputs": {
                "refusal_type": "refusee", "justification": "Facture hors délai.", "confirmed": true } }),
        )
        .await
        .expect(200);
        let link = format!("{}/enquete/{}", app.base, app.survey_token(&id));
        let browser = Browser::start(javascript).await;
        browser.open(&link).await;
        browser.check("enquete").await;

        // Sent without a score: the summary says so and links to the field.
        let send = |browser: &Browser| {
            let client = browser.client.clone();
            async move {
                client
                    .find(Locator::Css("form button[type=submit]"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
            }
        };
        send(&browser).await;
        browser.wait_for_address("/enquete/").await;
        let refused = browser.source().await;
        assert!(
            refused.contains("Votre avis n'a pas pu être envoyé"),
            "{refused}"
        );
        assert!(refused.contains("href=\"#note-1\""), "{refused}");
        assert!(
            browser
                .client
                .title()
                .await
                .unwrap()
                .starts_with("Erreur : "),
            "the title says the page is in error"
        );
        browser.check("enquete-erreur").await;

        for target in ["note-4", "q-connu_par-0"] {
            browser
                .client
                .find(Locator::Id(target))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        browser
            .client
            .find(Locator::Id("commentaire"))
            .await
            .unwrap()
            .send_keys("Rapide et clair.")
            .await
            .unwrap();
        send(&browser).await;
        browser.wait_for_address("/enquete/").await;
        for _ in 0..50 {
            if browser.source().await.contains("Merci pour votre avis") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            browser
                .source()
                .await
                .contains("Votre avis a bien été enregistré")
        );
        browser.check("enquete-merci").await;
        let recorded = app
            .store
            .survey_answer(guichet_core::id::DemandeId::parse(&id).unwrap())
            .await
            .unwrap()
            .expect("recorded");
        assert_eq!(
            (
                recorded.score,
                recorded.comment.as_deref(),
                recorded.choices.get("connu_par").map(String::as_str)
            ),
            (4, Some("Rapide et clair."), Some("Site de la ville"))
        );

        // Once only; an altered link gets its own page.
        browser.open(&link).await;
        assert!(browser.source().await.contains("déjà répondu"));
        browser.open(&format!("{link}x")).await;
        assert!(browser.source().await.contains("Lien d'enquête invalide"));
        browser.check("enquete-lien-invalide").await;
    }
}

/// The collectivité's colour and logo from the configuration: the theme's
/// stylesheet carries the colour, every page the logo, served as the PNG
/// it is.
mod the_collectivites_colour_and_logo_show_on_every_page {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let mut settings = guichet_tests::app::test_settings();
        let png = guichet_tests::app::png("logo");
        settings.look = std::sync::Arc::new(
            guichet_host::web::Look::new(Some("#00665E"), Some(png)).expect("a valid look"),
        );
        guichet_tests::app::run_with(
            guichet_tests::app::Backend::Sqlite,
            settings,
            super::colour_and_logo,
        )
        .await;
    }
}

async fn colour_and_logo(app: TestApp) {
    let (status, content_type, _, css) = page(&app, "/static/theme.css").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/css; charset=utf-8")
    );
    assert_eq!(css, ":root { --primary: #00665e; }\n");
    let (_, _, _, html) = page(&app, "/").await;
    assert!(html.contains("<link rel=\"stylesheet\" href=\"/static/theme.css\">"));
    assert!(
        html.contains("<img src=\"/static/logo\" alt=\"\""),
        "{html}"
    );
    let logo = reqwest::get(format!("{}/static/logo", app.base))
        .await
        .unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert!(logo.bytes().await.unwrap().starts_with(b"\x89PNG"));
}
