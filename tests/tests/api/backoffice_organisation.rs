//! The administration of the organisation in the browser's pages, over
//! HTTP on both backends: a definition imported from the page (its
//! problems shown with their line, then created, updated in place, given
//! a new version), a group created, granted, given a member and a mailbox
//! so that its agent sees the démarche's demandes — then revoked, emptied
//! and deleted through confirmation pages —, an agent's account created
//! from the page who logs in, deactivated and reactivated; and everyone
//! but administrators refused, forged forms included, with nothing changed.
//! The same pages in Chromium: `backoffice_organisation_browser.rs`.

use guichet_core::id::Slug;
use guichet_core::role::GroupName;
use guichet_store::account::UserKind;
use guichet_tests::app::{TestApp, example_path};
use guichet_tests::filing::{MOBILITES, VELO, file_velo};
use guichet_tests::on_both_backends;
use guichet_tests::portal::Visitor;

on_both_backends!(
    an_imported_definition_shows_its_problems_by_line_then_is_created_updated_in_place_and_versioned,
    a_group_granted_on_a_demarche_shows_its_demandes_to_its_member_until_revoked,
    an_agent_created_from_the_page_logs_in_until_deactivated,
    only_administrators_open_these_pages_and_forged_forms_change_nothing,
);

/// The password of the agents `TestApp::agent` creates.
const AGENT_PASSWORD: &str = "mot-de-passe-agent";

/// The administrators' group, granted on every démarche.
const ADMIN: &str = "Admin_SVL_DSI_Informatique";

/// The address of the Mobilités group's page.
const MOBILITES_PAGE: &str = "/admin/groupes/Gest_SVL_DACT_Mobilit%C3%A9s";

/// An agent of `groups`, logged in on the pages.
async fn agent_on_pages(app: &TestApp, login: &str, groups: &[&str]) -> Visitor {
    app.agent(login, groups).await;
    let visitor = Visitor::new(&app.base);
    visitor.login(login, AGENT_PASSWORD).await;
    visitor
}

/// An administrator logged in on the pages.
async fn administrator(app: &TestApp) -> Visitor {
    app.grant(ADMIN, None).await;
    agent_on_pages(app, "admin@ville.test", &[ADMIN]).await
}

/// Posts a definition as the import form's text.
async fn import(admin: &Visitor, text: &str) -> guichet_tests::portal::Answer {
    admin
        .post_multipart("/admin/demarches", &[("definition", text)], Vec::new())
        .await
}

/// Follows a redirection; its page.
async fn follow(visitor: &Visitor, answer: &guichet_tests::portal::Answer) -> String {
    assert_eq!(answer.status, 303, "{}", answer.html);
    let to = answer.location.as_deref().unwrap();
    let page = visitor.get(to).await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.html
}

