//! Password links through a real SMTP server (`mail-sim`), on SQLite and
//! on PostgreSQL: *mot de passe oublié* mails a link (and says nothing of
//! unknown addresses), which sets a password once, ends the account's
//! sessions and expires after an hour; an agent at the guichet creates an
//! usager's account without a password, files a demande on it, and the
//! usager claims the account by the mailed link and finds the demande;
//! the same in Chromium, the mail's link followed in the browser.

use chrono::Duration;
use guichet_tests::app::pdf;
use guichet_tests::app::{Backend, Client, TestApp, run_with_mail};
use guichet_tests::browser::Browser;
use guichet_tests::filing::{MOBILITES, VELO, agent_view, save_page, velo_repair};
use mail_sim::{MailSink, Received};
use serde_json::{Value, json};

macro_rules! with_mail {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                guichet_tests::app::run_with_mail(guichet_tests::app::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                guichet_tests::app::run_with_mail(guichet_tests::app::Backend::Postgres, super::$name).await;
            }
        }
    )+};
}

with_mail!(
    a_forgotten_password_is_chosen_again_once_by_the_mailed_link,
    a_password_link_expires_after_an_hour_and_refuses_tampering,
    an_agent_creates_an_account_which_the_usager_claims_with_the_demande_filed,
);

mod an_usager_claims_in_a_real_browser_the_account_an_agent_created {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::run_with_mail(super::Backend::Sqlite, super::claimed_in_a_browser).await;
    }
}

const CAMILLE: &str = "camille.martin@exemple.test";
const NEW_PASSWORD: &str = "un vélo bleu sous la pluie";
const PORTAL: &str = "https://demarches.ville-saint-laurent.fr";
const SAISIE: &str = "Saisie_SVL_DGS_Accueil";
const OBSERVATEURS: &str = "Obs_SVL_DACT_Mobilités";

/// The path of the password link in a mail's text.
fn link_path(mail: &Received) -> String {
    let text = mail.text.as_deref().expect("a text part");
    let start = text
        .find(&format!("{PORTAL}/mot-de-passe/"))
        .unwrap_or_else(|| panic!("no link in {text}"));
    let link = text[start..].split_whitespace().next().unwrap();
    link.trim_start_matches(PORTAL).to_owned()
}

/// The token of a link's path.
fn token(path: &str) -> String {
    path.rsplit('/').next().unwrap().to_owned()
}

/// The mails received by `address`.
fn mails_to(sink: &MailSink, address: &str) -> Vec<Received> {
    sink.received()
        .into_iter()
        .filter(|m| m.envelope_to.iter().any(|to| to == address))
        .collect()
}

async fn choose(app: &TestApp, token: &str, password: &str) -> guichet_tests::client::Reply {
    app.anonymous()
        .post(
            "/api/auth/password",
            json!({ "token": token, "password": password }),
        )
        .await
}

async fn a_forgotten_password_is_chosen_again_once_by_the_mailed_link(
    app: TestApp,
    sink: MailSink,
) {
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let anonymous = app.anonymous();
    let ask = |login: &str| anonymous.post("/api/auth/password-reset", json!({ "login": login }));

    // Known or not, the same answer; only the account is mailed.
    ask("Camille.Martin@Exemple.test").await.expect(202);
    assert_eq!(ask("personne@exemple.test").await.expect(202), &Value::Null);
    let refused = ask("pas une adresse").await;
    assert_eq!(refused.field_errors(), ["login:format_email"]);
    assert_eq!(app.notify().await.mails, 1);
    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.envelope_to, [CAMILLE]);
    assert_eq!(mail.subject, "Choisir un nouveau mot de passe");
    let text = mail.text.as_deref().unwrap();
    // Asked at 10:00 in Paris (09:00 UTC), valid one hour.
    assert!(
        text.contains("valable jusqu'au 02/03/2026 à 11:00"),
        "{text}"
    );

    // Asked again at once: no second mail (one per ten minutes).
    ask(CAMILLE).await.expect(202);
    assert_eq!(app.notify().await.mails, 0);

    // A weak password changes nothing.
    let path = link_path(mail);
    let weak = choose(&app, &token(&path), "court").await;
    assert_eq!(weak.field_errors(), ["password:mot_de_passe_trop_court"]);

    let chosen = choose(&app, &token(&path), NEW_PASSWORD).await;
    assert_eq!(chosen.expect(200)["login"], CAMILLE);
    // The session opened by the link works; the older one has ended.
    let cookie = guichet_tests::client::session_cookie(&chosen).expect("a session");
    app.with_cookie(&cookie).get("/api/me").await.expect(200);
    assert_eq!(usager.get("/api/me").await.status, 401);
    let old = anonymous
        .post(
            "/api/auth/login",
            json!({ "login": CAMILLE, "password": "mot-de-passe-usager" }),
        )
        .await;
    assert_eq!(old.status, 401);
    app.login(CAMILLE, NEW_PASSWORD).await;

    // Once only.
    let again = choose(&app, &token(&path), "un autre vélo sous la pluie").await;
    assert_eq!(
        (again.status, again.code()),
        (410, "lien_mot_de_passe_epuise")
    );
    app.login(CAMILLE, NEW_PASSWORD).await;
}

