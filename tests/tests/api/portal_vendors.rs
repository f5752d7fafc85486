//! The interfaced démarches filed on the portal in Chromium, with and
//! without JavaScript, every page checked by axe-core and screenshotted:
//! a signalement with a photo and a category ATAL lists; a restauration
//! scolaire registration for a child Espace famille lists, after linking
//! the account on *Mon compte*, with the allergies page its box opens and
//! the field the « Autre » allergen shows (as the usager ticks it with
//! JavaScript, by *Mettre à jour le formulaire* without).

use guichet_tests::app::{TestApp, jpeg};
use guichet_tests::browser::Browser;
use guichet_tests::filing::{MARTIN, RESTAURATION, SIGNALEMENT, connect_atal};

mod a_signalement_is_filed_with_a_photo_and_an_atal_category_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::signalement).await;
    }
}

mod a_child_listed_by_espace_famille_is_registered_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::restauration).await;
    }
}

const NEXT: &str = "p.actions button[value=suivant]";

async fn signalement(app: TestApp) {
    connect_atal(&app).await;
    app.import(SIGNALEMENT).await;
    let photo = std::env::temp_dir().join(format!("lampadaire-{}.jpg", std::process::id()));
    std::fs::write(&photo, jpeg("lampadaire")).unwrap();
    for javascript in [true, false] {
        let suffix = if javascript { "js" } else { "sans-js" };
        let browser = Browser::start(javascript).await;
        browser
            .register(
                &app.base,
                &format!("signal-{suffix}@example.fr"),
                "Sacha",
                "Signal",
            )
            .await;
        browser
            .open(&format!("{}/demarches/{SIGNALEMENT}", app.base))
            .await;
        browser.click("main form button[type=submit]").await;
        browser.wait_for_address("/pages/signalement").await;
        // The categories are ATAL's.
        let page = browser.source().await;
        assert!(page.contains("<option value=\"20\""), "{page}");
        browser.check("signalement-probleme").await;
        browser.fill("champ-objet", "Lampadaire éteint").await;
        browser.select("champ-categorie", "20").await;
        browser
            .fill(
                "champ-description",
                "Le lampadaire devant l'école est éteint depuis une semaine.",
            )
            .await;
        browser.click(NEXT).await;
        browser.wait_for_address("/pages/lieu").await;
        browser
            .fill("champ-localisation-street", "12 rue de la République")
            .await;
        browser.fill("champ-localisation-postcode", "13001").await;
        browser.fill("champ-localisation-city", "Marseille").await;
        browser.fill("champ-localisation-latitude", "43.2965").await;
        browser.fill("champ-localisation-longitude", "5.3698").await;
        browser.check("signalement-lieu").await;
        browser.click(NEXT).await;
        browser.wait_for_address("/pages/photos").await;
        browser
            .client
            .find(fantoccini::Locator::Id("champ-photos"))
            .await
            .unwrap()
            .send_keys(photo.to_str().unwrap())
            .await
            .unwrap();
        browser.click(NEXT).await;
        browser.wait_for_address("/pages/contact").await;
        browser.check("signalement-contact").await;
        browser.click(NEXT).await;
        browser.wait_for_address("/recapitulatif").await;
        let summary = browser.source().await;
        assert!(summary.contains("lampadaire-"), "{summary}");
        browser.click("#consent").await;
        browser.click("main form button[type=submit]").await;
        browser.wait_for_address("depose=1").await;
    }
    let _ = std::fs::remove_file(photo);
}

async fn restauration(app: TestApp) {
    let sim = app.connect_famille().await;
    app.keep(sim);
    app.import(RESTAURATION).await;
    // Registrations open on 1 May.
    app.jump_days(63).await;
    let start = (app.clock_now() + chrono::Duration::days(20))
        .format("%d/%m/%Y")
        .to_string();
    for javascript in [true, false] {
        let suffix = if javascript { "js" } else { "sans-js" };
        let browser = Browser::start(javascript).await;
        browser
            .register(
                &app.base,
                &format!("famille-{suffix}@example.fr"),
                "Camille",
                "Martin",
            )
            .await;

        // Link the account to the family, with its codes.
        let code = format!("{}-family-code", guichet_tests::filing::FAMILLE);
        let secret = format!("{}-secret", guichet_tests::filing::FAMILLE);
        browser.fill(&code, MARTIN.0).await;
        browser.fill(&secret, "pas le bon").await;
        browser
            .click(&format!(
                "section[aria-labelledby=offer-{}] button",
                guichet_tests::filing::FAMILLE
            ))
            .await;
        browser.wait_for_text("error-summary").await;
        browser.check("compte-rattachement-refuse").await;
        browser.fill(&code, MARTIN.0).await;
        browser.fill(&secret, MARTIN.1).await;
        browser
            .click(&format!(
                "section[aria-labelledby=offer-{}] button",
                guichet_tests::filing::FAMILLE
            ))
            .await;
        browser.wait_for_address("rattache=").await;
        browser.check("compte-rattache").await;

        browser
            .open(&format!("{}/demarches/{RESTAURATION}", app.base))
            .await;
        browser.click("main form button[type=submit]").await;
        browser.wait_for_address("/pages/responsable").await;
        browser.fill("champ-date_naissance", "12/04/1988").await;
        browser.click("input[name=lien_enfant][value=parent]").await;
        browser.select("champ-famille", MARTIN.0).await;
        browser.check("restauration-responsable").await;
        browser.click(NEXT).await;
        browser.wait_for_address("/pages/enfant").await;
        // The children are the linked family's, at Espace famille.
        browser.select("champ-enfant", "E-0003").await;
        browser.click("input[name=ecole][value=les-tilleuls]").await;
        browser.select("champ-classe", "ms").await;
        browser.check("restauration-enfant").await;
        browser.click(NEXT).await;
        browser.wait_for_address("/pages/frequentation").await;
        browser.click("input[name=jours][value=lundi]").await;
        browser.click("input[name=jours][value=jeudi]").await;
        browser.fill("champ-date_debut", &start).await;
        browser.click("input[name=regime][value=standard]").await;
        browser.click("#champ-allergie").await;
        browser.click(NEXT).await;
        // The box opened the allergies page.
        browser.wait_for_address("/pages/allergies").await;
        let hidden = |source: &str| source.contains("data-field=\"autre_allergene\" hidden");
        assert!(hidden(&browser.source().await));
        browser.click("input[name=allergenes][value=autre]").await;
        if !javascript {
            // Without JavaScript, the page is shown again for the answers.
            browser.click("button[value=actualiser]").await;
        }
        // Shown as the usager ticks « Autre » (JavaScript), or on the page
        // shown again: wait until it is.
        for _ in 0..100 {
            if !hidden(&browser.source().await) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(!hidden(&browser.source().await), "javascript {javascript}");
        browser.fill("champ-autre_allergene", "Kiwi").await;
        browser.click("input[name=pai][value=aucun]").await;
        browser.check("restauration-allergies").await;
        browser.click(NEXT).await;
        browser.wait_for_address("/recapitulatif").await;
        let summary = browser.source().await;
        assert!(summary.contains("Kiwi"), "{summary}");
        browser.check("restauration-recapitulatif").await;
        browser.click("#consent").await;
        browser.click("main form button[type=submit]").await;
        browser.wait_for_address("depose=1").await;
    }
}