async fn an_imported_definition_shows_its_problems_by_line_then_is_created_updated_in_place_and_versioned(
    app: TestApp,
) {
    let admin = administrator(&app).await;
    let yaml = std::fs::read_to_string(example_path(VELO)).unwrap();

    let empty = admin.get("/admin/demarches").await;
    assert_eq!(empty.status, 200, "{}", empty.html);
    assert!(empty.html.contains("<h1>Démarches</h1>"));
    assert!(
        empty
            .html
            .contains("Aucune démarche n'a encore été importée")
    );

    // Two problems of meaning: each in the summary with its line and path,
    // the text kept in the textarea, nothing imported.
    let broken = yaml
        .replace(
            "title: Demander une aide à la réparation d'un vélo",
            "title: \"\"",
        )
        .replace("        label: Nom\n", "        label: \"\"\n");
    let refused = import(&admin, &broken).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("2 erreurs empêchent de continuer"));
    assert!(
        refused
            .html
            .contains("Ligne 4 : title : Le titre est vide."),
        "{}",
        refused.html
    );
    assert!(
        refused
            .html
            .contains("Ligne 47 : pages[0].fields[1].label : Le libellé est vide."),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("slug: aide-reparation-velo"));
    assert!(refused.html.contains("<title>Erreur : "));
    // Not YAML: the parser's line.
    let not_yaml = import(&admin, "slug: essai\n  title: b\n").await;
    assert_eq!(not_yaml.status, 422, "{}", not_yaml.html);
    assert!(not_yaml.html.contains("Ligne 2 : "), "{}", not_yaml.html);
    // JSON: the line its parser gives.
    let json = import(
        &admin,
        "{\n  \"slug\": \"essai\",\n  \"titel\": \"Essai\"\n}",
    )
    .await;
    assert_eq!(json.status, 422, "{}", json.html);
    assert!(
        json.html
            .contains("Ligne 3 : titel : Propriété inconnue « titel »"),
        "{}",
        json.html
    );
    // Nothing sent.
    let blank = import(&admin, "  ").await;
    assert_eq!(blank.status, 422);
    assert!(blank.html.contains("Collez le texte d"));
    assert!(
        app.store
            .demarche_versions(&Slug::from(VELO))
            .await
            .unwrap()
            .is_empty()
    );

    // Created.
    let created = import(&admin, &yaml).await;
    assert_eq!(
        created.location.as_deref(),
        Some("/admin/demarches/aide-reparation-velo?fait=creee")
    );
    let page = follow(&admin, &created).await;
    assert!(page.contains("Démarche créée : version 1."), "{page}");
    assert!(page.contains("href=\"/demarches/aide-reparation-velo\""));
    let list = admin.get("/admin/demarches").await;
    assert!(list.html.contains("Demander une aide à la réparation d"));
    assert!(list.html.contains("Tout le monde (portail des usagers)"));
    assert!(
        list.html.contains("Ouverte du 01/01/2026 au 31/12/2027"),
        "{}",
        list.html
    );

    // Texts only: the mid-year update, in place.
    let retitled = yaml.replace(
        "title: Demander une aide à la réparation d'un vélo",
        "title: Demander l'aide à la réparation de votre vélo",
    );
    let updated = import(&admin, &retitled).await;
    let page = follow(&admin, &updated).await;
    assert!(
        page.contains("Mise à jour de mi-année : les textes et les dates de la version 1"),
        "{page}"
    );
    assert!(page.contains("de votre vélo"));

    // A field more: version 2; both versions listed with their sources.
    let with_field = retitled.replace(
        "      - id: reparateur\n",
        "      - id: numero_cadre\n        kind: text\n        label: Numéro de cadre (bicycode)\n      - id: reparateur\n",
    );
    let versioned = import(&admin, &with_field).await;
    let page = follow(&admin, &versioned).await;
    assert!(page.contains("Nouvelle version 2"), "{page}");
    assert!(page.contains("Texte source de la version 1"));
    assert!(page.contains("Texte source de la version 2"));
    assert!(page.contains("numero_cadre"));
    assert_eq!(
        app.store
            .demarche_versions(&Slug::from(VELO))
            .await
            .unwrap(),
        [1, 2]
    );

    // The same text as a file: nothing changes.
    let same = admin
        .post_multipart(
            "/admin/demarches",
            &[("definition", "")],
            vec![("file", "velo.yaml", with_field.clone().into_bytes())],
        )
        .await;
    let page = follow(&admin, &same).await;
    assert!(
        page.contains("Aucun changement : cette définition est identique à la version 2."),
        "{page}"
    );
    let binary = admin
        .post_multipart(
            "/admin/demarches",
            &[("definition", "")],
            vec![("file", "velo.yaml", vec![0xff, 0xfe, 0x00])],
        )
        .await;
    assert_eq!(binary.status, 422, "{}", binary.html);
    assert!(binary.html.contains("n&#39;est pas un texte YAML ou JSON"));

    // The numero prefix: refused as the store says, then kept.
    let path = format!("/admin/demarches/{VELO}/prefixe");
    let wrong = admin.post(&path, &[("prefixe", "vélo!")]).await;
    assert_eq!(wrong.status, 422, "{}", wrong.html);
    assert!(wrong.html.contains("1 à 12 majuscules ou chiffres"));
    let kept = admin.post(&path, &[("prefixe", "VELO")]).await;
    let page = follow(&admin, &kept).await;
    assert!(page.contains("Préfixe des prochains numéros de demande enregistré."));
    assert!(page.contains("<dd>VELO</dd>"), "{page}");
    assert!(page.contains("value=\"VELO\""));
    let unknown = admin.get("/admin/demarches/pas-une-demarche").await;
    assert_eq!(unknown.status, 404);
}