async fn a_password_link_expires_after_an_hour_and_refuses_tampering(app: TestApp, sink: MailSink) {
    app.usager("Camille", "Martin", CAMILLE).await;
    app.anonymous()
        .post("/api/auth/password-reset", json!({ "login": CAMILLE }))
        .await
        .expect(202);
    app.notify().await;
    let path = link_path(&sink.received()[0]);
    let token = token(&path);

    // One changed character: not a link of this platform.
    let mut altered = token.clone().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let tampered = choose(&app, &altered, NEW_PASSWORD).await;
    assert_eq!(
        (tampered.status, tampered.code()),
        (404, "lien_mot_de_passe_invalide")
    );
    let page = app
        .anonymous()
        .get(&format!("/mot-de-passe/{altered}"))
        .await;
    assert_eq!(page.status, 404);

    // An hour later it sets nothing; the old password still works.
    app.clock.advance(Duration::minutes(61));
    let late = choose(&app, &token, NEW_PASSWORD).await;
    assert_eq!(
        (late.status, late.code()),
        (410, "lien_mot_de_passe_epuise")
    );
    app.login(CAMILLE, "mot-de-passe-usager").await;

    // A new link may be asked (ten minutes passed); one not mailed before
    // its hour ends is never sent.
    app.anonymous()
        .post("/api/auth/password-reset", json!({ "login": CAMILLE }))
        .await
        .expect(202);
    app.clock.advance(Duration::minutes(61));
    let notified = app.notify().await;
    assert_eq!((notified.mails, notified.unreachable), (0, 1));
    assert_eq!(sink.received().len(), 1);
}

/// Saves the vélo form's pages of `draft`: the identity prefilled from
/// the account, with the address the usager tells the agent.
async fn fill_velo_pages(agent: &Client, draft: &str) {
    save_page(
        agent,
        draft,
        "identite",
        json!({
            "prenom": "Camille", "nom": "Martin", "courriel": CAMILLE,
            "telephone": "06 12 34 56 78",
            "adresse": { "street": "12 rue de la République", "postcode": "13001", "city": "Marseille" },
        }),
    )
    .await;
    agent
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture-velo.pdf", pdf("facture"))),
        )
        .await
        .expect(201);
    save_page(agent, draft, "reparation", velo_repair()).await;
    save_page(
        agent,
        draft,
        "versement",
        json!({
            "titulaire_compte": "Camille Martin",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            "attestation": true
        }),
    )
    .await;
}

