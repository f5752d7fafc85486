//! Drafts belong to their author and to the usager they are filed for, and
//! every change of a draft is atomic: a *saisie* for one usager never reuses
//! another usager's draft, and concurrent uploads and page saves are all
//! kept, within the field's limits.

use futures::future::join_all;
use guichet_tests::app::{Client, TestApp};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    a_saisie_for_another_usager_never_reuses_a_draft,
    parallel_uploads_to_one_draft_are_all_kept_within_the_limit,
    parallel_page_saves_and_uploads_are_all_kept,
    a_page_refused_on_a_draft_remembered_here_is_checked_on_the_stored_one,
);

const CAMILLE: &str = "camille.martin@exemple.test";
const DOMINIQUE: &str = "dominique.essai@exemple.test";

/// A small PNG, distinct per marker.
fn png(marker: &str) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(marker.as_bytes());
    bytes
}

async fn a_saisie_for_another_usager_never_reuses_a_draft(app: TestApp) {
    app.import("aide-reparation-velo").await;
    app.grant("Saisie_SVL_DGS_Accueil", Some(VELO)).await;
    let saisie = app
        .agent("saisie@ville.test", &["Saisie_SVL_DGS_Accueil"])
        .await;
    app.usager("Camille", "Martin", CAMILLE).await;
    app.usager("Dominique", "Essai", DOMINIQUE).await;
    let open =
        |usager: &str| saisie.post("/api/drafts", json!({ "demarche": VELO, "usager": usager }));

    let for_camille = open(CAMILLE).await;
    let for_dominique = open(DOMINIQUE).await;
    let camille_again = open(CAMILLE).await;

    let for_camille = for_camille.expect(201).clone();
    let for_dominique = for_dominique.expect(201).clone();
    assert_ne!(for_dominique["id"], for_camille["id"]);
    assert_eq!(for_dominique["answers"]["nom"]["value"], "Essai");
    assert_eq!(for_dominique["answers"]["courriel"]["value"], DOMINIQUE);
    assert_eq!(camille_again.expect(200)["id"], for_camille["id"]);

    let draft = for_dominique["id"].as_str().unwrap().to_owned();
    fill_velo_pages(&saisie, &draft).await;
    let path = format!("/api/drafts/{draft}/submit");
    let submit = |usager: &str| {
        saisie.post(
            &path,
            json!({ "consent": true, "channel": "telephone", "usager": usager }),
        )
    };
    let mixed = submit(CAMILLE).await;
    assert_eq!((mixed.status, mixed.code()), (422, "validation_failed"));
    assert_eq!(mixed.field_errors(), ["usager:usager_different"]);
    let filed = submit(DOMINIQUE).await;
    let id = filed.expect(201)["id"].as_str().unwrap().to_owned();
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestion@ville.test", &[MOBILITES]).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["answers"]["nom"]["value"], "Essai");
    assert_eq!(view["answers"]["courriel"]["value"], DOMINIQUE);
}

async fn fill_velo_pages(client: &Client, draft: &str) {
    client
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture.pdf", guichet_tests::app::pdf("facture"))),
        )
        .await
        .expect(201);
    save_page(client, draft, "reparation", velo_repair()).await;
    save_page(
        client,
        draft,
        "versement",
        json!({ "titulaire_compte": "Dominique Essai",
                "iban": "FR7630006000011234567890189", "attestation": true }),
    )
    .await;
}

async fn upload_photos(usager: &Client, draft: &str, count: usize) -> Vec<u16> {
    let path = format!("/api/drafts/{draft}/files/photos");
    let uploads = (0..count).map(|n| {
        let path = path.clone();
        async move {
            let name = format!("photo-{n}.png");
            usager
                .post_form(&path, &[], Some((&name, png(&format!("photo {n}")))))
                .await
                .status
        }
    });
    join_all(uploads).await
}

fn photos_of(draft: &serde_json::Value) -> usize {
    draft["answers"]["photos"]["value"]
        .as_array()
        .map_or(0, Vec::len)
}

