//! The end of life of demandes and drafts, through the API and the
//! scheduler's rounds: the trash is restorable by an administrator for the
//! trash period (30 days by default) then purged, and its usager sees the
//! demande as closed; the usager follows an anonymised demande; the
//! anonymisation notice carries the usager's contact until it is delivered
//! or abandoned; unsent drafts expire after 90 days with their files.

use guichet_core::id::DemandeId;
use guichet_store::contact::CONTACT_KEY;
use guichet_store::job::NOTIFICATION_JOB;
use guichet_tests::app::{Client, TestApp, jpeg, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    an_administrator_restores_a_trashed_demande_within_the_trash_period,
    a_trashed_demande_is_purged_with_everything_it_held_after_the_trash_period,
    the_usager_follows_an_anonymised_demande,
    the_anonymisation_notice_carries_the_contact_until_delivered,
    unsent_drafts_expire_after_90_days_with_their_files,
    expired_sessions_are_swept,
);

const ADMIN: &str = "Admin_SVL_DSI_Guichet";

/// The vélo démarche with a gestionnaire and an administrator.
async fn velo(app: &TestApp) -> (Client, Client) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(ADMIN, None).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let admin = app.agent("admin@ville.test", &[ADMIN]).await;
    (gestionnaire, admin)
}

async fn trash(admin: &Client, id: &str) {
    act(
        admin,
        id,
        json!({ "transition": "corbeille", "inputs": { "confirmed": true } }),
    )
    .await
    .expect(200);
}

async fn restore(agent: &Client, id: &str, confirmed: bool) -> guichet_tests::app::Reply {
    agent
        .post(
            &format!("/api/agent/demandes/{id}/restore"),
            json!({ "confirmed": confirmed }),
        )
        .await
}

async fn an_administrator_restores_a_trashed_demande_within_the_trash_period(app: TestApp) {
    let (gestionnaire, admin) = velo(&app).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    step(&gestionnaire, &id, "prendre_en_compte").await;
    app.at_day(1.0).await;
    trash(&admin, &id).await;

    let mine = usager.get("/api/demandes").await;
    assert_eq!(
        mine.expect(200)[0]["status"],
        json!({ "id": "cloturee", "label": "Demande clôturée" }),
        "the usager sees a trashed demande as closed"
    );
    assert_eq!(usager_view(&usager, &id).await["status"]["id"], "cloturee");
    assert_eq!(usager_view(&usager, &id).await["actions"], json!([]));

    app.at_day(30.9).await;
    let refused = restore(&gestionnaire, &id, true).await;
    assert_eq!(refused.status, 403, "only administration restores");
    let unconfirmed = restore(&admin, &id, false).await;
    assert_eq!(unconfirmed.code(), "confirmation_required");
    let restored = restore(&admin, &id, true).await;
    let restored = restored.expect(200);
    assert_eq!(restored["status"]["id"], "en_cours_analyse");
    assert_eq!(
        restored["history"].as_array().unwrap().last().unwrap()["event"],
        "restaurer"
    );
    assert_eq!(
        usager_view(&usager, &id).await["status"]["id"],
        "en_cours_analyse"
    );
    let again = restore(&admin, &id, true).await;
    assert_eq!(
        again.code(),
        "action_not_allowed",
        "not in the trash any more"
    );

    // The timers cancelled by the trash run again: the 27-day deadline,
    // long past, closes the demande at the next round.
    app.at_day(31.0).await;
    assert_eq!(agent_view(&admin, &id).await["status"]["id"], "traitee");
    app.at_day(400.0).await;
    assert_eq!(
        agent_view(&admin, &id).await["status"]["id"],
        "anonymisee",
        "nothing escapes anonymisation"
    );
}

