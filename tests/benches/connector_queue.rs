//! Benchmark of the connector queue: transmissions per second through the
//! durable jobs against the simulated ATAL answering at once, against the
//! same calls made directly (the baseline of the same run), and the extra
//! latency an action pays for writing its transmission job.
//!
//! Run by hand, in a release build (results are written down in
//! BENCHMARKS.md): `cargo bench -p guichet-tests --bench connector_queue`.
//! Not a test: nothing here asserts a duration; it prints figures.
//!
//! On SQLite (the embedded default), through the test harness
//! (`guichet_tests::app::run`: `App::start` on a fresh database, a manual
//! clock), with the real ATAL component and the simulated ATAL over real
//! HTTP on loopback:
//! 1. `QUEUE_DEMANDES` signalements are filed and received by their
//!    gestionnaire through HTTP; receiving one enters *en cours d'analyse*,
//!    which writes its transmission job in the transition's transaction —
//!    the same is done on a copy of the démarche without a connector, and
//!    the latency of the receiving request is compared (p50, p90);
//! 2. baseline: `QUEUE_DEMANDES` direct `transmit` calls to the instance
//!    (the same connector, vendor and demande shape, no queue), one after
//!    the other;
//! 3. the worker's run (`transmission::run`) delivers every queued job:
//!    claim, read the demande, map it, call, record the link, complete.
//!
//! Environment: `QUEUE_DEMANDES` (default 500).

// A benchmark panics to report a broken set-up.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use guichet_core::id::DemandeId;
use guichet_host::service::transmission::connector_demande;
use guichet_tests::app::{Backend, TestApp, example_path};
use guichet_tests::filing::{
    SIGNALEMENT, connect_atal_to, file_signalement, file_signalement_on, step,
};

const VOIRIE: &str = "Gest_SVL_DTE_Voirie";
const WITHOUT: &str = "signalement-sans-connecteur";

fn main() {
    let count: usize = std::env::var("QUEUE_DEMANDES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(guichet_tests::app::run(Backend::Sqlite, move |app| {
        measure(app, count)
    }));
}

async fn measure(app: TestApp, count: usize) {
    let sim = guichet_tests::atal().await;
    connect_atal_to(&app, &sim).await;
    app.import(SIGNALEMENT).await;
    import_without_connector(&app).await;
    app.grant(VOIRIE, None).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;

    println!("connector_queue: {count} demandes, SQLite, ATAL simulated on loopback");
    let mut with_job = Vec::with_capacity(count);
    let mut ids = Vec::with_capacity(count);
    let mut without_job = Vec::with_capacity(count);
    for _ in 0..count {
        // Alternate so both démarches see the same database size.
        let id = file_signalement(&usager, None).await;
        let started = Instant::now();
        step(&gestionnaire, &id, "receptionner").await;
        with_job.push(started.elapsed());
        ids.push(id);
        let other = file_signalement_on(&usager, WITHOUT, None).await;
        let started = Instant::now();
        step(&gestionnaire, &other, "receptionner").await;
        without_job.push(started.elapsed());
    }
    let (with50, with90) = percentiles(&mut with_job);
    let (without50, without90) = percentiles(&mut without_job);
    println!(
        "receiving (HTTP request): with the transmission job p50 {with50:?} p90 {with90:?}; without p50 {without50:?} p90 {without90:?}; extra at p50 {:?}",
        with50.saturating_sub(without50)
    );

    let definition = app
        .store
        .demarche_version(&SIGNALEMENT.into(), 1)
        .await
        .unwrap();
    let mut sample = Vec::new();
    for id in &ids {
        let stored = app
            .store
            .demande(DemandeId::parse(id).unwrap())
            .await
            .unwrap();
        sample.push(connector_demande(&definition.definition, &stored.demande));
    }
    let started = Instant::now();
    for (i, demande) in sample.into_iter().enumerate() {
        app.registry
            .transmit("atal-ville", demande, &format!("direct-{i}"), None)
            .await
            .expect("direct transmit");
    }
    let direct = started.elapsed();
    let direct_rate = count as f64 / direct.as_secs_f64();
    println!("baseline, direct transmit calls: {count} in {direct:?} = {direct_rate:.0}/s");

    let started = Instant::now();
    let delivered = app.transmit().await;
    let queued = started.elapsed();
    let queue_rate = delivered.transmitted as f64 / queued.as_secs_f64();
    println!(
        "through the queue: {} transmitted ({} failed) in {queued:?} = {queue_rate:.0}/s, {:.2} × the direct rate",
        delivered.transmitted,
        delivered.failed + delivered.retried,
        queue_rate / direct_rate
    );
    println!("vendor records: {}", sim.works_requests().len());
}

/// A copy of the signalement without its connector, under another slug.
async fn import_without_connector(app: &TestApp) {
    let text = std::fs::read_to_string(example_path(SIGNALEMENT)).expect("example");
    let text = text
        .replacen(
            "slug: signalement-voie-publique",
            &format!("slug: {WITHOUT}"),
            1,
        )
        .split("\nconnector:")
        .next()
        .unwrap_or_default()
        .to_owned();
    app.import_yaml(text).await;
}

fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.5), at(0.9))
}