async fn an_agent_creates_an_account_which_the_usager_claims_with_the_demande_filed(
    app: TestApp,
    sink: MailSink,
) {
    app.import(VELO).await;
    app.grant(SAISIE, Some(VELO)).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let saisie = app.agent("saisie@ville.test", &[SAISIE]).await;
    let create = |body: Value| saisie.post("/api/agent/usagers", body);
    let camille = json!({
        "email": "Camille.Martin@exemple.test",
        "profile": { "first_name": "Camille", "last_name": "Martin", "phone": "06 12 34 56 78" }
    });

    // Refused: bad fields, another usager, an agent without the saisie right.
    let bad = create(json!({
        "email": "camille",
        "profile": { "first_name": "Camille", "last_name": " ", "phone": "12" }
    }))
    .await;
    assert_eq!(
        bad.field_errors(),
        [
            "email:format_email",
            "last_name:requis",
            "phone:format_telephone"
        ]
    );
    let other = app
        .usager("Dominique", "Essai", "dominique@exemple.test")
        .await;
    assert_eq!(
        other
            .post("/api/agent/usagers", camille.clone())
            .await
            .status,
        403
    );
    app.grant(OBSERVATEURS, Some(VELO)).await;
    let observateur = app.agent("obs@ville.test", &[OBSERVATEURS]).await;
    assert_eq!(
        observateur
            .post("/api/agent/usagers", camille.clone())
            .await
            .status,
        403
    );

    let created = create(camille.clone()).await;
    let created = created.expect(201).clone();
    assert_eq!(created["login"], CAMILLE);
    assert_eq!(created["profile"]["phone"], "+33612345678");
    let taken = create(camille).await;
    assert_eq!((taken.status, taken.code()), (409, "login_taken"));
    // No password yet: nobody logs in.
    let login = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({ "login": CAMILLE, "password": "mot-de-passe-usager" }),
        )
        .await;
    assert_eq!(login.status, 401);

    // The agent files a vélo demande on the account, by telephone.
    let draft = saisie
        .post(
            "/api/drafts",
            json!({ "demarche": VELO, "usager": CAMILLE }),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    fill_velo_pages(&saisie, &draft).await;
    let filed = saisie
        .post(
            &format!("/api/drafts/{draft}/submit"),
            json!({ "consent": true, "channel": "telephone", "usager": CAMILLE }),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The mail of the account, among the demande's.
    app.notify().await;
    let mails = mails_to(&sink, CAMILLE);
    let claim = mails
        .iter()
        .find(|m| m.subject == "Votre compte sur le portail des démarches en ligne")
        .unwrap_or_else(|| panic!("no claim mail in {mails:?}"));
    let text = claim.text.as_deref().unwrap();
    assert!(text.contains("Bonjour Camille Martin"), "{text}");
    assert!(text.contains("09/03/2026 à 10:00"), "valid 7 days: {text}");

    let chosen = choose(&app, &token(&link_path(claim)), NEW_PASSWORD).await;
    chosen.expect(200);
    let usager = app.login(CAMILLE, NEW_PASSWORD).await;
    let mine = usager.get("/api/demandes").await;
    assert!(
        mine.expect(200).to_string().contains(&filed),
        "{}",
        mine.body
    );
    let gestionnaire = app.agent("gestion@ville.test", &[MOBILITES]).await;
    assert_eq!(
        agent_view(&gestionnaire, &filed).await["answers"]["courriel"]["value"],
        CAMILLE
    );
}

async fn claimed_in_a_browser(app: TestApp, sink: MailSink) {
    app.import(VELO).await;
    app.grant(SAISIE, Some(VELO)).await;
    app.agent("saisie@ville.test", &[SAISIE]).await;
    let browser = Browser::start(true).await;

    browser.open(&format!("{}/connexion", app.base)).await;
    browser.fill("login", "saisie@ville.test").await;
    browser.fill("password", "mot-de-passe-agent").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_address("/back-office/demandes").await;

    // The account created from the saisie page: a wrong phone first.
    browser
        .open(&format!("{}/back-office/saisie", app.base))
        .await;
    browser.fill("email", CAMILLE).await;
    browser.fill("first_name", "Camille").await;
    browser.fill("last_name", "Martin").await;
    browser.fill("phone", "12").await;
    browser
        .click("form[action='/back-office/saisie/compte'] button[type=submit]")
        .await;
    browser
        .wait_for_text("Saisissez un numéro de téléphone français")
        .await;
    browser.check("back-office-saisie-compte-erreur").await;
    browser.fill("phone", "06 12 34 56 78").await;
    browser
        .click("form[action='/back-office/saisie/compte'] button[type=submit]")
        .await;
    browser.wait_for_address("cree=").await;
    let page = browser.source().await;
    assert!(
        page.contains(&format!("Le compte {CAMILLE} est créé")),
        "{page}"
    );
    assert!(
        page.contains("Camille Martin (camille.martin@exemple.test)"),
        "{page}"
    );
    browser.check("back-office-saisie-compte-cree").await;
    browser.select("demarche", VELO).await;
    browser
        .click("main form[action='/back-office/saisie'][method=post] button[type=submit]")
        .await;
    browser.wait_for_address("/pages/identite").await;
    assert!(browser.source().await.contains("value=\"Martin\""));

    // The usager follows the mailed link, in a browser of their own.
    app.notify().await;
    let mails = mails_to(&sink, CAMILLE);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let path = link_path(&mails[0]);
    let usager = Browser::start(true).await;
    usager.open(&format!("{}{path}", app.base)).await;
    assert_eq!(
        usager.client.title().await.unwrap(),
        "Choisir le mot de passe de votre compte — Guichet"
    );
    usager.check("portail-mot-de-passe-compte").await;
    usager.fill("password", NEW_PASSWORD).await;
    usager.fill("password_confirmation", "autre chose").await;
    usager.click("main form button[type=submit]").await;
    usager
        .wait_for_text("Les deux mots de passe saisis sont différents")
        .await;
    usager.fill("password", NEW_PASSWORD).await;
    usager.fill("password_confirmation", NEW_PASSWORD).await;
    usager.click("main form button[type=submit]").await;
    usager.wait_for_address("/demandes").await;
    usager.check("portail-mes-demandes-compte-reclame").await;

    // Forgotten later: the login page's link, the same answer for all.
    let other = Browser::start(true).await;
    other.open(&format!("{}/connexion", app.base)).await;
    other.click("a[href='/mot-de-passe-oublie']").await;
    other.wait_for_address("/mot-de-passe-oublie").await;
    other.check("portail-mot-de-passe-oublie").await;
    other.fill("login", "inconnu@exemple.test").await;
    other.click("main form button[type=submit]").await;
    other.wait_for_text("Vérifiez votre messagerie").await;
    other.check("portail-mot-de-passe-envoye").await;

    // The claim link, used, says so.
    other.open(&format!("{}{path}", app.base)).await;
    other
        .wait_for_text("Ce lien a déjà servi ou a expiré")
        .await;
    other.check("portail-mot-de-passe-lien-epuise").await;
}