async fn a_group_granted_on_a_demarche_shows_its_demandes_to_its_member_until_revoked(
    app: TestApp,
) {
    app.import(VELO).await;
    let admin = administrator(&app).await;
    app.agent("gest@ville.test", &[]).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    file_velo(&usager).await;

    // A name that is not a group's, then the group, then the same again.
    let bad = admin
        .post("/admin/groupes", &[("nom", "Chef_SVL_DACT_Mobilités")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.html);
    assert!(bad.html.contains("commence par « Chef »"), "{}", bad.html);
    assert!(bad.html.contains("value=\"Chef_SVL_DACT_Mobilités\""));
    let created = admin.post("/admin/groupes", &[("nom", MOBILITES)]).await;
    assert_eq!(
        created.location.as_deref(),
        Some(format!("{MOBILITES_PAGE}?fait=groupe-cree").as_str())
    );
    let page = follow(&admin, &created).await;
    assert!(
        page.contains("<h1>Groupe Gest_SVL_DACT_Mobilités</h1>"),
        "{page}"
    );
    assert!(page.contains("Gestionnaire"));
    let twice = admin.post("/admin/groupes", &[("nom", MOBILITES)]).await;
    assert_eq!(twice.status, 422);
    assert!(twice.html.contains("existe déjà"));

    // A member by login (an unknown one told), a grant on the démarche (a
    // démarche must be chosen), a mailbox (an address checked).
    let unknown = admin
        .post(
            &format!("{MOBILITES_PAGE}/membres"),
            &[("identifiant", "personne@ville.test")],
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.html.contains("« personne@ville.test »"));
    let added = admin
        .post(
            &format!("{MOBILITES_PAGE}/membres"),
            &[("identifiant", "Gest@Ville.test")],
        )
        .await;
    follow(&admin, &added).await;
    let no_demarche = admin
        .post(
            &format!("{MOBILITES_PAGE}/habilitations"),
            &[("portee", "demarche"), ("demarche", "")],
        )
        .await;
    assert_eq!(no_demarche.status, 422);
    assert!(no_demarche.html.contains("Choisissez la démarche."));
    let granted = admin
        .post(
            &format!("{MOBILITES_PAGE}/habilitations"),
            &[("portee", "demarche"), ("demarche", VELO)],
        )
        .await;
    follow(&admin, &granted).await;
    let not_an_address = admin
        .post(
            &format!("{MOBILITES_PAGE}/boite"),
            &[("boite", "pas une adresse")],
        )
        .await;
    assert_eq!(not_an_address.status, 422);
    assert!(
        not_an_address
            .html
            .contains("n&#39;est pas une adresse électronique")
    );
    let mailbox = admin
        .post(
            &format!("{MOBILITES_PAGE}/boite"),
            &[("boite", "mobilites@ville.test")],
        )
        .await;
    let page = follow(&admin, &mailbox).await;
    assert!(page.contains("Boîte aux lettres du service enregistrée."));
    assert!(page.contains("gest@ville.test"));
    assert!(page.contains("value=\"mobilites@ville.test\""));
    assert!(
        page.contains("Demander une aide à la réparation d&#39;un vélo (aide-reparation-velo)")
    );
    let list = admin.get("/admin/groupes").await;
    assert!(list.html.contains("mobilites@ville.test"));
    let mobilites = GroupName::parse(MOBILITES).unwrap();
    assert_eq!(
        app.store
            .group_mailbox(&mobilites)
            .await
            .unwrap()
            .as_deref(),
        Some("mobilites@ville.test")
    );

    // The member now works the démarche's demandes.
    let gestionnaire = Visitor::new(&app.base);
    gestionnaire.login("gest@ville.test", AGENT_PASSWORD).await;
    let table = gestionnaire.get("/back-office/demandes").await;
    assert_eq!(table.status, 200, "{}", table.html);
    assert!(table.html.contains("1 demande<"), "{}", table.html);
    assert!(table.html.contains("Camille Martin"));

    // The grant revoked after its confirmation page: the table is closed.
    let revoke = format!("{MOBILITES_PAGE}/habilitations/retrait?portee=demarche&demarche={VELO}");
    assert!(page.contains(&revoke.replace('&', "&#38;")), "{page}");
    let confirm = admin.get(&revoke).await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    assert!(
        confirm
            .html
            .contains("perdra son rôle sur : Demander une aide")
    );
    let revoked = admin
        .post(
            &format!("{MOBILITES_PAGE}/habilitations/retrait"),
            &[("portee", "demarche"), ("demarche", VELO)],
        )
        .await;
    let page = follow(&admin, &revoked).await;
    assert!(page.contains("Habilitation retirée."));
    assert_eq!(gestionnaire.get("/back-office/demandes").await.status, 403);

    // The member removed, then the group deleted, each confirmed first.
    let agents = app.store.users(Some(UserKind::Agent)).await.unwrap();
    let gest = agents
        .iter()
        .find(|u| u.login == "gest@ville.test")
        .unwrap();
    let removal = format!("{MOBILITES_PAGE}/membres/{}/retrait", gest.id.uuid());
    assert!(page.contains(&removal), "{page}");
    let confirm = admin.get(&removal).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.html.contains("ne sera plus membre du groupe"));
    let removed = admin.post(&removal, &[]).await;
    let page = follow(&admin, &removed).await;
    assert!(page.contains("Ce groupe n'a aucun membre."), "{page}");
    let deletion = format!("{MOBILITES_PAGE}/suppression");
    let confirm = admin.get(&deletion).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.html.contains("Cette suppression est définitive."));
    let deleted = admin.post(&deletion, &[]).await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/admin/groupes?fait=groupe-supprime")
    );
    assert!(!app.store.groups().await.unwrap().contains(&mobilites));

    // The last administrators' group stays.
    let last = admin
        .post("/admin/groupes/Admin_SVL_DSI_Informatique/suppression", &[])
        .await;
    assert_eq!(last.status, 409, "{}", last.html);
    assert!(last.html.contains("Rien n&#39;a été changé."));
    assert!(
        app.store
            .groups()
            .await
            .unwrap()
            .contains(&GroupName::parse(ADMIN).unwrap())
    );
}