async fn a_trashed_demande_is_purged_with_everything_it_held_after_the_trash_period(app: TestApp) {
    let (gestionnaire, admin) = velo(&app).await;
    let usager = app
        .usager("Albertine", "Zwolinski", "albertine.zwolinski@exemple.test")
        .await;
    let draft = fill_velo(&usager, pdf("facture Zwolinski")).await;
    let id = submit(&usager, &draft).await;
    step(&gestionnaire, &id, "prendre_en_compte").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "echanger", "inputs": { "message": "Bonjour Mme Zwolinski" } }),
    )
    .await
    .expect(200);
    let kept = file_velo(&usager).await;
    trash(&admin, &id).await;

    app.at_day(29.9).await;
    assert_eq!(agent_view(&admin, &id).await["status"]["id"], "corbeille");
    app.at_day(30.1).await;
    assert_eq!(
        admin.get(&format!("/api/agent/demandes/{id}")).await.status,
        404,
        "purged"
    );
    assert_eq!(restore(&admin, &id, true).await.status, 404);
    let mine = usager.get("/api/demandes").await;
    let mine = mine.expect(200).as_array().unwrap().clone();
    assert_eq!(mine.len(), 1, "the other demande stays");
    assert_eq!(mine[0]["id"], kept.as_str());
    let demande = DemandeId::from_uuid(id.parse().unwrap());
    assert!(app.store.jobs_of(demande).await.unwrap().is_empty());
    assert!(app.store.timers_of(demande).await.unwrap().is_empty());
    assert_eq!(
        app.stored_files().len(),
        1,
        "only the kept demande's invoice"
    );
    let leaks: Vec<(String, String)> = app
        .every_stored_text()
        .await
        .into_iter()
        .filter(|(_, value)| value.contains(&id) || value.contains("Mme Zwolinski"))
        .collect();
    assert!(leaks.is_empty(), "left by the purge: {leaks:#?}");
}

async fn the_usager_follows_an_anonymised_demande(app: TestApp) {
    let (gestionnaire, _) = velo(&app).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    let numero = usager_view(&usager, &id).await["numero"].clone();
    step(&gestionnaire, &id, "prendre_en_compte").await;
    step(&gestionnaire, &id, "accepter").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Aide versée.", "confirmed": true } }),
    )
    .await
    .expect(200);
    app.at_day(365.1).await;

    let mine = usager.get("/api/demandes").await;
    let mine = mine.expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 1, "still listed");
    assert_eq!(mine[0]["numero"], numero);
    assert_eq!(mine[0]["demarche"], VELO);
    assert_eq!(mine[0]["status"]["id"], "anonymisee");
    let page = usager_view(&usager, &id).await;
    assert_eq!(page["numero"], numero);
    assert_eq!(page["status"]["label"], "Demande anonymisée");
    assert_eq!(page["actions"], json!([]));
    let shown = page["summary"].to_string();
    for personal in ["Camille", "Martin", "camille.martin", "Vieux-Port", "FR76"] {
        assert!(!shown.contains(personal), "{personal} in {shown}");
    }
    let history = usager.get(&format!("/api/demandes/{id}/history")).await;
    assert_eq!(
        events(history.expect(200)),
        [
            "depot",
            "prendre_en_compte",
            "accepter",
            "cloturer",
            "archiver",
            "anonymiser"
        ]
    );
    assert!(!history.body.to_string().contains("Aide versée"));
    let other = app
        .usager("Dominique", "Essai", "dominique.essai@exemple.test")
        .await;
    assert_eq!(other.get(&format!("/api/demandes/{id}")).await.status, 404);
}