async fn parallel_uploads_to_one_draft_are_all_kept_within_the_limit(app: TestApp) {
    connect_atal(&app).await;
    app.import("signalement-voie-publique").await;
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let other = app.usager("Dominique", "Essai", DOMINIQUE).await;
    let three = open_draft(&usager, SIGNALEMENT).await;
    let five = open_draft(&other, SIGNALEMENT).await;

    let statuses = upload_photos(&usager, &three, 3).await;
    let over = upload_photos(&other, &five, 5).await;

    assert_eq!(statuses, [201, 201, 201]);
    let draft = usager.get(&format!("/api/drafts/{three}")).await;
    assert_eq!(
        photos_of(draft.expect(200)),
        3,
        "every acknowledged upload is kept"
    );
    assert_eq!(over.iter().filter(|s| **s == 201).count(), 3, "{over:?}");
    assert_eq!(over.iter().filter(|s| **s == 422).count(), 2, "{over:?}");
    let draft = other.get(&format!("/api/drafts/{five}")).await;
    assert_eq!(
        photos_of(draft.expect(200)),
        3,
        "max_files holds under concurrency"
    );
}

async fn parallel_page_saves_and_uploads_are_all_kept(app: TestApp) {
    connect_atal(&app).await;
    app.import("signalement-voie-publique").await;
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let draft = open_draft(&usager, SIGNALEMENT).await;
    let (signalement_page, lieu_page) = (
        format!("/api/drafts/{draft}/pages/signalement"),
        format!("/api/drafts/{draft}/pages/lieu"),
    );
    let signalement = usager.put(
        &signalement_page,
        json!({ "objet": "Nid-de-poule", "categorie": "12",
                "description": "Un trou profond au milieu de la chaussée." }),
    );
    let lieu = usager.put(
        &lieu_page,
        json!({ "localisation": { "street": "3 rue Paradis", "postcode": "13001",
                "city": "Marseille", "latitude": 43.29, "longitude": 5.37 } }),
    );
    let photos = upload_photos(&usager, &draft, 2);

    let (signalement, lieu, photos) = tokio::join!(signalement, lieu, photos);

    assert_eq!((signalement.status, lieu.status), (200, 200));
    assert_eq!(photos, [201, 201]);
    let saved = usager.get(&format!("/api/drafts/{draft}")).await;
    let saved = saved.expect(200);
    assert_eq!(saved["answers"]["objet"]["value"], "Nid-de-poule");
    assert_eq!(
        saved["answers"]["localisation"]["value"]["city"],
        "Marseille"
    );
    assert_eq!(photos_of(saved), 2);
}

/// A démarche whose second page asks the number of children only when the
/// first page's box is checked.
const ENFANTS: &str = r#"
slug: enfants
title: Déclarer ses enfants
category: Essais
visibility: everyone
kind: simple
service: Gest_SVL_DACT_Mobilités
presentation:
  average_minutes: 5
pages:
  - id: foyer
    title: Le foyer
    fields:
      - { id: enfants, kind: checkbox, label: J'ai des enfants }
  - id: details
    title: Les enfants
    fields:
      - id: nombre
        kind: number
        label: Nombre d'enfants
        required: true
        condition:
          checked: enfants
      - { id: remarque, kind: text, label: Une remarque }
rgpd:
  text: Vos données servent à cet essai.
  consent_label: J'accepte.
workflow:
  standard: {}
"#;

/// This host remembers a draft whose box is checked; another host (a
/// second store on the same database) unchecks it. Here, the next page
/// saved without the number, which is no longer asked, is accepted: a
/// refusal on the remembered answers is checked again on the stored draft.
async fn a_page_refused_on_a_draft_remembered_here_is_checked_on_the_stored_one(app: TestApp) {
    use guichet_core::id::FieldId;
    use guichet_core::value::Value;
    use guichet_store::draft::DraftId;
    use guichet_store::{FileStore, Store, StoreError};

    app.import_yaml(ENFANTS.to_owned()).await;
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let draft = open_draft(&usager, "enfants").await;
    save_page(&usager, &draft, "foyer", json!({ "enfants": true })).await;

    let other = Store::connect(&app.url, FileStore::new(&app.files_dir))
        .await
        .unwrap();
    let id = DraftId(uuid::Uuid::parse_str(&draft).unwrap());
    other
        .update_draft(id, app.clock_now(), |current| {
            let mut answers = current.answers.clone();
            answers.insert(FieldId::from("enfants"), Value::Checkbox(false));
            Ok::<_, StoreError>(answers)
        })
        .await
        .unwrap();
    other.close().await;

    let saved = save_page(&usager, &draft, "details", json!({ "remarque": "aucune" })).await;
    assert_eq!(saved["answers"]["remarque"]["value"], "aucune", "{saved}");
    assert_eq!(saved["answers"]["enfants"]["value"], false, "{saved}");
    submit(&usager, &draft).await;
}
