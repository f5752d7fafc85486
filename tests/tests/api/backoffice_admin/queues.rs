//! The queues' page: a dead letter put back in the queue once its cause
//! is fixed through the instance's form, or given up for good; the
//! notification queue listed.

use guichet_store::job::JobStatus;
use guichet_tests::ATAL_KEY;
use guichet_tests::app::{Client, TestApp};
use guichet_tests::filing::{
    SIGNALEMENT, VOIRIE, agent_view, atal_ville, connect_atal_to, file_signalement, step,
};
use guichet_tests::on_both_backends;

use super::{ADMIN_LOGIN, administrator};

on_both_backends!(
    a_dead_letter_is_retried_from_the_page,
    a_dead_letter_is_abandoned_from_the_page,
);

/// A signalement whose transmission ATAL refused for good (the instance
/// had lost its key): the simulated ATAL, the gestionnaire, the demande's
/// id and the failed job's id.
async fn dead_letter(app: &TestApp) -> (atal_sim::Handle, Client, String, String) {
    let sim = guichet_tests::atal().await;
    connect_atal_to(app, &sim).await;
    app.import(SIGNALEMENT).await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_signalement(&usager, None).await;
    app.registry
        .configure(atal_ville(&sim, "perimee"), None)
        .expect("configured again");
    step(&gestionnaire, &id, "receptionner").await;
    assert_eq!(app.transmit().await.failed, 1);
    let job = app.store.failed_jobs(10).await.unwrap()[0].id.0.to_string();
    (sim, gestionnaire, id, job)
}

async fn a_dead_letter_is_retried_from_the_page(app: TestApp) {
    let (sim, gestionnaire, id, job) = dead_letter(&app).await;
    let (_, pages) = administrator(&app).await;

    let listed = pages.get("/admin/files-d-attente").await;
    assert_eq!(listed.status, 200, "{}", listed.html);
    assert!(
        listed
            .html
            .contains("Transmission à une application métier — atal-ville")
    );
    assert!(
        listed
            .html
            .contains(&format!("/admin/files-d-attente/{job}/relance"))
    );
    // The notifications of the filing and the reception wait for their
    // worker.
    assert!(
        listed
            .html
            .contains("Les prochaines notifications à envoyer")
    );

    // The key is put back through the instance's form, then the job.
    let hosts = app
        .registry
        .instance("atal-ville")
        .unwrap()
        .allowed_hosts
        .join("\n");
    let fixed = pages
        .post(
            "/admin/connecteurs/instances/atal-ville/configuration",
            &[
                ("base_url", &sim.base_url()),
                ("api_key", ATAL_KEY),
                ("hotes", &hosts),
            ],
        )
        .await;
    assert_eq!(fixed.status, 303, "{}", fixed.html);
    let unconfirmed = pages
        .post(&format!("/admin/files-d-attente/{job}/relance"), &[])
        .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.html);
    let retried = pages
        .post(
            &format!("/admin/files-d-attente/{job}/relance"),
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(retried.status, 303, "{}", retried.html);
    let told = pages.get(&retried.location.unwrap()).await;
    assert!(told.html.contains("La tâche est remise dans la file"));
    assert!(
        told.html.contains("Aucune tâche n'est en échec."),
        "{}",
        told.html
    );

    assert_eq!(app.transmit().await.transmitted, 1);
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["transmissions"][0]["state"], "transmise", "{view}");
    // Retrying it again is a conflict, told on the page.
    let again = pages
        .post(
            &format!("/admin/files-d-attente/{job}/relance"),
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(again.status, 422, "{}", again.html);
    assert!(
        again.html.contains("n&#39;est pas en échec définitif"),
        "{}",
        again.html
    );
    app.keep(sim);
}

async fn a_dead_letter_is_abandoned_from_the_page(app: TestApp) {
    let (sim, gestionnaire, id, job) = dead_letter(&app).await;
    let (_, pages) = administrator(&app).await;
    pages.get("/admin/files-d-attente").await;

    let unconfirmed = pages
        .post(&format!("/admin/files-d-attente/{job}/abandon"), &[])
        .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.html);
    assert!(
        unconfirmed
            .html
            .contains(&format!("href=\"#abandon-{job}-confirme\""))
    );
    let abandoned = pages
        .post(
            &format!("/admin/files-d-attente/{job}/abandon"),
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(abandoned.status, 303, "{}", abandoned.html);

    let stored = app
        .store
        .job(guichet_store::job::JobId(job.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(stored.status, JobStatus::Abandoned);
    assert_eq!(stored.abandoned_by.as_deref(), Some(ADMIN_LOGIN));
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["transmissions"][0]["state"], "abandonnee", "{view}");
    assert_eq!(app.transmit().await, Default::default(), "never run again");
    app.keep(sim);
}
