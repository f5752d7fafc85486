//! Filing a demande on the portal's pages, over HTTP as a browser without
//! JavaScript sends them: register, open the vélo démarche, fill it page
//! by page with its invoice, see a refused page with its errors, read the
//! summary, file it with the RGPD box; the drafts page; the forms refused
//! without their CSRF token; someone else's draft is not found.

use guichet_tests::app::{TestApp, exe, pdf};
use guichet_tests::filing::VELO;
use guichet_tests::on_both_backends;
use guichet_tests::portal::Visitor;

on_both_backends!(
    an_usager_registers_and_files_the_velo_demarche_page_by_page,
    forms_without_their_token_and_other_usagers_drafts_are_refused,
    every_field_kind_is_shown_with_its_label_and_saved_from_the_page,
);

/// A démarche whose one page holds every kind of field but the data
/// sources (tested with their vendors in `portal_vendors`).
const EVERY_KIND: &str = r#"
slug: toutes-sortes
title: Une démarche de toutes sortes de champs
category: Essais
visibility: everyone
kind: simple
service: Gest_SVL_DACT_Mobilités
presentation:
  average_minutes: 5
pages:
  - id: tout
    title: Tous les champs
    fields:
      - { id: titre, kind: title, label: Un titre de section }
      - { id: consigne, kind: comment, text: "Lisez ceci avant de commencer." }
      - { id: texte, kind: text, label: Un texte, required: true }
      - { id: long, kind: long_text, label: Un long texte }
      - { id: mel, kind: email, label: Une adresse e-mail }
      - { id: tel, kind: phone, label: Un téléphone }
      - { id: nombre, kind: number, label: Un nombre, unit: km, min: 0 }
      - { id: jour, kind: date, label: Une date }
      - id: couleur
        kind: choice
        label: Une couleur
        choices: [{ value: bleu, label: Bleu }, { value: vert, label: Vert }]
      - id: mois
        kind: choice
        label: Un mois
        choices:
          - { value: "1", label: Janvier }
          - { value: "2", label: Février }
          - { value: "3", label: Mars }
          - { value: "4", label: Avril }
          - { value: "5", label: Mai }
          - { value: "6", label: Juin }
          - { value: "7", label: Juillet }
      - id: jours
        kind: multiple_choice
        label: Des jours
        choices: [{ value: lundi, label: Lundi }, { value: mardi, label: Mardi }]
      - { id: coche, kind: checkbox, label: Une case }
      - { id: piece, kind: file, label: Une pièce, max_files: 2 }
      - { id: lieu, kind: address, label: Un lieu, require_coordinates: true }
rgpd:
  text: Vos données servent à cet essai.
  consent_label: J'accepte.
workflow:
  standard: {}
"#;