async fn the_anonymisation_notice_carries_the_contact_until_delivered(app: TestApp) {
    connect_atal(&app).await;
    app.import(SIGNALEMENT).await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app
        .usager("Albertine", "Zwolinski", "albertine.zwolinski@exemple.test")
        .await;
    let id = file_signalement(&usager, Some(jpeg("lampadaire"))).await;
    let demande = DemandeId::from_uuid(id.parse().unwrap());

    // A notice abandoned for good forgets its contact.
    let jobs = app
        .store
        .claim_jobs("test-worker", &[NOTIFICATION_JOB], app.clock_now(), 100)
        .await
        .unwrap();
    let to_usager = jobs
        .iter()
        .find(|job| job.payload["recipient"] == "usager")
        .expect("a notice to the usager");
    assert_eq!(
        to_usager.payload[CONTACT_KEY]["email"],
        "albertine.zwolinski@exemple.test"
    );
    app.store
        .fail_job(
            to_usager.id,
            "test-worker",
            "boîte pleine",
            None,
            app.clock_now(),
        )
        .await
        .unwrap();
    let abandoned = app.store.job(to_usager.id).await.unwrap();
    assert!(
        abandoned.payload.get(CONTACT_KEY).is_none(),
        "{abandoned:?}"
    );

    step(&gestionnaire, &id, "receptionner").await;
    step(&gestionnaire, &id, "accepter").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Réparé.", "confirmed": true } }),
    )
    .await
    .expect(200);
    app.at_day(731.1).await; // two calendar years
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "anonymisee"
    );

    let notice = app
        .store
        .jobs_of(demande)
        .await
        .unwrap()
        .into_iter()
        .find(|job| job.payload["template"] == "anonymisation_usager")
        .expect("the anonymisation notice is queued");
    assert_eq!(notice.payload["recipient"], "usager");
    assert_eq!(
        notice.payload[CONTACT_KEY],
        json!({
            "name": "Albertine Zwolinski",
            "email": "albertine.zwolinski@exemple.test",
            "phone": "+33612345678"
        }),
        "captured before the demande was erased"
    );
    let claimed = app
        .store
        .claim_jobs("test-worker", &[NOTIFICATION_JOB], app.clock_now(), 100)
        .await
        .unwrap();
    assert!(claimed.iter().any(|job| job.id == notice.id));
    app.store
        .complete_job(notice.id, "test-worker", app.clock_now())
        .await
        .unwrap();
    let delivered = app.store.job(notice.id).await.unwrap();
    assert!(delivered.payload.get(CONTACT_KEY).is_none());
    let leaks: Vec<(String, String)> = app
        .every_stored_text()
        .await
        .into_iter()
        .filter(|(column, value)| {
            !column.starts_with("users.") && value.contains("albertine.zwolinski")
        })
        .collect();
    assert!(leaks.is_empty(), "{leaks:#?}");
}

async fn unsent_drafts_expire_after_90_days_with_their_files(app: TestApp) {
    app.import(VELO).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let old = fill_velo(&usager, pdf("facture ancienne")).await;
    app.at_day(50.0).await;
    let recent = open_draft(
        &app.usager("Dominique", "Essai", "d.essai@exemple.test")
            .await,
        VELO,
    )
    .await;
    assert_eq!(app.stored_files().len(), 1);

    app.at_day(89.9).await;
    usager.get(&format!("/api/drafts/{old}")).await.expect(200);
    app.at_day(90.1).await;
    assert_eq!(usager.get(&format!("/api/drafts/{old}")).await.status, 404);
    assert!(app.stored_files().is_empty(), "its invoice went with it");
    assert_eq!(
        app.count("drafts").await,
        1,
        "the recent draft {recent} stays"
    );
    app.at_day(140.1).await;
    assert_eq!(app.count("drafts").await, 0);
    let leaks: Vec<(String, String)> = app
        .every_stored_text()
        .await
        .into_iter()
        .filter(|(column, value)| {
            !column.starts_with("demarche_versions.")
                && (value.contains("Vieux-Port") || value.contains("FR76"))
        })
        .collect();
    assert!(leaks.is_empty(), "{leaks:#?}");
}

/// Sessions last 12 hours; each round deletes the expired ones, so a day's
/// jump (after which everyone logs in again) leaves only the new sessions.
async fn expired_sessions_are_swept(app: TestApp) {
    let (_gestionnaire, _admin) = velo(&app).await;
    let _usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let before = app.count("sessions").await;
    assert!(before >= 3, "three people logged in: {before}");
    app.jump_days(1).await;
    assert_eq!(app.count("sessions").await, before, "old sessions deleted");
}