async fn an_agent_created_from_the_page_logs_in_until_deactivated(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let admin = administrator(&app).await;
    let page = admin.get("/admin/comptes").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("admin@ville.test"));

    let weak = admin
        .post(
            "/admin/comptes",
            &[
                ("identifiant", "nouvel.agent@ville.test"),
                ("nom", ""),
                ("mot_de_passe", "abc123"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422, "{}", weak.html);
    assert!(
        weak.html.contains("2 erreurs empêchent de continuer"),
        "{}",
        weak.html
    );
    assert!(weak.html.contains("Indiquez un nom."));
    assert!(weak.html.contains("id=\"mot_de_passe-error\""));
    assert!(weak.html.contains("value=\"nouvel.agent@ville.test\""));
    assert!(
        !weak.html.contains("abc123"),
        "a password is never shown again"
    );

    let password = "Un mot de passe d'agent solide 2026";
    let created = admin
        .post(
            "/admin/comptes",
            &[
                ("identifiant", "nouvel.agent@ville.test"),
                ("nom", "Nouvel Agent"),
                ("mot_de_passe", password),
                ("groupes", MOBILITES),
            ],
        )
        .await;
    let page = follow(&admin, &created).await;
    assert!(page.contains("Compte créé."));
    assert!(page.contains("Nouvel Agent"));
    assert!(page.contains("<li>Gest_SVL_DACT_Mobilités</li>"), "{page}");
    let taken = admin
        .post(
            "/admin/comptes",
            &[
                ("identifiant", "nouvel.agent@ville.test"),
                ("nom", "Un autre"),
                ("mot_de_passe", password),
            ],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.html.contains("déjà pris"), "{}", taken.html);

    let agent = Visitor::new(&app.base);
    agent.login("nouvel.agent@ville.test", password).await;
    assert_eq!(agent.get("/admin/comptes").await.status, 403);
    // A member of the group the page chose: the démarche's table opens.
    assert_eq!(agent.get("/back-office/demandes").await.status, 200);

    // Deactivated: the session ends; reactivated: logs in again.
    let id = app
        .store
        .users(Some(UserKind::Agent))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.login == "nouvel.agent@ville.test")
        .unwrap()
        .id
        .uuid();
    let deactivated = admin
        .post(&format!("/admin/comptes/{id}/desactivation"), &[])
        .await;
    let page = follow(&admin, &deactivated).await;
    assert!(page.contains("Compte désactivé"));
    assert!(page.contains(&format!("/admin/comptes/{id}/reactivation")));
    let ended = agent.get("/back-office/demandes").await;
    assert_eq!(ended.status, 303, "{}", ended.html);
    let reactivated = admin
        .post(&format!("/admin/comptes/{id}/reactivation"), &[])
        .await;
    follow(&admin, &reactivated).await;
    Visitor::new(&app.base)
        .login("nouvel.agent@ville.test", password)
        .await;

    // The last administrator is not deactivated.
    let me = app
        .store
        .users(Some(UserKind::Agent))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.login == "admin@ville.test")
        .unwrap()
        .id
        .uuid();
    let last = admin
        .post(&format!("/admin/comptes/{me}/desactivation"), &[])
        .await;
    assert_eq!(last.status, 409, "{}", last.html);
}

