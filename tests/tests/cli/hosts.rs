//! Two `guichet serve` processes on one PostgreSQL database, as a
//! collectivité scales out: they share the connector jobs (each run once,
//! the vendor sees each demande once) and an activation made on one host is
//! served by the other without a restart, through `LISTEN/NOTIFY` alone
//! (both hosts run with `--registry-poll-seconds 0`, so nothing else could
//! tell them). A draft saved on alternate hosts loses nothing, though each
//! host starts from its own memory of it.

use std::time::{Duration, Instant};

use guichet_core::id::DemandeId;
use guichet_store::job::JobStatus;
use guichet_tests::app::{Backend, TestApp, run};
use guichet_tests::filing::{
    SIGNALEMENT, agent_view, connect_atal_to, file_signalement, open_draft, save_page, step, submit,
};
use guichet_tests::hostile::echange;
use serde_json::json;

use super::Host;

const VOIRIE: &str = "Gest_SVL_DTE_Voirie";
const TRANSMIT: &str = "connector.transmit";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_on_one_postgres_database_share_jobs_and_see_an_activation() {
    run(Backend::Postgres, two_hosts).await;
}

async fn two_hosts(app: TestApp) {
    // The hosts read the system's clock: sessions opened here must be
    // valid for them.
    app.clock.set(chrono::Utc::now());
    let sim = guichet_tests::atal().await;
    connect_atal_to(&app, &sim).await;
    let admin = echange(&app, "version").await;
    app.import(SIGNALEMENT).await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;

    let hosts = [Host::start(&app, "a").await, Host::start(&app, "b").await];

    // Usagers file and agents receive on either host; each reception
    // writes one transmission job, which either host's worker may claim.
    let mut demandes = Vec::new();
    for i in 0..16 {
        let host = &hosts[i % 2];
        let id = file_signalement(&usager.at(&host.base), None).await;
        step(
            &gestionnaire.at(&hosts[(i + 1) % 2].base),
            &id,
            "receptionner",
        )
        .await;
        demandes.push(DemandeId::parse(&id).expect("demande id"));
    }
    let started = Instant::now();
    let jobs = loop {
        let mut jobs = Vec::new();
        for demande in &demandes {
            jobs.extend(
                app.store
                    .jobs_of(*demande)
                    .await
                    .expect("jobs read")
                    .into_iter()
                    .filter(|job| job.kind == TRANSMIT),
            );
        }
        if jobs.iter().all(|job| job.status == JobStatus::Done) {
            break jobs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "transmissions still due: {jobs:?}\n{}\n{}",
            hosts[0].log(),
            hosts[1].log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    assert_eq!(jobs.len(), demandes.len(), "one job per demande");
    let workers = [hosts[0].worker(), hosts[1].worker()];
    for job in &jobs {
        assert_eq!(job.attempts, 1, "run once: {job:?}");
        assert!(
            workers.contains(job.claimed_by.as_ref().expect("claimed")),
            "{job:?} {workers:?}"
        );
    }
    let by_a = jobs
        .iter()
        .filter(|job| job.claimed_by.as_deref() == Some(workers[0].as_str()))
        .count();
    eprintln!(
        "jobs run by host a: {by_a}, by host b: {}",
        jobs.len() - by_a
    );
    assert_eq!(
        sim.works_requests().len(),
        demandes.len(),
        "each demande once at ATAL"
    );

    // An activation on host a: host b serves the new version without a
    // restart, told by PostgreSQL only.
    let checked_on_b = || async {
        admin
            .at(&hosts[1].base)
            .post("/api/connectors/instances/echange/check", json!({}))
            .await
            .expect(200)["message"]
            .clone()
    };
    assert_eq!(checked_on_b().await, "0.1.0");
    admin
        .at(&hosts[0].base)
        .post(
            "/api/connectors/instances/echange/activate",
            json!({ "version": "0.2.0" }),
        )
        .await
        .expect(200);
    let activated = Instant::now();
    while checked_on_b().await != "0.2.0" {
        assert!(
            activated.elapsed() < Duration::from_secs(10),
            "host b never saw the activation: {}",
            hosts[1].log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "activation on host a served by host b after {:?}",
        activated.elapsed()
    );

    // A draft saved page by page on alternate hosts. Each host starts from
    // its memory of the draft, which the other host made stale: host a's
    // page save finds it changed and saves on the stored draft; host b's
    // filing finds it changed, takes no number and files it as stored.
    let draft = open_draft(&usager.at(&hosts[0].base), SIGNALEMENT).await;
    save_page(
        &usager.at(&hosts[1].base),
        &draft,
        "signalement",
        json!({
            "objet": "Nid-de-poule",
            "categorie": "20",
            "description": "Un nid-de-poule profond devant la boulangerie."
        }),
    )
    .await;
    save_page(
        &usager.at(&hosts[0].base),
        &draft,
        "lieu",
        json!({
            "localisation": {
                "street": "3 place de la Mairie",
                "postcode": "13001",
                "city": "Marseille",
                "latitude": 43.2961,
                "longitude": 5.3699
            },
            "precision_lieu": "devant la boulangerie"
        }),
    )
    .await;
    let id = submit(&usager.at(&hosts[1].base), &draft).await;
    let view = agent_view(&gestionnaire.at(&hosts[0].base), &id).await;
    assert_eq!(view["answers"]["objet"]["value"], "Nid-de-poule", "{view}");
    assert_eq!(
        view["answers"]["precision_lieu"]["value"], "devant la boulangerie",
        "{view}"
    );
    let numero = view["numero"].as_str().expect("numero");
    assert!(
        numero.ends_with(&format!("-{:06}", demandes.len() + 1)),
        "the next number, none lost: {numero}"
    );
}