/// The draft's id in an address `/brouillons/{id}…`.
fn draft_of(location: &str) -> String {
    location
        .trim_start_matches("/brouillons/")
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn an_usager_registers_and_files_the_velo_demarche_page_by_page(app: TestApp) {
    app.import(VELO).await;
    let usager = Visitor::new(&app.base);
    usager
        .register("camille.portail@example.fr", "Camille", "Portail")
        .await;
    let account = usager.get("/mon-compte").await;
    assert_eq!(account.status, 200);
    assert!(
        account.html.contains("value=\"Camille\""),
        "{}",
        account.html
    );

    // The presentation page offers to start; starting opens the draft.
    let presentation = usager.get(&format!("/demarches/{VELO}")).await;
    assert!(presentation.html.contains("Commencer la démarche"));
    let opened = usager
        .post(&format!("/demarches/{VELO}/brouillon"), &[])
        .await;
    assert_eq!(opened.status, 303);
    let draft = draft_of(opened.location.as_deref().unwrap());
    let first = usager.get(&format!("/brouillons/{draft}")).await;
    assert_eq!(
        first.location.as_deref(),
        Some(format!("/brouillons/{draft}/pages/identite").as_str())
    );

    // Page 1 is prefilled from the profile.
    let identite = usager
        .get(&format!("/brouillons/{draft}/pages/identite"))
        .await;
    assert_eq!(identite.status, 200);
    assert!(
        identite
            .html
            .contains("<title>Vos coordonnées — étape 1 sur 4"),
        "{}",
        identite.html
    );
    assert!(identite.html.contains("value=\"Portail\""));
    assert!(identite.html.contains("value=\"3 rue des Lilas\""));
    let saved = usager
        .post_multipart(
            &format!("/brouillons/{draft}/pages/identite"),
            &[
                ("prenom", "Camille"),
                ("nom", "Portail"),
                ("courriel", "camille.portail@example.fr"),
                ("telephone", "06 12 34 56 78"),
                ("adresse.street", "3 rue des Lilas"),
                ("adresse.postcode", "13001"),
                ("adresse.city", "Marseille"),
                ("action", "suivant"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("/brouillons/{draft}/pages/reparation").as_str())
    );

    // A page with errors is refused, each error summarised and beside its
    // field, what was typed kept; an executable named .pdf is refused.
    let today = app.clock_now().format("%d/%m/%Y").to_string();
    let refused = usager
        .post_multipart(
            &format!("/brouillons/{draft}/pages/reparation"),
            &[
                ("type_velo", "electrique"),
                ("date_reparation", &today),
                ("reparateur", "Cycles du Vieux-Port"),
                ("montant", "beaucoup"),
                ("action", "suivant"),
            ],
            vec![("facture", "facture.pdf", exe())],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("<title>Erreur : Votre réparation"));
    assert!(refused.html.contains("class=\"error-summary\""));
    assert!(
        refused.html.contains("href=\"#champ-montant\""),
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains("href=\"#champ-facture\""),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("id=\"champ-montant-erreur\""));
    assert!(refused.html.contains("value=\"Cycles du Vieux-Port\""));

    // Corrected, with the invoice: saved, on to the payment page.
    let saved = usager
        .post_multipart(
            &format!("/brouillons/{draft}/pages/reparation"),
            &[
                ("type_velo", "electrique"),
                ("date_reparation", &today),
                ("reparateur", "Cycles du Vieux-Port"),
                ("montant", "86,50"),
                ("action", "suivant"),
            ],
            vec![("facture", "facture.pdf", pdf("facture du portail"))],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let back = usager
        .get(&format!("/brouillons/{draft}/pages/reparation"))
        .await;
    assert!(back.html.contains("facture.pdf"), "{}", back.html);
    assert!(back.html.contains("value=\"86,50\""), "{}", back.html);

    let saved = usager
        .post_multipart(
            &format!("/brouillons/{draft}/pages/versement"),
            &[
                ("titulaire_compte", "Camille Portail"),
                ("iban", "FR76 3000 6000 0112 3456 7890 189"),
                ("attestation", "on"),
                ("action", "suivant"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("/brouillons/{draft}/recapitulatif").as_str()),
        "{}",
        saved.html
    );

    // The summary links back to each page; the drafts page lists it.
    let summary = usager
        .get(&format!("/brouillons/{draft}/recapitulatif"))
        .await;
    assert_eq!(summary.status, 200);
    assert!(summary.html.contains("Vélo à assistance électrique"));
    assert!(summary.html.contains("86,50 €"), "{}", summary.html);
    assert!(
        summary
            .html
            .contains(&format!("href=\"/brouillons/{draft}/pages/reparation\""))
    );
    let drafts = usager.get("/brouillons").await;
    assert!(drafts.html.contains(&format!("/brouillons/{draft}")));

    // Without the RGPD box: refused on the box; with it: filed.
    let refused = usager
        .post(&format!("/brouillons/{draft}/deposer"), &[])
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.html.contains("href=\"#consent\""),
        "{}",
        refused.html
    );
    let filed = usager
        .post(
            &format!("/brouillons/{draft}/deposer"),
            &[("consent", "on")],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.html);
    let location = filed.location.unwrap();
    assert!(location.starts_with("/demandes/") && location.ends_with("?depose=1"));
    // The draft is gone with the filing.
    assert!(!usager.get("/brouillons").await.html.contains(&draft));
}

async fn forms_without_their_token_and_other_usagers_drafts_are_refused(app: TestApp) {
    app.import(VELO).await;
    let usager = Visitor::new(&app.base);
    usager.register("alix@example.fr", "Alix", "Premier").await;
    let opened = usager
        .post(&format!("/demarches/{VELO}/brouillon"), &[])
        .await;
    let draft = draft_of(opened.location.as_deref().unwrap());

    // Without the token, or with another one: 403, nothing done.
    let forged = usager
        .post_raw(&format!("/brouillons/{draft}/supprimer"), &[])
        .await;
    assert_eq!(forged.status, 403);
    let forged = usager
        .post_raw(
            &format!("/brouillons/{draft}/supprimer"),
            &[("csrf", "autre")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(usager.get("/brouillons").await.html.contains(&draft));

    // Another usager: the draft does not exist for them.
    let other = Visitor::new(&app.base);
    other.register("bea@example.fr", "Béa", "Second").await;
    let page = other
        .get(&format!("/brouillons/{draft}/pages/identite"))
        .await;
    assert_eq!(page.status, 404);
    let deleted = other
        .post(&format!("/brouillons/{draft}/supprimer"), &[])
        .await;
    assert_eq!(deleted.status, 404);

    // Anonymous: sent to the login page, back here after.
    let anonymous = Visitor::new(&app.base);
    let page = anonymous.get("/brouillons").await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some("/connexion?suite=%2Fbrouillons")
    );

    // The owner deletes it.
    let deleted = usager
        .post(&format!("/brouillons/{draft}/supprimer"), &[])
        .await;
    assert_eq!(deleted.status, 303);
    assert!(!usager.get("/brouillons").await.html.contains(&draft));
}

/// An usager registers and files the vélo démarche with its invoice in
/// Chromium, with and without JavaScript: a refused page shows its errors
/// (summarised, focused with JavaScript), every page passes axe-core and
/// is screenshotted.
mod the_velo_demarche_is_filed_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(
            guichet_tests::app::Backend::Sqlite,
            super::velo_in_a_browser,
        )
        .await;
    }
}

async fn velo_in_a_browser(app: TestApp) {
    use guichet_tests::browser::Browser;
    app.import(VELO).await;
    let invoice = std::env::temp_dir().join(format!("facture-{}.pdf", std::process::id()));
    std::fs::write(&invoice, pdf("facture du navigateur")).unwrap();
    let today = app.clock_now().format("%d/%m/%Y").to_string();
    for javascript in [true, false] {
        let browser = Browser::start(javascript).await;
        let suffix = if javascript { "js" } else { "sans-js" };

        // Register (the form is checked first).
        browser.open(&format!("{}/inscription", app.base)).await;
        browser.check("inscription").await;
        browser
            .register(
                &app.base,
                &format!("velo-{suffix}@example.fr"),
                "Dominique",
                "Navigateur",
            )
            .await;
        browser.check("mon-compte").await;

        // Start from the presentation page.
        browser
            .open(&format!("{}/demarches/{VELO}", app.base))
            .await;
        browser.click("main form button[type=submit]").await;
        browser.wait_for_address("/pages/identite").await;
        assert!(browser.source().await.contains("value=\"Navigateur\""));
        browser.check("formulaire-coordonnees").await;
        browser.click("p.actions button[value=suivant]").await;
        browser.wait_for_address("/pages/reparation").await;

        // Sent incomplete: refused, errors summarised and tied to fields.
        browser.click("#champ-type_velo-2").await;
        browser.fill("champ-date_reparation", &today).await;
        browser
            .fill("champ-reparateur", "Cycles du Vieux-Port")
            .await;
        browser.click("p.actions button[value=suivant]").await;
        browser.wait_for_text("error-summary").await;
        let refused = browser.source().await;
        assert!(refused.contains("href=\"#champ-montant\""), "{refused}");
        assert!(
            browser
                .client
                .title()
                .await
                .unwrap()
                .starts_with("Erreur : ")
        );
        if javascript {
            let focused = browser
                .client
                .execute("return document.activeElement.className", vec![])
                .await
                .unwrap();
            assert_eq!(focused, "error-summary");
        }
        browser.check("formulaire-erreurs").await;

        // Corrected, with the invoice.
        browser.fill("champ-montant", "86,50").await;
        browser
            .client
            .find(fantoccini::Locator::Id("champ-facture"))
            .await
            .unwrap()
            .send_keys(invoice.to_str().unwrap())
            .await
            .unwrap();
        browser.click("p.actions button[value=suivant]").await;
        browser.wait_for_address("/pages/versement").await;
        browser
            .fill("champ-titulaire_compte", "Dominique Navigateur")
            .await;
        browser
            .fill("champ-iban", "FR76 3000 6000 0112 3456 7890 189")
            .await;
        browser.click("#champ-attestation").await;
        browser.check("formulaire-versement").await;
        browser.click("p.actions button[value=suivant]").await;
        browser.wait_for_address("/recapitulatif").await;
        let summary = browser.source().await;
        assert!(
            summary.contains("facture-") && summary.contains("86,50 €"),
            "{summary}"
        );
        browser.check("recapitulatif").await;
        browser.click("#consent").await;
        browser.click("main form button[type=submit]").await;
        browser.wait_for_address("depose=1").await;
    }
    let _ = std::fs::remove_file(invoice);
}

/// On a 320 px wide phone, with the keyboard alone: an usager logs in
/// with the Tab key and Enter, and no page of the vélo démarche scrolls
/// sideways, from the home page to the summary.
mod the_pages_fit_a_phone_and_work_with_the_keyboard_alone {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(
            guichet_tests::app::Backend::Sqlite,
            super::phone_and_keyboard,
        )
        .await;
    }
}

async fn phone_and_keyboard(app: TestApp) {
    use guichet_tests::browser::Browser;
    const ENTER: &str = "\u{E007}";
    app.import(VELO).await;
    let api = app.usager("Claude", "Mobile", "claude@example.fr").await;
    let filed = guichet_tests::filing::file_velo(&api).await;
    let browser = Browser::start(true).await;
    browser.resize(320, 640).await;
    browser.open(&format!("{}/connexion", app.base)).await;
    browser.tab_to("login").await;
    browser.type_keys("claude@example.fr").await;
    browser.tab_to("password").await;
    browser
        .type_keys(&format!("mot-de-passe-usager{ENTER}"))
        .await;
    browser.wait_for_address("/demandes").await;

    let fits = |name: &'static str| {
        let browser = &browser;
        async move {
            assert_eq!(
                browser.overflow().await,
                0,
                "{name} scrolls sideways at 320 px"
            );
            browser.check(&format!("{name}-320")).await;
        }
    };
    browser.open(&format!("{}/", app.base)).await;
    fits("accueil").await;
    browser
        .open(&format!("{}/demarches/{VELO}", app.base))
        .await;
    fits("presentation").await;
    // Start the démarche from the keyboard.
    browser
        .client
        .find(fantoccini::Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .send_keys(ENTER)
        .await
        .unwrap();
    browser.wait_for_address("/pages/identite").await;
    fits("formulaire").await;
    browser.tab_to("champ-prenom").await;
    // Enter in a field continues to the next page.
    browser.type_keys(ENTER).await;
    browser.wait_for_address("/pages/reparation").await;
    browser.tab_to("champ-reparateur").await;
    browser.type_keys(ENTER).await;
    browser.wait_for_text("error-summary").await;
    fits("formulaire-erreurs").await;
    let draft = browser.client.current_url().await.unwrap();
    let summary = draft
        .as_str()
        .replace("/pages/reparation", "/recapitulatif");
    browser.open(&summary).await;
    fits("recapitulatif").await;
    browser.open(&format!("{}/mon-compte", app.base)).await;
    fits("mon-compte").await;
    browser.open(&format!("{}/demandes", app.base)).await;
    fits("mes-demandes").await;
    browser
        .open(&format!("{}/demandes/{filed}", app.base))
        .await;
    fits("demande").await;
}

async fn every_field_kind_is_shown_with_its_label_and_saved_from_the_page(app: TestApp) {
    app.import_yaml(EVERY_KIND.to_owned()).await;
    let usager = Visitor::new(&app.base);
    usager
        .register("toutes@example.fr", "Toutes", "Sortes")
        .await;
    let opened = usager.post("/demarches/toutes-sortes/brouillon", &[]).await;
    let draft = draft_of(opened.location.as_deref().unwrap());
    let path = format!("/brouillons/{draft}/pages/tout");
    let page = usager.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let html = &page.html;
    for expected in [
        "<h2>Un titre de section</h2>",
        "<p class=\"comment\">Lisez ceci avant de commencer.</p>",
        "<label for=\"champ-texte\">Un texte</label>",
        "<textarea id=\"champ-long\" name=\"long\"",
        "type=\"email\"",
        "type=\"tel\"",
        "inputmode=\"decimal\"",
        "<span class=\"unit\">km</span>",
        "Format JJ/MM/AAAA",
        "type=\"radio\" id=\"champ-couleur-1\" name=\"couleur\" value=\"bleu\"",
        "<select id=\"champ-mois\" name=\"mois\"",
        "type=\"checkbox\" id=\"champ-jours-2\" name=\"jours\" value=\"mardi\"",
        "type=\"checkbox\" id=\"champ-coche\" name=\"coche\"",
        "type=\"file\" id=\"champ-piece\" name=\"piece\" accept=\"application/pdf,image/jpeg,image/png\" multiple",
        "name=\"lieu.street\"",
        "name=\"lieu.latitude\"",
        "<legend>Un lieu (facultatif)</legend>",
        "<label for=\"champ-long\">Un long texte (facultatif)</label>",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    let saved = usager
        .post_multipart(
            &path,
            &[
                ("texte", "Bonjour"),
                ("long", "Plusieurs\nlignes"),
                ("mel", "toutes@example.fr"),
                ("tel", "06 12 34 56 78"),
                ("nombre", "12,5"),
                ("jour", "14/07/2026"),
                ("couleur", "vert"),
                ("mois", "3"),
                ("jours", "lundi"),
                ("jours", "mardi"),
                ("coche", "on"),
                ("lieu.street", "1 place de la Mairie"),
                ("lieu.postcode", "13001"),
                ("lieu.city", "Marseille"),
                ("lieu.latitude", "43,2965"),
                ("lieu.longitude", "5.3698"),
                ("action", "suivant"),
            ],
            vec![("piece", "plan.pdf", pdf("plan"))],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let summary = usager
        .get(&format!("/brouillons/{draft}/recapitulatif"))
        .await;
    for expected in [
        "Bonjour",
        "12,50 km",
        "14/07/2026",
        "<dd>Oui</dd>",
        "Vert",
        "Mars",
        "Lundi, Mardi",
        "plan.pdf",
        "1 place de la Mairie",
        "<dd>06 12 34 56 78</dd>",
    ] {
        assert!(
            summary.html.contains(expected),
            "{expected} in {}",
            summary.html
        );
    }
}