async fn only_administrators_open_these_pages_and_forged_forms_change_nothing(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let admin = administrator(&app).await;
    let gestionnaire = agent_on_pages(&app, "gest@ville.test", &[MOBILITES]).await;
    let mobilites = GroupName::parse(MOBILITES).unwrap();
    let groups_before = app.store.groups().await.unwrap();
    let agents_before = app.store.users(Some(UserKind::Agent)).await.unwrap().len();
    let yaml = std::fs::read_to_string(example_path(VELO)).unwrap();
    let with_field = yaml.replace(
        "      - id: reparateur\n",
        "      - id: numero_cadre\n        kind: text\n        label: Numéro de cadre\n      - id: reparateur\n",
    );

    let pages = [
        "/admin/demarches".to_owned(),
        format!("/admin/demarches/{VELO}"),
        "/admin/groupes".to_owned(),
        MOBILITES_PAGE.to_owned(),
        format!("{MOBILITES_PAGE}/suppression"),
        format!("{MOBILITES_PAGE}/habilitations/retrait?portee=demarche&demarche={VELO}"),
        "/admin/comptes".to_owned(),
    ];
    // The back office links the administration for administrators only.
    let desk = admin.get("/back-office/demandes").await;
    assert!(
        desk.html.contains("<a href=\"/admin\">Administration</a>"),
        "{}",
        desk.html
    );
    let desk = gestionnaire.get("/back-office/demandes").await;
    assert!(!desk.html.contains("href=\"/admin\""), "{}", desk.html);
    for path in &pages {
        let refused = gestionnaire.get(path).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.html);
        assert!(
            refused.html.contains("Accès réservé aux administrateurs"),
            "{path}"
        );
        assert_eq!(admin.get(path).await.status, 200, "{path}");
    }

    // Forged forms, with the gestionnaire's own valid token: refused.
    let imported = gestionnaire
        .post_multipart(
            "/admin/demarches",
            &[("definition", with_field.as_str())],
            Vec::new(),
        )
        .await;
    assert_eq!(imported.status, 403);
    let forged: [(String, Vec<(&str, &str)>); 9] = [
        (
            "/admin/groupes".to_owned(),
            vec![("nom", "Admin_SVL_DACT_Pirate")],
        ),
        (format!("{MOBILITES_PAGE}/suppression"), vec![]),
        (
            format!("{MOBILITES_PAGE}/membres"),
            vec![("identifiant", "gest@ville.test")],
        ),
        (
            format!("{MOBILITES_PAGE}/habilitations"),
            vec![("portee", "toutes")],
        ),
        (
            format!("{MOBILITES_PAGE}/habilitations/retrait"),
            vec![("portee", "demarche"), ("demarche", VELO)],
        ),
        (
            format!("{MOBILITES_PAGE}/boite"),
            vec![("boite", "pirate@exemple.test")],
        ),
        (
            format!("/admin/demarches/{VELO}/prefixe"),
            vec![("prefixe", "PIRATE")],
        ),
        (
            "/admin/comptes".to_owned(),
            vec![
                ("identifiant", "pirate@ville.test"),
                ("nom", "Pirate"),
                ("mot_de_passe", "Un mot de passe de pirate 2026"),
            ],
        ),
        (
            format!(
                "/admin/comptes/{}/desactivation",
                app.store
                    .users(Some(UserKind::Agent))
                    .await
                    .unwrap()
                    .iter()
                    .find(|u| u.login == "admin@ville.test")
                    .unwrap()
                    .id
                    .uuid()
            ),
            vec![],
        ),
    ];
    for (path, fields) in &forged {
        let refused = gestionnaire.post(path, fields).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.html);
    }
    // An administrator's browser without the token: refused too.
    let no_token = admin
        .post_raw("/admin/groupes", &[("nom", "Gest_SVL_DACT_Autre")])
        .await;
    assert_eq!(no_token.status, 403);
    assert!(no_token.html.contains("Formulaire expiré"));

    // Nothing changed.
    assert_eq!(app.store.groups().await.unwrap(), groups_before);
    assert_eq!(app.store.members(&mobilites).await.unwrap().len(), 1);
    assert_eq!(app.store.group_mailbox(&mobilites).await.unwrap(), None);
    assert_eq!(
        app.store
            .demarche_versions(&Slug::from(VELO))
            .await
            .unwrap(),
        [1]
    );
    assert_eq!(
        app.store.users(Some(UserKind::Agent)).await.unwrap().len(),
        agents_before
    );
    assert!(
        app.store
            .users(Some(UserKind::Agent))
            .await
            .unwrap()
            .iter()
            .all(|u| u.active)
    );
    let table = gestionnaire.get("/back-office/demandes").await;
    assert_eq!(table.status, 200, "the grant stays: {}", table.html);

    // An usager is told the back office is for agents; nobody logged in is
    // sent to log in.
    app.usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let usager = Visitor::new(&app.base);
    usager
        .login("camille@exemple.test", "mot-de-passe-usager")
        .await;
    assert_eq!(usager.get("/admin/groupes").await.status, 403);
    let anonymous = Visitor::new(&app.base).get("/admin/comptes").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.location.as_deref(),
        Some("/connexion?suite=%2Fadmin%2Fcomptes")
    );
}
