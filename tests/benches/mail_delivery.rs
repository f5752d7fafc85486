//! Benchmark of mail delivery: mails delivered per second by the
//! notification worker to a local SMTP server, against the same number of
//! mails sent straight through the same SMTP transport (the baseline of
//! the same run).
//!
//! Run by hand, in a release build (results are written down in
//! BENCHMARKS.md): `cargo bench -p guichet-tests --bench mail_delivery`.
//! Not a test: nothing here asserts a duration; it prints figures.
//!
//! Per backend, through the test harness (`guichet_tests::app::run_with`:
//! `App::start` on a fresh database, a manual clock), with the SMTP sink
//! of the demo and the tests (`mail-sim`, in its own threads, on
//! loopback):
//! 1. `MAILS_DEMANDES` vélo demandes are filed through HTTP, each queuing
//!    two mails (to the usager, to the Mobilités mailbox) in its filing
//!    transaction;
//! 2. baseline: as many mails, of the same size, sent by
//!    [`Mailer::send`] `CONCURRENCY` at a time, as the worker does —
//!    building the message and the SMTP exchange, with no queue;
//! 3. the worker's run (`notifications::run`) delivers every queued mail:
//!    claim, read the demande and its démarche, render the texts, send,
//!    write the agents' history entry and complete the job in one
//!    transaction.
//!
//! Environment: `MAILS_DEMANDES` (default 500, so 1,000 mails),
//! `MAILS_BACKENDS` (`sqlite,postgres`).

// A benchmark panics to report a broken set-up.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use guichet_host::mail::{Mail, Mailer};
use guichet_host::service::notifications::{CONCURRENCY, Delivery};
use guichet_tests::app::{Backend, TestApp, run_with, test_settings};
use guichet_tests::filing::{MOBILITES, VELO, file_velo};
use mail_sim::MailSink;
use serde_json::json;

const ADMIN: &str = "Admin_SVL_DSI_Guichet";

fn main() {
    let count: usize = std::env::var("MAILS_DEMANDES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let backends = std::env::var("MAILS_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The SMTP transport's pool is made in the runtime.
    let _runtime = runtime.enter();
    for name in backends.split(',').map(str::trim) {
        let backend = match name {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("MAILS_BACKENDS: unknown backend {other}"),
        };
        let sink = MailSink::start().expect("the SMTP sink");
        let mailer = Mailer::new(
            &guichet_tests::mail_settings(sink.smtp_addr(), Duration::from_secs(30)),
            "Ville de Saint-Laurent",
        )
        .unwrap();
        let app_settings = guichet_host::http::Settings {
            delivery: Arc::new(Delivery {
                mailer: Some(mailer.clone()),
                public_url: "https://demarches.ville-saint-laurent.fr".to_owned(),
                ..Delivery::default()
            }),
            ..test_settings()
        };
        runtime.block_on(run_with(backend, app_settings, move |app| {
            measure(app, sink, mailer, name.to_owned(), count)
        }));
    }
}

async fn measure(app: TestApp, sink: MailSink, mailer: Mailer, backend: String, count: usize) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(ADMIN, None).await;
    let admin = app.agent("admin@ville.test", &[ADMIN]).await;
    admin
        .put(
            &format!("/api/admin/groups/{MOBILITES}"),
            json!({ "mailbox": "mobilites@ville-saint-laurent.fr" }),
        )
        .await
        .expect(200);
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let mails = count * 2;
    println!("mail_delivery: {count} demandes, {mails} mails, {backend}, SMTP sink on loopback");
    let filing = Instant::now();
    for _ in 0..count {
        file_velo(&usager).await;
    }
    println!(
        "  filed {count} demandes in {:.1} s",
        filing.elapsed().as_secs_f64()
    );

    // Baseline: the same number of mails of the same size, straight
    // through the transport.
    let text = "Bonjour,\n\nVotre demande « Demander une aide à la réparation d'un vélo » \
                n° VELO-2026-000001 a bien été transmise au service concerné. Vous pouvez \
                suivre son avancement en ligne : https://demarches.ville-saint-laurent.fr/\
                demandes/0190f1c4-7d0e-7a3b-9a55-1f2e3d4c5b6a\n\nCordialement.";
    let direct = Instant::now();
    let sent = futures::stream::iter(0..mails)
        .map(|i| {
            let mailer = mailer.clone();
            async move {
                mailer
                    .send(&Mail {
                        to: "camille.martin@exemple.test".to_owned(),
                        subject: format!("Votre demande VELO-2026-{i:06} a bien été transmise"),
                        text: text.to_owned(),
                        message_id: format!("baseline-{i}@ville-saint-laurent.fr"),
                    })
                    .await
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter(|outcome| std::future::ready(outcome.is_ok()))
        .count()
        .await;
    let direct = direct.elapsed();
    assert_eq!(sent, mails, "every baseline mail is accepted");
    let baseline = mails as f64 / direct.as_secs_f64();
    println!(
        "  baseline, Mailer::send x{CONCURRENCY}: {mails} mails in {:.2} s = {baseline:.0} mails/s",
        direct.as_secs_f64()
    );

    let before = sink.received().len();
    let worker = Instant::now();
    let notified = app.notify().await;
    let worker = worker.elapsed();
    assert_eq!(notified.mails as usize, mails, "{notified:?}");
    assert_eq!(sink.received().len() - before, mails);
    let through_queue = mails as f64 / worker.as_secs_f64();
    println!(
        "  worker, notifications::run: {mails} mails in {:.2} s = {through_queue:.0} mails/s \
         ({:.2}x the baseline)",
        worker.as_secs_f64(),
        through_queue / baseline
    );
}
